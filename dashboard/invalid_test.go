package dashboard_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

// requireCleanMessage requires that a message shown for invalid input names
// what is wrong without the sender's and the stores' internal prefixes.
func requireCleanMessage(t *testing.T, msg string) {
	t.Helper()
	for _, prefix := range []string{"memory:", "sqlite:", "sender:", "create endpoint", "update endpoint", store.ErrInvalid.Error()} {
		require.NotContains(t, msg, prefix)
	}
}

// TestInvalidEndpointMessages checks that an endpoint the sender's owner
// refuses is answered 400 by the API, and the form shown again (422), with the
// field and its reason ("Field: Reason") and not the error's prefixes.
func TestInvalidEndpointMessages(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.client("acme")

	t.Run("API create", func(t *testing.T) {
		for _, tc := range []struct {
			in   map[string]any
			want string
		}{
			{map[string]any{"url": "ftp://x", "event_types": []string{"*"}}, `url: want an absolute http or https URL`},
			{map[string]any{"url": "https://:8443/in", "event_types": []string{"*"}}, `url: want an absolute http or https URL with a host name`},
			{map[string]any{"url": e.rc.Server.URL + "/hook"}, `event types: at least one pattern is required ("*" for all)`},
		} {
			r, body := c.api(http.MethodPost, "endpoints", tc.in)
			require.Equal(t, http.StatusBadRequest, r.status, r.body)
			apiErr := body["error"].(map[string]any)
			require.Equal(t, "invalid", apiErr["code"])
			require.Equal(t, tc.want, apiErr["message"])
		}
	})

	t.Run("form create", func(t *testing.T) {
		r := c.post("endpoints", url.Values{"url": {e.rc.Server.URL + "/a b"}, "patterns": {"*"}})
		require.Equal(t, http.StatusUnprocessableEntity, r.status, r.body)
		msg := alertOf(t, r.body)
		require.Contains(t, msg, "Endpoint not added: url: ")
		require.Contains(t, msg, "spaces must be escaped")
		requireCleanMessage(t, msg)
	})
}

// alertOf returns the text of the page's error message.
func alertOf(t *testing.T, page string) string {
	t.Helper()
	_, rest, ok := strings.Cut(page, `<p class="error" role="alert">`)
	require.True(t, ok, "no error message on the page")
	msg, _, ok := strings.Cut(rest, "</p>")
	require.True(t, ok)
	return msg
}

// TestLegacyEndpointSecret checks that an endpoint stored before secrets were
// checked (a row with a malformed secret) cannot be saved again with it, by
// the form or the API, and that the message names the secret by position
// without showing it.
func TestLegacyEndpointSecret(t *testing.T) {
	ctx := context.Background()
	const legacy = "whsec_legacyvalue"
	// Stores refuse such a secret now, so the row is simulated: the store
	// the sender reads returns it in place of the one stored.
	e := newEnv(t, envOptions{Wrap: func(st store.SenderStore) store.SenderStore {
		return legacySecretStore{SenderStore: st, key: legacy}
	}})
	db := e.st
	ep := &store.Endpoint{Tenant: "acme", Mode: event.ModeTest, URL: e.rc.Server.URL + "/hook", EventTypes: []string{"*"},
		Secrets: []store.SigningKey{{Key: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", CreatedAt: time.Now()}}}
	require.NoError(t, db.CreateEndpoint(ctx, ep))
	c := e.client("acme")

	r := c.post("endpoints/"+ep.ID+"/edit", url.Values{"url": {ep.URL}, "description": {"edited"}, "patterns": {"*"}})
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.body)
	msg := alertOf(t, r.body)
	require.Contains(t, msg, "Endpoint not updated: secrets[0]:")
	requireCleanMessage(t, msg)
	require.NotContains(t, r.body, "legacyvalue")

	r, body := c.api(http.MethodPatch, "endpoints/"+ep.ID, map[string]any{"description": "edited"})
	require.Equal(t, http.StatusBadRequest, r.status, r.body)
	apiMsg := body["error"].(map[string]any)["message"].(string)
	require.True(t, strings.HasPrefix(apiMsg, "secrets[0]:"), apiMsg)
	requireCleanMessage(t, apiMsg)
	require.NotContains(t, r.body, "legacyvalue")

	got, err := db.GetEndpoint(ctx, ep.ID)
	require.NoError(t, err)
	require.Empty(t, got.Description, "the refused edits changed nothing")
}

// TestSecretCreatedAtShown checks that a secret stored without a CreatedAt
// is shown with the time the store gave it, not as unknown or year 1.
func TestSecretCreatedAtShown(t *testing.T) {
	e := newEnv(t, envOptions{})
	ep := &store.Endpoint{Tenant: "acme", URL: e.rc.Server.URL + "/hook", EventTypes: []string{"*"},
		Secrets: []store.SigningKey{{Key: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}}
	_, err := e.snd.Endpoints().Create(context.Background(), ep)
	require.NoError(t, err)
	c := e.client("acme")

	r, got := c.api(http.MethodGet, "endpoints/"+ep.ID, nil)
	require.Equal(t, http.StatusOK, r.status, r.body)
	secrets := got["secrets"].([]any)
	require.Len(t, secrets, 1)
	created, err := time.Parse(time.RFC3339Nano, secrets[0].(map[string]any)["created_at"].(string))
	require.NoError(t, err)
	require.True(t, ep.CreatedAt.Equal(created), "secret created_at %v, endpoint created %v", created, ep.CreatedAt)

	r = c.get("endpoints/" + ep.ID)
	require.Equal(t, http.StatusOK, r.status)
	require.NotContains(t, r.body, "created —")
}

// legacySecretStore returns every endpoint it reads with its secrets'
// keys replaced by key, as a row written before secrets were checked.
type legacySecretStore struct {
	store.SenderStore
	key string
}

func (l legacySecretStore) GetEndpoint(ctx context.Context, id string) (*store.Endpoint, error) {
	ep, err := l.SenderStore.GetEndpoint(ctx, id)
	if err == nil {
		for i := range ep.Secrets {
			ep.Secrets[i].Key = l.key
		}
	}
	return ep, err
}
