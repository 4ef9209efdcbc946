package crashtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/postgres"
	"github.com/webhookkit/webhookkit/store/postgres/pgtest"
	"github.com/webhookkit/webhookkit/store/sqlite"
)

// Environment variables: the ones the team decided on, and the ones this
// package uses to talk to its child processes.
const (
	envDSN  = pgtest.EnvDSN
	envFull = "WEBHOOKKIT_FULL"

	envRole     = "WEBHOOKKIT_CRASHTEST_ROLE"     // "sender", "receiver" or "providers"
	envSQLite   = "WEBHOOKKIT_CRASHTEST_SQLITE"   // SQLite file, or
	envPGSchema = "WEBHOOKKIT_CRASHTEST_PGSCHEMA" // PostgreSQL schema (DSN from envDSN)
	envSecret   = "WEBHOOKKIT_CRASHTEST_SECRET"   // receiver: the signing secret
	envOut      = "WEBHOOKKIT_CRASHTEST_OUT"      // receiver: the callback's append-only file
	envRun      = "WEBHOOKKIT_CRASHTEST_RUN"      // receiver: the run number written with each id
	envAllow    = "WEBHOOKKIT_CRASHTEST_ALLOW"    // receiver: callbacks that complete (-1: all)
	envBlock    = "WEBHOOKKIT_CRASHTEST_BLOCK"    // receiver: "before" or "after" the side effect
	envTrap     = "WEBHOOKKIT_CRASHTEST_TRAP"     // sender: succeeded outcomes settled before Settle blocks
)

// Timings shared by the parent and the children. Leases are short so a
// killed child's work comes due again quickly; waits are generous deadlines,
// never sleeps.
const (
	senderLease          = 2 * time.Second
	senderRequestTimeout = 500 * time.Millisecond
	inboxLease           = 2 * time.Second
	recoveryInterval     = 200 * time.Millisecond
	receiverWorkers      = 4
	pollEvery            = 20 * time.Millisecond
)

// events returns how many events a scenario uses: 1,000, or 10,000 with
// WEBHOOKKIT_FULL=1.
func events() int {
	if os.Getenv(envFull) == "1" {
		return 10_000
	}
	return 1_000
}

// deadline is the longest a test waits for one condition: far beyond what
// a healthy run needs on a loaded machine, so a failure means a bug.
func deadline() time.Duration {
	if os.Getenv(envFull) == "1" {
		return 10 * time.Minute
	}
	return 90 * time.Second
}

// waitFor polls cond until it holds, failing tb after d.
func waitFor(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	end := time.Now().Add(d)
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for !cond() {
		if time.Now().After(end) {
			tb.Fatalf("timed out after %v waiting for %s", d, what)
		}
		<-t.C
	}
}

// durable is what both durable drivers implement: the sender's store and a
// recoverable inbox.
type durable interface {
	store.SenderStore
	store.Inbox
	store.InboxRecovery
}

// spec names one durable store, so the parent and its children open the
// same one.
type spec struct {
	kind   string // "sqlite" or "postgres"
	path   string // sqlite
	dsn    string // postgres
	schema string // postgres
	// app is the application_name of the pools open opens, when set; a
	// child's pools are named childApp otherwise.
	app string
}

// env returns the variables that hand s to a child.
func (s spec) env() []string {
	if s.kind == "sqlite" {
		return []string{envSQLite + "=" + s.path}
	}
	return []string{envDSN + "=" + s.dsn, envPGSchema + "=" + s.schema}
}

// specFromEnv is env's inverse, in a child.
func specFromEnv() (spec, error) {
	if p := os.Getenv(envSQLite); p != "" {
		return spec{kind: "sqlite", path: p}, nil
	}
	if sc := os.Getenv(envPGSchema); sc != "" {
		return spec{kind: "postgres", dsn: os.Getenv(envDSN), schema: sc}, nil
	}
	return spec{}, errors.New("crashtest: no store in the environment")
}

