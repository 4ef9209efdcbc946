package receiver_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/internal/receivertest"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/webhooktest"
)

// TestProviderRedriveSQL: events of GitHub and Stripe sources accepted
// into a SQLite or PostgreSQL inbox by a receiver that died mid-callback
// are re-driven by the next receiver on the inbox, with their provider:
// the same key, type, mode, data, headers and body; each source's keys
// live in its own namespace, so one id of both is two events.
func TestProviderRedriveSQL(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			st := openDurable(t, kind)
			var now atomic.Int64
			now.Store(receivertest.Now().UnixNano())
			clock := func() time.Time { return time.Unix(0, now.Load()).UTC() }
			sources := []receiver.Source{
				{Provider: receiver.GitHub{}, Keys: []receiver.Key{{Text: "gh-secret"}}},
				{Provider: receiver.Stripe{}, Keys: []receiver.Key{{Text: "whsec_stripe"}}},
			}
			cfg := receiver.Config{Sources: sources, Inbox: st, Now: clock, Lease: time.Minute,
				RecoveryInterval: time.Hour, Logger: quiet}

			started := make(chan struct{}, 2)
			a, err := receiver.New(receiver.HandlerFunc(func(ctx context.Context, _ event.Event) error {
				started <- struct{}{}
				<-ctx.Done() // the process "dies" mid-callback
				return ctx.Err()
			}), &cfg)
			require.NoError(t, err)
			require.NoError(t, a.Start(context.Background()))
			ghBody := []byte(`{"action":"opened","pull_request":{"number":7}}`)
			gh := webhooktest.GitHubRequest(t, "gh-secret", "pull_request", "evt_same", ghBody)
			ghHeader := gh.Header.Clone()
			stBody := []byte(`{"id":"evt_same","type":"invoice.paid","livemode":true}`)
			require.Equal(t, http.StatusOK, serveTo(a.Source("github"), gh))
			require.Equal(t, http.StatusOK, serveTo(a.Source("stripe"), webhooktest.StripeRequest(t, "whsec_stripe", clock(), stBody)))
			<-started
			<-started
			require.NoError(t, a.Close())

			now.Add(int64(2 * time.Minute)) // the leases end
			got := make(chan [2]any, 2)
			b, err := receiver.New(receiver.HandlerFunc(func(ctx context.Context, ev event.Event) error {
				d, _ := receiver.DeliveryFrom(ctx)
				got <- [2]any{ev, d}
				return nil
			}), &cfg)
			require.NoError(t, err)
			require.NoError(t, b.Start(context.Background())) // re-drives both
			seen := map[string]event.Event{}
			for range 2 {
				select {
				case g := <-got:
					ev, d := g[0].(event.Event), g[1].(*receiver.Delivery)
					seen[d.Source] = ev
					if d.Source == "github" {
						require.Equal(t, ghBody, d.Body)
						require.Equal(t, ghHeader, d.Header)
					}
				case <-time.After(receivertest.WaitTimeout):
					t.Fatal("not re-driven")
				}
			}
			require.Equal(t, "pull_request.opened", seen["github"].Type)
			require.Equal(t, "evt_same", seen["github"].ID)
			require.JSONEq(t, string(ghBody), string(seen["github"].Data))
			require.Equal(t, "invoice.paid", seen["stripe"].Type)
			require.Equal(t, event.ModeLive, seen["stripe"].APIMode)
			ctx, cancel := context.WithTimeout(context.Background(), receivertest.WaitTimeout)
			defer cancel()
			require.NoError(t, b.Shutdown(ctx))
			require.Equal(t, uint64(2), b.Stats().Recovered)
			for _, key := range []string{"github.evt_same", "stripe.evt_same"} {
				e, err := st.GetInboxEntry(ctx, key)
				require.NoError(t, err, key)
				require.Equal(t, store.InboxHandled, e.State, key)
			}
		})
	}
}

func serveTo(h http.Handler, req *http.Request) int {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Code
}

