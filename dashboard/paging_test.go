package dashboard_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

// countingStore records the list calls the dashboard makes.
type countingStore struct {
	store.SenderStore
	mu       sync.Mutex
	maxLimit int // largest page asked for
	rows     int // rows returned by list calls
	calls    int
}

func (s *countingStore) note(limit, rows int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxLimit = max(s.maxLimit, limit)
	s.rows += rows
	s.calls++
}

func (s *countingStore) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxLimit, s.rows, s.calls = 0, 0, 0
}

func (s *countingStore) ListDeliveries(ctx context.Context, f store.DeliveryFilter) ([]*store.Delivery, string, error) {
	ds, next, err := s.SenderStore.ListDeliveries(ctx, f)
	s.note(f.Page.Limit, len(ds))
	return ds, next, err
}

func (s *countingStore) ListAttempts(ctx context.Context, f store.AttemptFilter) ([]*store.Attempt, string, error) {
	as, next, err := s.SenderStore.ListAttempts(ctx, f)
	s.note(f.Page.Limit, len(as))
	return as, next, err
}

func (s *countingStore) ListEndpoints(ctx context.Context, f store.EndpointFilter) ([]*store.Endpoint, string, error) {
	eps, next, err := s.SenderStore.ListEndpoints(ctx, f)
	s.note(f.Page.Limit, len(eps))
	return eps, next, err
}

// seeder returns a func that enqueues one delivery of ep with the given
// number of failed attempts, returning its id; i orders the deliveries.
func seeder(tb testing.TB, e *env, ep *store.Endpoint) func(i, attempts int) string {
	ctx := context.Background()
	base := time.Now().Add(-time.Hour)
	return func(i, attempts int) string {
		ev := event.Event{APIMode: event.ModeTest, Date: base.Add(time.Duration(i) * time.Millisecond), ID: uuid.NewString(), Type: "bulk.event", Data: []byte(`{"i":1}`)}
		n, err := e.st.Enqueue(ctx, store.EnqueueRequest{Event: ev, Targets: []store.Target{{EndpointID: ep.ID, Tenant: ep.Tenant}}, Now: ev.Date})
		require.NoError(tb, err)
		require.Equal(tb, 1, n)
		ds, _, err := e.st.ListDeliveries(ctx, store.DeliveryFilter{Tenant: ep.Tenant, EventID: ev.ID})
		require.NoError(tb, err)
		require.Len(tb, ds, 1)
		for k := 1; k <= attempts; k++ {
			require.NoError(tb, e.st.AddAttempt(ctx, &store.Attempt{
				DeliveryID: ds[0].ID, EndpointID: ep.ID, Tenant: ep.Tenant, EventID: ev.ID, EventType: ev.Type, Mode: event.ModeTest,
				Number: k, At: ev.Date.Add(time.Duration(k) * time.Microsecond), StatusCode: 500, URL: ep.URL,
				ResponseBody: []byte(fmt.Sprintf("attempt %d of %d", k, i)),
			}))
		}
		return ds[0].ID
	}
}

// BenchmarkLogsPage renders the first page of an endpoint's delivery log
// (50 rows, each with its latest attempt) over a memory store holding
// 100,000 attempts.
func BenchmarkLogsPage(b *testing.B) {
	e := newEnv(b, envOptions{})
	ep := e.addEndpoint("acme", "", "*")
	add := seeder(b, e, ep)
	for i := range 20000 {
		add(i, 5)
	}
	c := e.client("acme")
	b.ResetTimer()
	for b.Loop() {
		r := c.get("endpoints/" + ep.ID)
		if r.status != http.StatusOK || strings.Count(r.body, `<details class="delivery`) != 50 {
			b.Fatalf("status %d", r.status)
		}
	}
}

var nextRE = regexp.MustCompile(`<a rel="next" class="next" href="([^"]+)">`)

