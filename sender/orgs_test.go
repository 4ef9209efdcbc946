package sender_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
)

// reached returns the ids of the endpoints that have a delivery of the
// event, sorted.
func reached(t testing.TB, st store.SenderStore, eventID string) []string {
	t.Helper()
	ds, _, err := st.ListDeliveries(context.Background(), store.DeliveryFilter{EventID: eventID, AllTenants: true})
	require.NoError(t, err)
	var ids []string
	for _, d := range ds {
		ids = append(ids, d.EndpointID)
	}
	slices.Sort(ids)
	return ids
}

// TestPublishAccountScope checks the organization and account rule: an event
// published for (organization, account) reaches the organization-wide
// endpoints and that account's; one published for the organization alone
// (or for every tenant) reaches organization-wide endpoints only.
func TestPublishAccountScope(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	st := newStore()
	s := newSender(t, st, clk, nil)
	for _, sp := range []struct{ id, org, account string }{
		{"a-org1", "org1", ""},
		{"b-org1-acct1", "org1", "acct1"},
		{"c-org1-acct2", "org1", "acct2"},
		{"d-org2", "org2", ""},
		{"e-org2-acct1", "org2", "acct1"},
		{"f-org1-wide", "org1", ""},
	} {
		addEndpoint(t, st, "https://hooks.example.com/"+sp.id, func(ep *store.Endpoint) {
			ep.ID, ep.Tenant, ep.Account = sp.id, sp.org, sp.account
		})
	}
	for _, tc := range []struct {
		aud  sender.Audience
		name string
		want []string
	}{
		{sender.ToAccount("org1", "acct1"), `tenant "org1" account "acct1"`, []string{"a-org1", "b-org1-acct1", "f-org1-wide"}},
		{sender.ToAccount("org1", "acct2"), `tenant "org1" account "acct2"`, []string{"a-org1", "c-org1-acct2", "f-org1-wide"}},
		{sender.ToAccount("org1", "acct9"), `tenant "org1" account "acct9"`, []string{"a-org1", "f-org1-wide"}},
		{sender.ToAccount("org1", ""), `tenant "org1"`, []string{"a-org1", "f-org1-wide"}},
		{sender.ToTenant("org1"), `tenant "org1"`, []string{"a-org1", "f-org1-wide"}},
		{sender.ToAccount("org2", "acct1"), `tenant "org2" account "acct1"`, []string{"d-org2", "e-org2-acct1"}},
		{sender.ToAllTenants(), "all tenants", []string{"a-org1", "d-org2", "f-org1-wide"}},
		{sender.ToEndpoint("c-org1-acct2"), "endpoint c-org1-acct2", []string{"c-org1-acct2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.name, tc.aud.String())
			ev := newEvent(t, clk, "medical-encounters.create", `{"id":"me_1"}`)
			n, err := s.Publish(ctx, ev, tc.aud, nil)
			require.NoError(t, err)
			require.Equal(t, len(tc.want), n)
			require.Equal(t, tc.want, reached(t, st, ev.ID))
		})
	}
	// The deliveries keep the organization as their tenant.
	ev := newEvent(t, clk, "medical-encounters.update", `{}`)
	_, err := s.Publish(ctx, ev, sender.ToAccount("org1", "acct1"), nil)
	require.NoError(t, err)
	ds, _, err := st.ListDeliveries(ctx, store.DeliveryFilter{Tenant: "org1", EventID: ev.ID})
	require.NoError(t, err)
	require.Len(t, ds, 3)
}

