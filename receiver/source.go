package receiver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

// Source is one more sender a [Receiver] accepts events from, besides its
// own ([Config].Provider and [Config].Keys), on a handler of its own
// ([Receiver.Source]) mounted on a path of its own. Every source shares the
// receiver's inbox, queue, workers, retries and [Handler].
type Source struct {
	// Name names the source: [Receiver.Source] finds its handler by it, and
	// its keys are claimed in the inbox as Name + "." + key. Lower-case
	// letters, digits, '-' and '_', at most 32 bytes, unique among the
	// receiver's sources (the receiver's own source is named after its
	// provider). Empty: Provider.Name(). Renaming a source strands the
	// events its inbox entries hold: a durable inbox's entries name their
	// source, and one that names none configured is marked dead when
	// re-driven.
	Name string

	// Provider reads the source's requests. Required.
	Provider Provider

	// Keys verify the source's requests, in the provider's form: the
	// secret as the sender shows it ("whsec_..." for Standard Webhooks and
	// Stripe, the webhook secret typed in GitHub, the app's client or
	// signing secret for Shopify and Slack). Several during a rotation;
	// at least one is required, and each must be accepted by the
	// provider's NewVerifier. A Key's Mode restricts it to events of that
	// mode (see [Message].Mode).
	Keys []Key

	// Tolerance is how far a signed timestamp may be from Now, for
	// providers that sign one. Zero: [Config].Tolerance.
	Tolerance time.Duration
}

// source is a configured Source, or the receiver's own.
type source struct {
	r        *Receiver
	name     string
	provider Provider
	pname    string // provider.Name()
	// legacy: the receiver's own source with the Webhookkit provider,
	// served by the original path (r.verifier, r.byMode, bare keys, raw
	// bodies in the inbox).
	legacy bool
	// prefix namespaces keys in the inbox: name + "."; empty when legacy.
	prefix   string
	verifier Verifier
	// byMode is nil unless some key is restricted to a mode; then it holds
	// for each mode (empty included) the verifier of the keys allowed to
	// sign it.
	byMode map[event.Mode]modeVerifier
}

type modeVerifier struct {
	v   Verifier // nil: no key may sign the mode
	all bool     // v is the source's verifier
}

// ServeHTTP answers a webhook request for the source.
func (s *source) ServeHTTP(w http.ResponseWriter, req *http.Request) { s.r.handle(w, req, s) }

// Source returns the [http.Handler] of the source named name: one of
// [Config].Sources (named by its Name, or else by its provider's name, such
// as [NameGitHub]), or the receiver's own (named after [Config].Provider,
// [NameWebhookkit] by default; the same as the Receiver itself). Mount each
// on its own path:
//
//	mux.Handle("/webhooks/github", r.Source(receiver.NameGitHub))
//
// Source panics when no source has that name, with a message naming it
// and the configured sources: like [regexp.MustCompile] given a constant,
// a wrong name is a mistake in the program, found when it sets up its
// routes rather than when the first webhook arrives. [Receiver.Sources]
// lists the names.
func (r *Receiver) Source(name string) http.Handler {
	s := r.sources[name]
	if s == nil {
		panic(fmt.Sprintf("receiver: Source(%q): no such source; configured: %s", name, strings.Join(r.Sources(), ", ")))
	}
	if s == r.own {
		return r
	}
	return s
}

