package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

// TestPrepare checks that Prepare stamps the secrets without a CreatedAt,
// keeps the others, and leaves its argument alone.
func TestPrepare(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	given := now.Add(-time.Hour)
	in := &store.Endpoint{Mode: event.ModeTest, URL: "https://hooks.example.com/in", EventTypes: []string{"*"},
		Secrets: []store.Secret{
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
			Secrets: []store.Secret{{Key: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}}
		err := ep.Validate()
		require.ErrorIs(t, err, store.ErrInvalid, u)
		require.ErrorContains(t, err, "endpoint url", u)
		require.NotContains(t, err.Error(), "s3cr3t-pass", u)
	}
}
