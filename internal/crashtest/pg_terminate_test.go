package crashtest

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/postgres"
)

// TestPostgresTerminate ends the sessions of the stores under test every
// terminateEvery, terminateRounds times (rounds that found sessions to
// end), or until every callback has run: enough faults to hit batches of
// every kind in flight, few enough that the run ends in seconds.
const (
	terminateEvery  = 150 * time.Millisecond
	terminateRounds = 12
)

// warnCounter is a slog.Handler that counts warnings and errors by message
// and keeps their text in a buffer that tb prints if it fails.
type warnCounter struct {
	slog.Handler // text, into the buffer
	mu           *sync.Mutex
	counts       map[string]int
}

func newWarnCounter(tb testing.TB, name string) (*slog.Logger, func() map[string]int) {
	l := logger(tb, name)
	w := &warnCounter{Handler: l.Handler(), mu: new(sync.Mutex), counts: make(map[string]int)}
	return slog.New(w), func() map[string]int {
		w.mu.Lock()
		defer w.mu.Unlock()
		out := make(map[string]int, len(w.counts))
		for k, v := range w.counts {
			out[k] = v
		}
		return out
	}
}

func (w *warnCounter) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		w.mu.Lock()
		w.counts[r.Message]++
		w.mu.Unlock()
	}
	return w.Handler.Handle(ctx, r)
}

func (w *warnCounter) WithAttrs(as []slog.Attr) slog.Handler {
	return &warnCounter{Handler: w.Handler.WithAttrs(as), mu: w.mu, counts: w.counts}
}

func (w *warnCounter) WithGroup(name string) slog.Handler {
	return &warnCounter{Handler: w.Handler.WithGroup(name), mu: w.mu, counts: w.counts}
}

// terminator ends, every terminateEvery until stopped, the PostgreSQL
// sessions whose application_name is app.
type terminator struct {
	stop   chan struct{}
	done   chan struct{}
	rounds atomic.Int64 // rounds that ended at least one session
	ended  atomic.Int64 // sessions ended
}

func startTerminator(tb testing.TB, dsn, app string) *terminator {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(tb, err)
	k := &terminator{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(k.done)
		defer conn.Close(ctx)
		t := time.NewTicker(terminateEvery)
		defer t.Stop()
		for {
			var n int64
			err := conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))
				FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&n)
			if err != nil {
				tb.Errorf("terminating the sessions of %s: %v", app, err)
				return
			}
			if n > 0 {
				k.rounds.Add(1)
				k.ended.Add(n)
			}
			select {
			case <-k.stop:
				return
			case <-t.C:
			}
		}
	}()
	tb.Cleanup(k.halt)
	return k
}

// halt stops the terminator and waits for it; it may be called twice.
func (k *terminator) halt() {
	select {
	case <-k.stop:
	default:
		close(k.stop)
	}
	<-k.done
}

