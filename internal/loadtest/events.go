package loadtest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/signature"
)

// BodySize is the envelope size the benchmarks use, 1 KiB: a typical
// webhook payload, so the figures compare with other libraries'.
const BodySize = 1 << 10

// EventType is the type of the events the programs generate.
const EventType = "loadtest.event"

// Signed is one fresh event, encoded and signed. Its slices belong to the
// EventSource that made it and are overwritten by its next call.
type Signed struct {
	ID        string
	Timestamp string // Unix seconds, as in the webhook-timestamp header
	Signature []byte // the webhook-signature header value
	Body      []byte // the envelope, exactly the source's size
}

// EventSource makes fresh events (a new UUIDv4 each) of a fixed size,
// signed with one secret. It reuses its buffers: it is not safe for
// concurrent use; give each goroutine its own.
type EventSource struct {
	signer *signature.Signer
	rng    *rand.ChaCha8
	data   json.RawMessage
	body   []byte
	sig    []byte
}

// NewEventSource returns a source of size-byte envelopes (size at least
// 256) signed with sec; seed makes the ids of different sources differ.
func NewEventSource(sec signature.Secret, size int, seed uint64) (*EventSource, error) {
	if size < 256 {
		return nil, fmt.Errorf("loadtest: event size %d is below 256 bytes", size)
	}
	signer, err := signature.NewSigner([]signature.Secret{sec})
	if err != nil {
		return nil, fmt.Errorf("loadtest: %w", err)
	}
	var s [32]byte
	for i := range 4 {
		seed = seed*6364136223846793005 + 1442695040888963407
		for j := range 8 {
			s[i*8+j] = byte(seed >> (8 * j))
		}
	}
	es := &EventSource{signer: signer, rng: rand.NewChaCha8(s)}
	// The envelope's length does not depend on the id or the (whole-second)
	// date, so one trial encoding sizes the padding exactly.
	probe := event.Event{APIMode: event.ModeTest, ID: uuid.Nil.String(), Type: EventType, Data: json.RawMessage(`{"pad":""}`)}
	over := len(probe.AppendJSON(nil, time.Unix(0, 0).UTC()))
	es.data = json.RawMessage(`{"pad":"` + strings.Repeat("x", size-over) + `"}`)
	es.body = make([]byte, 0, size)
	es.sig = make([]byte, 0, 64)
	return es, nil
}

// Next returns a new event dated now (to the second), encoded and signed.
func (es *EventSource) Next(now time.Time) Signed {
	var id uuid.UUID
	_, _ = es.rng.Read(id[:])
	id[6] = id[6]&0x0f | 0x40 // version 4
	id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant
	now = now.Truncate(time.Second).UTC()
	ev := event.Event{APIMode: event.ModeTest, Date: now, ID: id.String(), Type: EventType, Data: es.data}
	es.body = ev.AppendJSON(es.body[:0], now)
	es.sig = es.signer.AppendSign(es.sig[:0], ev.ID, now, es.body)
	return Signed{ID: ev.ID, Timestamp: strconv.FormatInt(now.Unix(), 10), Signature: es.sig, Body: es.body}
}

// Data returns the data object of the source's events (shared; do not
// modify), for callers that build events themselves.
func (es *EventSource) Data() json.RawMessage { return es.data }
