package webhookapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

// The request bodies of the API's documentation, verbatim (without the
// shell comments around them).
const (
	seedCreate = `{
  "organization": "organization.id",
  "active": true,
  "url": "https://example.com/webhook",
  "events": "ping"
}`
	seedPing = `{
  "webhook": "webhook.id",
  "event": "ping"
}`
)

// wireEvent is the body a webhook of the {id, event, payload} format gets.
type wireEvent struct {
	ID      string          `json:"id"`
	Event   string          `json:"event"`
	Payload json.RawMessage `json:"payload"`
}

// TestSeedBodies checks the documentation's two bodies against the handler:
// the webhook is created (at /webhooks, and at /webhook-events where the
// documentation posts it), and the ping body pings it once its placeholder
// id is the real one (verbatim, the placeholder is an unknown webhook).
func TestSeedBodies(t *testing.T) {
	e := newEnv(t, nil)
	const org = "organization.id"

	r := e.do(http.MethodPost, "/webhooks", org, seedCreate)
	require.Equal(t, http.StatusCreated, r.status, r.body)
	wh := r.json(t)
	require.Equal(t, "organization.id", wh["organization"])
	require.Equal(t, true, wh["active"])
	require.Equal(t, "https://example.com/webhook", wh["url"])
	require.Equal(t, []any{"ping"}, wh["events"], "a single event is a list of one")
	require.Equal(t, "event-payload", wh["format"])
	require.NotContains(t, wh, "account", "organization-wide")
	require.True(t, strings.HasPrefix(wh["secret"].(string), "whsec_"))

	r = e.do(http.MethodPost, "/webhook-events", org, seedCreate)
	require.Equal(t, http.StatusCreated, r.status, r.body)
	require.NotEqual(t, wh["id"], r.json(t)["id"], "a second webhook")

	r = e.do(http.MethodPost, "/webhook-events", org, seedPing)
	require.Equal(t, http.StatusNotFound, r.status, r.body)
	code, _ := r.errorOf(t)
	require.Equal(t, "not_found", code)

	r = e.do(http.MethodPost, "/webhook-events", org, strings.Replace(seedPing, "webhook.id", wh["id"].(string), 1))
	require.Equal(t, http.StatusCreated, r.status, r.body)
	a := r.json(t)
	require.Equal(t, wh["id"], a["webhook"])
	require.Equal(t, "ping", a["event"])
	require.Equal(t, true, a["delivered"])
	require.Equal(t, float64(200), a["status_code"])
	require.Equal(t, "event-payload", a["format"])
	got := e.rc.requests("/webhook")
	require.Len(t, got, 1)
	require.Equal(t, `{"id":"`+a["event_id"].(string)+`","event":"ping"}`, string(got[0].Body), "a ping has no payload")
	require.Equal(t, a["request_body"], string(got[0].Body))
}

