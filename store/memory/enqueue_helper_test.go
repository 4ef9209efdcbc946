package memory_test

import (
	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

// enqueueAt is the request these tests enqueue with: ev for ts, published
// and due at ev.Date (the tests date events with the time they want them
// due; stores do not keep that date).
func enqueueAt(ev event.Event, ts []store.Target) store.EnqueueRequest {
	return store.EnqueueRequest{Event: ev, Targets: ts, Now: ev.Date}
}