// TestPublishServiceSubscription checks that an endpoint subscribed to a
// service receives all its methods and nothing else, and that "ping" stays
// an exact type.
func TestPublishServiceSubscription(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	st := newStore()
	cat, err := event.NewCatalog(
		event.TypeInfo{Type: "medical-encounters.create"},
		event.TypeInfo{Type: "medical-encounters.update"},
		event.TypeInfo{Type: "medical-encounters.remove"},
		event.TypeInfo{Type: "medical-encounters-archive.create"},
	)
	require.NoError(t, err)
	s := newSender(t, st, clk, func(c *sender.Config) { c.Catalog = cat })
	svc := &store.Endpoint{URL: "https://hooks.example.com/svc", EventTypes: []string{"medical-encounters"}}
	_, err = s.Endpoints().Create(ctx, svc)
	require.NoError(t, err, "a service that the catalog has methods of is a valid subscription")
	ping := &store.Endpoint{URL: "https://hooks.example.com/ping", EventTypes: []string{"ping"}}
	_, err = s.Endpoints().Create(ctx, ping)
	require.NoError(t, err)
	_, err = s.Endpoints().Create(ctx, &store.Endpoint{URL: "https://hooks.example.com/typo", EventTypes: []string{"medical-encounter"}})
	require.ErrorIs(t, err, event.ErrUnknownType, "a service with no method in the catalog is a typo")

	for typ, want := range map[string][]string{
		"medical-encounters.create":         {svc.ID},
		"medical-encounters.update":         {svc.ID},
		"medical-encounters.remove":         {svc.ID},
		"medical-encounters-archive.create": nil,
		"ping":                              {ping.ID},
	} {
		ev := newEvent(t, clk, typ, `{}`)
		_, err := s.Publish(ctx, ev, sender.ToTenant(""), nil)
		require.NoError(t, err)
		require.Equal(t, want, reached(t, st, ev.ID), typ)
	}
}

// TestEventPayloadFormat checks the {"id", "event", "payload"} body: the data
// bytes as published, the same signature headers over the body as sent, the
// format in the attempt log, "payload" left out of a ping, and the envelope
// still sent to endpoints of the default format.
func TestEventPayloadFormat(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	st := newStore()
	s := newSender(t, st, clk, nil)
	srv := newServer(t, nil)
	ep, sec := addEndpoint(t, st, srv.URL+"/compact", func(ep *store.Endpoint) { ep.Format = store.BodyEventPayload })
	env, envSec := addEndpoint(t, st, srv.URL+"/envelope", nil)

	const data = `{"encounter_id": "me_1",  "notes":["a", 2.50]}`
	ev := newEvent(t, clk, "medical-encounters.create", data)
	_, err := s.Publish(ctx, ev, sender.ToTenant(""), nil)
	require.NoError(t, err)
	require.Equal(t, 2, processDue(t, s))

	var compact, envelope request
	for _, r := range srv.requests() {
		if r.Header.Get("Webhook-Id") != ev.ID {
			continue
		}
		if r.Event.ID == "" {
			compact = r
		} else {
			envelope = r
		}
	}
	require.Equal(t, `{"id":"`+ev.ID+`","event":"medical-encounters.create","payload":`+data+`}`, string(compact.Body),
		"the data bytes exactly as published")
	var decoded struct {
		ID      string          `json:"id"`
		Event   string          `json:"event"`
		Payload json.RawMessage `json:"payload"`
	}
	require.NoError(t, json.Unmarshal(compact.Body, &decoded))
	require.Equal(t, ev.ID, decoded.ID)
	require.Equal(t, "medical-encounters.create", decoded.Event)
	require.JSONEq(t, data, string(decoded.Payload))
	require.NoError(t, verify(t, compact, clk.Now(), sec), "signed like the envelope")
	require.Error(t, verify(t, compact, clk.Now(), envSec))
	require.Equal(t, "application/json", compact.Header.Get("Content-Type"))

	require.Equal(t, ev.ID, envelope.Event.ID, "the default format is the envelope")
	require.Equal(t, data, string(envelope.Event.Data))
	require.NoError(t, verify(t, envelope, clk.Now(), envSec))

	for _, a := range attemptsOf(t, st, ev.ID) {
		switch a.EndpointID {
		case ep.ID:
			require.Equal(t, store.BodyEventPayload, a.Format)
			require.Equal(t, compact.Body, a.RequestBody)
		case env.ID:
			require.Empty(t, a.Format)
		}
		require.True(t, a.Success)
	}
	require.Equal(t, store.StateSucceeded, deliveryTo(t, st, ev.ID, ep.ID).State)

	// A ping has empty data: no "payload".
	a, err := s.Ping(ctx, ep.ID)
	require.NoError(t, err)
	require.Equal(t, store.BodyEventPayload, a.Format)
	reqs := srv.requests()
	last := reqs[len(reqs)-1]
	require.Equal(t, `{"id":"`+a.EventID+`","event":"ping"}`, string(last.Body))
	require.NoError(t, verify(t, last, clk.Now(), sec))
}

