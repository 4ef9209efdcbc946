package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/webhookkit/webhookkit/store"
)

var _ store.Notifier = (*Store)(nil)

// Listening defaults. A listening connection that has heard nothing for
// listenPing is pinged, so a connection that died silently (a half-open TCP
// connection after a network failure) is found and replaced rather than
// waited on forever.
const (
	listenPing       = 15 * time.Second
	listenPingLimit  = 5 * time.Second
	listenCloseLimit = 5 * time.Second
	listenBackoffMin = 250 * time.Millisecond
	listenBackoffMax = 30 * time.Second
)

// channelPrefix starts the name of every notification channel of this
// driver; the schema name follows.
const channelPrefix = "webhookkit_due:"

// channelName returns the notification channel of schema: channelPrefix and
// the schema name, or, when that would not fit PostgreSQL's 63-byte limit on
// identifiers (NOTIFY refuses longer names, LISTEN truncates them),
// channelPrefix and a 64-bit hash of the schema name. Two long schema names
// sharing a hash would only wake each other's senders for nothing.
func channelName(schema string) string {
	if len(channelPrefix)+len(schema) <= 63 {
		return channelPrefix + schema
	}
	h := fnv.New64a()
	h.Write([]byte(schema))
	return channelPrefix + strconv.FormatUint(h.Sum64(), 16)
}

// NotifyChannel returns the name of the PostgreSQL notification channel the
// store notifies and [Store.Subscribe] listens on: "webhookkit_due:" and the
// schema name (or a hash of it for a schema name too long to fit the 63
// bytes a channel name may have). It is there for diagnostics: LISTEN to it
// (quoted, as the name contains a colon) in psql to watch the wakeups.
func (s *Store) NotifyChannel() string { return s.n.channel }

// notifyCount wraps stmt, a data-modifying statement with a RETURNING
// clause, into one that returns how many rows stmt returned and, when there
// were any, notifies the channel passed as parameter $arg (the value of
// names.notifyArg: NULL, under Config.DisableNotify, notifies nothing). The
// notification belongs to the transaction (or savepoint) the statement runs
// in: it is sent when that commits and dropped when it rolls back. The
// second column is pg_notify's void cast to text; scan it into nil.
func notifyCount(stmt string, arg int) string {
	p := "$" + strconv.Itoa(arg)
	return `WITH changed AS (` + stmt + `)
	SELECT c.n, CASE WHEN c.n > 0 AND ` + p + `::text IS NOT NULL THEN pg_notify(` + p + `, '')::text END
	FROM (SELECT count(*) AS n FROM changed) c`
}

// notifyArg is the channel argument of the statements that notify: the
// channel's name, or nil (SQL NULL) under Config.DisableNotify.
func (n *names) notifyArg() any {
	if n.noNotify {
		return nil
	}
	return n.channel
}

// Subscribe implements [store.Notifier]: it returns a channel that receives
// a value after every committed transaction in which, through any Store on
// the same schema and database in any process, Enqueue (and so a sender's
// Publish, and its PublishTx through [Store.Tx]) created deliveries, Requeue or
// RequeueFailed requeued some, or SetDisabled enabled an endpoint. Values
// coalesce (the channel has a buffer of one) and the channel also receives
// one each time listening starts or starts again after a lost connection.
//
// The notifications travel over PostgreSQL's LISTEN/NOTIFY on
// [Store.NotifyChannel]: the statements that change the outbox call
// pg_notify in their own transaction, so a notification is sent only if, and
// when, that transaction commits, and never for a rollback; Enqueue on the
// Store itself notifies just after its transaction has committed (see
// [Store.Enqueue]).
//
// Subscribe returns at once. In the background it takes one connection from
// the pool for its own use (hijacked: it never goes back to the pool, which
// may open another in its place), LISTENs, and waits. A connection that
// fails, or stays silent and then does not answer a ping, is closed and
// replaced after a backoff of 250 ms doubling to 30 s, with jitter; each
// failure is logged at level Warn. When ctx ends, the connection is closed
// (waiting at most 5 s for the server) and then the channel is closed. It
// returns an error only when ctx is already done. Each call listens on a
// connection of its own; a sender needs one. Connections come from the
// pool, so end the subscriptions (stop the senders) before closing it: a
// subscription on a closed pool keeps failing, and logging, until its ctx
// ends.
func (s *Store) Subscribe(ctx context.Context) (<-chan struct{}, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("postgres: subscribe: %w", err)
	}
	ch := make(chan struct{}, 1)
	go s.listen(ctx, ch)
	return ch, nil
}