// open opens and migrates the store s names, with a PostgreSQL pool of at
// most maxConns connections. close releases it.
func (s spec) open(ctx context.Context, maxConns int32) (st durable, close func(), err error) {
	switch s.kind {
	case "sqlite":
		db, err := sqlite.Open(s.path, &sqlite.Config{PlaintextSecrets: true})
		if err != nil {
			return nil, nil, err
		}
		if err := db.Migrate(ctx); err != nil {
			db.Close()
			return nil, nil, err
		}
		return db, func() { db.Close() }, nil
	case "postgres":
		cfg, err := pgxpool.ParseConfig(s.dsn)
		if err != nil {
			return nil, nil, err
		}
		cfg.MaxConns = maxConns
		if s.app != "" {
			cfg.ConnConfig.RuntimeParams["application_name"] = s.app
		} else if os.Getenv(envRole) != "" {
			// Named, so the parent can wait for its sessions to end
			// after killing it (see settle).
			cfg.ConnConfig.RuntimeParams["application_name"] = s.childApp()
		}
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return nil, nil, err
		}
		pg, err := postgres.New(pool, &postgres.Config{PlaintextSecrets: true, Schema: s.schema, Logger: quiet})
		if err == nil {
			err = pg.Migrate(ctx)
		}
		if err != nil {
			pool.Close()
			return nil, nil, err
		}
		return pg, pool.Close, nil
	}
	return nil, nil, fmt.Errorf("crashtest: unknown store kind %q", s.kind)
}

// childApp is the application_name of the children's PostgreSQL sessions.
func (s spec) childApp() string { return "whk_child_" + s.schema }

// settle waits, after a child was killed, until the store holds all it
// will ever hold of the child's writes. A SQLite write dies with the
// process; but a PostgreSQL statement the child sent before the kill (a
// commit of a mark-handled record, say) may still commit on the server,
// until the child's sessions notice the dead socket and end.
func (s spec) settle(tb testing.TB) {
	tb.Helper()
	if s.kind != "postgres" {
		return
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.dsn)
	require.NoError(tb, err)
	defer conn.Close(ctx)
	waitFor(tb, deadline(), "the killed child's PostgreSQL sessions to end", func() bool {
		var n int
		require.NoError(tb, conn.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", s.childApp()).Scan(&n))
		return n == 0
	})
}

// openT is open for the parent: it fails tb on error and closes the store
// in tb.Cleanup.
func (s spec) openT(tb testing.TB, maxConns int32) durable {
	tb.Helper()
	st, closeFn, err := s.open(context.Background(), maxConns)
	require.NoError(tb, err)
	tb.Cleanup(closeFn)
	return st
}

// newSpec returns a fresh store of the given kind: a file in tb.TempDir(),
// or a random PostgreSQL schema dropped in tb.Cleanup.
func newSpec(tb testing.TB, kind string) spec {
	tb.Helper()
	if kind == "sqlite" {
		return spec{kind: kind, path: filepath.Join(tb.TempDir(), "webhooks.db")}
	}
	return newPGSpec(tb)
}

// eachKind runs test on a fresh store of each durable kind, SQLite and
// PostgreSQL, as parallel subtests.
func eachKind(t *testing.T, test func(*testing.T, spec)) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			test(t, newSpec(t, kind))
		})
	}
}

// newPGSpec returns a fresh PostgreSQL schema, dropped with everything in it
// in tb.Cleanup. Register it before opening pools on it: cleanups run last
// registered first, so the pools close before the drop.
func newPGSpec(tb testing.TB) spec {
	tb.Helper()
	dsn := pgtest.DSN(tb)
	name := pgtest.Schema(tb, dsn, "whk_crash_")
	return spec{kind: "postgres", dsn: dsn, schema: name}
}

// quiet discards logs nobody reads.
var quiet = slog.New(slog.DiscardHandler)

