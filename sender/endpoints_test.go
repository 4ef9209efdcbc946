package sender_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

// fieldError requires err to be a *store.FieldError for field, wrapping
// store.ErrInvalid, and returns it.
func fieldError(t *testing.T, err error, field string) *store.FieldError {
	t.Helper()
	require.ErrorIs(t, err, store.ErrInvalid)
	var fe *store.FieldError
	require.True(t, errors.As(err, &fe), "want a *store.FieldError in %v", err)
	require.Equal(t, field, fe.Field)
	require.NotEmpty(t, fe.Reason)
	return fe
}

// TestEndpointsCreateGeneratesSecret checks that Create without secrets
// generates one, stores it as the only secret and returns it, and that
// with the caller's secrets it returns none.
func TestEndpointsCreateGeneratesSecret(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	st := newStore()
	s := newSender(t, st, clk, nil)

	ep := &store.Endpoint{Tenant: "acme", URL: "https://hooks.example.com/in", EventTypes: []string{"order.*"}}
	sec, err := s.Endpoints().Create(ctx, ep)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(sec.String(), signature.SecretPrefix), "a whsec_ secret")
	require.NotEmpty(t, ep.ID, "Create fills the ID")
	require.Equal(t, event.ModeTest, ep.Mode, "an empty mode is the sender's")

	got, err := s.Endpoints().Get(ctx, ep.ID)
	require.NoError(t, err)
	require.Len(t, got.Secrets, 1)
	require.Equal(t, sec.String(), got.Secrets[0].Key, "the returned secret is the one stored")
	require.Equal(t, clk.Now(), got.Secrets[0].CreatedAt)

	// The generated secret signs: a ping verifies with it.
	srv := newServer(t, nil)
	require.NoError(t, s.Endpoints().Update(ctx, withURL(got, srv.URL)))
	_, err = s.Ping(ctx, ep.ID)
	require.NoError(t, err)
	require.NoError(t, verify(t, srv.requests()[0], clk.Now(), sec))

	// The caller's own secret: none is generated or returned.
	own, err := signature.NewSecret()
	require.NoError(t, err)
	ep2 := &store.Endpoint{URL: "https://hooks.example.com/2", EventTypes: []string{"*"},
		Secrets: []store.SigningKey{{Key: own.String()}}}
	sec2, err := s.Endpoints().Create(ctx, ep2)
	require.NoError(t, err)
	require.Empty(t, sec2.String(), "no secret is returned when the caller gave one")
	got2, err := s.Endpoints().Get(ctx, ep2.ID)
	require.NoError(t, err)
	require.Len(t, got2.Secrets, 1)
	require.Equal(t, own.String(), got2.Secrets[0].Key)
}

func withURL(ep *store.Endpoint, u string) *store.Endpoint {
	c := ep.Clone()
	c.URL = u
	return c
}

