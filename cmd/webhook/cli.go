package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// Exit codes, the same for every command, so scripts can tell a failure
// from a mistake in the command line.
const (
	exitOK      = 0 // success, or a valid signature
	exitFailure = 1 // invalid signature, delivery given up, other failures
	exitUsage   = 2 // bad flags or arguments
)

// secretEnv is the environment variable read when --secret is not given.
const secretEnv = "WEBHOOK_SECRET"

// env is the process's standard streams and environment, injected so the
// commands are testable in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

// usageError is a bad flag or argument: exit code 2, with a hint to -h.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// exitError ends a command with a given code; msg (if any) is printed to
// stderr.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// errReported is returned when the flag package has already printed the
// error and the usage.
var errReported = &exitError{code: exitUsage}

// newFlags returns a flag set for a command whose usage prints synopsis,
// a description, the flags and an example to stderr.
func newFlags(e *env, name, synopsis, description, example string) *flag.FlagSet {
	fs := flag.NewFlagSet("webhook "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: webhook %s %s\n\n%s\n", name, synopsis, strings.TrimSpace(description))
		if hasFlags(fs) {
			fmt.Fprint(w, "\nFlags:\n")
			fs.PrintDefaults()
		}
		fmt.Fprintf(w, "\nExample:\n\n%s\n", strings.Trim(example, "\n"))
	}
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// parse parses args; on -h it returns flag.ErrHelp (exit 0, usage printed),
// on a bad flag errReported (exit 2, error and usage printed).
func parse(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		return &exitError{code: exitOK}
	default:
		return errReported
	}
}

// maxArgs checks the number of positional arguments.
func maxArgs(fs *flag.FlagSet, n int) error {
	if fs.NArg() > n {
		return usagef("unexpected argument %q", fs.Arg(n))
	}
	return nil
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// secretsOrEnv returns the --secret values, or $WEBHOOK_SECRET when none
// was given, or a usage error.
func secretsOrEnv(e *env, l listFlag) ([]string, error) {
	if len(l) > 0 {
		return l, nil
	}
	if s := strings.TrimSpace(e.getenv(secretEnv)); s != "" {
		return []string{s}, nil
	}
	return nil, usagef("--secret is required (or set $%s)", secretEnv)
}

// readInput reads the file at path, or stdin for "" or "-".
func readInput(e *env, path string) ([]byte, error) {
	if path == "" || path == "-" {
		return io.ReadAll(e.stdin)
	}
	return os.ReadFile(path)
}

// jsonLines writes one compact JSON object per line, safely from several
// goroutines.
type jsonLines struct {
	mu     sync.Mutex
	w      io.Writer
	failed error // the first write error
}

// err returns the first write error.
func (j *jsonLines) err() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.failed
}

// write encodes v as one line. Errors (a closed pipe) are returned.
func (j *jsonLines) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return j.writeRaw(b)
}

// writeRaw writes b, which must be compact JSON, as one line.
func (j *jsonLines) writeRaw(b []byte) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	line := make([]byte, 0, len(b)+1)
	line = append(append(line, b...), '\n')
	_, err := j.w.Write(line)
	if err != nil && j.failed == nil {
		j.failed = err
	}
	return err
}

// isSet reports whether the flag name was given on the command line.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}
