package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// command is one subcommand: its name, a one-line summary for the top-level
// usage, and the function that runs it.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// commands lists the subcommands in the order the usage shows them.
func commands() []command {
	return []command{
		{"secret", "print a new signing secret (or an Ed25519 key pair, or a store key)", runSecret},
		{"sign", "sign a body and print its signature headers (Standard Webhooks or a --provider's)", runSign},
		{"verify", "verify a signed body; exit 0 if valid, 1 if not", runVerify},
		{"listen", "receive webhooks locally and print each event as a JSON line", runListen},
		{"send", "deliver one event with retries, one JSON line per attempt", runSend},
		{"simulate", "deliver the sample event of a catalog's type (default: the provider's)", runSimulate},
		{"logs", "print delivery attempts recorded in a store", runLogs},
		{"dashboard", "serve the webhook dashboard on loopback", runDashboard},
	}
}

func main() {
	// The first SIGINT or SIGTERM cancels ctx: long-running commands then
	// drain and exit 0. stop restores the default handling, so a second
	// signal kills the process at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv})
	stop()
	os.Exit(code)
}

// run dispatches args to a subcommand and returns the process exit code:
// 0 on success (or a valid signature), 1 for an invalid signature, a delivery
// given up or another failure, 2 for a usage error.
func run(ctx context.Context, args []string, e *env) int {
	if len(args) == 0 {
		topUsage(e.stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		topUsage(e.stderr)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == name {
			return exitCode(e.stderr, name, c.run(ctx, e, args[1:]))
		}
	}
	fmt.Fprintf(e.stderr, "webhook: unknown command %q\n\n", name)
	topUsage(e.stderr)
	return exitUsage
}

// exitCode reports err on w (unless it was reported already) and maps it to
// an exit code.
func exitCode(w io.Writer, name string, err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintf(w, "webhook %s: %s\n", name, ee.msg)
		}
		return ee.code
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(w, "webhook %s: %s\nRun 'webhook %s -h' for usage.\n", name, ue.msg, name)
		return exitUsage
	}
	fmt.Fprintf(w, "webhook %s: %v\n", name, err)
	return exitFailure
}

func topUsage(w io.Writer) {
	fmt.Fprint(w, `webhook is a local development tool for Standard Webhooks, built on webhookkit.

Usage:

	webhook <command> [flags] [arguments]

Commands:

`)
	for _, c := range commands() {
		fmt.Fprintf(w, "\t%-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run 'webhook <command> -h' for a command's flags and an example.

Exit codes: 0 success (or a valid signature), 1 invalid signature, delivery
given up or another failure, 2 usage error. Output meant for programs goes to
stdout, one JSON object per line (verify prints "valid"); everything else goes
to stderr.
`)
}