// TestEndpointsCreateRefuses checks every rule Create applies: each refusal
// is a FieldError naming the field, wraps the cause, repeats no secret or
// credential, stores nothing and leaves the argument alone.
func TestEndpointsCreateRefuses(t *testing.T) {
	pub, err := signature.GenerateKey()
	require.NoError(t, err)
	tests := []struct {
		name  string
		live  bool // a live-mode sender requiring https
		edit  func(*store.Endpoint)
		field string
		cause error // also wrapped, when not nil
	}{
		{name: "private address", edit: func(ep *store.Endpoint) { ep.URL = "http://10.0.0.1/hook" },
			field: "url", cause: sender.ErrPrivateAddress},
		{name: "localhost", edit: func(ep *store.Endpoint) { ep.URL = "http://localhost:8080/hook" },
			field: "url", cause: sender.ErrPrivateAddress},
		{name: "credentials in a private URL", edit: func(ep *store.Endpoint) { ep.URL = "https://user:s3cret-pass@127.0.0.1/" },
			field: "url", cause: sender.ErrPrivateAddress},
		{name: "bad scheme with credentials", edit: func(ep *store.Endpoint) { ep.URL = "ftp://user:s3cret-pass@hooks.example.com/" },
			field: "url"},
		{name: "http in live", live: true, edit: func(ep *store.Endpoint) { ep.URL = "http://hooks.example.com/in" },
			field: "url", cause: sender.ErrInsecureURL},
		{name: "public key", edit: func(ep *store.Endpoint) { ep.Secrets = []store.SigningKey{{Key: pub.Public().String()}} },
			field: "secrets[0]", cause: signature.ErrInvalidKey},
		{name: "bad pattern", edit: func(ep *store.Endpoint) { ep.EventTypes = []string{"order.*", "order.*.x"} },
			field: "event types[1]", cause: event.ErrInvalidPattern},
		{name: "other mode", edit: func(ep *store.Endpoint) { ep.Mode = event.ModeLive },
			field: "mode", cause: sender.ErrModeMismatch},
		{name: "CR LF in a header value", edit: func(ep *store.Endpoint) {
			ep.Headers = map[string]string{"X-Api-Key": "s3cret-pass\r\nX-Injected: 1"}
		}, field: `headers["X-Api-Key"]`},
		{name: "NUL in a header value", edit: func(ep *store.Endpoint) { ep.Headers = map[string]string{"X-Api-Key": "a\x00b"} },
			field: `headers["X-Api-Key"]`},
		{name: "space in a header name", edit: func(ep *store.Endpoint) { ep.Headers = map[string]string{"X Api": "v"} },
			field: `headers["X Api"]`},
		{name: "colon in a header name", edit: func(ep *store.Endpoint) { ep.Headers = map[string]string{"X-Api:": "v"} },
			field: `headers["X-Api:"]`},
		{name: "empty header name", edit: func(ep *store.Endpoint) { ep.Headers = map[string]string{"": "v"} },
			field: `headers[""]`},
		{name: "reserved header", edit: func(ep *store.Endpoint) { ep.Headers = map[string]string{"content-type": "text/plain"} },
			field: `headers["content-type"]`},
		{name: "signature header", edit: func(ep *store.Endpoint) { ep.Headers = map[string]string{"Webhook-Signature": "v1,forged"} },
			field: `headers["Webhook-Signature"]`},
		{name: "host header", edit: func(ep *store.Endpoint) { ep.Headers = map[string]string{"Host": "evil.example"} },
			field: `headers["Host"]`},
		{name: "one header twice", edit: func(ep *store.Endpoint) { ep.Headers = map[string]string{"X-Api-Key": "a", "x-api-key": "b"} },
			field: `headers["x-api-key"]`},
		{name: "negative limit", edit: func(ep *store.Endpoint) { ep.MaxInFlight = -1 }, field: "limits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			st := newStore()
			s := newSender(t, st, nil, func(c *sender.Config) {
				c.AllowPrivateNetworks = false
				if tt.live {
					c.Mode, c.RequireHTTPSInLive = event.ModeLive, true
				}
			})
			ep := &store.Endpoint{URL: "https://hooks.example.com/in", EventTypes: []string{"*"},
				Headers: map[string]string{"X-Api-Key": "s3cret-pass"}}
			tt.edit(ep)
			before := ep.Clone()
			_, err := s.Endpoints().Create(ctx, ep)
			fieldError(t, err, tt.field)
			if tt.cause != nil {
				require.ErrorIs(t, err, tt.cause)
			}
			require.NotContains(t, err.Error(), "s3cret-pass", "no secret, credential or header value in the error")
			for _, sec := range before.Secrets {
				require.NotContains(t, err.Error(), strings.SplitN(sec.Key, "_", 2)[1])
			}
			require.Equal(t, before, ep, "a refused Create leaves its argument alone")
			eps, _, err := st.ListEndpoints(ctx, store.EndpointFilter{AllTenants: true})
			require.NoError(t, err)
			require.Empty(t, eps, "nothing is stored")
		})
	}
}