// listen listens on the store's channel until ctx ends, reconnecting with
// backoff, then closes ch.
func (s *Store) listen(ctx context.Context, ch chan<- struct{}) {
	defer close(ch)
	failures := 0
	for {
		err := s.listenOnce(ctx, ch, func() { failures = 0 })
		if ctx.Err() != nil {
			return
		}
		failures++
		wait := listenBackoff(failures)
		s.logger.LogAttrs(ctx, slog.LevelWarn, "postgres: listening for notifications failed; retrying",
			slog.String("channel", s.n.channel), slog.Int("failures", failures),
			slog.Duration("retry_in", wait), slog.Any("error", err))
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
}

// listenBackoff returns the wait after the given number of consecutive
// failures: listenBackoffMin doubling up to listenBackoffMax, each drawn
// from its upper half at random, so that instances that lost the database
// together do not return together.
func listenBackoff(failures int) time.Duration {
	d := listenBackoffMax
	if failures <= 10 {
		d = min(listenBackoffMin<<(failures-1), listenBackoffMax)
	}
	return d/2 + rand.N(d/2+1)
}

// listenOnce takes a connection, LISTENs on it, calls ready, signals ch and
// then signals ch for every notification, until the connection fails (it
// returns the error) or ctx ends (it returns ctx's error). The connection is
// closed before it returns.
func (s *Store) listenOnce(ctx context.Context, ch chan<- struct{}, ready func()) error {
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire: %w", err)
	}
	// A LISTENing session must not go back to the pool, where another
	// user would get it and its notifications would pile up unread.
	conn := pc.Hijack()
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), listenCloseLimit)
		defer cancel()
		_ = conn.Close(cctx) // the session ends either way; nothing to do about an error
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.n.channel}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	ready()
	signal(ch) // deliveries may have become due while nobody listened
	for {
		wctx, cancel := context.WithTimeout(ctx, s.listenPing)
		_, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			signal(ch)
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err):
			// Silence: a timed-out wait leaves the connection usable. Make
			// sure the server is still there.
			pctx, cancel := context.WithTimeout(ctx, listenPingLimit)
			err := conn.Ping(pctx)
			cancel()
			if err != nil && ctx.Err() == nil {
				return fmt.Errorf("ping: %w", err)
			}
		default:
			return fmt.Errorf("wait: %w", err)
		}
	}
}

// signal sends to ch unless a value is waiting there already.
func signal(ch chan<- struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// postNotifyLimit bounds the notification Enqueue sends after its commit.
const postNotifyLimit = 5 * time.Second

// postNotifySQL notifies channel $1 in a transaction of its own that does
// not wait for its commit record to reach disk (a notification need not be
// durable), so the database-wide lock PostgreSQL holds while committing a
// transaction that notifies is held only briefly.
const postNotifySQL = `SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, '')`

// postNotifier sends, for a Store's Enqueue in a transaction of its own,
// the notification after the transaction has committed, instead of in it:
// PostgreSQL commits the transactions that notify one at a time, each
// holding a database-wide lock until its commit record is flushed, which
// would serialise every publish. Notifications coalesce: an Enqueue whose
// commit precedes the start of a notification another Enqueue sent needs
// none of its own, so concurrent publishers share a few. Each Enqueue
// returns once a notification that began after its commit has been sent.
// It is safe for concurrent use.
type postNotifier struct {
	logger    *slog.Logger
	committed atomic.Uint64 // enqueue commits counted so far
	mu        sync.Mutex    // held by the one notifying
	covered   uint64        // commits counted before the last notification sent began
}

// notify announces, on db, an enqueue that has committed.
func (p *postNotifier) notify(ctx context.Context, db dbtx, channel string) {
	mine := p.committed.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.covered >= mine {
		return // a notification began after this commit
	}
	upTo := p.committed.Load()
	// The deliveries are committed: a cancelled ctx must not cost them
	// their notification.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), postNotifyLimit)
	defer cancel()
	if _, err := db.Exec(ctx, postNotifySQL, channel); err != nil {
		p.logger.LogAttrs(ctx, slog.LevelWarn, "postgres: notifying after an enqueue failed; other instances find its deliveries at their next poll",
			slog.String("channel", channel), slog.Any("error", err))
		return
	}
	p.covered = upTo
}