// TestLargeLogIsPaged fills the attempt log with 20,000 attempts and checks
// that the pages read one page at a time and that "next" links work.
func TestLargeLogIsPaged(t *testing.T) {
	const (
		pageSize   = 25
		deliveries = 3800
		perDel     = 5
		bigDel     = 1000 // attempts of one more delivery: 3800*5+1000 = 20,000
	)
	var cs *countingStore
	e := newEnv(t, envOptions{PageSize: pageSize, Wrap: func(s store.SenderStore) store.SenderStore {
		cs = &countingStore{SenderStore: s}
		return cs
	}})
	ep := e.addEndpoint("acme", "", "*")
	ctx := context.Background()
	addDelivery := seeder(t, e, ep)
	bigID := addDelivery(0, bigDel)
	for i := 1; i <= deliveries; i++ {
		addDelivery(i, perDel)
	}
	total := 0
	for cur := ""; ; {
		as, next, err := e.st.ListAttempts(ctx, store.AttemptFilter{Tenant: "acme", Page: store.Page{Cursor: cur, Limit: store.MaxPageSize}})
		require.NoError(t, err)
		total += len(as)
		if next == "" {
			break
		}
		cur = next
	}
	require.Equal(t, 20000, total)

	c := e.client("acme")
	cs.reset()
	r := c.get("endpoints/" + ep.ID)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, pageSize, strings.Count(r.body, `<details class="delivery`), "one page of deliveries")
	require.LessOrEqual(t, cs.maxLimit, 5*pageSize, "no list call asks for more than a few pages")
	require.LessOrEqual(t, cs.rows, 6*pageSize, "a page of deliveries plus a bounded batch of latest attempts")
	require.Equal(t, 2, cs.calls, "one query for the deliveries, one for their latest attempts")
	require.True(t, strings.Contains(r.body, "attempt 5 of 3800"), "the newest delivery's latest attempt")
	require.False(t, strings.Contains(r.body, "No attempt yet"), "every row has its latest attempt")
	first := r.body

	// Follow "next" twice: new rows each time.
	seen := map[string]bool{}
	idRE := regexp.MustCompile(`/deliveries/([0-9a-f-]{36})"`)
	for _, m := range idRE.FindAllStringSubmatch(first, -1) {
		seen[m[1]] = true
	}
	require.Len(t, seen, pageSize)
	body := first
	for range 2 {
		m := nextRE.FindStringSubmatch(body)
		require.NotNil(t, m, "a next link")
		link := html.UnescapeString(m[1])
		require.True(t, strings.HasPrefix(link, "/webhooks/endpoints/"+ep.ID+"?cursor="), link)
		cs.reset()
		r = c.get(strings.TrimPrefix(link, "/webhooks/"))
		require.Equal(t, http.StatusOK, r.status)
		require.Equal(t, pageSize, strings.Count(r.body, `<details class="delivery`))
		require.LessOrEqual(t, cs.maxLimit, 5*pageSize)
		require.LessOrEqual(t, cs.calls, 2+pageSize)
		require.False(t, strings.Contains(r.body, "No attempt yet"), "every row has its latest attempt")
		require.Contains(t, r.body, "« First page")
		for _, m := range idRE.FindAllStringSubmatch(r.body, -1) {
			require.False(t, seen[m[1]], "page rows do not repeat")
			seen[m[1]] = true
		}
		body = r.body
	}

	// The filter survives paging.
	r = c.get("endpoints/" + ep.ID + "?state=pending&type=bulk.event")
	m := nextRE.FindStringSubmatch(r.body)
	require.NotNil(t, m)
	require.Contains(t, html.UnescapeString(m[1]), "state=pending")
	require.Contains(t, html.UnescapeString(m[1]), "type=bulk.event")

	// One delivery with 1,000 attempts: its page shows a page of attempts.
	cs.reset()
	r = c.get("endpoints/" + ep.ID + "/deliveries/" + bigID)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, pageSize, strings.Count(r.body, `<details class="attempt-row">`))
	require.Contains(t, r.body, fmt.Sprintf("attempt %d of 0", bigDel), "newest first")
	require.LessOrEqual(t, cs.maxLimit, pageSize)
	m = nextRE.FindStringSubmatch(r.body)
	require.NotNil(t, m)
	r = c.get(strings.TrimPrefix(html.UnescapeString(m[1]), "/webhooks/"))
	require.Equal(t, pageSize, strings.Count(r.body, `<details class="attempt-row">`))
	require.Contains(t, r.body, fmt.Sprintf("attempt %d of 0", bigDel-pageSize))

	// The API pages too, with a caller-chosen limit capped at MaxPageSize.
	cs.reset()
	resp, list := c.api(http.MethodGet, "endpoints/"+ep.ID+"/deliveries?limit=100000", nil)
	require.Equal(t, http.StatusOK, resp.status)
	require.Len(t, list["data"], 200)
	require.NotEmpty(t, list["next_cursor"])
	require.Equal(t, 200, cs.maxLimit)
}
