package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/webhookkit/webhookkit/internal/loadtest"
)

// serve runs the endpoint: the bare handler on a loopback address.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sendload serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "loopback address to listen on")
	if err := fs.Parse(args); err != nil {
		return usageError{Err: err}
	}
	ctx, cancel := loadtest.StopOnStdinEOF(ctx)
	defer cancel()
	ln, err := loadtest.Listen(ctx, *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "addr %s\n", ln.Addr())
	return loadtest.Serve(ctx, ln, loadtest.Bare())
}

// orchestrate starts the endpoint on CPU 0 and the measuring process on
// CPU 1, passing the measuring flags through, and relays its report.
func orchestrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sendload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := addMeasureFlags(fs)
	pin := fs.Bool("pin", true, "pin the endpoint to CPU 0 and the sender to CPU 1 with taskset")
	if err := fs.Parse(args); err != nil {
		return usageError{Err: err}
	}
	if err := f.validate(); err != nil {
		return err
	}
	endpointCPU, senderCPU := -1, -1
	if *pin {
		endpointCPU, senderCPU = 0, 1
	}
	stderr = loadtest.SyncWriter(stderr)
	fmt.Fprintf(stdout, "machine: %s\n", loadtest.ThisMachine())
	fmt.Fprintf(stdout, "pinned: %v (endpoint on CPU 0, sender on CPU 1)\n", *pin && loadtest.CanPin(0) && loadtest.CanPin(1))
	srv, err := loadtest.StartChild("endpoint", endpointCPU, stderr, "serve")
	if err != nil {
		return err
	}
	defer srv.Kill()
	addr, err := srv.Line("addr", 30*time.Second)
	if err != nil {
		return err
	}
	m, err := loadtest.StartChild("sender", senderCPU, stderr, append([]string{"run", "-url", "http://" + addr + "/"}, f.args()...)...)
	if err != nil {
		return err
	}
	defer m.Kill()
	for {
		line, err := m.Line("out", time.Hour) // fails once run has exited
		if err != nil {
			break
		}
		fmt.Fprintln(stdout, line)
	}
	if _, err := m.Wait(time.Minute); err != nil {
		return err
	}
	_, err = srv.Stop(30 * time.Second)
	return err
}
