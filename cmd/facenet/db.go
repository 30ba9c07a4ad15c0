package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/facenet-go/facenet/internal/fsutil"
	"github.com/facenet-go/facenet/store"
	"github.com/facenet-go/facenet/verify"
)

func init() {
	register(command{name: "db", summary: "list, inspect, remove, rename, import and export identities of a store", run: runDB})
}

const dbUsage = `list --db STORE | info --db STORE | remove --db STORE NAME | rename --db STORE OLD NEW |
       import OLD.db [--into STORE] | export STORE OUT.db`

func runDB(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintf(stderr, "usage: facenet db %s\n", dbUsage)
		if len(args) == 0 {
			return usageError("db needs a subcommand: list, info, remove, rename, import or export")
		}
		return nil
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "list", "info", "remove", "rename":
		return runDBStoreCommand(sub, rest, stdout, stderr)
	case "import":
		return runDBImport(rest, stdout, stderr)
	case "export":
		return runDBExport(rest, stdout, stderr)
	}
	return usageError("unknown db subcommand %q (list, info, remove, rename, import, export)", sub)
}

// runDBStoreCommand runs the subcommands that work on one --db store.
func runDBStoreCommand(sub string, args []string, stdout, stderr io.Writer) error {
	want := map[string]int{"list": 0, "info": 0, "remove": 1, "rename": 2}[sub]
	fset := newFlagSet("db "+sub, map[string]string{
		"list": "--db STORE", "info": "--db STORE", "remove": "--db STORE NAME", "rename": "--db STORE OLD NEW"}[sub], stderr)
	dbName := fset.String("db", "", dbHelp+" (required)")
	rest, err := parseFlags(fset, args)
	if err != nil {
		return err
	}
	if *dbName == "" {
		return usageError("--db is required")
	}
	if len(rest) != want {
		return usageError("db %s takes %d arguments, got %d", sub, want, len(rest))
	}
	ctx := cmdContext
	s, err := openStore(ctx, *dbName, nil, sub == "remove" || sub == "rename")
	if err != nil {
		return err
	}
	defer s.Close()
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	switch sub {
	case "list":
		ids, err := s.List(ctx)
		if err != nil {
			return err
		}
		for _, id := range ids {
			fmt.Fprintf(w, "%s\t%d\n", displayPath(id.Name), id.Samples)
		}
	case "info":
		in, err := s.Info(ctx, *dbName)
		if err != nil {
			return err
		}
		prof := string(in.Space.Profile)
		if prof == "" {
			prof = "(none)"
		}
		fmt.Fprintf(w, "store:       %s (%s, schema %d)\nmodel:       %s\ndimension:   %d\nprofile:     %s\nidentities:  %d\nsamples:     %d\nsize:        %d bytes\n",
			in.Name, in.Kind, in.SchemaVersion, in.Space.Fingerprint, in.Space.Dim, prof, in.Identities, in.Samples, in.Bytes)
	case "remove":
		if err := s.st.Remove(ctx, rest[0]); err != nil {
			return fmt.Errorf("store %s: %w", s.name, err)
		}
		fmt.Fprintf(w, "removed %s from %s\n", displayPath(rest[0]), s.name)
	case "rename":
		if err := s.st.Rename(ctx, rest[0], rest[1]); err != nil {
			return fmt.Errorf("store %s: %w", s.name, err)
		}
		fmt.Fprintf(w, "renamed %s to %s in %s\n", displayPath(rest[0]), displayPath(rest[1]), s.name)
	}
	return w.Flush()
}

// runDBImport copies a snapshot file's identities into a store, in one transaction, in their
// order. Without --into the snapshot becomes an SQLite store in place: the store is built beside
// it, the snapshot is kept as OLD.db.snapshot, and the store takes its name, so every --db that
// named the file goes on working and no identity is ever only in a half-written file.
func runDBImport(args []string, stdout, stderr io.Writer) error {
	fset := newFlagSet("db import", "OLD.db [--into STORE]", stderr)
	into := fset.String("into", "", "store to import into, created if missing (default: convert OLD.db in place, keeping OLD.db.snapshot)")
	rest, err := parseFlags(fset, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError("db import takes OLD.db, got %d arguments", len(rest))
	}
	old := rest[0]
	snap, err := verify.Open(old)
	if err != nil {
		return err
	}
	inPlace := *into == ""
	target := *into
	var backup string
	if inPlace {
		path, err := fsutil.Destination(old)
		if err != nil {
			return err
		}
		backup = path + ".snapshot"
		if _, err := os.Lstat(backup); !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("import %s: %s exists; move it away or give --into", displayPath(old), displayPath(backup))
		}
		target = filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".import.db")
		os.Remove(target) // a leftover of an import that was killed: never a user's file
		defer os.Remove(target)
		old = path
	}
	n, err := importInto(target, snap)
	if err != nil {
		return err
	}
	if inPlace {
		if err := os.Rename(old, backup); err != nil {
			return err
		}
		if err := os.Rename(target, old); err != nil {
			return fmt.Errorf("import: the store is %s and the snapshot %s: %w", displayPath(target), displayPath(backup), err)
		}
		target = old
		fmt.Fprintf(stdout, "imported %d identities (%d samples) into the store %s; the snapshot is kept as %s\n",
			n, snap.NumSamples(), displayPath(old), displayPath(backup))
		return nil
	}
	fmt.Fprintf(stdout, "imported %d identities (%d samples) from %s into %s\n", n, snap.NumSamples(), displayPath(old), displayStore(target))
	return nil
}

// importInto enrols every identity of snap into the store named target in one transaction,
// refusing names the store already has (two people of one name are not merged).
func importInto(target string, snap *verify.DB) (int, error) {
	space := snap.Space()
	s, err := openStore(cmdContext, target, &space, true)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	batch := make([]store.Enrolment, 0, snap.Len())
	for _, n := range snap.Names() {
		embs, err := snap.Samples(n)
		if err != nil {
			return 0, err
		}
		batch = append(batch, store.Enrolment{Name: n, Embeddings: embs, New: true})
	}
	if err := s.st.EnrolBatch(cmdContext, batch...); err != nil {
		return 0, fmt.Errorf("store %s: import: %w", s.name, err)
	}
	return len(batch), s.Close()
}

// runDBExport writes a store's contents as a snapshot file (never over an existing file).
func runDBExport(args []string, stdout, stderr io.Writer) error {
	fset := newFlagSet("db export", "STORE OUT.db", stderr)
	rest, err := parseFlags(fset, args)
	if err != nil {
		return err
	}
	if len(rest) != 2 {
		return usageError("db export takes STORE OUT.db, got %d arguments", len(rest))
	}
	out := rest[1]
	if _, err := os.Lstat(out); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("export: %s exists; export writes a new file", displayPath(out))
	}
	db, err := loadIdentities(cmdContext, rest[0])
	if err != nil {
		return err
	}
	if err := db.Save(out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exported %d identities (%d samples) from %s to %s\n", db.Len(), db.NumSamples(), displayStore(rest[0]), displayPath(out))
	return nil
}