// TestEndToEnd goes create → ping → publish medical-encounters.create for an
// account → delivery with the {id, event, payload} body → 200 marks it
// delivered, with an organization-wide webhook (which receives it), another
// account's webhook and an inactive one (which do not), and a webhook of
// another organization.
func TestEndToEnd(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	const org = "org_1"

	acct1, sec1 := e.create(org, `{"organization": "org_1", "account": "acct_1", "active": true,
		"url": "https://example.com/acct1", "events": "medical-encounters"}`)
	wide, secWide := e.create(org, `{"organization": "org_1", "active": true,
		"url": "https://example.com/wide", "events": ["medical-encounters.create", "medical-encounters.update"]}`)
	acct2, _ := e.create(org, `{"organization": "org_1", "account": "acct_2", "active": true,
		"url": "https://example.com/acct2", "events": "medical-encounters"}`)
	inactive, secInactive := e.create(org, `{"organization": "org_1", "account": "acct_1", "active": false,
		"url": "https://example.com/inactive", "events": "*"}`)
	pingOnly, _ := e.create(org, `{"organization": "org_1", "url": "https://example.com/ping", "events": "ping"}`)
	other, _ := e.create("org_2", `{"url": "https://example.com/org2", "events": "*"}`)

	r := e.do(http.MethodGet, "/webhooks/"+inactive, org, "")
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, false, r.json(t)["active"])
	require.Equal(t, "acct_1", r.json(t)["account"])

	// Ping the account's webhook.
	r = e.do(http.MethodPost, "/webhook-events", org, `{"webhook": "`+acct1+`", "event": "ping"}`)
	require.Equal(t, http.StatusCreated, r.status, r.body)
	require.Equal(t, true, r.json(t)["delivered"])
	pings := e.rc.requests("/acct1")
	require.Len(t, pings, 1)
	require.NoError(t, e.verify(pings[0], sec1))

	// The application publishes an event of the account.
	const data = `{"id": "me_42", "patient": "p_7",  "notes": ["a", 2.50]}`
	ev, err := event.New(event.ModeTest, "medical-encounters.create", json.RawMessage(data))
	require.NoError(t, err)
	n, err := e.snd.Publish(ctx, ev, sender.ToAccount(org, "acct_1"), nil)
	require.NoError(t, err)
	require.Equal(t, 2, n, "the account's webhook and the organization-wide one")
	attempts, err := e.snd.ProcessDue(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, attempts)

	for _, tc := range []struct{ path, id string }{{"/acct1", acct1}, {"/wide", wide}} {
		got := e.rc.requests(tc.path)
		last := got[len(got)-1]
		var we wireEvent
		require.NoError(t, json.Unmarshal(last.Body, &we), string(last.Body))
		require.Equal(t, ev.ID, we.ID, tc.path)
		require.Equal(t, "medical-encounters.create", we.Event)
		require.Equal(t, data, string(we.Payload), "the data bytes exactly as published")
		require.Equal(t, ev.ID, last.Header.Get("Webhook-Id"))
		require.Equal(t, store.StateSucceeded, e.delivery(ev.ID, tc.id).State, "200 marks it delivered")
	}
	require.NoError(t, e.verify(e.rc.requests("/acct1")[1], sec1))
	require.NoError(t, e.verify(e.rc.requests("/wide")[0], secWide))

	// The library's receiving side reads the same body: the event-payload
	// provider verifies it and hands on the id, the type and the data.
	p := receiver.EventPayload{}
	v, err := p.NewVerifier([]string{sec1.String()}, &signature.VerifyOptions{Now: func() time.Time { return e.now }})
	require.NoError(t, err)
	sent := e.rc.requests("/acct1")[1]
	require.NoError(t, v.Verify(sent.Header, sent.Body))
	msg, err := p.Parse(sent.Header, sent.Body)
	require.NoError(t, err)
	require.Equal(t, ev.ID, msg.Key)
	require.Equal(t, "medical-encounters.create", msg.Type)
	require.Equal(t, data, string(msg.Data))
	for _, path := range []string{"/acct2", "/inactive", "/ping", "/org2"} {
		require.Empty(t, e.rc.requests(path), path)
	}
	for _, id := range []string{acct2, inactive, pingOnly, other} {
		ds, _, err := e.snd.Store().ListDeliveries(ctx, store.DeliveryFilter{AllTenants: true, EventID: ev.ID, EndpointID: id})
		require.NoError(t, err)
		require.Empty(t, ds, id)
	}

	// Activating the inactive webhook: the next event reaches it.
	r = e.do(http.MethodPatch, "/webhooks/"+inactive, org, `{"active": true}`)
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.Equal(t, true, r.json(t)["active"])
	ev2, err := event.New(event.ModeTest, "medical-encounters.remove", json.RawMessage(`{"id": "me_42"}`))
	require.NoError(t, err)
	_, err = e.snd.Publish(ctx, ev2, sender.ToAccount(org, "acct_1"), nil)
	require.NoError(t, err)
	_, err = e.snd.ProcessDue(ctx)
	require.NoError(t, err)
	got := e.rc.requests("/inactive")
	require.Len(t, got, 1)
	require.NoError(t, e.verify(got[0], secInactive))
	require.Len(t, e.rc.requests("/wide"), 1, "the organization-wide webhook is not subscribed to .remove")
	require.Len(t, e.rc.requests("/acct1"), 3, "the service subscription gets .remove")

	// A webhook that does not answer 2xx: the ping is still answered 201,
	// not delivered.
	e.rc.mu.Lock()
	e.rc.fail["/wide"] = http.StatusInternalServerError
	e.rc.mu.Unlock()
	r = e.do(http.MethodPost, "/webhook-events", org, `{"webhook": "`+wide+`"}`)
	require.Equal(t, http.StatusCreated, r.status, r.body)
	a := r.json(t)
	require.Equal(t, false, a["delivered"])
	require.Equal(t, float64(500), a["status_code"])
}