// logBuffer collects the last logBufferMax bytes written to it; safe for
// concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf []byte
}

const logBufferMax = 64 << 10

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - logBufferMax; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// logger returns a warn-level logger into a buffer that tb prints if it
// fails.
func logger(tb testing.TB, name string) *slog.Logger {
	buf := new(logBuffer)
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("%s logs (tail):\n%s", name, buf.String())
		}
	})
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// child is the test binary re-executed in a role.
type child struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser // closing it makes the child exit
	logs  *logBuffer     // its stderr
	addr  string         // what it printed after READY
	done  chan struct{}  // closed once it has exited
	// lines gets the lines it prints after READY (a few: the ones that do
	// not fit are dropped).
	lines chan string
}

// startChild starts the test binary in role with the extra environment and
// waits until it prints "READY <addr>". The child is killed in tb.Cleanup
// if it is still running.
func startChild(tb testing.TB, name, role string, env ...string) *child {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(append(os.Environ(), envRole+"="+role), env...)
	c := &child{name: name, cmd: cmd, logs: new(logBuffer), done: make(chan struct{}), lines: make(chan string, 16)}
	cmd.Stderr = c.logs
	stdin, err := cmd.StdinPipe()
	require.NoError(tb, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(tb, err)
	c.stdin = stdin
	require.NoError(tb, cmd.Start())
	tb.Cleanup(func() {
		c.kill(tb)
		if tb.Failed() {
			tb.Logf("child %s stderr (tail):\n%s", c.name, c.logs.String())
		}
	})

	ready := make(chan string, 1)
	go func() {
		defer close(c.done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "READY "); ok {
				ready <- addr
				continue
			}
			select {
			case c.lines <- sc.Text():
			default:
			}
		}
		_ = cmd.Wait() // after stdout is drained, as exec requires
	}()
	select {
	case c.addr = <-ready:
	case <-c.done:
		tb.Fatalf("child %s exited before it was ready: %v\n%s", name, cmd.ProcessState, c.logs.String())
	case <-time.After(deadline()):
		tb.Fatalf("child %s not ready after %v\n%s", name, deadline(), c.logs.String())
	}
	return c
}

// kill SIGKILLs the child (if it is still running) and waits until it has
// exited. It fails tb if the child's stderr reports a data race.
func (c *child) kill(tb testing.TB) {
	tb.Helper()
	select {
	case <-c.done:
	default:
		_ = c.cmd.Process.Kill() // SIGKILL
		select {
		case <-c.done:
		case <-time.After(deadline()):
			tb.Errorf("child %s did not exit after SIGKILL", c.name)
		}
	}
	_ = c.stdin.Close()
	if logs := c.logs.String(); strings.Contains(logs, "WARNING: DATA RACE") {
		tb.Errorf("child %s reported a data race:\n%s", c.name, logs)
	}
}

// TestHelperProcess is the body of the child processes: it runs only when a
// test re-executes the binary with envRole set.
func TestHelperProcess(t *testing.T) {
	role := os.Getenv(envRole)
	if role == "" {
		t.Skip("helper process for the crash tests; it runs only when they re-execute the test binary")
	}
	// The parent holds our stdin: when it closes (the parent is done or
	// died), exit, so no child outlives the test.
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(3)
	}()
	var err error
	switch role {
	case "sender":
		err = runSender()
	case "receiver":
		err = runReceiver()
	case "providers":
		err = runProviders()
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	fmt.Fprintf(os.Stderr, "crashtest child (%s): %v\n", role, err)
	os.Exit(2)
}

// childLogger is the children's logger: warnings and errors on stderr,
// which the parent keeps and prints when a test fails.
func childLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// countLines counts the complete lines of a file that is being appended to.
func countLines(tb testing.TB, path string) int {
	tb.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	require.NoError(tb, err)
	return bytes.Count(b, []byte{'\n'})
}