// TestEndpointsCreateAllows checks headers and URLs the rules must let
// through.
func TestEndpointsCreateAllows(t *testing.T) {
	ctx := context.Background()
	s := newSender(t, newStore(), nil, func(c *sender.Config) {
		c.Mode, c.RequireHTTPSInLive = event.ModeLive, true
	})
	ep := &store.Endpoint{URL: "HTTPS://hooks.example.com/in", EventTypes: []string{"*"},
		Headers: map[string]string{"Authorization": "Bearer t0k\ten", "X-Odd_Name.1~": "é"}}
	_, err := s.Endpoints().Create(ctx, ep)
	require.NoError(t, err)
	require.Equal(t, event.ModeLive, ep.Mode)
}

// TestEndpointsUpdate checks that Update changes the editable fields and
// never the secrets, refuses a new tenant and what Create refuses, and
// holds only a changed URL to the URL policy.
func TestEndpointsUpdate(t *testing.T) {
	ctx := context.Background()
	st := newStore()
	s := newSender(t, st, nil, func(c *sender.Config) { c.AllowPrivateNetworks = false })
	ep := &store.Endpoint{Tenant: "acme", URL: "https://hooks.example.com/in", EventTypes: []string{"*"}}
	sec, err := s.Endpoints().Create(ctx, ep)
	require.NoError(t, err)

	other, err := signature.NewSecret()
	require.NoError(t, err)
	upd := ep.Clone()
	upd.Description = "orders"
	upd.EventTypes = []string{"order.*"}
	upd.Headers = map[string]string{"X-Api-Key": "k"}
	upd.Secrets = []store.SigningKey{{Key: other.String()}} // ignored
	upd.Mode = ""                                           // the endpoint's
	require.NoError(t, s.Endpoints().Update(ctx, upd))
	got, err := s.Endpoints().Get(ctx, ep.ID)
	require.NoError(t, err)
	require.Equal(t, "orders", got.Description)
	require.Equal(t, []string{"order.*"}, got.EventTypes)
	require.Equal(t, map[string]string{"X-Api-Key": "k"}, got.Headers)
	require.Len(t, got.Secrets, 1)
	require.Equal(t, sec.String(), got.Secrets[0].Key, "Update never changes secrets")
	require.Equal(t, got.UpdatedAt, upd.UpdatedAt)

	bad := got.Clone()
	bad.Tenant = "globex"
	fieldError(t, s.Endpoints().Update(ctx, bad), "tenant")
	bad = got.Clone()
	bad.Headers = map[string]string{"User-Agent": "me"}
	fieldError(t, s.Endpoints().Update(ctx, bad), `headers["User-Agent"]`)
	bad = got.Clone()
	bad.URL = "http://192.168.0.1/in"
	require.ErrorIs(t, s.Endpoints().Update(ctx, bad), sender.ErrPrivateAddress)
	bad = got.Clone()
	bad.Mode = event.ModeLive
	require.ErrorIs(t, s.Endpoints().Update(ctx, bad), sender.ErrModeMismatch)
	again, err := s.Endpoints().Get(ctx, ep.ID)
	require.NoError(t, err)
	require.Equal(t, got, again, "refused updates change nothing")

	// An endpoint stored before the policy (here: by the store directly)
	// keeps its URL through edits, but cannot move to another such URL.
	legacy, _ := addEndpoint(t, st, "http://10.1.2.3/in", nil)
	legacy.Description = "still editable"
	require.NoError(t, s.Endpoints().Update(ctx, legacy))
	legacy.URL = "http://10.1.2.4/in"
	require.ErrorIs(t, s.Endpoints().Update(ctx, legacy), sender.ErrPrivateAddress)

	require.ErrorIs(t, s.Endpoints().Update(ctx, &store.Endpoint{ID: "missing"}), store.ErrNotFound)
}