// TestPostgresTerminate: a sender and a receiver with a durable, batching
// PostgreSQL inbox run in this process, each store on a pool of its own
// whose sessions carry one application_name, and a few hundred events are
// delivered while those sessions are ended with pg_terminate_backend,
// every terminateEvery: claim batches, mark-handled batches and Settle
// transactions fail midway, the pools reconnect, the sender retries, the
// receiver answers 503 or re-drives claims whose 503 hid a commit, and
// mark-handled writes are tried again. Once every callback has run or
// after terminateRounds rounds, the terminations stop; with no restart,
// the process settles every delivery
// succeeded and every inbox entry handled. Every event's callback ran
// exactly once: the inbox de-duplicated every redelivery, and no
// mark-handled record was given up.
func TestPostgresTerminate(t *testing.T) {
	t.Parallel()
	start := time.Now()
	ctx := context.Background()
	sp := newPGSpec(t)
	n := 3 * events() / 10
	app := "whk_term_" + sp.schema
	check := sp.openT(t, 2) // the test's own view; its sessions are not ended
	target := sp
	target.app = app
	sst := target.openT(t, 4) // the sender's store
	ist := target.openT(t, 4) // the receiver's inbox
	if _, ok := store.Inbox(ist).(store.InboxBatcher); !ok {
		t.Log("the PostgreSQL inbox does not implement store.InboxBatcher; the receiver claims one at a time")
	}

	secret, err := signature.NewSecret()
	require.NoError(t, err)
	rlog, rwarns := newWarnCounter(t, "receiver")
	recv, tl := startEndpoint(t, secret, receiver.Config{
		Inbox:            ist,
		Workers:          receiverWorkers,
		QueueSize:        n + 64,
		Lease:            inboxLease,
		RecoveryInterval: recoveryInterval,
		Logger:           rlog,
	})
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	ids := seed(t, check, srv.URL, secret, n, "crash.terminate")

	var failedTries atomic.Int64
	slg, swarns := newWarnCounter(t, "sender")
	scfg := senderConfig(time.Second, slg)
	scfg.Hooks.OnAttempt = func(_ context.Context, a *store.Attempt) {
		if !a.Success {
			failedTries.Add(1)
		}
	}
	snd, err := sender.New(sst, scfg)
	require.NoError(t, err)

	// Start checks the schema and the sealing keys and fails on the first
	// error, as it should: the terminations begin once it has returned.
	require.NoError(t, snd.Start(ctx))
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, deadline())
		defer cancel()
		_ = snd.Shutdown(sctx)
	})
	kill := startTerminator(t, sp.dsn, app)

	// Sessions are ended until every callback has run, or terminateRounds
	// times.
	var handledAtHalt int
	waitFor(t, deadline(), "every callback run, or the rounds of terminations done", func() bool {
		handledAtHalt = tl.handled()
		return handledAtHalt >= n || kill.rounds.Load() >= terminateRounds
	})
	kill.halt()
	during := time.Since(start)

	// The process recovers by itself: every delivery settled succeeded,
	// every inbox entry handled.
	waitFor(t, deadline(), "every delivery settled and every inbox entry handled", func() bool {
		if !settled(t, check) {
			return false
		}
		es, _, err := check.ListInbox(ctx, store.InboxClaimed, store.Page{Limit: 1})
		require.NoError(t, err)
		return len(es) == 0
	})

	require.Positive(t, kill.ended.Load(), "no session was ended: the run proves nothing")
	tl.mu.Lock()
	for id := range tl.calls {
		require.True(t, ids[id], "the callback got an event never published: %s", id)
	}
	for id := range ids {
		require.GreaterOrEqual(t, tl.reached[id], 1, "event %s never answered 200", id)
		require.Equal(t, 1, tl.calls[id], "event %s: callback runs", id)
	}
	tl.mu.Unlock()
	states := inboxStates(t, check)
	require.Len(t, states, n)
	for id := range ids {
		require.Equal(t, store.InboxHandled, states[id], "inbox entry %s", id)
	}
	require.Equal(t, n, countDeliveries(t, check, store.StateSucceeded))
	rs := recv.Stats()
	require.Zero(t, rs.MarksGivenUp)

	t.Logf("%d events; %d PostgreSQL sessions ended in %d rounds over %v, after which %d of the callbacks had run; total %v",
		n, kill.ended.Load(), kill.rounds.Load(), during.Round(time.Millisecond), handledAtHalt, time.Since(start).Round(time.Millisecond))
	t.Logf("retries: sender %d failed attempts; receiver %d answers of 503, %d duplicates, %d mark-handled writes failed and tried again, %d claims re-driven",
		failedTries.Load(), tl.unavailable.Load(), rs.Duplicates, rs.MarkFailures, rs.Recovered)
	t.Logf("sender warnings and errors: %v", swarns())
	t.Logf("receiver warnings and errors: %v", rwarns())
}

