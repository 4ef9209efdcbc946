package store_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

// TestPrepare checks that Prepare stamps the secrets without a CreatedAt,
// keeps the others, and leaves its argument alone.
func TestPrepare(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	given := now.Add(-time.Hour)
	in := &store.Endpoint{Mode: event.ModeTest, URL: "https://hooks.example.com/in", EventTypes: []string{"*"},
		Secrets: []store.SigningKey{
			{Key: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", CreatedAt: given},
			{Key: "whsec_VxA8RHeKJzhjqcjNdqEXNlb9kkFV1bWW"},
		}}
	out, err := in.Prepare(now)
	require.NoError(t, err)
	require.Equal(t, given, out.Secrets[0].CreatedAt)
	require.Equal(t, now, out.Secrets[1].CreatedAt)
	require.True(t, in.Secrets[1].CreatedAt.IsZero(), "Prepare changed its argument")

	in.Secrets[1].Key = "whsec_abc"
	out, err = in.Prepare(now)
	require.ErrorIs(t, err, store.ErrInvalid)
	require.ErrorContains(t, err, "endpoint secrets[1]")
	require.Nil(t, out)

	var nilEndpoint *store.Endpoint
	_, err = nilEndpoint.Prepare(now)
	require.ErrorIs(t, err, store.ErrInvalid)
}

// TestValidateURLNeverShowsPassword checks that an invalid URL's password
// stays out of the error.
func TestValidateURLNeverShowsPassword(t *testing.T) {
	for _, u := range []string{
		"ftp://user:s3cr3t-pass@hooks.example.com/",
		"https://user:s3cr3t-pass@hooks.example.com:99999/",
		"https://user:s3cr3t-pass@hooks.example.com/a b",
		"https://user:s3cr3t-pass@hooks example.com/",
	} {
		ep := &store.Endpoint{Mode: event.ModeTest, URL: u, EventTypes: []string{"*"},
			Secrets: []store.SigningKey{{Key: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}}
		err := ep.Validate()
		require.ErrorIs(t, err, store.ErrInvalid, u)
		require.ErrorContains(t, err, "endpoint url", u)
		require.NotContains(t, err.Error(), "s3cr3t-pass", u)
	}
}

// TestValidateFieldError checks that every refusal of Validate is a
// *store.FieldError naming the field, found by errors.As, wrapping
// ErrInvalid and, for patterns and secrets, the parser's error.
func TestValidateFieldError(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	key, err := signature.GenerateKey()
	require.NoError(t, err)
	tests := []struct {
		name  string
		edit  func(*store.Endpoint)
		field string
		cause error
	}{
		{"mode", func(ep *store.Endpoint) { ep.Mode = "prod" }, "mode", nil},
		{"long tenant", func(ep *store.Endpoint) { ep.Tenant = strings.Repeat("t", store.MaxScopeName+1) }, "tenant", nil},
		{"tenant not UTF-8", func(ep *store.Endpoint) { ep.Tenant = "org\xff" }, "tenant", nil},
		{"account with newline", func(ep *store.Endpoint) { ep.Account = "acct\nINFO forged log line" }, "account", nil},
		{"account with NUL", func(ep *store.Endpoint) { ep.Account = "acct\x00" }, "account", nil},
		{"empty url", func(ep *store.Endpoint) { ep.URL = "" }, "url", nil},
		{"scheme", func(ep *store.Endpoint) { ep.URL = "ftp://user:s3cr3t-pass@hooks.example.com/" }, "url", nil},
		{"no patterns", func(ep *store.Endpoint) { ep.EventTypes = nil }, "event types", nil},
		{"bad pattern", func(ep *store.Endpoint) { ep.EventTypes = []string{"*", "a.*.b"} }, "event types[1]", event.ErrInvalidPattern},
		{"no secrets", func(ep *store.Endpoint) { ep.Secrets = nil }, "secrets", nil},
		{"short secret", func(ep *store.Endpoint) { ep.Secrets = []store.SigningKey{{Key: "whsec_abc"}} }, "secrets[0]", signature.ErrInvalidSecret},
		{"public key", func(ep *store.Endpoint) {
			ep.Secrets = []store.SigningKey{{Key: secret}, {Key: key.Public().String()}}
		}, "secrets[1]", signature.ErrInvalidKey},
		{"negative rate", func(ep *store.Endpoint) { ep.RateLimit = -1 }, "limits", nil},
		{"NaN rate", func(ep *store.Endpoint) { ep.RateLimit = math.NaN() }, "limits", nil},
		{"negative burst", func(ep *store.Endpoint) { ep.Burst = -1 }, "limits", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep := &store.Endpoint{Mode: event.ModeTest, URL: "https://hooks.example.com/in", EventTypes: []string{"*"},
				Secrets: []store.SigningKey{{Key: secret}}}
			tt.edit(ep)
			err := ep.Validate()
			require.ErrorIs(t, err, store.ErrInvalid)
			var fe *store.FieldError
			require.True(t, errors.As(err, &fe), "want a *store.FieldError in %v", err)
			require.Equal(t, tt.field, fe.Field)
			require.NotEmpty(t, fe.Reason)
			require.Equal(t, "store: invalid argument: endpoint "+fe.Field+": "+fe.Reason, err.Error())
			if tt.cause != nil {
				require.ErrorIs(t, err, tt.cause)
			}
			require.NotContains(t, err.Error(), "s3cr3t-pass")
			require.NotContains(t, err.Error(), secret[len("whsec_"):])
		})
	}
}

// TestValidateScopeNames checks the tenant and account names Validate
// accepts: any UTF-8 text up to MaxScopeName bytes without control
// characters, empty included.
func TestValidateScopeNames(t *testing.T) {
	for _, name := range []string{"", "org_1", "Société Générale", "組織-42", strings.Repeat("é", store.MaxScopeName/2)} {
		ep := &store.Endpoint{Tenant: name, Account: name, Mode: event.ModeTest, URL: "https://hooks.example.com/in",
			EventTypes: []string{"*"}, Secrets: []store.SigningKey{{Key: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}}
		require.NoError(t, ep.Validate(), "%q", name)
	}
}