// TestEndpointsOtherMode checks that a sender's Endpoints leaves the other
// mode's endpoints alone.
func TestEndpointsOtherMode(t *testing.T) {
	ctx := context.Background()
	st := newStore()
	live, _ := addEndpoint(t, st, "https://hooks.example.com/live", func(ep *store.Endpoint) { ep.Mode = event.ModeLive })
	test, _ := addEndpoint(t, st, "https://hooks.example.com/test", nil)
	eps := newSender(t, st, nil, nil).Endpoints()

	_, err := eps.Get(ctx, live.ID)
	require.ErrorIs(t, err, sender.ErrModeMismatch)
	require.ErrorIs(t, eps.Update(ctx, live), sender.ErrModeMismatch)
	require.ErrorIs(t, eps.Enable(ctx, live.ID), sender.ErrModeMismatch)
	require.ErrorIs(t, eps.Disable(ctx, live.ID, ""), sender.ErrModeMismatch)
	_, err = eps.RotateSecret(ctx, live.ID, 0)
	require.ErrorIs(t, err, sender.ErrModeMismatch)
	require.ErrorIs(t, eps.Delete(ctx, live.ID), sender.ErrModeMismatch)
	_, _, err = eps.List(ctx, store.EndpointFilter{AllTenants: true, Mode: event.ModeLive})
	require.ErrorIs(t, err, sender.ErrModeMismatch)

	list, next, err := eps.List(ctx, store.EndpointFilter{AllTenants: true})
	require.NoError(t, err)
	require.Empty(t, next)
	require.Len(t, list, 1)
	require.Equal(t, test.ID, list[0].ID)

	got, err := st.GetEndpoint(ctx, live.ID)
	require.NoError(t, err)
	require.False(t, got.Disabled)
	require.Len(t, got.Secrets, 1)
}

// TestEndpointsDelete checks that Delete removes the endpoint and its
// queued deliveries.
func TestEndpointsDelete(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	st := newStore()
	s := newSender(t, st, clk, nil)
	ep := &store.Endpoint{URL: "https://hooks.example.com/in", EventTypes: []string{"*"}}
	_, err := s.Endpoints().Create(ctx, ep)
	require.NoError(t, err)
	_, err = s.Publish(ctx, newEvent(t, clk, "order.paid", `{}`), sender.ToTenant(""), nil)
	require.NoError(t, err)

	require.NoError(t, s.Endpoints().Delete(ctx, ep.ID))
	_, err = s.Endpoints().Get(ctx, ep.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, s.Endpoints().Delete(ctx, ep.ID), store.ErrNotFound)
	b, err := s.Backlog(ctx)
	require.NoError(t, err)
	require.Zero(t, b.Pending(), "the endpoint's queued delivery went with it")
}

// TestEndpointsClosed checks that after Close every method but CheckURL
// returns ErrClosed.
func TestEndpointsClosed(t *testing.T) {
	ctx := context.Background()
	st := newStore()
	ep, _ := addEndpoint(t, st, "https://hooks.example.com/in", nil)
	s := newSender(t, st, nil, nil)
	eps := s.Endpoints()
	require.NoError(t, s.Close())

	_, err := eps.Create(ctx, &store.Endpoint{URL: "https://hooks.example.com/2", EventTypes: []string{"*"}})
	require.ErrorIs(t, err, sender.ErrClosed)
	_, err = eps.Get(ctx, ep.ID)
	require.ErrorIs(t, err, sender.ErrClosed)
	_, _, err = eps.List(ctx, store.EndpointFilter{})
	require.ErrorIs(t, err, sender.ErrClosed)
	require.ErrorIs(t, eps.Update(ctx, ep), sender.ErrClosed)
	require.ErrorIs(t, eps.Delete(ctx, ep.ID), sender.ErrClosed)
	require.ErrorIs(t, eps.Enable(ctx, ep.ID), sender.ErrClosed)
	require.ErrorIs(t, eps.Disable(ctx, ep.ID, ""), sender.ErrClosed)
	_, err = eps.RotateSecret(ctx, ep.ID, 0)
	require.ErrorIs(t, err, sender.ErrClosed)
	require.NoError(t, eps.CheckURL("https://hooks.example.com/in"))
	_, err = s.Backlog(ctx)
	require.ErrorIs(t, err, sender.ErrClosed)
	require.ErrorIs(t, s.WaitIdle(ctx), sender.ErrClosed)
}