// roleStore opens a store on sp's schema as a login role of its own,
// created here and dropped in tb.Cleanup, so the test can cut that role
// off the database (see cut) without touching any other session. Call it
// after the schema is migrated.
func roleStore(tb testing.TB, sp spec, admin *pgx.Conn) (st durable, role string) {
	tb.Helper()
	ctx := context.Background()
	role = "whk_role_" + sp.schema
	ident := pgx.Identifier{role}.Sanitize()
	schema := pgx.Identifier{sp.schema}.Sanitize()
	_, err := admin.Exec(ctx, "CREATE ROLE "+ident+" LOGIN")
	require.NoError(tb, err)
	tb.Cleanup(func() {
		cctx := context.Background()
		conn, err := pgx.Connect(cctx, sp.dsn)
		if err != nil {
			tb.Errorf("dropping role %s: %v", role, err)
			return
		}
		defer conn.Close(cctx)
		_, _ = conn.Exec(cctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", role)
		for _, q := range []string{"DROP OWNED BY " + ident, "DROP ROLE " + ident} {
			if _, err := conn.Exec(cctx, q); err != nil {
				tb.Errorf("dropping role %s: %s: %v", role, q, err)
			}
		}
	})
	for _, q := range []string{
		"GRANT USAGE ON SCHEMA " + schema + " TO " + ident,
		"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA " + schema + " TO " + ident,
		"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA " + schema + " TO " + ident,
	} {
		_, err := admin.Exec(ctx, q)
		require.NoError(tb, err, q)
	}
	cfg, err := pgxpool.ParseConfig(sp.dsn)
	require.NoError(tb, err)
	cfg.ConnConfig.User = role
	cfg.ConnConfig.RuntimeParams["application_name"] = role
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(tb, err)
	tb.Cleanup(pool.Close)
	pg, err := postgres.New(pool, &postgres.Config{PlaintextSecrets: true, Schema: sp.schema, Logger: quiet})
	require.NoError(tb, err)
	return pg, role
}

// cut ends every session of role and refuses it new ones (CONNECTION
// LIMIT 0), and returns once no session of role is left; mend lets it
// connect again.
func cut(tb testing.TB, admin *pgx.Conn, role string) {
	tb.Helper()
	ctx := context.Background()
	_, err := admin.Exec(ctx, "ALTER ROLE "+pgx.Identifier{role}.Sanitize()+" CONNECTION LIMIT 0")
	require.NoError(tb, err)
	waitFor(tb, deadline(), "every session of "+role+" ended", func() bool {
		var left int
		require.NoError(tb, admin.QueryRow(ctx, `SELECT count(*) FILTER (WHERE NOT pg_terminate_backend(pid))
			FROM pg_stat_activity WHERE usename = $1`, role).Scan(&left))
		if left > 0 {
			return false
		}
		var n int
		require.NoError(tb, admin.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE usename = $1", role).Scan(&n))
		return n == 0
	})
}

func mend(tb testing.TB, admin *pgx.Conn, role string) {
	tb.Helper()
	_, err := admin.Exec(context.Background(), "ALTER ROLE "+pgx.Identifier{role}.Sanitize()+" CONNECTION LIMIT -1")
	require.NoError(tb, err)
}

// TestPostgresTerminateBeforeMark: the callback has run, and the
// receiver's PostgreSQL connections are gone before its mark-handled
// record is written (the inbox's role is cut off: its sessions ended, new
// ones refused). What is guaranteed:
//
//   - The receiver tries the record again (about 10 s, during a Shutdown
//     until its context ends, after Close once more). When the database
//     comes back within that time, the record lands, and the event is never
//     run again: the callback ran once (events A).
//   - When it never lands (here: Close while the role is still cut off),
//     the record is given up, logged at error level with its key, and the
//     event stays claimed. The next receiver, after its restart, re-drives
//     exactly the events whose entry is still claimed once their lease has
//     ended: their callback runs a second time (events B), at-least-once;
//     the events whose record landed (handled) are not run again, and
//     posting every event again runs nothing.
func TestPostgresTerminateBeforeMark(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sp := newPGSpec(t)
	admin := sp.openT(t, 2) // migrates the schema; the test's own view
	conn, err := pgx.Connect(ctx, sp.dsn)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	inbox, role := roleStore(t, sp, conn)

	const perPhase = 8
	secret, err := signature.NewSecret()
	require.NoError(t, err)
	signer, err := signature.NewSigner([]signature.Secret{secret})
	require.NoError(t, err)
	var (
		mu      sync.Mutex
		calls   = make(map[string]int) // completed callback runs
		started atomic.Int64
		gate    atomic.Pointer[chan struct{}] // callbacks wait for it to close, if set
	)
	handler := receiver.HandlerFunc(func(_ context.Context, ev event.Event) error {
		started.Add(1)
		if g := gate.Load(); g != nil {
			<-*g
		}
		mu.Lock()
		calls[ev.ID]++
		mu.Unlock()
		return nil
	})
	errLog := new(logBuffer)
	newRecv := func(ib store.Inbox, log *slog.Logger) (*receiver.Receiver, string) {
		r, err := receiver.New(handler, &receiver.Config{
			Keys:             []receiver.Key{{Text: secret.String()}},
			Inbox:            ib,
			Workers:          2 * perPhase,
			Lease:            inboxLease,
			RecoveryInterval: recoveryInterval,
			Logger:           log,
		})
		require.NoError(t, err)
		require.NoError(t, r.Start(ctx))
		t.Cleanup(func() { _ = r.Close() })
		srv := httptest.NewServer(r)
		t.Cleanup(srv.Close)
		return r, srv.URL + "/"
	}
	r1, url1 := newRecv(inbox, slog.New(slog.NewTextHandler(errLog, &slog.HandlerOptions{Level: slog.LevelError})))
	if _, ok := store.Inbox(inbox).(store.InboxBatcher); !ok {
		t.Log("the PostgreSQL inbox does not implement store.InboxBatcher; the receiver marks one at a time")
	}

	// phase posts perPhase events, cuts the inbox's role off once every
	// callback has started, and lets the callbacks return; it returns
	// once a mark-handled write has failed since.
	phase := func(typ string) []event.Event {
		evs, _ := crashEvents(t, perPhase, typ)
		g := make(chan struct{})
		gate.Store(&g)
		base := started.Load()
		postAll(t, url1, signer, evs)
		waitFor(t, deadline(), "every callback started", func() bool { return started.Load() >= base+perPhase })
		cut(t, conn, role)
		failed := r1.Stats().MarkFailures
		close(g)
		waitFor(t, deadline(), "a mark-handled write failed", func() bool { return r1.Stats().MarkFailures > failed })
		return evs
	}

	// A: the database comes back while the receiver tries again.
	evsA := phase("crash.mark.a")
	mend(t, conn, role)
	waitFor(t, deadline(), "every event of A handled", func() bool {
		states := inboxStates(t, admin)
		for _, ev := range evsA {
			if states[ev.ID] != store.InboxHandled {
				return false
			}
		}
		return true
	})
	require.Zero(t, r1.Stats().MarksGivenUp)
	failuresA := r1.Stats().MarkFailures

	// B: it does not come back before the receiver closes.
	evsB := phase("crash.mark.b")
	require.NoError(t, r1.Close())
	st1 := r1.Stats()
	require.EqualValues(t, perPhase, st1.MarksGivenUp, "every record of B given up")
	for _, ev := range evsB {
		require.Contains(t, errLog.String(), "key="+ev.ID, "the given-up record of %s is logged with its key", ev.ID)
	}
	mend(t, conn, role)
	atRestart := inboxStates(t, admin)
	for _, ev := range evsA {
		require.Equal(t, store.InboxHandled, atRestart[ev.ID])
	}
	for _, ev := range evsB {
		require.Equal(t, store.InboxClaimed, atRestart[ev.ID], "the record of %s never landed", ev.ID)
	}
	mu.Lock()
	for _, ev := range append(append([]event.Event(nil), evsA...), evsB...) {
		require.Equal(t, 1, calls[ev.ID], "event %s: callback runs before the restart", ev.ID)
	}
	mu.Unlock()

	// The restart: a new receiver on the same inbox re-drives what is
	// still claimed, once its lease has ended, and nothing else.
	gate.Store(nil)
	r2, url2 := newRecv(admin, logger(t, "receiver 2"))
	waitFor(t, deadline(), "every inbox entry handled", func() bool {
		for _, s := range inboxStates(t, admin) {
			if s != store.InboxHandled {
				return false
			}
		}
		return true
	})
	all := append(append([]event.Event(nil), evsA...), evsB...)
	postAll(t, url2, signer, all) // every one a duplicate now
	ctxS, cancel := context.WithTimeout(ctx, deadline())
	defer cancel()
	require.NoError(t, r2.Shutdown(ctxS))
	st2 := r2.Stats()
	require.EqualValues(t, len(evsB), st2.Recovered)
	require.EqualValues(t, len(all), st2.Duplicates)
	mu.Lock()
	defer mu.Unlock()
	for _, ev := range all {
		want := 1
		if atRestart[ev.ID] == store.InboxClaimed {
			want = 2
		}
		require.Equal(t, want, calls[ev.ID], "event %s (%s at the restart): callback runs", ev.ID, atRestart[ev.ID])
	}
	t.Logf("A: %d events, %d mark-handled writes failed before the database came back, none given up, each run once; "+
		"B: %d records given up at Close, %d events re-driven once after the restart",
		len(evsA), failuresA, st1.MarksGivenUp, st2.Recovered)
}
