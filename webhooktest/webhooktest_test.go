package webhooktest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/event/fasten"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
	"github.com/webhookkit/webhookkit/webhooktest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fixedSchedule retries after each delay, without jitter.
func fixedSchedule(delays ...time.Duration) retry.Policy {
	return retry.Schedule{Delays: delays}
}

type rig struct {
	ctx   context.Context
	clock *webhooktest.Clock
	st    *memory.Store
	s     *sender.Sender
	ep    *webhooktest.Endpoint
	epID  string
}

// newRig builds a sender and an endpoint sharing a fake clock; epCfg (nil:
// defaults) configures the endpoint, whose Clock is the rig's.
func newRig(t *testing.T, cfg *sender.Config, epCfg *webhooktest.EndpointConfig) *rig {
	t.Helper()
	r := &rig{ctx: t.Context(), clock: webhooktest.NewClock(time.Time{})}
	r.st = memory.New(&memory.Config{Now: r.clock.Now})
	var ec webhooktest.EndpointConfig
	if epCfg != nil {
		ec = *epCfg
	}
	ec.Clock = r.clock
	r.ep = webhooktest.NewEndpoint(t, &ec)
	r.s = webhooktest.NewSender(t, r.st, r.clock, cfg)
	r.epID = r.ep.Register(t, r.s, "patient.*").ID
	return r
}

func (r *rig) publish(t *testing.T, typ string) event.Event {
	t.Helper()
	ev := webhooktest.SampleEvent(t, fasten.Catalog(), typ)
	n, err := r.s.Publish(r.ctx, ev, sender.ToTenant(""), nil)
	require.NoError(t, err)
	require.Positive(t, n)
	return ev
}

func (r *rig) attempts(t *testing.T) []*store.Attempt {
	t.Helper()
	as, _, err := r.st.ListAttempts(r.ctx, store.AttemptFilter{AllTenants: true, Page: store.Page{Limit: store.MaxPageSize}})
	require.NoError(t, err)
	return as
}

func TestDeliverAllRetries(t *testing.T) {
	tests := []struct {
		name       string
		failures   []int // FailNext(1, status) for each
		delays     []time.Duration
		wantTries  int
		wantEvents int
		wantState  store.DeliveryState
		wantClock  time.Duration // how far DeliverAll moved the clock
		disabled   bool
	}{
		{name: "healthy", wantTries: 1, wantEvents: 1, wantState: store.StateSucceeded},
		{name: "fails once", failures: []int{503}, delays: []time.Duration{time.Minute},
			wantTries: 2, wantEvents: 1, wantState: store.StateSucceeded, wantClock: time.Minute},
		{name: "fails twice", failures: []int{503, 500}, delays: []time.Duration{time.Minute, time.Hour},
			wantTries: 3, wantEvents: 1, wantState: store.StateSucceeded, wantClock: time.Hour + time.Minute},
		{name: "gives up", failures: []int{500, 500, 500}, delays: []time.Duration{time.Second, time.Second},
			wantTries: 3, wantEvents: 0, wantState: store.StateFailed, wantClock: 2 * time.Second},
		{name: "gone disables", failures: []int{410}, delays: []time.Duration{time.Second},
			wantTries: 1, wantEvents: 0, wantState: store.StateFailed, disabled: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, &sender.Config{Retry: fixedSchedule(tt.delays...)}, nil)
			for _, status := range tt.failures {
				r.ep.FailNext(1, status)
			}
			start := r.clock.Now()
			ev := r.publish(t, fasten.TypeEHIExportSuccess)

			n, err := webhooktest.DeliverAll(r.ctx, r.s, r.clock)
			require.NoError(t, err)
			require.Equal(t, tt.wantTries, n)
			require.Equal(t, tt.wantClock, r.clock.Now().Sub(start))

			got := r.ep.Events() // no wait: the endpoint answered after the callback
			require.Len(t, got, tt.wantEvents)
			for _, g := range got {
				require.Equal(t, ev.ID, g.ID)
				require.JSONEq(t, string(ev.Data), string(g.Data))
			}

			reqs := r.ep.Requests()
			require.Len(t, reqs, tt.wantTries)
			for i, status := range tt.failures {
				if i < len(reqs) {
					require.Equal(t, status, reqs[i].Status)
					require.True(t, reqs[i].Injected)
					require.Equal(t, ev.ID, reqs[i].ID)
				}
			}

			ds, _, err := r.st.ListDeliveries(r.ctx, store.DeliveryFilter{AllTenants: true})
			require.NoError(t, err)
			require.Len(t, ds, 1)
			require.Equal(t, tt.wantState, ds[0].State)
			require.Equal(t, tt.wantTries, ds[0].Attempts)
			require.Len(t, r.attempts(t), tt.wantTries)

			ep, err := r.st.GetEndpoint(r.ctx, r.epID)
			require.NoError(t, err)
			require.Equal(t, tt.disabled, ep.Disabled)
		})
	}
}

