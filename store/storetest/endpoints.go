package storetest

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

var endpointCases = []testCase[*endpointsFixture]{
	{"CreateGet", testEndpointCreateGet},
	{"Invalid", testEndpointInvalid},
	{"SigningKeys", testEndpointSigningKeys},
	{"SecretCreatedAt", testEndpointSecretCreatedAt},
	{"Copies", testEndpointCopies},
	{"Update", testEndpointUpdate},
	{"Delete", testEndpointDelete},
	{"List", testEndpointList},
	{"AccountAndFormat", testEndpointAccountAndFormat},
	{"ListAccounts", testEndpointListAccounts},
	{"Credentials", testEndpointCredentials},
}

// requireSameEndpoint compares the user-set fields of two endpoints.
func requireSameEndpoint(t testing.TB, want, got *store.Endpoint) {
	t.Helper()
	require.Equal(t, want.ID, got.ID)
	require.Equal(t, want.Tenant, got.Tenant)
	require.Equal(t, want.Account, got.Account)
	require.Equal(t, want.Format, got.Format)
	require.Equal(t, want.Mode, got.Mode)
	require.Equal(t, want.URL, got.URL)
	require.Equal(t, want.Description, got.Description)
	require.Equal(t, want.EventTypes, got.EventTypes)
	require.Len(t, got.Secrets, len(want.Secrets))
	for i := range want.Secrets {
		require.Equal(t, want.Secrets[i].Key, got.Secrets[i].Key, "secret %d key", i)
		sameTime(t, want.Secrets[i].CreatedAt, got.Secrets[i].CreatedAt, "secret created at")
		sameTime(t, want.Secrets[i].ExpiresAt, got.Secrets[i].ExpiresAt, "secret expires at")
	}
	require.Equal(t, len(want.Headers), len(got.Headers))
	for k, v := range want.Headers {
		require.Equal(t, v, got.Headers[k], "header %s", k)
	}
	require.Equal(t, len(want.Metadata), len(got.Metadata))
	for k, v := range want.Metadata {
		require.Equal(t, v, got.Metadata[k], "metadata %s", k)
	}
	require.Equal(t, want.RateLimit, got.RateLimit)
	require.Equal(t, want.Burst, got.Burst)
	require.Equal(t, want.MaxInFlight, got.MaxInFlight)
	require.Equal(t, want.Disabled, got.Disabled)
}

func testEndpointCreateGet(f *endpointsFixture) {
	ep := validEndpoint()
	ep.Secrets = append(ep.Secrets, store.SigningKey{Key: secondSecret, CreatedAt: at(0), ExpiresAt: at(24 * time.Hour)})
	require.NoError(f, f.s.CreateEndpoint(f.ctx, ep))
	_, err := uuid.Parse(ep.ID)
	require.NoError(f, err, "CreateEndpoint must assign a UUID when ID is empty, got %q", ep.ID)
	require.False(f, ep.CreatedAt.IsZero(), "CreatedAt set on the argument")
	require.False(f, ep.UpdatedAt.IsZero(), "UpdatedAt set on the argument")

	got, err := f.s.GetEndpoint(f.ctx, ep.ID)
	require.NoError(f, err)
	requireSameEndpoint(f, ep, got)
	require.False(f, got.CreatedAt.IsZero())
	require.False(f, got.UpdatedAt.Before(got.CreatedAt), "UpdatedAt before CreatedAt")
	require.Zero(f, got.Health.ConsecutiveFailures)

	explicit := f.endpoint(withID("ep-explicit"))
	require.Equal(f, "ep-explicit", explicit.ID)
	got, err = f.s.GetEndpoint(f.ctx, "ep-explicit")
	require.NoError(f, err)
	requireSameEndpoint(f, explicit, got)

	dup := validEndpoint()
	dup.ID = "ep-explicit"
	dup.URL = "https://other.example.com/"
	require.ErrorIs(f, f.s.CreateEndpoint(f.ctx, dup), store.ErrConflict)
	got, err = f.s.GetEndpoint(f.ctx, "ep-explicit")
	require.NoError(f, err)
	require.Equal(f, explicit.URL, got.URL, "a conflicting create must not change the stored endpoint")

	_, err = f.s.GetEndpoint(f.ctx, "missing")
	require.ErrorIs(f, err, store.ErrNotFound)
}

