package webhooktest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/signature"
)

// NewEvent returns a test-mode event of type typ with a fresh id, for
// publishing with a sender driven by a fake clock. data is encoded as by
// event.New; nil means the empty object {}. For a realistic payload, see
// [SampleEvent].
//
// The event's Date is zero, so it is not valid as it stands: the sender's
// Publish stamps it with the sender's clock, which makes it due at once.
// [SignedRequest] stamps a zero Date too. An invalid type or data fails the
// test (tb.Fatal).
func NewEvent(tb testing.TB, typ string, data any) event.Event {
	tb.Helper()
	if data == nil {
		data = json.RawMessage(`{}`)
	}
	ev, err := event.New(event.ModeTest, typ, data)
	if err != nil {
		tb.Fatalf("webhooktest: %v", err)
	}
	ev.Date = time.Time{}
	return ev
}

// SampleEvent returns [NewEvent] of type typ with the sample data that cat
// declares for it ({} when the entry has no sample), so tests publish what
// the application's simulator would: for example
// SampleEvent(t, fasten.Catalog(), fasten.TypeEHIExportSuccess). A type
// that cat does not list (or a nil cat) fails the test (tb.Fatal), naming
// the types it lists.
func SampleEvent(tb testing.TB, cat *event.Catalog, typ string) event.Event {
	tb.Helper()
	info, ok := cat.Lookup(typ)
	if !ok {
		var known []string
		for _, t := range cat.Types() {
			known = append(known, t.Type)
		}
		tb.Fatalf("webhooktest: event type %q is not in the catalog (it lists: %s)", typ, strings.Join(known, ", "))
	}
	var data any
	if len(info.Sample) > 0 {
		data = info.Sample
	}
	return NewEvent(tb, typ, data)
}

// SignedRequest returns a server-side request (built by httptest.NewRequest,
// for calling a handler's ServeHTTP directly) that POSTs ev to "/" as a
// webhookkit sender would: the envelope as body, Content-Type
// application/json, and webhook-id, webhook-timestamp and webhook-signature
// headers signed with secret ("whsec_..."). The timestamp and the envelope's
// date are ev.Date, or the current real time when ev.Date is zero: a receiver
// with a fake clock needs an event dated by that clock.
//
// A malformed secret or an invalid event fails the test (tb.Fatal).
func SignedRequest(tb testing.TB, secret string, ev event.Event) *http.Request {
	tb.Helper()
	sec, err := signature.ParseSecret(secret)
	if err != nil {
		tb.Fatalf("webhooktest: %v", err)
	}
	signer, err := signature.NewSigner([]signature.Secret{sec})
	if err != nil {
		tb.Fatalf("webhooktest: %v", err)
	}
	if ev.Date.IsZero() {
		ev.Date = time.Now().UTC().Truncate(time.Second)
	}
	body, err := ev.MarshalJSON()
	if err != nil {
		tb.Fatalf("webhooktest: %v", err)
	}
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	signer.SignHeader(req.Header, ev.ID, ev.Date, body)
	return req
}