func TestDuplicateHandledOnce(t *testing.T) {
	// Two subscriptions to one URL: the event arrives twice, with one id.
	r := newRig(t, nil, nil)
	r.ep.Register(t, r.s, "*")
	ev := r.publish(t, fasten.TypeEHIExportFailed)

	n, err := webhooktest.DeliverAll(r.ctx, r.s, r.clock)
	require.NoError(t, err)
	require.Equal(t, 2, n)

	got := r.ep.Events()
	require.Len(t, got, 1)
	require.Equal(t, ev.ID, got[0].ID)
	reqs := r.ep.Requests()
	require.Len(t, reqs, 2)
	for _, req := range reqs {
		require.Equal(t, http.StatusOK, req.Status)
		require.False(t, req.Injected)
	}
	stats := r.ep.Receiver().Stats()
	require.Equal(t, uint64(1), stats.Accepted)
	require.Equal(t, uint64(1), stats.Duplicates)
}

func TestEventDatedByRealClock(t *testing.T) {
	// An event from event.New carries the real time, years after the fake
	// clock's start: it is due at the clock's now all the same, and its
	// attempt is dated by the clock.
	r := newRig(t, nil, nil)
	ev, err := event.New(event.ModeTest, fasten.TypeEHIExportSuccess, json.RawMessage(`{"download_links":[]}`))
	require.NoError(t, err)
	start := r.clock.Now()
	_, err = r.s.Publish(r.ctx, ev, sender.ToTenant(""), nil)
	require.NoError(t, err)

	n, err := webhooktest.DeliverAll(r.ctx, r.s, r.clock)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.True(t, r.clock.Now().Equal(start), "the clock did not move: clock %v, start %v", r.clock.Now(), start)
	got := r.ep.Events()
	require.Len(t, got, 1)
	require.True(t, got[0].Date.Equal(start), "the wire date is the attempt's time: %v", got[0].Date)
}

func TestDeliverAllExpiredLease(t *testing.T) {
	// A worker that leased the delivery and died: DeliverAll waits out the
	// lease on the fake clock and delivers.
	r := newRig(t, nil, nil)
	r.publish(t, fasten.TypeEHIExportSuccess)
	leased, err := r.st.Lease(r.ctx, store.LeaseRequest{Now: r.clock.Now(), Limit: 10, Duration: time.Minute, Worker: "crashed"})
	require.NoError(t, err)
	require.Len(t, leased, 1)
	start := r.clock.Now()

	n, err := webhooktest.DeliverAll(r.ctx, r.s, r.clock)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, time.Minute, r.clock.Now().Sub(start))
	require.Len(t, r.ep.Events(), 1)
}

func TestDeliverAllNothingToDo(t *testing.T) {
	r := newRig(t, nil, nil)
	start := r.clock.Now()
	n, err := webhooktest.DeliverAll(r.ctx, r.s, r.clock)
	require.NoError(t, err)
	require.Zero(t, n)
	require.Equal(t, start, r.clock.Now())
}

// phantom is a store that reports a pending delivery it does not have.
type phantom struct {
	store.SenderStore
	due func() time.Time
}