// TestPatchSetsUpdatedAt: every PATCH that names a field sets updated_at
// to the time of the change, "active" alone included (enabling and
// disabling do not otherwise write the endpoint); created_at stays.
func TestPatchSetsUpdatedAt(t *testing.T) {
	e := newEnv(t, nil)
	const org = "org_1"
	id, _ := e.create(org, `{"url": "https://example.com/a", "events": "ping"}`)
	created := e.now.Format(time.RFC3339)
	for i, tc := range []struct {
		name, body string
		active     bool
	}{
		{"deactivate", `{"active": false}`, false},
		{"activate", `{"active": true}`, true},
		{"same active", `{"active": true}`, true},
		{"description", `{"description": "orders"}`, true},
		{"active and url", `{"active": false, "url": "https://example.com/b"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			e.storeClock.Advance(time.Minute)
			want := e.now.Add(time.Duration(i+1) * time.Minute).Format(time.RFC3339)
			r := e.do(http.MethodPatch, "/webhooks/"+id, org, tc.body)
			require.Equal(t, http.StatusOK, r.status, r.body)
			wh := r.json(t)
			require.Equal(t, tc.active, wh["active"])
			require.Equal(t, want, wh["updated_at"])
			require.Equal(t, created, wh["created_at"])
			r = e.do(http.MethodGet, "/webhooks/"+id, org, "")
			require.Equal(t, want, r.json(t)["updated_at"], "as stored")
		})
	}
	e.t = t
	e.storeClock.Advance(time.Minute)
	r := e.do(http.MethodPatch, "/webhooks/"+id, org, `{}`)
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.Equal(t, e.now.Add(5*time.Minute).Format(time.RFC3339), r.json(t)["updated_at"], "an empty PATCH changes nothing")
}

// TestListOrder: GET /webhooks lists by id, the store's order, the same on
// every call, and its pages follow that order: together they are the whole
// list, each webhook once, also when webhooks are created between pages.
func TestListOrder(t *testing.T) {
	e := newEnv(t, nil)
	const org = "org_1"
	var ids []string
	for i := range 7 {
		e.storeClock.Advance(time.Second)
		id, _ := e.create(org, `{"url": "https://example.com/`+strconv.Itoa(i)+`", "events": "ping"}`)
		ids = append(ids, id)
	}
	list := func(query string) ([]string, string) {
		t.Helper()
		r := e.do(http.MethodGet, "/webhooks"+query, org, "")
		require.Equal(t, http.StatusOK, r.status, r.body)
		var page struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
			NextCursor string `json:"next_cursor"`
		}
		require.NoError(t, json.Unmarshal([]byte(r.body), &page))
		var got []string
		for _, w := range page.Data {
			got = append(got, w.ID)
		}
		return got, page.NextCursor
	}

	all, next := list("")
	require.Empty(t, next)
	require.ElementsMatch(t, ids, all)
	require.True(t, slices.IsSorted(all), "by id: %v", all)
	for range 3 {
		again, _ := list("")
		require.Equal(t, all, again, "the same order on every call")
	}

	var paged []string
	cursor := ""
	for page := 0; ; page++ {
		got, next := list("?limit=3&cursor=" + url.QueryEscape(cursor))
		paged = append(paged, got...)
		if page == 0 {
			id, _ := e.create(org, `{"url": "https://example.com/late", "events": "ping"}`)
			all = append(all, id)
			slices.Sort(all)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	seen := map[string]bool{}
	for _, id := range paged {
		require.False(t, seen[id], "each webhook once: %v", paged)
		seen[id] = true
	}
	require.True(t, slices.IsSorted(paged), "pages follow the order: %v", paged)
	require.Subset(t, all, paged)
	for _, id := range ids {
		require.True(t, seen[id], "every webhook that existed throughout is listed")
	}
}

// TestFormatsMeetReceivers: what the package doc promises about formats. A
// webhook created without "format" is sent {id, event, payload}, which a
// receiver reads with receiver.EventPayload and which one with the default
// provider refuses 400 with a hint naming EventPayload; one created with
// "format": "envelope" is read by the default provider.
func TestFormatsMeetReceivers(t *testing.T) {
	e := newEnv(t, nil)
	const org = "org_1"
	dflt, sec := e.create(org, `{"url": "https://example.com/default", "events": "ping"}`)
	env, envSec := e.create(org, `{"url": "https://example.com/envelope", "events": "ping", "format": "envelope"}`)
	for _, id := range []string{dflt, env} {
		r := e.do(http.MethodPost, "/webhook-events", org, `{"webhook": "`+id+`"}`)
		require.Equal(t, http.StatusCreated, r.status, r.body)
	}
	deliver := func(p receiver.Provider, key signature.Secret, got received) *httptest.ResponseRecorder {
		t.Helper()
		r, err := receiver.New(receiver.HandlerFunc(func(context.Context, event.Event) error { return nil }), &receiver.Config{
			Provider: p, Keys: []receiver.Key{{Text: key.String()}},
			Now: func() time.Time { return e.now }, Logger: slog.New(slog.DiscardHandler),
		})
		require.NoError(t, err)
		require.NoError(t, r.Start(t.Context()))
		defer r.Close()
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(got.Body))
		req.Header = got.Header.Clone()
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return w
	}
	sent := e.rc.requests("/default")[0]
	w := deliver(nil, sec, sent)
	require.Equal(t, http.StatusBadRequest, w.Code)
	require.True(t, strings.HasPrefix(w.Body.String(), string(receiver.ReasonInvalidEvent)+"\n"), w.Body.String())
	require.Contains(t, w.Body.String(), "receiver.EventPayload")
	require.Equal(t, http.StatusOK, deliver(receiver.EventPayload{}, sec, sent).Code)
	require.Equal(t, http.StatusOK, deliver(nil, envSec, e.rc.requests("/envelope")[0]).Code)
}

// TestRotateSecret: POST /webhooks/{id}/rotate-secret answers the webhook
// with a new secret, shown this once; requests are then signed with the
// new secret and, for the overlap, the old one; overlap_seconds 0 stops
// the old ones at once. Webhooks outside the scope are unknown, and bad
// bodies are refused.
func TestRotateSecret(t *testing.T) {
	e := newEnv(t, nil)
	const org = "org_1"
	id, old := e.create(org, `{"url": "https://example.com/rotate", "events": "ping"}`)
	ping := func() received {
		t.Helper()
		r := e.do(http.MethodPost, "/webhook-events", org, `{"webhook": "`+id+`", "event": "ping"}`)
		require.Equal(t, http.StatusCreated, r.status, r.body)
		got := e.rc.requests("/rotate")
		return got[len(got)-1]
	}
	rotate := func(body string) signature.Secret {
		t.Helper()
		r := e.do(http.MethodPost, "/webhooks/"+id+"/rotate-secret", org, body)
		require.Equal(t, http.StatusCreated, r.status, r.body)
		m := r.json(t)
		require.Equal(t, id, m["id"])
		sec, err := signature.ParseSecret(m["secret"].(string))
		require.NoError(t, err)
		return sec
	}

	first := rotate(`{"overlap_seconds": 3600}`)
	require.NotEqual(t, old.String(), first.String())
	g := ping()
	require.NoError(t, e.verify(g, first), "signed with the new secret")
	require.NoError(t, e.verify(g, old), "and, during the overlap, the old one")
	r := e.do(http.MethodGet, "/webhooks/"+id, org, "")
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.NotContains(t, r.json(t), "secret", "shown once")

	second := rotate("") // no body: the default overlap
	g = ping()
	for _, s := range []signature.Secret{second, first, old} {
		require.NoError(t, e.verify(g, s))
	}

	third := rotate(`{"overlap_seconds": 0}`) // the old ones stop at once
	g = ping()
	require.NoError(t, e.verify(g, third))
	for _, s := range []signature.Secret{second, first, old} {
		require.Error(t, e.verify(g, s), "an old secret no longer signs")
	}

	for _, tc := range []struct {
		name, token, path, body string
		status                  int
	}{
		{"another organization's webhook", "org_2", "/webhooks/" + id + "/rotate-secret", `{}`, http.StatusNotFound},
		{"unknown webhook", org, "/webhooks/nope/rotate-secret", `{}`, http.StatusNotFound},
		{"negative overlap", org, "/webhooks/" + id + "/rotate-secret", `{"overlap_seconds": -1}`, http.StatusBadRequest},
		{"overlap too long", org, "/webhooks/" + id + "/rotate-secret", `{"overlap_seconds": 2592001}`, http.StatusBadRequest},
		{"unknown field", org, "/webhooks/" + id + "/rotate-secret", `{"overlap": 5}`, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(http.MethodPost, tc.path, tc.token, tc.body)
			require.Equal(t, tc.status, r.status, r.body)
		})
	}
	r = e.do(http.MethodGet, "/webhooks/"+id+"/rotate-secret", org, "")
	require.Equal(t, http.StatusMethodNotAllowed, r.status, r.body)
	require.Equal(t, "POST", r.header.Get("Allow"))
	require.NoError(t, e.verify(ping(), third), "the refused requests changed nothing")
}
