package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/facenet-go/facenet/savedmodel"
	"github.com/facenet-go/facenet/savedmodel/smcli"
)

func init() {
	register(command{
		name:    "inspect",
		summary: "show a SavedModel's tag sets, signatures and ops, as saved_model_cli show does",
		run:     runInspect,
	})
}

// runInspect is `saved_model_cli show` without Python: the same flags and the same text, read by
// the pure-Go savedmodel package. --json is the one addition, for scripts that want more than
// saved_model_cli prints (versions, variables size, assets, warnings).
func runInspect(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("inspect", "DIR [--tag_set TAGS [--signature_def KEY]] [--all] [--list_ops] [--json]", stderr)
	dirFlag := fs.String("dir", "", "SavedModel directory (or give it as the argument), as saved_model_cli's --dir")
	tagSet := fs.String("tag_set", "", `comma-separated tags selecting a MetaGraph, e.g. "serve"; "" is the empty tag set`)
	sigDef := fs.String("signature_def", "", "with --tag_set: show this signature's inputs and outputs")
	all := fs.Bool("all", false, "show every MetaGraph, signature, op and concrete function")
	listOps := fs.Bool("list_ops", false, "with --tag_set: also list the ops the MetaGraph uses")
	asJSON := fs.Bool("json", false, "print a JSON report instead (restricted by --tag_set and --signature_def when given)")
	positional, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	dir, err := inspectDir(*dirFlag, positional)
	if err != nil {
		return err
	}
	// saved_model_cli tells an absent flag from an empty one (--tag_set "" is the empty tag set).
	var opts smcli.Options
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "tag_set":
			opts.TagSet = tagSet
		case "signature_def":
			opts.SignatureDef = sigDef
		}
	})
	opts.All, opts.ListOps = *all, *listOps

	m, err := savedmodel.Read(dir)
	if err != nil {
		return err
	}
	// Warnings go to stderr so that stdout stays exactly what saved_model_cli prints.
	for _, w := range m.Warnings {
		fmt.Fprintf(stderr, "facenet inspect: warning: %s: %s\n", dir, w)
	}
	if *asJSON {
		return writeInspectJSON(stdout, m, opts)
	}
	return smcli.Show(stdout, m, opts)
}

func inspectDir(dirFlag string, positional []string) (string, error) {
	switch {
	case dirFlag != "" && len(positional) == 0:
		return dirFlag, nil
	case dirFlag == "" && len(positional) == 1:
		return positional[0], nil
	case dirFlag == "" && len(positional) == 0:
		return "", usageError("no SavedModel directory given")
	default:
		return "", usageError("give one SavedModel directory, got %s", strings.Join(append(positional, dirFlag), ", "))
	}
}

// writeInspectJSON prints the Model; --tag_set keeps only that MetaGraph and --signature_def
// only that signature, with the same errors as the text output.
func writeInspectJSON(w io.Writer, m *savedmodel.Model, opts smcli.Options) error {
	tagSets := m.TagSets()
	slices.SortFunc(tagSets, slices.Compare[[]string])
	if opts.TagSet != nil && !opts.All {
		mg, err := m.MetaGraphForTags(strings.Split(*opts.TagSet, ","))
		if err != nil {
			return err
		}
		sel := *mg
		if opts.SignatureDef != nil {
			sig, err := mg.Signature(*opts.SignatureDef)
			if err != nil {
				return err
			}
			sel.Signatures = []savedmodel.Signature{*sig}
		}
		if !opts.ListOps {
			sel.Ops = nil
		}
		copied := *m
		copied.MetaGraphs = []savedmodel.MetaGraph{sel}
		m = &copied
	}
	out := struct {
		*savedmodel.Model
		TagSets [][]string `json:"tag_sets"`
	}{m, tagSets}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}