func (p phantom) ListDeliveries(_ context.Context, f store.DeliveryFilter) ([]*store.Delivery, string, error) {
	if f.State != store.StatePending {
		return nil, "", nil
	}
	ev := event.Event{APIMode: event.ModeTest}
	return []*store.Delivery{{ID: "d", State: store.StatePending, Event: ev, NextAttemptAt: p.due()}}, "", nil
}

func TestDeliverAllStalled(t *testing.T) {
	tests := []struct {
		name string
		due  func(c *webhooktest.Clock) time.Time
		want string
	}{
		{name: "due now, not attempted", due: func(c *webhooktest.Clock) time.Time { return c.Now() }, want: "was due"},
		{name: "always due later", due: func(c *webhooktest.Clock) time.Time { return c.Now().Add(time.Second) }, want: "rounds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := webhooktest.NewClock(time.Time{})
			st := phantom{SenderStore: memory.New(&memory.Config{Now: clock.Now}), due: func() time.Time { return tt.due(clock) }}
			s := webhooktest.NewSender(t, st, clock, nil)
			n, err := webhooktest.DeliverAll(t.Context(), s, clock)
			require.ErrorIs(t, err, webhooktest.ErrStalled)
			require.ErrorContains(t, err, tt.want)
			require.Zero(t, n)
		})
	}
}

func TestDeliverAllCancelled(t *testing.T) {
	r := newRig(t, nil, nil)
	r.publish(t, fasten.TypeEHIExportSuccess)
	ctx, cancel := context.WithCancel(r.ctx)
	cancel()
	_, err := webhooktest.DeliverAll(ctx, r.s, r.clock)
	require.ErrorIs(t, err, context.Canceled)
}

func TestWaitForBackgroundSender(t *testing.T) {
	// Real time, a started sender: WaitFor waits on the endpoint.
	ctx := t.Context()
	st := memory.New(nil)
	ep := webhooktest.NewEndpoint(t, nil)
	s := webhooktest.NewSender(t, st, nil, &sender.Config{Now: time.Now, PollInterval: 5 * time.Millisecond, Retry: fixedSchedule(time.Millisecond)})
	ep.Register(t, s)
	ep.FailNext(2, http.StatusTooManyRequests)
	require.NoError(t, s.Start(ctx))

	want := map[string]bool{}
	for _, typ := range []string{fasten.TypeEHIExportSuccess, fasten.TypeEHIExportFailed, fasten.TypeConnectionSuccess} {
		ev, err := event.New(event.ModeTest, typ, mustSample(t, typ))
		require.NoError(t, err)
		_, err = s.Publish(ctx, ev, sender.ToTenant(""), nil)
		require.NoError(t, err)
		want[ev.ID] = true
	}
	got := ep.WaitFor(3, 10*time.Second)
	require.Len(t, got, 3)
	for _, ev := range got {
		require.True(t, want[ev.ID], "unexpected event %s", ev.ID)
		delete(want, ev.ID)
	}
	require.NoError(t, s.Shutdown(ctx))
	injected := 0
	for _, r := range ep.Requests() {
		if r.Injected {
			injected++
			require.Equal(t, http.StatusTooManyRequests, r.Status)
		}
	}
	require.Equal(t, 2, injected)
}

func mustSample(t *testing.T, typ string) json.RawMessage {
	t.Helper()
	d, ok := fasten.Catalog().Lookup(typ)
	require.True(t, ok, typ)
	return d.Sample
}

func TestWaitForTimeoutWithoutTest(t *testing.T) {
	ep, err := webhooktest.NewServer(nil)
	require.NoError(t, err)
	defer ep.Close()
	require.Empty(t, ep.WaitFor(1, 10*time.Millisecond))
	require.Empty(t, ep.WaitFor(0, time.Second)) // already satisfied
}

