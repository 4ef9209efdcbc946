package dashboard_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event/fasten"
)

// TestDeliveredElsewhere checks that a dashboard whose sender does not
// deliver (Config.DeliveredElsewhere) says so after every action that
// queues a delivery, in the API's "note" and in the pages' messages, and
// that a dashboard that delivers says nothing of the kind.
func TestDeliveredElsewhere(t *testing.T) {
	const note = "This dashboard does not deliver: the application's senders that share the store will."
	for _, elsewhere := range []bool{false, true} {
		e := newEnv(t, envOptions{DeliveredElsewhere: elsewhere})
		c := e.client("acme")
		ep := e.addEndpoint("acme", "hook")
		d := e.deliver(ep, fasten.TypeWebhookTest)
		check := func(what string, r response, got map[string]any) {
			t.Helper()
			if !elsewhere {
				require.NotContains(t, r.body, "note", what)
				return
			}
			require.Equal(t, note, got["note"], what)
			require.True(t, strings.HasPrefix(r.body, `{"note":`), "%s: %s", what, r.body)
		}

		r, got := c.api(http.MethodPost, "endpoints/"+ep.ID+"/simulate", map[string]any{"type": fasten.TypeWebhookTest})
		require.Equal(t, http.StatusAccepted, r.status, r.body)
		require.NotEmpty(t, got["id"], "the event is still answered")
		check("simulate", r, got)
		r, got = c.api(http.MethodPost, "endpoints/"+ep.ID+"/deliveries/"+d.ID+"/retry", nil)
		require.Equal(t, http.StatusAccepted, r.status, r.body)
		require.Equal(t, d.ID, got["id"])
		check("retry", r, got)
		r, got = c.api(http.MethodPost, "endpoints/"+ep.ID+"/replay", map[string]any{"since": time.Now().Add(-time.Hour)})
		require.Equal(t, http.StatusOK, r.status, r.body)
		require.Equal(t, float64(0), got["requeued"])
		check("replay", r, got)
		r, got = c.api(http.MethodPost, "endpoints/"+ep.ID+"/ping", nil)
		require.Equal(t, http.StatusOK, r.status, r.body)
		require.Equal(t, true, got["ok"], "a ping is sent by the dashboard's sender itself")
		require.NotContains(t, r.body, "note")

		for _, q := range []string{"?done=simulated", "?done=retried", "?replayed=2"} {
			p := c.get("endpoints/" + ep.ID + q)
			require.Equal(t, http.StatusOK, p.status)
			if elsewhere {
				require.Contains(t, p.body, strings.ReplaceAll(note, "'", "&#39;"), q)
			} else {
				require.NotContains(t, p.body, "does not deliver", q)
			}
		}
		p := c.post("endpoints/"+ep.ID+"/simulate", url.Values{"type": {fasten.TypeWebhookTest}, "payload": {"{}"}})
		require.Equal(t, http.StatusSeeOther, p.status, p.body)
		require.Contains(t, p.header.Get("Location"), "done=simulated")
		p = c.get("endpoints/" + ep.ID + "?done=updated")
		require.NotContains(t, p.body, "does not deliver", "other messages are unchanged")
	}
}
