package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/internal/provsign"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/signature"
)

// signing is what sign and send sign a body with, as a provider's sender
// does: the keys (--secret), the id the provider puts in a header
// (webhook-id, X-GitHub-Delivery, X-Shopify-Webhook-Id; unused by Stripe
// and Slack, whose ids are in the body), the type it puts in a header
// (X-GitHub-Event, X-Shopify-Topic) and the signed time (Standard Webhooks,
// Stripe, Slack).
type signing struct {
	prov    receiver.Provider
	secrets []string
	id      string
	typ     string
}

// sign sets on h the headers with which s.prov's sender signs body at t,
// with the signing behind package webhooktest's Sign functions
// (internal/provsign, which keeps package testing out of the binary).
func (s *signing) sign(h http.Header, t time.Time, body []byte) error {
	first, more := s.secrets[0], s.secrets[1:]
	switch s.prov.(type) {
	case receiver.GitHub:
		provsign.GitHub(h, first, s.typ, s.id, body)
	case receiver.Stripe:
		provsign.Stripe(h, first, t, body, more...)
	case receiver.Shopify:
		provsign.Shopify(h, first, s.typ, s.id, body)
	case receiver.Slack:
		provsign.Slack(h, first, t, body)
	default: // the Standard Webhooks providers
		return provsign.Standard(h, first, s.id, t, body, more...)
	}
	return nil
}

// providerUse says which of the provider-specific inputs a provider signs:
// a header id (--id), a header type (--type) and a time (--timestamp).
func providerUse(p receiver.Provider) (id, typ, ts bool) {
	switch p.(type) {
	case receiver.GitHub, receiver.Shopify:
		return true, true, false
	case receiver.Stripe, receiver.Slack:
		return false, false, true
	}
	return true, false, true
}

// defaultSignType is the type sign puts in a header when --type is absent:
// GitHub's ping, a Shopify order.
func defaultSignType(p receiver.Provider) string {
	if _, ok := p.(receiver.Shopify); ok {
		return "orders/create"
	}
	return event.TypePing
}

// checkProviderSecrets checks the --secret values for a provider: Standard
// Webhooks keys that sign (whsec_, whsk_) for the Standard Webhooks
// providers; otherwise the provider's signing secret as text, several only
// for Stripe (one v1 signature each, as during a secret roll).
func checkProviderSecrets(p receiver.Provider, texts []string) error {
	if standardKeys(p) {
		_, _, err := parseSigningKeys(texts)
		return err
	}
	if slices.Contains(texts, "") {
		return usagef("--secret must not be empty")
	}
	if _, ok := p.(receiver.Stripe); !ok && len(texts) > 1 {
		return usagef("--secret: %s signs with one secret; give one", p.Name())
	}
	return nil
}

// checkHeaderValue checks an id or type given for a header: 1 to
// receiver.MaxKeyLength bytes of visible ASCII, as the receiver accepts an
// idempotency key.
func checkHeaderValue(flagName, v string) error {
	if v == "" || len(v) > receiver.MaxKeyLength {
		return usagef("%s must be 1 to %d bytes", flagName, receiver.MaxKeyLength)
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] > '~' {
			return usagef("%s must be visible ASCII, without spaces", flagName)
		}
	}
	return nil
}

