package sender_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
)

// ordersCatalog declares two types of a neutral domain.
func ordersCatalog(t testing.TB) *event.Catalog {
	t.Helper()
	cat, err := event.NewCatalog(
		event.TypeInfo{Type: "order.paid", Description: "An order was paid", Sample: json.RawMessage(`{"order_id":"ord_1"}`)},
		event.TypeInfo{Type: "invoice.finalized", Description: "An invoice can no longer change"},
	)
	require.NoError(t, err)
	return cat
}

// TestPublishCatalog checks that a sender with a catalog publishes the
// types it lists and ping, and refuses any other type through every door
// (Publish, PublishTx, Simulate) with an error wrapping
// event.ErrUnknownType, enqueuing nothing; without a catalog any valid
// type goes.
func TestPublishCatalog(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	st := memory.New(nil)
	cat := ordersCatalog(t)
	s := newSender(t, st, clk, func(c *sender.Config) { c.Catalog = cat })
	require.Same(t, cat, s.Catalog())
	ep, _ := addEndpoint(t, st, "https://hooks.example.com/in", nil) // subscribed to "*"

	for _, typ := range []string{"order.paid", "invoice.finalized", event.TypePing} {
		n, err := s.Publish(ctx, newEvent(t, clk, typ, `{}`), sender.ToTenant(""), nil)
		require.NoError(t, err, typ)
		require.Equal(t, 1, n, typ)
	}

	unknown := func(t *testing.T, err error) {
		t.Helper()
		require.ErrorIs(t, err, event.ErrUnknownType)
		var fe *event.FieldError
		require.True(t, errors.As(err, &fe), "want an *event.FieldError in %v", err)
		require.Equal(t, "type", fe.Field)
		require.Contains(t, err.Error(), `"order.payed" is not in the catalog`)
	}
	typo := newEvent(t, clk, "order.payed", `{}`)
	_, err := s.Publish(ctx, typo, sender.ToTenant(""), nil)
	unknown(t, err)
	_, err = s.Publish(ctx, typo, sender.ToEndpoint(ep.ID), nil)
	unknown(t, err)

	tx := st.Begin()
	_, err = s.PublishTx(ctx, tx, typo, sender.ToTenant(""), nil)
	unknown(t, err)
	require.NoError(t, tx.Commit())

	_, err = s.Simulate(ctx, ep.ID, "order.payed", nil)
	unknown(t, err)

	ds, _, err := st.ListDeliveries(ctx, store.DeliveryFilter{AllTenants: true, EventType: "order.payed"})
	require.NoError(t, err)
	require.Empty(t, ds, "nothing enqueued for the refused type")

	// Without a catalog, the same event is published.
	open := newSender(t, memory.New(nil), clk, nil)
	require.Nil(t, open.Catalog())
	n, err := open.Publish(ctx, typo, sender.ToTenant(""), nil)
	require.NoError(t, err)
	require.Zero(t, n, "no endpoint, but no refusal either")
}

// TestEndpointsCatalogPatterns checks that the Endpoints owner of a sender
// with a catalog refuses a pattern selecting none of its types, naming the
// pattern's index, on Create and on Update, while patterns that select
// something (exact, prefix, "*", ping) pass, and a pattern an endpoint had
// already is not held to the catalog again.
func TestEndpointsCatalogPatterns(t *testing.T) {
	ctx := context.Background()
	st := memory.New(nil)
	s := newSender(t, st, newClock(), func(c *sender.Config) { c.Catalog = ordersCatalog(t) })
	eps := s.Endpoints()
	newEP := func(patterns ...string) *store.Endpoint {
		return &store.Endpoint{URL: "https://hooks.example.com/in", EventTypes: patterns}
	}

	for _, ok := range [][]string{{"order.paid"}, {"order.*"}, {"*"}, {"ping"}, {"invoice.finalized", "order.*"}} {
		_, err := eps.Create(ctx, newEP(ok...))
		require.NoError(t, err, "%v", ok)
	}
	before, _, err := st.ListEndpoints(ctx, store.EndpointFilter{AllTenants: true})
	require.NoError(t, err)

	for _, tc := range []struct {
		patterns []string
		field    string
	}{
		{[]string{"order.payed"}, "event types[0]"},
		{[]string{"invoice.finalized", "orders.*"}, "event types[1]"},
		{[]string{"customer.created"}, "event types[0]"},
	} {
		ep := newEP(tc.patterns...)
		_, err := eps.Create(ctx, ep)
		fe := fieldError(t, err, tc.field)
		require.ErrorIs(t, err, event.ErrUnknownType)
		require.Contains(t, fe.Reason, "selects no event type of the catalog")
		require.Contains(t, fe.Reason, "invoice.finalized, order.paid, ping", "the reason names what the catalog lists")
		require.Empty(t, ep.ID, "the argument is left alone")
	}
	after, _, err := st.ListEndpoints(ctx, store.EndpointFilter{AllTenants: true})
	require.NoError(t, err)
	require.Len(t, after, len(before), "nothing stored")

	// Update: a new pattern is checked.
	ep := newEP("order.paid")
	_, err = eps.Create(ctx, ep)
	require.NoError(t, err)
	upd := ep.Clone()
	upd.EventTypes = []string{"order.paid", "order.payed"}
	fieldError(t, eps.Update(ctx, upd), "event types[1]")

	// An endpoint stored before the catalog dropped a type (written to the
	// store directly here) keeps its pattern through an edit of another field,
	// but cannot gain another unknown one.
	old, _ := addEndpoint(t, st, "https://hooks.example.com/old", func(e *store.Endpoint) { e.EventTypes = []string{"order.refunded", "order.paid"} })
	edit := old.Clone()
	edit.Description = "still receives order.paid"
	require.NoError(t, eps.Update(ctx, edit))
	edit.EventTypes = []string{"order.refunded", "order.cancelled"}
	fieldError(t, eps.Update(ctx, edit), "event types[1]")
	got, err := eps.Get(ctx, old.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"order.refunded", "order.paid"}, got.EventTypes)
	require.Equal(t, "still receives order.paid", got.Description)

	// Without a catalog, any valid pattern is accepted.
	open := newSender(t, memory.New(nil), newClock(), nil)
	_, err = open.Endpoints().Create(ctx, newEP("order.payed"))
	require.NoError(t, err)
}