func TestCallbackRetriesFollowTheClock(t *testing.T) {
	// The receiver retries a failing callback after 1 s, then 1 min, on
	// the endpoint's clock: each retry runs in RunRetries once the clock
	// has passed its delay, not before, and without a sleep.
	tests := []struct {
		name      string
		failures  int32
		steps     []time.Duration // clock moves; RunRetries after each
		wantRuns  []int           // RunRetries' attempts after each step
		wantCalls int
		want      []receiver.Result
	}{
		{name: "moved straight past the delay", failures: 1,
			steps: []time.Duration{time.Second, time.Hour}, wantRuns: []int{1, 0}, wantCalls: 2,
			want: []receiver.Result{receiver.ResultRetry, receiver.ResultHandled}},
		{name: "not before the delay", failures: 1,
			steps:    []time.Duration{0, 999 * time.Millisecond, time.Millisecond},
			wantRuns: []int{0, 0, 1}, wantCalls: 2,
			want: []receiver.Result{receiver.ResultRetry, receiver.ResultHandled}},
		{name: "dead-lettered after the last attempt", failures: 100,
			steps:    []time.Duration{time.Second, time.Minute - time.Millisecond, time.Millisecond, time.Hour},
			wantRuns: []int{1, 0, 1, 0}, wantCalls: 3,
			want: []receiver.Result{receiver.ResultRetry, receiver.ResultRetry, receiver.ResultDead}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			handler := receiver.HandlerFunc(func(ctx context.Context, ev event.Event) error {
				if calls.Add(1) <= tt.failures {
					return errors.New("database unavailable")
				}
				return nil
			})
			var mu sync.Mutex
			var results []receiver.Result
			var dead int
			r := newRig(t, nil, &webhooktest.EndpointConfig{
				Handler: handler,
				Receiver: receiver.Config{
					Retry: fixedSchedule(time.Second, time.Minute),
					Hooks: receiver.Hooks{
						OnDead: func(context.Context, event.Event, error) { mu.Lock(); dead++; mu.Unlock() },
						OnCallback: func(_ context.Context, i receiver.CallbackInfo) { // kept beside the endpoint's
							mu.Lock()
							results = append(results, i.Result)
							mu.Unlock()
						},
					},
				},
			})
			ev := r.publish(t, fasten.TypeEHIExportSuccess)
			n, err := webhooktest.DeliverAll(r.ctx, r.s, r.clock)
			require.NoError(t, err)
			require.Equal(t, 1, n) // the sender's attempt succeeded: the receiver holds the event
			require.Len(t, r.ep.Events(), 1, "the first callback call, which failed")

			for i, step := range tt.steps {
				r.clock.Advance(step)
				n, err := r.ep.RunRetries(r.ctx)
				require.NoError(t, err)
				require.Equal(t, tt.wantRuns[i], n, "step %d", i)
			}
			got := r.ep.Events() // no wait: RunRetries returned after the callbacks
			require.Len(t, got, tt.wantCalls)
			for _, g := range got {
				require.Equal(t, ev.ID, g.ID)
			}
			require.Equal(t, int32(tt.wantCalls), calls.Load())
			mu.Lock()
			require.Equal(t, tt.want, results)
			require.Equal(t, map[bool]int{true: 1}[tt.want[len(tt.want)-1] == receiver.ResultDead], dead)
			mu.Unlock()
			st := r.ep.Receiver().Stats()
			require.Zero(t, st.Pending)
			require.Equal(t, uint64(1), st.Accepted)
		})
	}
}

func TestCallbackRetriesOnRealTimersWithoutClock(t *testing.T) {
	var calls atomic.Int32
	handler := receiver.HandlerFunc(func(ctx context.Context, ev event.Event) error {
		if calls.Add(1) == 1 {
			return errors.New("database unavailable")
		}
		return nil
	})
	ep := webhooktest.NewEndpoint(t, &webhooktest.EndpointConfig{
		Handler:  handler,
		Receiver: receiver.Config{Retry: fixedSchedule(time.Millisecond)},
	})
	ev := webhooktest.NewEvent(t, fasten.TypeEHIExportSuccess, nil)
	in := webhooktest.SignedRequest(t, ep.Secret(), ev) // dated by the real clock
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, ep.URL(), in.Body)
	require.NoError(t, err)
	req.Header = in.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusOK, resp.StatusCode)

	got := ep.WaitFor(2, 10*time.Second) // the retry runs on its own
	require.Equal(t, ev.ID, got[1].ID)
	_, err = ep.RunRetries(t.Context())
	require.ErrorIs(t, err, receiver.ErrInvalidConfig)
}

