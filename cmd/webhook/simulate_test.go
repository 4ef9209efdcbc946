package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/signature"
)

// ordersCatalog is a user's catalog file, in another domain than the
// provider's.
const ordersCatalog = `{"types": [
  {"type": "order.paid", "description": "An order was paid in full",
   "sample": {"order_id": "ord_1042",  "amount": 4200, "currency": "EUR"},
   "schema": {"type": "object", "required": ["order_id"]}},
  {"type": "invoice.finalized", "description": "An invoice can no longer change"}
]}`

func TestSimulateCatalog(t *testing.T) {
	t.Parallel()
	cat := writeFile(t, "events.json", ordersCatalog)
	srv := newEndpoint(t, http.StatusOK)

	// A type of the user's catalog: its sample, verbatim.
	r := cli(t, "", "simulate", "--catalog", cat, "--url", srv.URL, "--secret", vecSecret, "--type", "order.paid")
	require.Equal(t, 0, r.code, r.stderr)
	require.Len(t, attempts(t, r.stdout), 1)
	// An entry without a sample sends {}; ping is in every catalog.
	for _, typ := range []string{"invoice.finalized", "ping"} {
		r = cli(t, "", "simulate", "--catalog", cat, "--url", srv.URL, "--secret", vecSecret, "--type", typ)
		require.Equal(t, 0, r.code, r.stderr)
	}
	// --data replaces the sample, and allows a type the catalog lacks.
	r = cli(t, `{"refund_id":"re_9"}`, "simulate", "--catalog", cat, "--url", srv.URL, "--secret", vecSecret,
		"--type", "order.refunded", "--data", "@-")
	require.Equal(t, 0, r.code, r.stderr)
	r = cli(t, "", "simulate", "--catalog", cat, "--url", srv.URL, "--secret", vecSecret,
		"--type", "order.paid", "--data", `{"order_id":"ord_7"}`)
	require.Equal(t, 0, r.code, r.stderr)

	sec, err := signature.ParseSecret(vecSecret)
	require.NoError(t, err)
	v, err := signature.NewVerifier([]signature.Secret{sec}, nil, nil)
	require.NoError(t, err)
	want := []struct{ typ, data string }{
		{"order.paid", `{"order_id": "ord_1042",  "amount": 4200, "currency": "EUR"}`},
		{"invoice.finalized", `{}`},
		{"ping", `{}`},
		{"order.refunded", `{"refund_id":"re_9"}`},
		{"order.paid", `{"order_id":"ord_7"}`},
	}
	got := srv.requests()
	require.Len(t, got, len(want))
	for i, w := range want {
		require.NoError(t, v.Verify(got[i].header, got[i].body))
		ev, err := event.Decode(got[i].body)
		require.NoError(t, err)
		require.Equal(t, event.ModeTest, ev.APIMode)
		require.Equal(t, w.typ, ev.Type)
		require.Equal(t, w.data, string(ev.Data))
	}
}

func TestSimulateCatalogList(t *testing.T) {
	t.Parallel()
	r := cli(t, ordersCatalog, "simulate", "--catalog", "-", "--list")
	require.Equal(t, 0, r.code, r.stderr)
	var got []typeInfo
	for _, l := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
		var ti typeInfo
		require.NoError(t, json.Unmarshal([]byte(l), &ti), l)
		got = append(got, ti)
	}
	require.Equal(t, []typeInfo{
		{Type: "invoice.finalized", Description: "An invoice can no longer change"},
		{Type: "order.paid", Description: "An order was paid in full"},
		{Type: "ping", Description: "Ping: sent to test that an endpoint is reachable and verifies signatures"},
	}, got)
}
