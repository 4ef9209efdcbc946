package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Command is one mode of a load program: it runs with the arguments after
// the mode's name and writes to stdout and stderr.
type Command func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// UsageError marks an error in a program's command line: [Main] exits 2
// for it instead of 1.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// Main runs the load program name: the command of subs named by args[0],
// or def with all of args, on a context that ends at SIGINT or SIGTERM. It
// returns the exit code: 0 success, 1 failure (a failed check included),
// 2 a [UsageError].
func Main(name string, args []string, stdout, stderr io.Writer, subs map[string]Command, def Command) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	run, rest := def, args
	if len(args) > 0 {
		if c, ok := subs[args[0]]; ok {
			run, rest = c, args[1:]
		}
	}
	if err := run(ctx, rest, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, name+":", err)
		if errors.As(err, new(UsageError)) {
			return 2
		}
		return 1
	}
	return 0
}
