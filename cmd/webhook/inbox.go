package main

import (
	"context"

	"github.com/webhookkit/webhookkit/store"
)

// claimObserver learns which claims a receiver won and released, so
// listen --forward-to can match the events handed to the callback with the
// requests that carried them.
type claimObserver interface {
	claimed(ctx context.Context, key string)
	released(key string)
}

// observedInbox wraps a store.Inbox and reports won and released claims.
type observedInbox struct {
	store.Inbox
	obs claimObserver
}

// Claim claims c in the wrapped inbox and reports a won claim.
func (b observedInbox) Claim(ctx context.Context, c store.Claim) (bool, error) {
	won, err := b.Inbox.Claim(ctx, c)
	if won && err == nil {
		b.obs.claimed(ctx, c.Key)
	}
	return won, err
}

// ReleaseClaim releases the claim in the wrapped inbox and reports it.
func (b observedInbox) ReleaseClaim(ctx context.Context, key string) error {
	b.obs.released(key)
	return b.Inbox.ReleaseClaim(ctx, key)
}

// Release is ReleaseClaim under the name older receivers call.
func (b observedInbox) Release(ctx context.Context, key string) error {
	return b.ReleaseClaim(ctx, key)
}

// recoveringInbox is an observedInbox over a store that keeps accepted
// events (store.InboxRecovery), which the receiver finds by type assertion.
type recoveringInbox struct {
	observedInbox
	store.InboxRecovery
}

// observeInbox wraps in, keeping its store.InboxRecovery if it has one and
// durable is set.
func observeInbox(in store.Inbox, obs claimObserver, durable bool) store.Inbox {
	b := observedInbox{Inbox: in, obs: obs}
	if rec, ok := in.(store.InboxRecovery); ok && durable {
		return recoveringInbox{observedInbox: b, InboxRecovery: rec}
	}
	return b
}