// deliveryTo returns the delivery of the event to the endpoint.
func deliveryTo(t testing.TB, st store.SenderStore, eventID, endpointID string) *store.Delivery {
	t.Helper()
	ds, _, err := st.ListDeliveries(context.Background(), store.DeliveryFilter{AllTenants: true, EventID: eventID, EndpointID: endpointID})
	require.NoError(t, err)
	require.Len(t, ds, 1)
	return ds[0]
}

// TestEndpointsCreateDisabled checks that an endpoint created disabled is
// skipped by publishing until enabled, and that disabling works again.
func TestEndpointsCreateDisabled(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	st := newStore()
	var disabledHooks int
	s := newSender(t, st, clk, func(c *sender.Config) {
		c.Hooks.OnEndpointDisabled = func(context.Context, *store.Endpoint) { disabledHooks++ }
	})
	ep := &store.Endpoint{Tenant: "org", URL: "https://hooks.example.com/in", EventTypes: []string{"*"}, Disabled: true}
	_, err := s.Endpoints().Create(ctx, ep)
	require.NoError(t, err)
	got, err := s.Endpoints().Get(ctx, ep.ID)
	require.NoError(t, err)
	require.True(t, got.Disabled)
	require.Equal(t, "created disabled", got.DisabledReason)
	require.Equal(t, clk.Now(), got.DisabledAt)
	require.Zero(t, disabledHooks, "no hook for an endpoint created disabled")

	publish := func() []string {
		ev := newEvent(t, clk, "order.paid", `{}`)
		_, err := s.Publish(ctx, ev, sender.ToTenant("org"), nil)
		require.NoError(t, err)
		return reached(t, st, ev.ID)
	}
	require.Empty(t, publish(), "a disabled endpoint is skipped")
	require.NoError(t, s.Endpoints().Enable(ctx, ep.ID))
	require.Equal(t, []string{ep.ID}, publish())
	require.NoError(t, s.Endpoints().Disable(ctx, ep.ID, ""))
	require.Empty(t, publish())
	require.Equal(t, 1, disabledHooks)
}

// TestEndpointsUpdateKeepsAccountAndFormat checks that Update refuses to
// move an endpoint to another account or body format, and that an empty
// format means the endpoint's.
func TestEndpointsUpdateKeepsAccountAndFormat(t *testing.T) {
	ctx := context.Background()
	s := newSender(t, newStore(), newClock(), nil)
	ep := &store.Endpoint{Tenant: "org", Account: "acct", Format: store.BodyEventPayload,
		URL: "https://hooks.example.com/in", EventTypes: []string{"*"}}
	_, err := s.Endpoints().Create(ctx, ep)
	require.NoError(t, err)

	upd := ep.Clone()
	upd.Account = "other"
	fieldError(t, s.Endpoints().Update(ctx, upd), "account")
	upd = ep.Clone()
	upd.Format = store.BodyEnvelope
	fieldError(t, s.Endpoints().Update(ctx, upd), "format")

	upd = ep.Clone()
	upd.Format = ""
	upd.Description = "edited"
	require.NoError(t, s.Endpoints().Update(ctx, upd))
	got, err := s.Endpoints().Get(ctx, ep.ID)
	require.NoError(t, err)
	require.Equal(t, "edited", got.Description)
	require.Equal(t, store.BodyEventPayload, got.Format, "an empty format keeps the endpoint's")
	require.Equal(t, "acct", got.Account)

	_, err = s.Endpoints().Create(ctx, &store.Endpoint{URL: "https://hooks.example.com/x", EventTypes: []string{"*"}, Format: "xml"})
	fieldError(t, err, "format")
}