func TestRunRetriesAfterClose(t *testing.T) {
	ep := webhooktest.NewEndpoint(t, &webhooktest.EndpointConfig{Clock: webhooktest.NewClock(time.Time{})})
	n, err := ep.RunRetries(t.Context())
	require.NoError(t, err)
	require.Zero(t, n)
	ep.Close()
	_, err = ep.RunRetries(t.Context())
	require.ErrorIs(t, err, receiver.ErrClosed)
	require.ErrorContains(t, err, "webhooktest: run retries: ")
}

func TestUserHandlerSeesTypedData(t *testing.T) {
	links := make(chan []fasten.DownloadLink, 1)
	mux := receiver.NewMux()
	require.NoError(t, mux.Handle(fasten.TypeEHIExportSuccess, receiver.Typed(
		func(ctx context.Context, ev event.Event, d fasten.EHIExportSuccess) error {
			links <- d.Links()
			return nil
		})))
	r := newRig(t, nil, &webhooktest.EndpointConfig{Handler: mux})
	r.publish(t, fasten.TypeEHIExportSuccess)
	_, err := webhooktest.DeliverAll(r.ctx, r.s, r.clock)
	require.NoError(t, err)
	select {
	case got := <-links:
		require.Len(t, got, 1)
		require.Equal(t, "jsonl", got[0].ExportType)
	default:
		t.Fatal("the handler had not run when the attempt ended")
	}
}

func TestEndpointRejectsBadSignatures(t *testing.T) {
	ep := webhooktest.NewEndpoint(t, nil)
	other, err := signature.NewSecret()
	require.NoError(t, err)
	ev, err := event.New(event.ModeTest, fasten.TypeWebhookTest, mustSample(t, fasten.TypeWebhookTest))
	require.NoError(t, err)

	tests := []struct {
		name   string
		secret string
		tamper bool
		want   int
	}{
		{name: "wrong secret", secret: other.String(), want: http.StatusUnauthorized},
		{name: "tampered body", secret: ep.Secret(), tamper: true, want: http.StatusUnauthorized},
		{name: "valid", secret: ep.Secret(), want: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := webhooktest.SignedRequest(t, tt.secret, ev)
			body := new(bytes.Buffer)
			_, err := body.ReadFrom(in.Body)
			require.NoError(t, err)
			b := body.Bytes()
			if tt.tamper {
				b = bytes.Replace(b, []byte("world"), []byte("World"), 1)
			}
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, ep.URL(), bytes.NewReader(b))
			require.NoError(t, err)
			req.Header = in.Header.Clone()
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			require.Equal(t, tt.want, resp.StatusCode)
		})
	}
	got := ep.Events()
	require.Len(t, got, 1)
	require.Equal(t, ev.ID, got[0].ID)
	require.Len(t, ep.Requests(), 3)
}

func TestSignedRequest(t *testing.T) {
	secret, err := signature.NewSecret()
	require.NoError(t, err)
	handled := make(chan event.Event, 1)
	rcv, err := receiver.New(receiver.HandlerFunc(func(ctx context.Context, ev event.Event) error {
		handled <- ev
		return nil
	}), &receiver.Config{Keys: []receiver.Key{{Text: secret.String()}}})
	require.NoError(t, err)
	require.NoError(t, rcv.Start(t.Context()))
	defer rcv.Close()

	ev := webhooktest.NewEvent(t, fasten.TypeEHIExportSuccess, nil)
	req := webhooktest.SignedRequest(t, secret.String(), ev)
	require.Equal(t, ev.ID, req.Header.Get(signature.HeaderID))
	v, err := signature.NewVerifier([]signature.Secret{secret}, nil, nil)
	require.NoError(t, err)
	body, err := v.VerifyRequest(req, 0)
	require.NoError(t, err)
	decoded, err := event.Decode(body)
	require.NoError(t, err)
	require.Equal(t, ev.ID, decoded.ID)

	w := httptest.NewRecorder()
	rcv.ServeHTTP(w, req)
	require.Equal(t, http.StatusOK, w.Code)
	select {
	case got := <-handled:
		require.Equal(t, ev.ID, got.ID)
		require.JSONEq(t, string(ev.Data), string(got.Data))
	case <-time.After(10 * time.Second):
		t.Fatal("event not handled")
	}
}

