package dashboard_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event/fasten"
	"github.com/webhookkit/webhookkit/store"
)

func TestAPI(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.client("acme")
	ctx := context.Background()

	// Create: the secret is returned once.
	r, ep := c.api(http.MethodPost, "endpoints", map[string]any{
		"url": e.rc.Server.URL + "/hook", "description": "api", "event_types": []string{"patient.*", "ping"},
		"headers": map[string]string{"Authorization": "Bearer downstream"},
	})
	require.Equal(t, http.StatusCreated, r.status, r.body)
	id := ep["id"].(string)
	secret := ep["secret"].(string)
	require.True(t, strings.HasPrefix(secret, "whsec_"))
	require.Equal(t, "acme", ep["tenant"])
	require.Equal(t, "test", ep["mode"])
	stored, err := e.st.GetEndpoint(ctx, id)
	require.NoError(t, err)
	require.Equal(t, secret, stored.Secrets[0].Key)

	// Invalid input is 400 with code "invalid" (as in webhookapi), unknown fields 400 too.
	r, body := c.api(http.MethodPost, "endpoints", map[string]any{"url": "https://example.com/", "event_types": []string{}})
	require.Equal(t, http.StatusBadRequest, r.status, r.body)
	require.Equal(t, "invalid", body["error"].(map[string]any)["code"])
	r, _ = c.api(http.MethodPost, "endpoints", map[string]any{"url": "https://example.com/", "event_types": []string{"*"}, "secrets": "x"})
	require.Equal(t, http.StatusBadRequest, r.status)

	// Read: never the secret.
	r, got := c.api(http.MethodGet, "endpoints/"+id, nil)
	require.Equal(t, http.StatusOK, r.status)
	require.NotContains(t, r.body, secret)
	require.Len(t, got["secrets"], 1)
	r, list := c.api(http.MethodGet, "endpoints", nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Len(t, list["data"], 1)
	require.Equal(t, "", list["next_cursor"])

	// Update.
	r, got = c.api(http.MethodPatch, "endpoints/"+id, map[string]any{"description": "changed", "event_types": []string{"*"}})
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.Equal(t, "changed", got["description"])
	require.Equal(t, []any{"*"}, got["event_types"])
	r, _ = c.api(http.MethodPatch, "endpoints/"+id, map[string]any{"tenant": "globex"})
	require.Equal(t, http.StatusBadRequest, r.status)
	for _, bad := range []map[string]any{{"event_types": []string{"no spaces!"}}, {"event_types": []string{}}, {"url": "ftp://x"}} {
		r, _ = c.api(http.MethodPatch, "endpoints/"+id, bad)
		require.Equal(t, http.StatusBadRequest, r.status, "%v", bad)
	}
	stored, err = e.st.GetEndpoint(ctx, id)
	require.NoError(t, err)
	require.Equal(t, []string{"*"}, stored.EventTypes, "invalid patches change nothing")

	// Ping, with the endpoint's credential header redacted in the log.
	r, ping := c.api(http.MethodPost, "endpoints/"+id+"/ping", nil)
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.Equal(t, true, ping["ok"])
	require.NotContains(t, r.body, "Bearer downstream")
	require.Contains(t, r.body, "(redacted)")
	require.Equal(t, float64(200), ping["attempt"].(map[string]any)["status"])

	// Simulate, deliver, list deliveries and attempts.
	r, ev := c.api(http.MethodPost, "endpoints/"+id+"/simulate", map[string]any{"type": fasten.TypeWebhookTest, "data": map[string]any{"k": "v"}})
	require.Equal(t, http.StatusAccepted, r.status, r.body)
	evID := ev["id"].(string)
	r, _ = c.api(http.MethodPost, "endpoints/"+id+"/simulate", map[string]any{"type": "bad type", "data": map[string]any{}})
	require.Equal(t, http.StatusBadRequest, r.status)
	_, err = e.snd.ProcessDue(ctx)
	require.NoError(t, err)
	r, ds := c.api(http.MethodGet, "endpoints/"+id+"/deliveries?state=succeeded", nil)
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.Len(t, ds["data"], 1)
	dl := ds["data"].([]any)[0].(map[string]any)
	require.Equal(t, evID, dl["event_id"])
	did := dl["id"].(string)
	r, _ = c.api(http.MethodGet, "endpoints/"+id+"/deliveries?state=bogus", nil)
	require.Equal(t, http.StatusBadRequest, r.status)
	r, _ = c.api(http.MethodGet, "endpoints/"+id+"/deliveries/"+did, nil)
	require.Equal(t, http.StatusOK, r.status)
	r, at := c.api(http.MethodGet, "endpoints/"+id+"/deliveries/"+did+"/attempts", nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Len(t, at["data"], 1)
	aid := at["data"].([]any)[0].(map[string]any)["id"].(string)
	r, one := c.api(http.MethodGet, "endpoints/"+id+"/attempts/"+aid, nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, one["response_body"], "ok-from-receiver")
	r, all := c.api(http.MethodGet, "endpoints/"+id+"/attempts?limit=1", nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Len(t, all["data"], 1, "ping and delivery attempts, one per page")
	require.NotEmpty(t, all["next_cursor"])

	// Retry (resend) a finished delivery, then a conflict while it is queued.
	r, rd := c.api(http.MethodPost, "endpoints/"+id+"/deliveries/"+did+"/retry", nil)
	require.Equal(t, http.StatusAccepted, r.status, r.body)
	require.Equal(t, "pending", rd["state"])
	r, _ = c.api(http.MethodPost, "endpoints/"+id+"/deliveries/"+did+"/retry", nil)
	require.Equal(t, http.StatusConflict, r.status)

	// Replay failed since.
	_, err = e.snd.ProcessDue(ctx)
	require.NoError(t, err)
	e.rc.Status.Store(http.StatusInternalServerError)
	e.deliver(stored, "ping")
	r, rep := c.api(http.MethodPost, "endpoints/"+id+"/replay", map[string]any{"since": time.Now().Add(-time.Hour).Format(time.RFC3339)})
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.Equal(t, float64(1), rep["requeued"])
	r, body = c.api(http.MethodPost, "endpoints/"+id+"/replay", nil)
	require.Equal(t, http.StatusBadRequest, r.status)
	require.Equal(t, map[string]any{"code": "invalid", "message": "since: required (an RFC 3339 time)", "field": "since"}, body["error"])

	// Rotate with an explicit overlap.
	r, rot := c.api(http.MethodPost, "endpoints/"+id+"/rotate", map[string]any{"overlap_seconds": 3600})
	require.Equal(t, http.StatusOK, r.status, r.body)
	newSecret := rot["secret"].(string)
	require.NotEqual(t, secret, newSecret)
	stored, err = e.st.GetEndpoint(ctx, id)
	require.NoError(t, err)
	require.Len(t, stored.Secrets, 2)
	require.WithinDuration(t, time.Now().Add(time.Hour), stored.Secrets[0].ExpiresAt, time.Minute)

	// Disable and enable.
	r, dis := c.api(http.MethodPost, "endpoints/"+id+"/disable", map[string]any{"reason": "maintenance"})
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, true, dis["disabled"])
	require.Equal(t, "maintenance", dis["disabled_reason"])
	require.Equal(t, true, dis["warning"])
	r, en := c.api(http.MethodPost, "endpoints/"+id+"/enable", nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, false, en["disabled"])

	// Delete.
	r, _ = c.api(http.MethodDelete, "endpoints/"+id, nil)
	require.Equal(t, http.StatusNoContent, r.status)
	_, err = e.st.GetEndpoint(ctx, id)
	require.ErrorIs(t, err, store.ErrNotFound)
	r, _ = c.api(http.MethodGet, "endpoints/"+id, nil)
	require.Equal(t, http.StatusNotFound, r.status)
}
