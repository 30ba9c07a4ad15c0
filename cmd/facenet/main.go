// Command facenet runs Keras FaceNet SavedModels from Go and reproduces the Python notebook pipeline.
//
// Usage:
//
//	facenet <command> [flags] [args]
//
// Run `facenet help` for the list of commands and `facenet <command> -h` for a command's flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"
)

// command is one subcommand. Each lives in its own file and registers itself in init, so the
// subcommands grow without touching this file.
type command struct {
	name    string
	summary string
	// run parses args (without the command name) and does the work; stdout/stderr are passed in
	// so tests can drive commands in-process.
	run func(args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("facenet: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// errUsage marks an error that is the caller's wrong words, not a failure of the work: exit code 2.
var errUsage = errors.New("usage")

// usageError formats a usage error that main reports with exit code 2.
func usageError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

// newFlagSet gives every command the same flag behaviour: errors are returned, not printed and exited.
// The flag package prints a parse error and the whole usage on every bad flag; the CLI prints
// errors as one line, so the usage is printed for -h only (by parseFlags).
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: facenet %s %s\n", name, usage)
		fs.SetOutput(stderr)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parseFlags parses args and lets flags and positional arguments come in any order, as users type
// them ("facenet embed img.jpg --json").
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	// flag calls Usage on errors too: only -h prints it.
	usage := fs.Usage
	fs.Usage = func() {}
	defer func() { fs.Usage = usage }()
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				usage()
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v (facenet %s -h lists the flags)", errUsage, err, fs.Name())
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "facenet: run Keras FaceNet SavedModels from Go, exactly as the Python notebook does.")
	fmt.Fprintln(w, "\nusage: facenet <command> [flags] [args]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-11s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'facenet <command> -h' for a command's flags.")
}

// run is main without os.Exit, for tests.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "--help" {
		usage(stdout)
		return 0
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "facenet: unknown command %q\n", name)
		usage(stderr)
		return 2
	}
	err := c.run(args[1:], stdout, stderr)
	if err != nil {
		err = oneLineError{err}
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "facenet %s: %s\n", name, strings.TrimPrefix(err.Error(), errUsage.Error()+": "))
		return 2
	case errors.Is(err, context.Canceled) && cmdContext.Err() != nil:
		// Ctrl-C: the work stopped before anything was written (enroll saves only after every
		// image is embedded), so the database is as it was. 130 is the shell's code for SIGINT.
		fmt.Fprintf(stderr, "facenet %s: interrupted; nothing was written\n", name)
		return 130
	default:
		fmt.Fprintf(stderr, "facenet %s: %v\n", name, err)
		return 1
	}
}

// oneLineError prints an error on one line whatever it quotes: a path or name holding a newline
// (or another line-breaking character) would otherwise split it, so those are escaped as in Go
// strings. Unwrap keeps errors.Is working.
type oneLineError struct{ err error }

func (e oneLineError) Error() string { return lineBreaks.Replace(e.err.Error()) }

var lineBreaks = strings.NewReplacer("\n", `\n`, "\r", `\r`, "\v", `\v`, "\f", `\f`,
	"\u0085", `\u0085`, "\u2028", `\u2028`, "\u2029", `\u2029`)

func (e oneLineError) Unwrap() error { return e.err }

// displayPath returns a path as the text outputs print it: as it is, or Go-quoted (strconv.Quote)
// when it holds a character that would break the line or disguise it (a newline, a control or
// format character, a separator, invalid UTF-8), or starts with a double quote, so one image is
// always one record. A quoted path is read back with strconv.Unquote (or as a JSON string when it
// has no \x escapes).
func displayPath(p string) string {
	if strings.HasPrefix(p, `"`) || !utf8.ValidString(p) || strings.IndexFunc(p, func(r rune) bool { return !strconv.IsPrint(r) }) >= 0 {
		return strconv.Quote(p)
	}
	return p
}

// cmdContext is the context every command's work runs under: main cancels it on Ctrl-C or SIGTERM,
// and the encoder stops between batches. Tests drive run directly and keep it uncancelled.
var cmdContext = context.Background()

// cancelOnSignals makes Ctrl-C and SIGTERM cancel cmdContext until stop is called.
func cancelOnSignals() (stop func()) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	cmdContext = ctx
	return stop
}

func main() {
	stop := cancelOnSignals()
	code := run(os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
