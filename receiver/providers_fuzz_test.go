package receiver_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/webhooktest"
)

// FuzzProviders drives every provider's source with arbitrary bodies,
// keys, types and a stray header. A request the fuzzer did not sign is
// never answered 2xx nor reaches the inbox; a signed one is answered 200
// (accepted, duplicate or Slack's challenge) or 400, never anything else,
// and never panics a parser.
func FuzzProviders(f *testing.F) {
	k := newKeyPair(f)
	sources := allSources(k, k)
	f.Add(uint8(0), "msg_1", "a.b", []byte(`{"type":"a.b"}`), true, "X", "y")
	f.Add(uint8(1), "whe_1", "ping", []byte(`{}`), true, "Webhook-Id", "")
	f.Add(uint8(2), "d-1", "pull_request", []byte(`{"action":"opened"}`), true, "X-Hub-Signature-256", "sha256=00")
	f.Add(uint8(3), "evt", "x", []byte(`{"id":"evt_1","type":"a","livemode":true}`), true, "Stripe-Signature", "t=1,v1=00")
	f.Add(uint8(4), "w", "orders/create", []byte(`{"id":1}`), true, "X-Shopify-Topic", "a/b")
	f.Add(uint8(5), "", "", []byte(`{"type":"url_verification","challenge":"c"}`), true, "X-Slack-Signature", "v0=00")
	f.Add(uint8(5), "", "", []byte(`{"type":"event_callback","event_id":"E","event":{"type":"m"}}`), false, "X-Slack-Request-Timestamp", "1750000000")
	f.Add(uint8(6), "", "", []byte(`{"uid":"u","kind":"k"}`), true, "X-Acme-Timestamp", "1750000000")
	f.Add(uint8(2), "d\x00", "push", []byte("{\"a\":\"\\ud800\"}"), true, "", "")
	ib := newTestInbox()
	r := newReceiver(f, newRecorder(), receiver.Config{Sources: sources, Inbox: ib, MaxBodyBytes: 64 << 10})
	f.Cleanup(func() { drain(f, r) })

	f.Fuzz(func(t *testing.T, which uint8, key, typ string, body []byte, sign bool, hname, hval string) {
		s := sources[int(which)%len(sources)]
		var req *http.Request
		switch {
		case !sign:
			req = plainRequest(body)
		case s.Provider.Name() == "standard":
			if req = standardOrNil(t, k.Text, key, body); req == nil {
				return
			}
		case s.Provider.Name() == "event-payload":
			if req = standardOrNil(t, k.Text, "msg_f", body); req == nil {
				return
			}
		case s.Provider.Name() == "github":
			req = webhooktest.GitHubRequest(t, ghSecret, typ, key, body)
		case s.Provider.Name() == "stripe":
			req = webhooktest.StripeRequest(t, stripeSecret, testNow, body)
		case s.Provider.Name() == "shopify":
			req = webhooktest.ShopifyRequest(t, shopifySecret, typ, key, body)
		case s.Provider.Name() == "slack":
			req = webhooktest.SlackRequest(t, slackSecret, testNow, body)
		default:
			req = acmeRequest(acmeSecret, jsonNum(testNow.Unix()), body)
		}
		if hname != "" && !sign {
			req.Header[http.CanonicalHeaderKey(hname)] = []string{hval}
		}
		claims := ib.claims.Load()
		w := serve(r.Source(s.Provider.Name()), req)
		if !sign {
			require.GreaterOrEqual(t, w.Code, 400, "unsigned request answered %d", w.Code)
			require.Less(t, w.Code, 500)
			require.Equal(t, claims, ib.claims.Load(), "unsigned request reached the inbox")
			return
		}
		switch w.Code {
		case http.StatusOK, http.StatusBadRequest:
		case http.StatusServiceUnavailable:
			require.Equal(t, string(receiver.ReasonQueueFull)+"\n", w.Body.String())
		default:
			t.Fatalf("signed request answered %d %q", w.Code, w.Body.String())
		}
	})
}

// standardOrNil signs body under id, or returns nil for an id Standard
// Webhooks refuses.
func standardOrNil(t *testing.T, secret, id string, body []byte) *http.Request {
	if id == "" || len(id) > 255 {
		return nil
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' || id[i] == '.' {
			return nil
		}
	}
	return webhooktest.StandardRequest(t, secret, id, testNow, body)
}
