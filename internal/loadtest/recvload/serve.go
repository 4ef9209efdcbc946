package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/pprof"
	"sync/atomic"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/internal/loadtest"
	"github.com/webhookkit/webhookkit/receiver"
)

// Targets.
const (
	targetBare     = "bare"
	targetReceiver = "receiver"
)

// serverStats is what "serve" prints when it exits.
type serverStats struct {
	Target string         `json:"target"`
	Inbox  string         `json:"inbox"`
	Stats  receiver.Stats `json:"stats"` // zero for the bare handler
	// Handled counts callback calls (receiver only).
	Handled int64 `json:"handled"`
	// CPU is the process's CPU time, in seconds.
	CPU float64 `json:"cpu_s"`
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("recvload serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("target", targetReceiver, "bare or receiver")
	addr := fs.String("addr", "127.0.0.1:0", "loopback address to listen on")
	secret := fs.String("secret", "", "whsec_ secret the receiver verifies with")
	inbox := fs.String("inbox", loadtest.Memory, "the receiver's inbox: memory (its default), sqlite or postgres (DSN from "+loadtest.EnvDSN+")")
	batch := fs.Int("batch", 0, "receiver.Config.InboxBatchSize (0: its default)")
	linger := fs.Duration("linger", 0, "receiver.Config.ClaimLinger")
	flushes := fs.Int("flushes", 0, "receiver.Config.ClaimFlushes (0: its default)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the server's whole life to this file")
	if err := fs.Parse(args); err != nil {
		return usageError{Err: err}
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	ctx, cancel := loadtest.StopOnStdinEOF(ctx)
	defer cancel()

	var h http.Handler
	var rcv *receiver.Receiver
	var handled atomic.Int64
	switch *target {
	case targetBare:
		h = loadtest.Bare()
	case targetReceiver:
		cfg := &receiver.Config{Keys: []receiver.Key{{Text: *secret}}, Logger: loadtest.Discard(),
			InboxBatchSize: *batch, ClaimLinger: *linger, ClaimFlushes: *flushes}
		switch *inbox {
		case loadtest.Memory:
		case loadtest.SQLite, loadtest.Postgres:
			st, err := loadtest.OpenStore(ctx, *inbox, loadtest.StoreOptions{})
			if err != nil {
				return err
			}
			defer st.Close() //nolint:errcheck // removes the file or schema
			cfg.Inbox = st.Inbox
		default:
			return usageError{Err: fmt.Errorf("unknown -inbox %q", *inbox)}
		}
		var err error
		rcv, err = receiver.New(receiver.HandlerFunc(func(context.Context, event.Event) error {
			handled.Add(1)
			return nil
		}), cfg)
		if err != nil {
			return err
		}
		// Not stopped by ctx: Shutdown drains it once serving ends.
		if err := rcv.Start(context.WithoutCancel(ctx)); err != nil {
			return err
		}
		defer rcv.Close() //nolint:errcheck // returns nil; a no-op after Shutdown
		h = rcv
	default:
		return usageError{Err: fmt.Errorf("unknown -target %q", *target)}
	}

	ln, err := loadtest.Listen(ctx, *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "addr %s\n", ln.Addr())
	if err := loadtest.Serve(ctx, ln, h); err != nil {
		return err
	}
	st := serverStats{Target: *target, Inbox: *inbox}
	if rcv != nil {
		sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer scancel()
		if err := rcv.Shutdown(sctx); err != nil {
			return fmt.Errorf("receiver shutdown: %w", err)
		}
		st.Stats, st.Handled = rcv.Stats(), handled.Load()
	}
	st.CPU = loadtest.CPUTime().Seconds()
	b, _ := json.Marshal(st)
	fmt.Fprintf(stdout, "stats %s\n", b)
	return nil
}