func TestNewEvent(t *testing.T) {
	tests := []struct {
		typ  string
		data any
		want string
	}{
		{typ: fasten.TypeWebhookTest, want: `{}`}, // no provider defaults
		{typ: "order.created", want: `{}`},
		{typ: "order.created", data: map[string]int{"n": 1}, want: `{"n":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			ev := webhooktest.NewEvent(t, tt.typ, tt.data)
			require.Equal(t, event.ModeTest, ev.APIMode)
			require.Equal(t, tt.typ, ev.Type)
			require.True(t, ev.Date.IsZero())
			require.JSONEq(t, tt.want, string(ev.Data))
		})
	}
}

func TestFailNextQueues(t *testing.T) {
	ep := webhooktest.NewEndpoint(t, nil)
	ep.FailNext(2, 503)
	ep.FailNext(1, 500)
	ep.FailNext(0, 400) // nothing
	var got []int
	for range 4 {
		resp, err := http.Post(ep.URL(), "application/json", bytes.NewReader([]byte(`{}`)))
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		got = append(got, resp.StatusCode)
	}
	// The fourth reaches the receiver, which refuses the unsigned request.
	require.Equal(t, []int{503, 503, 500, 400}, got)
	require.Panics(t, func() { ep.FailNext(1, 42) })
}

func TestEndpointConfigSecret(t *testing.T) {
	secret, err := signature.NewSecret()
	require.NoError(t, err)
	cfg := &webhooktest.EndpointConfig{Secret: secret.String()}
	ep := webhooktest.NewEndpoint(t, cfg)
	cfg.Secret = "" // the endpoint took a copy
	require.Equal(t, secret.String(), ep.Secret())
	s := webhooktest.NewSender(t, memory.New(nil), nil, nil)
	require.Equal(t, secret.String(), ep.Register(t, s).Secrets[0].Key)

	_, err = webhooktest.NewServer(&webhooktest.EndpointConfig{Secret: "whsec_short"})
	require.ErrorIs(t, err, receiver.ErrInvalidConfig)
}

// TestEndpointConfigTenant: Register registers the endpoint under the
// configured tenant (the empty one by default).
func TestEndpointConfigTenant(t *testing.T) {
	ctx, clock := t.Context(), webhooktest.NewClock(time.Time{})
	st := memory.New(&memory.Config{Now: clock.Now})
	s := webhooktest.NewSender(t, st, clock, nil)
	require.Empty(t, webhooktest.NewEndpoint(t, nil).Register(t, s).Tenant)

	// A sender fans an event out to the tenant's endpoint only.
	ep := webhooktest.NewEndpoint(t, &webhooktest.EndpointConfig{Tenant: "acme", Clock: clock})
	require.Equal(t, "acme", ep.Register(t, s).Tenant)
	n, err := s.Publish(ctx, webhooktest.NewEvent(t, fasten.TypeEHIExportSuccess, nil), sender.ToTenant(""), nil)
	require.NoError(t, err)
	require.Equal(t, 1, n, "the other tenant's endpoint only")
	n, err = s.Publish(ctx, webhooktest.NewEvent(t, fasten.TypeEHIExportSuccess, nil), sender.ToTenant("acme"), nil)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	_, err = webhooktest.DeliverAll(ctx, s, clock)
	require.NoError(t, err)
	require.Len(t, ep.Events(), 1, "the tenant's endpoint received its event only")
}

// TestRegister checks that Register creates the endpoint through the
// sender's endpoint owner: the sender's mode, every type by default, the
// endpoint's secret, and the owner's rules (a pattern outside the sender's
// catalog, a URL against its policy) failing the test.
func TestRegister(t *testing.T) {
	ep := webhooktest.NewEndpoint(t, nil)
	live := webhooktest.NewSender(t, memory.New(nil), nil, &sender.Config{Mode: event.ModeLive})
	sep := ep.Register(t, live)
	require.NotEmpty(t, sep.ID)
	require.Equal(t, event.ModeLive, sep.Mode, "the sender's mode")
	require.Equal(t, []string{"*"}, sep.EventTypes)
	require.Equal(t, ep.URL(), sep.URL)
	got, err := live.Endpoints().Get(t.Context(), sep.ID)
	require.NoError(t, err)
	require.Equal(t, ep.Secret(), got.Secrets[0].Key)

	cat, err := event.NewCatalog(event.TypeInfo{Type: "order.paid"})
	require.NoError(t, err)
	s := webhooktest.NewSender(t, memory.New(nil), nil, &sender.Config{Catalog: cat})
	require.Equal(t, []string{"order.*", "ping"}, ep.Register(t, s, "order.*", "ping").EventTypes)
	ftb := &fatalTB{TB: t}
	ep.Register(ftb, s, "order.payed")
	require.Contains(t, ftb.fatal, `webhooktest: register endpoint: `)
	require.Contains(t, ftb.fatal, `event types[0]: "order.payed" selects no event type of the catalog`)

	guarded, err := sender.New(memory.New(nil), nil) // refuses loopback, as in production
	require.NoError(t, err)
	t.Cleanup(func() { _ = guarded.Close() })
	ftb = &fatalTB{TB: t}
	ep.Register(ftb, guarded)
	require.Contains(t, ftb.fatal, "url: ")
	require.Contains(t, ftb.fatal, "is not a public host")
}

func TestClock(t *testing.T) {
	var zero webhooktest.Clock
	require.Equal(t, webhooktest.DefaultStart(), zero.Now())
	require.Equal(t, webhooktest.DefaultStart().Add(time.Second), zero.Advance(time.Second))

	start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	c := webhooktest.NewClock(start)
	require.Equal(t, start, c.Now())
	c.Set(start.Add(time.Hour))
	require.Equal(t, start.Add(time.Hour), c.Now())
	c.Set(time.Time{})
	require.Equal(t, webhooktest.DefaultStart(), c.Now())

	// Concurrent advances all count.
	c = webhooktest.NewClock(start)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				c.Advance(time.Millisecond)
				_ = c.Now()
			}
		})
	}
	wg.Wait()
	require.Equal(t, start.Add(800*time.Millisecond), c.Now())
}

func TestWithoutCallbackWait(t *testing.T) {
	// With no wait the endpoint answers as a production receiver does, at
	// once: the attempt is over while the callback still runs.
	release := make(chan struct{})
	blocked := receiver.HandlerFunc(func(ctx context.Context, ev event.Event) error {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	})
	r := newRig(t, nil, &webhooktest.EndpointConfig{Handler: blocked, CallbackWait: -1})
	ev := r.publish(t, fasten.TypeEHIExportSuccess)

	n, err := webhooktest.DeliverAll(r.ctx, r.s, r.clock)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Empty(t, r.ep.Events()) // the callback has not returned
	close(release)
	got := r.ep.WaitFor(1, 10*time.Second)
	require.Equal(t, ev.ID, got[0].ID)
}

// TestOrderWebhook is the README's testing example, kept compiling here.
func TestOrderWebhook(t *testing.T) {
	ctx := t.Context()
	clock := webhooktest.NewClock(time.Time{})                                  // a fake clock, shared below
	ep := webhooktest.NewEndpoint(t, &webhooktest.EndpointConfig{Clock: clock}) // httptest server + real receiver
	st := memory.New(nil)
	s := webhooktest.NewSender(t, st, clock, nil) // Now: clock.Now; loopback allowed
	ep.Register(t, s, "order.*")                  // through s.Endpoints(), like a customer's URL

	ep.FailNext(1, http.StatusServiceUnavailable)    // the first attempt fails
	ev := webhooktest.NewEvent(t, "order.paid", nil) // data {}
	_, err := s.Publish(ctx, ev, sender.ToTenant(""), nil)
	require.NoError(t, err)

	n, err := webhooktest.DeliverAll(ctx, s, clock) // delivers, jumps the clock to the retry, delivers
	require.NoError(t, err)
	require.Equal(t, 2, n)         // 503, then 200
	require.Len(t, ep.Events(), 1) // received once
}

// outputTB is a testing.TB whose Output is a buffer, to see what a helper
// writes to the test's output.
type outputTB struct {
	testing.TB
	out *lockedBuffer
}

func (o outputTB) Output() io.Writer { return o.out }

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestNewSenderLogsWarningsOnly checks that the default logger of NewSender
// and NewEndpoint drops routine lines (each failed attempt is logged at
// INFO) and keeps warnings (a delivery given up).
func TestNewSenderLogsWarningsOnly(t *testing.T) {
	ctx := t.Context()
	clock := webhooktest.NewClock(time.Time{})
	st := memory.New(&memory.Config{Now: clock.Now})
	out := &lockedBuffer{}
	tb := outputTB{TB: t, out: out}
	ep := webhooktest.NewEndpoint(tb, &webhooktest.EndpointConfig{Clock: clock})
	s := webhooktest.NewSender(tb, st, clock, &sender.Config{Retry: retry.Exponential{MaxAttempts: 2, Base: time.Second, MaxAge: -1}})
	ep.Register(t, s)

	ep.FailNext(2, http.StatusServiceUnavailable)
	_, err := s.Publish(ctx, webhooktest.NewEvent(t, fasten.TypeEHIExportSuccess, nil), sender.ToTenant(""), nil)
	require.NoError(t, err)
	n, err := webhooktest.DeliverAll(ctx, s, clock)
	require.NoError(t, err)
	require.Equal(t, 2, n)

	logged := out.String()
	require.Contains(t, logged, "level=WARN", "warnings reach the test's output")
	require.Contains(t, logged, "sender: delivery given up")
	require.NotContains(t, logged, "level=INFO", "routine lines are dropped")
	require.NotContains(t, logged, "sender: attempt")
}

// TestServerRegistration: an endpoint from NewServer, which has no test,
// registers with a sender through Registration and the owner's Create,
// and receives what is published; Registration can be changed first, here
// to the event-payload format, which the endpoint's receiver answers 400
// with the hint naming receiver.EventPayload.
func TestServerRegistration(t *testing.T) {
	ctx, clock := t.Context(), webhooktest.NewClock(time.Time{})
	ep, err := webhooktest.NewServer(&webhooktest.EndpointConfig{
		Clock: clock, Tenant: "acme",
		Receiver: receiver.Config{Logger: slog.New(slog.DiscardHandler)},
	})
	require.NoError(t, err)
	defer ep.Close()

	reg := ep.Registration("order.*")
	require.Equal(t, &store.Endpoint{
		Tenant: "acme", URL: ep.URL(), Description: "webhooktest endpoint",
		EventTypes: []string{"order.*"}, Secrets: []store.SigningKey{{Key: ep.Secret()}},
	}, reg)
	require.Equal(t, []string{"*"}, ep.Registration().EventTypes, "every type by default")
	require.NotSame(t, reg, ep.Registration("order.*"), "a new value each call")

	s := webhooktest.NewSender(t, memory.New(&memory.Config{Now: clock.Now}), clock, nil)
	sec, err := s.Endpoints().Create(ctx, reg)
	require.NoError(t, err)
	require.Empty(t, sec.String(), "the endpoint's own secret, none generated")
	require.NotEmpty(t, reg.ID)
	_, err = s.Publish(ctx, webhooktest.NewEvent(t, "order.paid", nil), sender.ToTenant("acme"), nil)
	require.NoError(t, err)
	_, err = webhooktest.DeliverAll(ctx, s, clock)
	require.NoError(t, err)
	require.Len(t, ep.Events(), 1)

	ping := ep.Registration("ping")
	ping.Format = store.BodyEventPayload
	_, err = s.Endpoints().Create(ctx, ping)
	require.NoError(t, err)
	a, err := s.Ping(ctx, ping.ID)
	require.NotNil(t, a, "%v", err)
	require.Equal(t, http.StatusBadRequest, a.StatusCode)
	require.Contains(t, string(a.ResponseBody), "receiver.EventPayload")
	require.Len(t, ep.Events(), 1, "the ping was refused")
}