func testEndpointInvalid(f *endpointsFixture) {
	stored := f.endpoint()
	key, err := signature.GenerateKey()
	require.NoError(f, err)
	publicKey := key.Public().String()
	badPrivateKey := signature.PrivateKeyPrefix + base64.StdEncoding.EncodeToString(make([]byte, 32))
	secrets := func(keys ...string) func(*store.Endpoint) {
		return func(ep *store.Endpoint) {
			ep.Secrets = nil
			for _, k := range keys {
				ep.Secrets = append(ep.Secrets, store.SigningKey{Key: k})
			}
		}
	}
	url := func(u string) func(*store.Endpoint) { return func(ep *store.Endpoint) { ep.URL = u } }
	for _, tc := range []struct {
		name string
		edit func(*store.Endpoint)
		// field is what the error must name.
		field string
	}{
		{"mode", func(ep *store.Endpoint) { ep.Mode = "prod" }, "mode"},
		{"no mode", func(ep *store.Endpoint) { ep.Mode = "" }, "mode"},
		{"url", url(""), "url"},
		{"relative url", url("/hooks"), "url"},
		{"relative url without slash", url("hooks.example.com/in"), "url"},
		{"scheme", url("ftp://example.com/x"), "url"},
		{"ftp", url("ftp://x"), "url"},
		{"no host", url("http:///path"), "url"},
		{"scheme only", url("https://"), "url"},
		{"opaque", url("https:hooks.example.com"), "url"},
		{"port without host", url("https://:8443/in"), "url"},
		{"port out of range", url("https://hooks.example.com:70000/in"), "url"},
		{"space in host", url("https://hooks example.com/in"), "url"},
		{"space in path", url("https://hooks.example.com/in put"), "url"},
		{"space in query", url("https://hooks.example.com/in?a=b c"), "url"},
		{"leading space", url(" https://hooks.example.com/in"), "url"},
		{"format", func(ep *store.Endpoint) { ep.Format = "xml" }, "format"},
		{"no event types", func(ep *store.Endpoint) { ep.EventTypes = nil }, "event types"},
		{"bad pattern", func(ep *store.Endpoint) { ep.EventTypes = []string{"ping", "not a type!"} }, "event types[1]"},
		{"no secrets", func(ep *store.Endpoint) { ep.Secrets = nil }, "secrets"},
		{"empty secret", func(ep *store.Endpoint) { ep.Secrets = []store.SigningKey{{}} }, "secrets[0]"},
		{"secret without prefix", secrets("abc"), "secrets[0]"},
		{"short secret", secrets("whsec_abc"), "secrets[0]"},
		{"secret of 23 bytes", secrets("whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 23))), "secrets[0]"},
		{"secret not base64", secrets("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa!!"), "secrets[0]"},
		{"public key", secrets(publicKey), "secrets[0]"},
		{"bad private key", secrets(badPrivateKey), "secrets[0]"},
		{"second secret", secrets(testSecret, "whsec_abc"), "secrets[1]"},
		{"public key after a private key", secrets(key.String(), publicKey), "secrets[1]"},
		{"negative rate", func(ep *store.Endpoint) { ep.RateLimit = -1 }, "limits"},
		{"negative in flight", func(ep *store.Endpoint) { ep.MaxInFlight = -1 }, "limits"},
	} {
		f.Run(tc.name, func(t *testing.T) {
			ep := validEndpoint()
			tc.edit(ep)
			keys := ep.Secrets
			requireInvalid(t, f.s.CreateEndpoint(f.ctx, ep), tc.field, keys)

			upd := stored.Clone()
			tc.edit(upd)
			requireInvalid(t, f.s.UpdateEndpoint(f.ctx, upd), tc.field, keys)
			got, err := f.s.GetEndpoint(f.ctx, stored.ID)
			require.NoError(t, err)
			requireSameEndpoint(f, stored, got)
		})
	}
	eps, _, err := f.s.ListEndpoints(f.ctx, store.EndpointFilter{AllTenants: true})
	require.NoError(f, err)
	require.Len(f, eps, 1, "invalid endpoints must not be stored")
}

// requireInvalid requires that err wraps store.ErrInvalid, names the
// endpoint's field and does not repeat the text of any of the secrets.
func requireInvalid(t *testing.T, err error, field string, secrets []store.SigningKey) {
	t.Helper()
	require.ErrorIs(t, err, store.ErrInvalid)
	require.Contains(t, err.Error(), "endpoint "+field, "the error names the field")
	for _, s := range secrets {
		// The part after the prefix, when long enough to be telling.
		if _, rest, ok := strings.Cut(s.Key, "_"); ok && len(rest) >= 3 {
			require.NotContains(t, err.Error(), rest, "the error repeats a secret")
		}
	}
}

// testEndpointSigningKeys checks that both kinds of keys that sign, a whsec_
// secret and a whsk_ Ed25519 private key, are stored.
func testEndpointSigningKeys(f *endpointsFixture) {
	key, err := signature.GenerateKey()
	require.NoError(f, err)
	ep := f.endpoint(func(ep *store.Endpoint) {
		ep.Secrets = append(ep.Secrets, store.SigningKey{Key: key.String(), CreatedAt: at(0)})
	})
	got, err := f.s.GetEndpoint(f.ctx, ep.ID)
	require.NoError(f, err)
	requireSameEndpoint(f, ep, got)

	upd := got.Clone()
	upd.Secrets = upd.Secrets[1:]
	require.NoError(f, f.s.UpdateEndpoint(f.ctx, upd))
	got, err = f.s.GetEndpoint(f.ctx, ep.ID)
	require.NoError(f, err)
	require.Len(f, got.Secrets, 1)
	require.Equal(f, key.String(), got.Secrets[0].Key)
}

// testEndpointSecretCreatedAt checks that a secret stored without a
// CreatedAt gets the time the store stamps on the endpoint, on create and on
// update, in what the store returns and on the argument, and that a set
// CreatedAt is kept.
func testEndpointSecretCreatedAt(f *endpointsFixture) {
	ep := validEndpoint()
	given := ep.Secrets[0].CreatedAt
	ep.Secrets = append(ep.Secrets, store.SigningKey{Key: secondSecret, ExpiresAt: at(24 * time.Hour)})
	require.NoError(f, f.s.CreateEndpoint(f.ctx, ep))
	created, err := f.s.GetEndpoint(f.ctx, ep.ID)
	require.NoError(f, err)
	require.False(f, created.CreatedAt.IsZero())
	for what, e := range map[string]*store.Endpoint{"argument": ep, "stored": created} {
		require.Len(f, e.Secrets, 2, what)
		sameTime(f, given, e.Secrets[0].CreatedAt, what+": a set CreatedAt is kept")
		sameTime(f, created.CreatedAt, e.Secrets[1].CreatedAt, what+": an unset secret CreatedAt is the endpoint's CreatedAt")
		sameTime(f, at(24*time.Hour), e.Secrets[1].ExpiresAt, what+": ExpiresAt")
	}

	upd := created.Clone()
	upd.Secrets = append(upd.Secrets, store.SigningKey{Key: rotatedSecret})
	require.NoError(f, f.s.UpdateEndpoint(f.ctx, upd))
	updated, err := f.s.GetEndpoint(f.ctx, ep.ID)
	require.NoError(f, err)
	for what, e := range map[string]*store.Endpoint{"argument": upd, "stored": updated} {
		require.Len(f, e.Secrets, 3, what)
		sameTime(f, given, e.Secrets[0].CreatedAt, what+": a set CreatedAt is kept")
		sameTime(f, created.CreatedAt, e.Secrets[1].CreatedAt, what+": the CreatedAt stamped on create is kept")
		require.False(f, e.Secrets[2].CreatedAt.IsZero(), what+": an added secret without CreatedAt is stamped")
		sameTime(f, updated.UpdatedAt, e.Secrets[2].CreatedAt, what+": an unset secret CreatedAt is the endpoint's UpdatedAt")
	}
}

func testEndpointCopies(f *endpointsFixture) {
	in := validEndpoint()
	require.NoError(f, f.s.CreateEndpoint(f.ctx, in))
	want := in.Clone()

	// Mutating the argument after the call must not reach the store.
	in.EventTypes[0] = "changed"
	in.Secrets[0].Key = "changed"
	in.Headers["X-Team"] = "changed"
	in.Metadata["owner"] = "changed"

	got, err := f.s.GetEndpoint(f.ctx, want.ID)
	require.NoError(f, err)
	requireSameEndpoint(f, want, got)

	// Neither must mutating what Get and List return.
	got.EventTypes[0] = "changed"
	got.Secrets[0].Key = "changed"
	got.Headers["X-Team"] = "changed"
	got.Metadata["owner"] = "changed"
	list, _, err := f.s.ListEndpoints(f.ctx, store.EndpointFilter{Tenant: want.Tenant})
	require.NoError(f, err)
	require.Len(f, list, 1)
	requireSameEndpoint(f, want, list[0])
	list[0].EventTypes[0] = "changed"
	list[0].Headers["X-Team"] = "changed"

	got, err = f.s.GetEndpoint(f.ctx, want.ID)
	require.NoError(f, err)
	requireSameEndpoint(f, want, got)
}

func testEndpointUpdate(f *endpointsFixture) {
	ep := f.endpoint()
	before, err := f.s.GetEndpoint(f.ctx, ep.ID)
	require.NoError(f, err)

	upd := before.Clone()
	editUserFields(upd)
	// Fields the update must not touch.
	upd.Tenant = "someone-else"
	upd.Disabled = true
	upd.DisabledReason = "manual"
	upd.DisabledAt = at(time.Hour)
	upd.Health = store.Health{ConsecutiveFailures: 7, FailingSince: at(time.Hour)}
	upd.CreatedAt = at(-1000 * time.Hour)
	require.NoError(f, f.s.UpdateEndpoint(f.ctx, upd))

	got, err := f.s.GetEndpoint(f.ctx, ep.ID)
	require.NoError(f, err)
	want := upd.Clone()
	want.Tenant = before.Tenant
	want.Disabled = false
	requireSameEndpoint(f, want, got)
	require.Empty(f, got.DisabledReason, "Update must not disable")
	require.True(f, got.DisabledAt.IsZero(), "Update must not set DisabledAt")
	require.Zero(f, got.Health.ConsecutiveFailures, "Update must keep Health")
	require.True(f, got.Health.FailingSince.IsZero(), "Update must keep Health")
	sameTime(f, before.CreatedAt, got.CreatedAt, "CreatedAt")
	require.False(f, got.UpdatedAt.Before(before.UpdatedAt), "UpdatedAt went back")

	missing := validEndpoint()
	missing.ID = "missing"
	require.ErrorIs(f, f.s.UpdateEndpoint(f.ctx, missing), store.ErrNotFound)
}

// editUserFields changes every user-editable field of ep.
func editUserFields(ep *store.Endpoint) {
	ep.URL = "http://new.example.com:8080/hook"
	ep.Description = "new"
	ep.EventTypes = []string{"*"}
	ep.Secrets = append(ep.Secrets, store.SigningKey{Key: rotatedSecret, CreatedAt: at(time.Hour)})
	ep.Headers = map[string]string{"X-New": "1"}
	ep.Metadata = nil
	ep.RateLimit, ep.Burst, ep.MaxInFlight = 0, 0, 0
	ep.Mode = event.ModeLive
}

func testEndpointDelete(f *endpointsFixture) {
	ep := f.endpoint()
	other := f.endpoint()
	require.NoError(f, f.s.DeleteEndpoint(f.ctx, ep.ID))
	_, err := f.s.GetEndpoint(f.ctx, ep.ID)
	require.ErrorIs(f, err, store.ErrNotFound)
	require.ErrorIs(f, f.s.DeleteEndpoint(f.ctx, ep.ID), store.ErrNotFound)
	_, err = f.s.GetEndpoint(f.ctx, other.ID)
	require.NoError(f, err)
}

func testEndpointList(f *endpointsFixture) {
	listEndpoints(f.T, f.ctx, f.s, nil, []listCase{
		{"all tenants", store.EndpointFilter{AllTenants: true},
			[]string{"ep-01", "ep-02", "ep-03", "ep-04", "ep-05", "ep-06", "ep-07", "ep-08", "ep-09"}},
		{"tenant", store.EndpointFilter{Tenant: "acme"}, []string{"ep-01", "ep-02", "ep-03", "ep-06", "ep-09"}},
		{"empty tenant is a tenant", store.EndpointFilter{}, []string{"ep-05", "ep-07"}},
		{"mode", store.EndpointFilter{AllTenants: true, Mode: event.ModeLive}, []string{"ep-02", "ep-03", "ep-07", "ep-08"}},
		{"tenant and mode", store.EndpointFilter{Tenant: "acme", Mode: event.ModeTest}, []string{"ep-01", "ep-06", "ep-09"}},
		{"active only, none disabled", store.EndpointFilter{Tenant: "acme", ActiveOnly: true}, []string{"ep-01", "ep-02", "ep-03", "ep-06", "ep-09"}},
		{"no such tenant", store.EndpointFilter{Tenant: "initech"}, nil},
	})
}

// testEndpointAccountAndFormat checks that an endpoint's Account and Format
// round-trip through create, get and list, and that an update keeps both,
// as it keeps Tenant: they are fixed at creation.
func testEndpointAccountAndFormat(f *endpointsFixture) {
	for _, format := range []store.BodyFormat{"", store.BodyEnvelope, store.BodyEventPayload} {
		ep := f.endpoint(func(ep *store.Endpoint) { ep.Account, ep.Format = "acct-"+string(format), format })
		got, err := f.s.GetEndpoint(f.ctx, ep.ID)
		require.NoError(f, err)
		requireSameEndpoint(f, ep, got)
		require.Equal(f, "acct-"+string(format), got.Account)
		require.Equal(f, format, got.Format)

		upd := got.Clone()
		editUserFields(upd)
		upd.Account, upd.Format = "another-account", store.BodyEventPayload
		if format == store.BodyEventPayload {
			upd.Format = store.BodyEnvelope
		}
		require.NoError(f, f.s.UpdateEndpoint(f.ctx, upd))
		got, err = f.s.GetEndpoint(f.ctx, ep.ID)
		require.NoError(f, err)
		require.Equal(f, ep.Account, got.Account, "Update must keep Account")
		require.Equal(f, format, got.Format, "Update must keep Format")
		require.Equal(f, upd.URL, got.URL, "Update changes the editable fields")
	}
	eps, _, err := f.s.ListEndpoints(f.ctx, store.EndpointFilter{Tenant: "acme", Accounts: []string{"acct-event-payload"}})
	require.NoError(f, err)
	require.Len(f, eps, 1)
	require.Equal(f, store.BodyEventPayload, eps[0].Format)
}

// testEndpointListAccounts checks EndpointFilter.Accounts: the lists the
// publish fan-out makes for an organization ({""}) and for one account of
// it ({"", account}), with the other filters and in pages.
func testEndpointListAccounts(f *endpointsFixture) {
	for _, sp := range []struct {
		id, tenant, account string
		mode                event.Mode
	}{
		{"ep-1", "org", "", event.ModeTest},
		{"ep-2", "org", "acct-a", event.ModeTest},
		{"ep-3", "org", "acct-b", event.ModeTest},
		{"ep-4", "org", "", event.ModeTest},
		{"ep-5", "org", "acct-a", event.ModeLive},
		{"ep-6", "other", "", event.ModeTest},
		{"ep-7", "other", "acct-a", event.ModeTest},
		{"ep-8", "org", "acct-a", event.ModeTest},
	} {
		f.endpoint(withID(sp.id), withTenant(sp.tenant), withMode(sp.mode),
			func(ep *store.Endpoint) { ep.Account = sp.account })
	}
	for _, tc := range []listCase{
		{"organization", store.EndpointFilter{Tenant: "org"}, []string{"ep-1", "ep-2", "ep-3", "ep-4", "ep-5", "ep-8"}},
		{"organization-wide only", store.EndpointFilter{Tenant: "org", Accounts: []string{""}}, []string{"ep-1", "ep-4"}},
		{"organization-wide and one account", store.EndpointFilter{Tenant: "org", Accounts: []string{"", "acct-a"}},
			[]string{"ep-1", "ep-2", "ep-4", "ep-5", "ep-8"}},
		{"one account", store.EndpointFilter{Tenant: "org", Accounts: []string{"acct-b"}}, []string{"ep-3"}},
		{"one account and mode", store.EndpointFilter{Tenant: "org", Accounts: []string{"", "acct-a"}, Mode: event.ModeTest},
			[]string{"ep-1", "ep-2", "ep-4", "ep-8"}},
		{"account of another tenant", store.EndpointFilter{Tenant: "other", Accounts: []string{"", "acct-a"}}, []string{"ep-6", "ep-7"}},
		{"all tenants, one account", store.EndpointFilter{AllTenants: true, Accounts: []string{"acct-a"}},
			[]string{"ep-2", "ep-5", "ep-7", "ep-8"}},
		{"unknown account", store.EndpointFilter{Tenant: "org", Accounts: []string{"acct-z"}}, nil},
	} {
		f.Run(tc.name, func(t *testing.T) {
			for _, size := range []int{1, 3, 100} {
				flt := tc.filter
				flt.Page.Limit = size
				got := collect(t, size, func(cursor string) ([]*store.Endpoint, string, error) {
					flt.Page.Cursor = cursor
					return f.s.ListEndpoints(f.ctx, flt)
				})
				gotIDs := ids(got, func(ep *store.Endpoint) string { return ep.ID })
				if tc.want == nil {
					require.Empty(t, gotIDs, "page size %d", size)
					continue
				}
				require.Equal(t, tc.want, gotIDs, "page size %d", size)
			}
		})
	}
}

// listSpec is an endpoint the list cases store.
type listSpec struct {
	id       string
	tenant   string
	mode     event.Mode
	disabled bool // disabled when the case disables
}

// listCase is a filter and the endpoint ids it lists, in order.
type listCase struct {
	name   string
	filter store.EndpointFilter
	want   []string
}

// listEndpoints stores nine endpoints of various tenants and modes (and,
// when disable is not nil, disables three of them with it), then lists
// them with each case's filter, in pages of several sizes.
func listEndpoints(t *testing.T, ctx context.Context, s store.Endpoints, disable func(id string), cases []listCase) {
	t.Helper()
	specs := []listSpec{
		{"ep-01", "acme", event.ModeTest, false},
		{"ep-02", "acme", event.ModeLive, false},
		{"ep-03", "acme", event.ModeLive, true},
		{"ep-04", "globex", event.ModeTest, false},
		{"ep-05", "", event.ModeTest, false},
		{"ep-06", "acme", event.ModeTest, true},
		{"ep-07", "", event.ModeLive, false},
		{"ep-08", "globex", event.ModeLive, false},
		{"ep-09", "acme", event.ModeTest, false},
	}
	// Create out of order: lists are ordered by ID, not by creation.
	for _, i := range []int{4, 0, 8, 2, 6, 1, 3, 7, 5} {
		sp := specs[i]
		ep := validEndpoint()
		ep.ID, ep.Tenant, ep.Mode = sp.id, sp.tenant, sp.mode
		require.NoError(t, s.CreateEndpoint(ctx, ep))
		if sp.disabled && disable != nil {
			disable(sp.id)
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, size := range []int{1, 2, 4, 100} {
				flt := tc.filter
				flt.Page.Limit = size
				got := collect(t, size, func(cursor string) ([]*store.Endpoint, string, error) {
					flt.Page.Cursor = cursor
					return s.ListEndpoints(ctx, flt)
				})
				gotIDs := ids(got, func(ep *store.Endpoint) string { return ep.ID })
				if tc.want == nil {
					require.Empty(t, gotIDs, "page size %d", size)
					continue
				}
				require.Equal(t, tc.want, gotIDs, "page size %d", size)
			}
			// The default page size holds these few in one page.
			flt := tc.filter
			page, next, err := s.ListEndpoints(ctx, flt)
			require.NoError(t, err)
			require.Empty(t, next)
			require.Len(t, page, len(tc.want))
		})
	}
}