// printHeaders writes h as sorted "Name: value" lines, what 'webhook
// verify --headers' reads.
func printHeaders(w io.Writer, h http.Header) error {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names)
	var b bytes.Buffer
	for _, name := range names {
		for _, v := range h[name] {
			fmt.Fprintf(&b, "%s: %s\n", name, v)
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// providerSend is how send delivers as a provider other than webhookkit
// and event-payload (which the sender speaks itself): the provider's body,
// built once, and its signing, redone at every attempt by a transport the
// sender's requests go through.
type providerSend struct {
	signing
	body []byte
	// describe is send's line about what it delivers.
	describe string
}

// newProviderSend builds the body that prov's sender would send for an
// event of type typ with data (a JSON object) in mode at time at, under key
// id (see send's usage), and the signing of its requests.
func newProviderSend(prov receiver.Provider, secrets []string, id, typ string, mode event.Mode, data json.RawMessage, at time.Time) (*providerSend, error) {
	ps := &providerSend{signing: signing{prov: prov, secrets: secrets, id: id, typ: typ}}
	var err error
	switch prov.(type) {
	case receiver.GitHub:
		ps.body = data
		ps.describe = fmt.Sprintf("GitHub event %s (X-GitHub-Delivery %s)", typ, id)
	case receiver.Shopify:
		ps.body = data
		ps.describe = fmt.Sprintf("Shopify webhook %s (X-Shopify-Webhook-Id %s)", typ, id)
	case receiver.Stripe:
		// A Stripe event object: the data is its data.object.
		ps.body, err = json.Marshal(struct {
			ID       string `json:"id"`
			Object   string `json:"object"`
			Created  int64  `json:"created"`
			Livemode bool   `json:"livemode"`
			Type     string `json:"type"`
			Data     struct {
				Object json.RawMessage `json:"object"`
			} `json:"data"`
		}{ID: id, Object: "event", Created: at.Unix(), Livemode: mode == event.ModeLive, Type: typ,
			Data: struct {
				Object json.RawMessage `json:"object"`
			}{data}})
		ps.describe = fmt.Sprintf("Stripe event %s (%s, %s mode)", id, typ, mode)
	case receiver.Slack:
		// An Events API event_callback: the data, with its type, is the
		// inner event.
		var inner map[string]json.RawMessage
		if err := json.Unmarshal(data, &inner); err != nil {
			return nil, usagef("--data: %v", err)
		}
		if inner == nil {
			inner = map[string]json.RawMessage{}
		}
		inner["type"], _ = json.Marshal(typ)
		ps.body, err = json.Marshal(map[string]any{
			"type": "event_callback", "event_id": id, "event_time": at.Unix(), "event": inner,
		})
		ps.describe = fmt.Sprintf("Slack event %s (%s)", id, typ)
	default: // StandardWebhooks: the payload structure the specification recommends
		ps.body, err = json.Marshal(map[string]any{
			"type": typ, "timestamp": at.UTC().Format(time.RFC3339), "data": data,
		})
		ps.describe = fmt.Sprintf("Standard Webhooks message %s (%s)", id, typ)
	}
	if err != nil {
		return nil, usagef("--data: %v", err)
	}
	return ps, nil
}

// defaultSendID returns a fresh key for a provider's event, in its form:
// evt_... for Stripe, Ev... for Slack (random upper-case letters and
// digits), a UUIDv4 otherwise.
func defaultSendID(prov receiver.Provider) string {
	switch prov.(type) {
	case receiver.Stripe:
		return "evt_" + rand.Text()
	case receiver.Slack:
		return "Ev" + rand.Text()[:10]
	}
	return uuid.NewString()
}

// wrap returns a transport that sends ps's body, signed as its provider
// signs, in place of each request's body and Standard Webhooks signature.
func (ps *providerSend) wrap(next http.RoundTripper) http.RoundTripper {
	return &resignTransport{next: next, ps: ps}
}

// resignTransport replaces the sender's envelope and signature with a
// provider's body and signature, signed at the time of each attempt (so
// a retry is as fresh as the provider's own).
type resignTransport struct {
	next http.RoundTripper
	ps   *providerSend
}

// RoundTrip sends a copy of req with the provider's body and headers.
func (t *resignTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_ = req.Body.Close() // replaced below; a RoundTripper closes it
	}
	r := req.Clone(req.Context())
	for _, name := range []string{signature.HeaderID, signature.HeaderTimestamp, signature.HeaderSignature} {
		r.Header.Del(name)
	}
	if err := t.ps.sign(r.Header, time.Now(), t.ps.body); err != nil {
		return nil, err
	}
	body := t.ps.body
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.ContentLength = int64(len(body))
	return t.next.RoundTrip(r)
}