// BenchmarkServeHTTPProviders measures the handler alone per provider,
// every request a new event of about 300 bytes: "webhookkit" is the
// receiver's own envelope (the baseline), the others a source of that
// provider (every provider of the receiver package, "acme" being an HMAC
// one), which also checks the body is strict JSON, copies it with the
// headers for the handler, and parses it. Compare the ratios to the
// baseline of the same run.
func BenchmarkServeHTTPProviders(b *testing.B) {
	k := receivertest.NewKeyPair(b)
	data := `{"org_connection_id":"c-1","patient_id":"p-1","status":"complete","files":[{"name":"a.ndjson","size":1024},{"name":"b.ndjson","size":2048}]}`
	build := map[string]func(i int) *http.Request{
		"webhookkit": func(i int) *http.Request {
			ev, err := event.New(event.ModeTest, "patient.ehi_export_success", json.RawMessage(data))
			require.NoError(b, err)
			ev.Date = receivertest.Now()
			return receivertest.SignedRequest(k.Signer, ev.ID, receivertest.Now(), receivertest.EventBody(b, ev))
		},
		"standard": func(i int) *http.Request {
			return webhooktest.StandardRequest(b, k.Text, "msg_"+strconv.Itoa(i), receivertest.Now(),
				[]byte(`{"type":"patient.ehi_export_success","data":`+data+`}`))
		},
		"github": func(i int) *http.Request {
			return webhooktest.GitHubRequest(b, "gh-secret", "pull_request", "d-"+strconv.Itoa(i), []byte(`{"action":"opened","data":`+data+`}`))
		},
		"stripe": func(i int) *http.Request {
			return webhooktest.StripeRequest(b, "whsec_stripe", receivertest.Now(), []byte(`{"id":"evt_`+strconv.Itoa(i)+`","type":"invoice.paid","livemode":false,"data":{"object":`+data+`}}`))
		},
		"event-payload": func(i int) *http.Request {
			return webhooktest.EventPayloadRequest(b, k.Text, "msg_"+strconv.Itoa(i), "patient.ehi_export_success", receivertest.Now(), json.RawMessage(data))
		},
		"shopify": func(i int) *http.Request {
			return webhooktest.ShopifyRequest(b, "shopify-secret", "orders/create", "w-"+strconv.Itoa(i), []byte(`{"id":`+strconv.Itoa(i)+`,"data":`+data+`}`))
		},
		"slack": func(i int) *http.Request {
			ts := strconv.FormatInt(receivertest.Now().Unix(), 10)
			return webhooktest.SlackRequest(b, "slack-secret", receivertest.Now(), []byte(`{"token":"x","team_id":"T1","type":"event_callback","event_id":"Ev`+strconv.Itoa(i)+`","event_time":`+ts+`,"event":{"type":"app_mention","data":`+data+`}}`))
		},
		"acme": func(i int) *http.Request {
			body := []byte(`{"uid":"u-` + strconv.Itoa(i) + `","kind":"patient.ehi_export_success","data":` + data + `}`)
			ts := strconv.FormatInt(receivertest.Now().Unix(), 10)
			mac := hmac.New(sha256.New, []byte("acme-secret"))
			mac.Write([]byte(ts + "."))
			mac.Write(body)
			req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
			req.Header = http.Header{"Content-Type": {"application/json"}}
			req.Header.Set("X-Acme-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
			req.Header.Set("X-Acme-Timestamp", ts)
			return req
		},
	}
	// acme is a generic HMAC provider: "sha256=" and the hex HMAC of
	// "timestamp.body", a signed timestamp header, key and type in the body.
	acme := receiver.HMAC{
		ProviderName: "acme", Header: "X-Acme-Signature", Prefix: "sha256=",
		TimestampHeader: "X-Acme-Timestamp", KeyField: "uid", TypeField: "kind",
		Content: func(h http.Header, body []byte) []byte {
			return append([]byte(h.Get("X-Acme-Timestamp")+"."), body...)
		},
	}
	for _, name := range []string{"webhookkit", "standard", "event-payload", "github", "stripe", "shopify", "slack", "acme"} {
		b.Run(name, func(b *testing.B) {
			type prepared struct {
				h    http.Header
				body []byte
			}
			reqs := make([]prepared, b.N)
			for i := range reqs {
				req := build[name](i)
				body, err := io.ReadAll(req.Body)
				require.NoError(b, err)
				reqs[i] = prepared{req.Header, body}
			}
			cfg := &receiver.Config{Logger: quiet, QueueSize: b.N + 1, Now: receivertest.Now}
			switch name {
			case "webhookkit":
				cfg.Keys = []receiver.Key{{Text: k.Text}}
			case "standard":
				cfg.Sources = []receiver.Source{{Provider: receiver.StandardWebhooks{}, Keys: []receiver.Key{{Text: k.Text}}}}
			case "github":
				cfg.Sources = []receiver.Source{{Provider: receiver.GitHub{}, Keys: []receiver.Key{{Text: "gh-secret"}}}}
			case "stripe":
				cfg.Sources = []receiver.Source{{Provider: receiver.Stripe{}, Keys: []receiver.Key{{Text: "whsec_stripe"}}}}
			case "event-payload":
				cfg.Sources = []receiver.Source{{Provider: receiver.EventPayload{}, Keys: []receiver.Key{{Text: k.Text}}}}
			case "shopify":
				cfg.Sources = []receiver.Source{{Provider: receiver.Shopify{}, Keys: []receiver.Key{{Text: "shopify-secret"}}}}
			case "slack":
				cfg.Sources = []receiver.Source{{Provider: receiver.Slack{}, Keys: []receiver.Key{{Text: "slack-secret"}}}}
			case "acme":
				cfg.Sources = []receiver.Source{{Provider: acme, Keys: []receiver.Key{{Text: "acme-secret"}}}}
			}
			r, err := receiver.New(receiver.HandlerFunc(func(context.Context, event.Event) error { return nil }), cfg)
			require.NoError(b, err)
			require.NoError(b, r.Start(context.Background()))
			defer func() { _ = r.Close() }()
			h := r.Source(name)
			w := &discardWriter{h: http.Header{}}
			rd := bytes.NewReader(nil)
			req := &http.Request{Method: http.MethodPost, Body: io.NopCloser(rd)}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				rd.Reset(reqs[i].body)
				req.Header = reqs[i].h
				req.ContentLength = int64(len(reqs[i].body))
				clear(w.h)
				w.code = 0
				h.ServeHTTP(w, req)
				if w.code != http.StatusOK {
					b.Fatalf("status %d", w.code)
				}
			}
		})
	}
}