// Sources returns the names of the receiver's sources, sorted: the
// receiver's own (when [Config].Keys is set) and those of [Config].Sources,
// the names [Receiver.Source] accepts. The slice is the caller's.
func (r *Receiver) Sources() []string {
	names := make([]string, 0, len(r.sources))
	for n := range r.sources {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// maxSourceName is the longest source name.
const maxSourceName = 32

// validSourceName reports whether n is 1 to maxSourceName bytes of
// lower-case letters, digits, '-' and '_'. It never holds a '.', the
// separator of namespaced keys.
func validSourceName(n string) bool {
	if n == "" || len(n) > maxSourceName {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// buildSource makes a source of p verified by keys; field names the
// configuration field, for errors.
func buildSource(name string, p Provider, keys []Key, tol time.Duration, now func() time.Time, field string) (*source, error) {
	if p == nil {
		return nil, fmt.Errorf("%w: %s.Provider is nil", ErrInvalidConfig, field)
	}
	s := &source{provider: p, pname: p.Name(), name: name}
	if s.name == "" {
		s.name = s.pname
	}
	if !validSourceName(s.name) {
		return nil, fmt.Errorf("%w: %s: source name %.40q: want 1 to %d lower-case letters, digits, '-' or '_'", ErrInvalidConfig, field, s.name, maxSourceName)
	}
	s.prefix = s.name + "."
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: %s.Keys: %w", ErrInvalidConfig, field, ErrNoKeys)
	}
	if tol < 0 {
		return nil, fmt.Errorf("%w: %s.Tolerance must not be negative", ErrInvalidConfig, field)
	}
	opts := &signature.VerifyOptions{Tolerance: tol, Now: now}
	texts := make([]string, len(keys))
	restricted := false
	for i, k := range keys {
		if k.Mode != "" && !k.Mode.Valid() {
			return nil, fmt.Errorf("%w: %s.Keys[%d].Mode %q: want %q, %q or empty", ErrInvalidConfig, field, i, k.Mode, event.ModeTest, event.ModeLive)
		}
		if _, err := p.NewVerifier([]string{k.Text}, opts); err != nil {
			return nil, fmt.Errorf("%w: %s.Keys[%d].Text: %w", ErrInvalidConfig, field, i, err)
		}
		texts[i] = k.Text
		restricted = restricted || k.Mode != ""
	}
	var err error
	if s.verifier, err = p.NewVerifier(texts, opts); err != nil {
		return nil, fmt.Errorf("%w: %s.Keys: %w", ErrInvalidConfig, field, err)
	}
	if !restricted {
		return s, nil
	}
	s.byMode = make(map[event.Mode]modeVerifier, 3)
	for _, m := range []event.Mode{"", event.ModeTest, event.ModeLive} {
		var sub []string
		for _, k := range keys {
			if k.Mode == "" || (m != "" && k.Mode == m) {
				sub = append(sub, k.Text)
			}
		}
		switch len(sub) {
		case 0:
			s.byMode[m] = modeVerifier{}
		case len(keys):
			s.byMode[m] = modeVerifier{v: s.verifier, all: true}
		default:
			v, err := p.NewVerifier(sub, opts)
			if err != nil {
				return nil, fmt.Errorf("%w: %s.Keys: %w", ErrInvalidConfig, field, err)
			}
			s.byMode[m] = modeVerifier{v: v}
		}
	}
	return s, nil
}

// answer is what serve decided for a request.
type answer struct {
	status    int
	reason    Reason
	ev        event.Event
	challenge string // the body of a ReasonChallenge answer
	// hint, when set, is a fixed second line of a refusal's body, naming
	// the likely fix (see formatHint); never anything from the request.
	hint string
}

// serveProvider verifies and parses a request of a source other than the
// legacy one, then claims and queues its event.
//
// pooled is the receiver's buffer, which the next request reuses: once
// verified, it is copied, and the copy is checked as strict JSON and
// parsed by the provider (see source.checkParse); the event's data and the
// delivery share it beyond the request.
func (r *Receiver) serveProvider(req *http.Request, s *source, pooled []byte) answer {
	if err := s.verifier.Verify(req.Header, pooled); err != nil {
		return answer{status: verifyStatus(err), reason: verifyReason(err), hint: headerHint(err, s.provider.Name(), req.Header)}
	}
	body := bytes.Clone(pooled)
	msg, jsonErr, err := s.checkParse(req.Header, body)
	if jsonErr != nil {
		return answer{status: http.StatusBadRequest, reason: ReasonInvalidEvent}
	}
	if err != nil {
		if errors.Is(err, signature.ErrMissingHeader) || errors.Is(err, signature.ErrMalformedHeader) {
			return answer{status: http.StatusBadRequest, reason: ReasonHeaders}
		}
		return answer{status: http.StatusBadRequest, reason: ReasonInvalidEvent, hint: formatHint(s.provider, body)}
	}
	if msg.Challenge != "" {
		return answer{status: http.StatusOK, reason: ReasonChallenge, challenge: msg.Challenge}
	}
	now := r.now()
	// Data that is the body, as most providers', was checked as strict
	// JSON above (unless Parse broke its contract and modified the body).
	strict := sameSlice(msg.Data, body) && bytes.Equal(body, pooled)
	if _, ok := s.provider.(EventPayload); ok {
		strict = true // its Data is a member of the body it checked as strict, or {}
	}
	ev, ok := s.event(msg, now, strict)
	if !ok {
		return answer{status: http.StatusBadRequest, reason: ReasonInvalidEvent}
	}
	if s.byMode != nil {
		mv := s.byMode[msg.Mode]
		if mv.v == nil || (!mv.all && mv.v.Verify(req.Header, body) != nil) {
			return answer{status: http.StatusBadRequest, reason: ReasonMode, ev: ev}
		}
	}
	d := &Delivery{
		Source: s.name, Provider: s.pname, Key: msg.Key,
		Header: keptHeader(req.Header), Body: body, Received: now,
	}
	status, reason := r.accept(req, s, ev, s.prefix+msg.Key, body, d)
	return answer{status: status, reason: reason, ev: ev}
}

// event makes the event handed to the handler from a provider's message;
// false when the message has no valid key or data. strict says the data is
// known to be strict JSON already, and needs no second check.
func (s *source) event(msg Message, received time.Time, strict bool) (event.Event, bool) {
	if !validKey(msg.Key) || (!strict && !json.Valid(msg.Data)) {
		return event.Event{}, false
	}
	ev := event.Event{APIMode: msg.Mode, Date: msg.Time, ID: msg.Key, Type: msg.Type, Data: msg.Data}
	if ev.Date.IsZero() {
		ev.Date = received
	}
	ev.Date = ev.Date.UTC().Truncate(time.Second) // as an envelope's date
	if event.ValidType(ev.Type) != nil {
		ev.Type = ""
	}
	return ev, true
}

// sameSlice reports whether a and b are the same non-empty bytes in memory:
// the same start and length.
func sameSlice(a, b []byte) bool {
	return len(a) > 0 && len(a) == len(b) && &a[0] == &b[0]
}

// verifyStatus and verifyReason map a Verifier's error to the answer.
func verifyStatus(err error) int {
	if errors.Is(err, signature.ErrMissingHeader) || errors.Is(err, signature.ErrMalformedHeader) {
		return http.StatusBadRequest
	}
	return http.StatusUnauthorized
}

func verifyReason(err error) Reason {
	switch {
	case errors.Is(err, signature.ErrMissingHeader), errors.Is(err, signature.ErrMalformedHeader):
		return ReasonHeaders
	case errors.Is(err, signature.ErrTimestampTooOld), errors.Is(err, signature.ErrTimestampTooNew):
		return ReasonTimestamp
	}
	return ReasonSignature
}

// droppedHeaders are not kept with a delivery: credentials of the
// request, not of the webhook.
var droppedHeaders = []string{"Authorization", "Cookie", "Proxy-Authorization"}

// keptHeader returns a copy of h without droppedHeaders (under any
// spelling), as h.Clone() would hold it after deleting them: the values of
// all headers share one slice, each capped, and a nil value stays nil.
func keptHeader(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	nv, nk := 0, 0
	for k, vs := range h {
		if !droppedHeader(k) {
			nv += len(vs)
			nk++
		}
	}
	sv := make([]string, nv)
	c := make(http.Header, nk)
	for k, vs := range h {
		switch {
		case droppedHeader(k):
		case vs == nil:
			c[k] = nil
		default:
			n := copy(sv, vs)
			c[k] = sv[:n:n]
			sv = sv[n:]
		}
	}
	return c
}

// droppedHeader reports whether name is one of droppedHeaders, ignoring
// ASCII case.
func droppedHeader(name string) bool {
	for _, k := range droppedHeaders {
		if len(name) == len(k) && equalFoldASCII(name, k) {
			return true
		}
	}
	return false
}

func equalFoldASCII(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// A durable inbox entry of a source other than the legacy one holds a
// record of the request rather than the raw body: recordMagic, one line of
// JSON (recordMeta), and the body as received. Its first byte is never
// that of a JSON envelope, so the legacy entries (raw bodies) are told
// apart.
const recordMagic = "webhookkit-delivery/1\n"

type recordMeta struct {
	Source   string      `json:"source"`
	Received time.Time   `json:"received"`
	Header   http.Header `json:"header"`
}

// encodeRecord returns the inbox body of d.
func encodeRecord(d *Delivery) []byte {
	meta, err := json.Marshal(recordMeta{Source: d.Source, Received: d.Received, Header: d.Header})
	if err != nil {
		panic("receiver: encoding an inbox record: " + err.Error()) // a string map and a time: cannot fail
	}
	b := make([]byte, 0, len(recordMagic)+len(meta)+1+len(d.Body))
	b = append(b, recordMagic...)
	b = append(b, meta...)
	b = append(b, '\n')
	return append(b, d.Body...)
}

// decodeRecord reads an inbox body written by encodeRecord; ok is false
// for a raw body (a legacy entry).
func decodeRecord(b []byte) (meta recordMeta, body []byte, ok bool, err error) {
	rest, ok := bytes.CutPrefix(b, []byte(recordMagic))
	if !ok {
		return recordMeta{}, nil, false, nil
	}
	line, body, found := bytes.Cut(rest, []byte("\n"))
	if !found {
		return recordMeta{}, nil, true, errors.New("receiver: inbox record has no body")
	}
	if err := json.Unmarshal(line, &meta); err != nil {
		return recordMeta{}, nil, true, fmt.Errorf("receiver: inbox record: %w", err)
	}
	return meta, body, true, nil
}

// redrive makes the job of an inbox entry leased for re-drive, from its
// record or, for a legacy entry, its envelope.
func (r *Receiver) redrive(e *store.InboxEntry) (*job, error) {
	meta, body, ok, err := decodeRecord(e.Body)
	if err != nil {
		return nil, err
	}
	if !ok {
		ev, err := event.Decode(e.Body)
		if err != nil {
			return nil, fmt.Errorf("receiver: stored body does not decode: %w", err)
		}
		return &job{ev: ev, key: e.Key, src: r.legacy(), received: e.ClaimedAt}, nil
	}
	s := r.sources[meta.Source]
	if s == nil {
		return nil, fmt.Errorf("receiver: stored event of source %.40q, which is not configured", meta.Source)
	}
	msg, err := s.provider.Parse(meta.Header, body)
	if err != nil {
		return nil, fmt.Errorf("receiver: stored request of source %s does not parse: %w", s.name, err)
	}
	ev, ok := s.event(msg, meta.Received, false)
	if !ok {
		return nil, fmt.Errorf("receiver: stored request of source %s has no valid key or data", s.name)
	}
	d := &Delivery{Source: s.name, Provider: s.pname, Key: msg.Key, Header: meta.Header, Body: body, Received: meta.Received}
	return &job{ev: ev, key: e.Key, src: s, dlv: d, received: meta.Received}, nil
}

// legacy returns the receiver's own source if it is the legacy one, nil
// otherwise.
func (r *Receiver) legacy() *source {
	if r.own != nil && r.own.legacy {
		return r.own
	}
	return nil
}

// delivery returns j's Delivery: its own, or one made for an event of the
// legacy source (or a legacy inbox entry).
func (j *job) delivery() *Delivery {
	if j.dlv != nil {
		return j.dlv
	}
	d := &Delivery{Source: Webhookkit{}.Name(), Provider: Webhookkit{}.Name(), Key: j.key, Received: j.received}
	if j.src != nil {
		d.Source = j.src.name
	}
	return d
}
