package webhookapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/access"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
	"github.com/webhookkit/webhookkit/webhookapi"
)

const validBody = `{"url": "https://example.com/in", "events": ["medical-encounters.create"]}`

// TestErrors checks the status and error code of every kind of refusal,
// and that nothing is created by a refused request.
func TestErrors(t *testing.T) {
	e := newEnv(t, &webhookapi.Config{MaxBodyBytes: 512})
	id, _ := e.create("org_1", validBody)
	for _, tc := range []struct {
		name, method, path, token, body string
		contentType                     string // "" keeps application/json for a body
		status                          int
		code, field                     string
	}{
		{"no token", "GET", "/webhooks", "", "", "", 401, "unauthorized", ""},
		{"no token, unknown path", "GET", "/nope", "", "", "", 401, "unauthorized", ""},
		{"forbidden", "GET", "/webhooks", "banned", "", "", 403, "forbidden", ""},
		{"create for another organization", "POST", "/webhooks", "org_2", `{"organization": "org_1", "url": "https://example.com/x", "events": "*"}`, "", 403, "forbidden", "organization"},
		{"list another organization", "GET", "/webhooks?organization=org_1", "org_2", "", "", 403, "forbidden", "organization"},
		{"another organization's webhook", "GET", "/webhooks/" + id, "org_2", "", "", 404, "not_found", ""},
		{"patch another organization's webhook", "PATCH", "/webhooks/" + id, "org_2", `{"active": false}`, "", 404, "not_found", ""},
		{"delete another organization's webhook", "DELETE", "/webhooks/" + id, "org_2", "", "", 404, "not_found", ""},
		{"ping another organization's webhook", "POST", "/webhook-events", "org_2", `{"webhook": "` + id + `", "event": "ping"}`, "", 404, "not_found", ""},
		{"unknown webhook", "GET", "/webhooks/nope", "org_1", "", "", 404, "not_found", ""},
		{"unknown path", "GET", "/nope", "org_1", "", "", 404, "not_found", ""},
		{"method on the collection", "PUT", "/webhooks", "org_1", validBody, "", 405, "method_not_allowed", ""},
		{"method on a webhook", "POST", "/webhooks/" + id, "org_1", validBody, "", 405, "method_not_allowed", ""},
		{"method on events", "GET", "/webhook-events", "org_1", "", "", 405, "method_not_allowed", ""},
		{"form body", "POST", "/webhooks", "org_1", "url=x", "application/x-www-form-urlencoded", 415, "unsupported_media_type", ""},
		{"no content type", "PATCH", "/webhooks/" + id, "org_1", `{"active": false}`, "-", 415, "unsupported_media_type", ""},
		{"too large", "POST", "/webhooks", "org_1", `{"description": "` + strings.Repeat("x", 600) + `", "url": "https://example.com/x", "events": "*"}`, "", 413, "too_large", ""},
		{"not JSON", "POST", "/webhooks", "org_1", `{"url": `, "", 400, "bad_request", ""},
		{"not an object", "POST", "/webhooks", "org_1", `["ping"]`, "", 400, "bad_request", ""},
		{"trailing data", "POST", "/webhooks", "org_1", validBody + ` {}`, "", 400, "bad_request", ""},
		{"unknown field", "POST", "/webhooks", "org_1", `{"url": "https://example.com/x", "events": "*", "secret": "whsec_x"}`, "", 400, "bad_request", ""},
		{"events of the wrong type", "POST", "/webhooks", "org_1", `{"url": "https://example.com/x", "events": 7}`, "", 400, "bad_request", ""},
		{"no events", "POST", "/webhooks", "org_1", `{"url": "https://example.com/x"}`, "", 400, "invalid", "events"},
		{"empty events", "POST", "/webhooks", "org_1", `{"url": "https://example.com/x", "events": []}`, "", 400, "invalid", "events"},
		{"bad pattern", "POST", "/webhooks", "org_1", `{"url": "https://example.com/x", "events": ["ping", "a b"]}`, "", 400, "invalid", "events[1]"},
		{"bad url", "POST", "/webhooks", "org_1", `{"url": "ftp://example.com/x", "events": "*"}`, "", 400, "invalid", "url"},
		{"no url", "POST", "/webhooks", "org_1", `{"events": "*"}`, "", 400, "invalid", "url"},
		{"bad format", "POST", "/webhooks", "org_1", `{"url": "https://example.com/x", "events": "*", "format": "xml"}`, "", 400, "invalid", "format"},
		{"operator without organization", "POST", "/webhooks", "operator", validBody, "", 400, "invalid", "organization"},
		{"change organization", "PATCH", "/webhooks/" + id, "operator", `{"organization": "org_2"}`, "", 400, "invalid", "organization"},
		{"change account", "PATCH", "/webhooks/" + id, "org_1", `{"account": "acct_9"}`, "", 400, "invalid", "account"},
		{"change format", "PATCH", "/webhooks/" + id, "org_1", `{"format": "envelope"}`, "", 400, "invalid", "format"},
		{"patch bad url", "PATCH", "/webhooks/" + id, "org_1", `{"url": "not a url"}`, "", 400, "invalid", "url"},
		{"ping without webhook", "POST", "/webhook-events", "org_1", `{"webhook": "", "event": "ping"}`, "", 400, "invalid", "webhook"},
		{"another event", "POST", "/webhook-events", "org_1", `{"webhook": "` + id + `", "event": "medical-encounters.create"}`, "", 400, "invalid", "event"},
		{"ping with unknown field", "POST", "/webhook-events", "org_1", `{"webhook": "` + id + `", "payload": {}}`, "", 400, "bad_request", ""},
		{"bad limit", "GET", "/webhooks?limit=0", "org_1", "", "", 400, "invalid", "limit"},
		{"big limit", "GET", "/webhooks?limit=201", "org_1", "", "", 400, "invalid", "limit"},
		{"bad cursor", "GET", "/webhooks?cursor=nope", "org_1", "", "", 400, "bad_request", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, e.srv.URL+tc.path, strings.NewReader(tc.body))
			require.NoError(t, err)
			switch tc.contentType {
			case "":
				if tc.body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
			case "-":
			default:
				req.Header.Set("Content-Type", tc.contentType)
			}
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			r := e.send(req)
			require.Equal(t, tc.status, r.status, r.body)
			code, field := r.errorOf(t)
			require.Equal(t, tc.code, code, r.body)
			require.Equal(t, tc.field, field, r.body)
			if tc.status == http.StatusMethodNotAllowed {
				require.NotEmpty(t, r.header.Get("Allow"))
			}
			require.NotContains(t, r.body, "whsec_")
		})
	}
	// Nothing but the first webhook was created, and it is unchanged.
	r := e.do(http.MethodGet, "/webhooks", "operator", "")
	require.Equal(t, http.StatusOK, r.status)
	data := r.json(t)["data"].([]any)
	require.Len(t, data, 1)
	wh := data[0].(map[string]any)
	require.Equal(t, true, wh["active"])
	require.Equal(t, "https://example.com/in", wh["url"])
}

// TestManage checks list, get, patch and delete, the secret shown only at
// creation, and an operator's view across organizations.
func TestManage(t *testing.T) {
	e := newEnv(t, &webhookapi.Config{Format: store.BodyEnvelope})
	a1, sec := e.create("org_1", `{"account": "acct_1", "url": "https://u:p@example.com/a1", "events": "medical-encounters"}`)
	wide, _ := e.create("org_1", `{"url": "https://example.com/w", "events": "*", "format": "event-payload", "description": "all"}`)
	other, _ := e.create("operator", `{"organization": "org_2", "url": "https://example.com/o", "events": "*"}`)

	for _, path := range []string{"/webhooks", "/webhooks/" + a1} {
		r := e.do(http.MethodGet, path, "org_1", "")
		require.Equal(t, http.StatusOK, r.status)
		require.NotContains(t, r.body, sec.String(), "the secret is shown at creation only")
		require.NotContains(t, r.body, "secret")
		require.NotContains(t, r.body, "u:p@", "the URL's credentials are redacted")
	}
	r := e.do(http.MethodGet, "/webhooks/"+a1, "org_1", "")
	wh := r.json(t)
	require.Equal(t, "envelope", wh["format"], "Config.Format is the default")
	require.Equal(t, "acct_1", wh["account"])
	require.Equal(t, []any{"medical-encounters"}, wh["events"])

	ids := func(token, query string) []string {
		t.Helper()
		var out []string
		cursor := ""
		for {
			r := e.do(http.MethodGet, "/webhooks?limit=1&cursor="+cursor+query, token, "")
			require.Equal(t, http.StatusOK, r.status, r.body)
			m := r.json(t)
			for _, d := range m["data"].([]any) {
				out = append(out, d.(map[string]any)["id"].(string))
			}
			if cursor = m["next_cursor"].(string); cursor == "" {
				return out
			}
		}
	}
	require.ElementsMatch(t, []string{a1, wide}, ids("org_1", ""))
	require.ElementsMatch(t, []string{a1}, ids("org_1", "&account=acct_1"))
	require.ElementsMatch(t, []string{wide}, ids("org_1", "&account="), "account= lists the organization-wide ones")
	require.ElementsMatch(t, []string{a1, wide, other}, ids("operator", ""))
	require.ElementsMatch(t, []string{other}, ids("operator", "&organization=org_2"))
	require.Empty(t, ids("org_3", ""))

	// Patch: events as a string, description, deactivate; the URL as shown
	// keeps its credentials.
	r = e.do(http.MethodPatch, "/webhooks/"+a1, "org_1",
		`{"events": "medical-encounters.create", "description": "d", "active": false, "url": "https://(redacted)@example.com/a1", "account": "acct_1", "format": "envelope"}`)
	require.Equal(t, http.StatusOK, r.status, r.body)
	wh = r.json(t)
	require.Equal(t, []any{"medical-encounters.create"}, wh["events"])
	require.Equal(t, "d", wh["description"])
	require.Equal(t, false, wh["active"])
	require.NotEmpty(t, wh["disabled_reason"])
	ep, err := e.snd.Endpoints().Get(context.Background(), a1)
	require.NoError(t, err)
	require.Equal(t, "https://u:p@example.com/a1", ep.URL)
	r = e.do(http.MethodPatch, "/webhooks/"+a1, "org_1", `{"active": true}`)
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.Equal(t, true, r.json(t)["active"])

	// Delete.
	r = e.do(http.MethodDelete, "/webhooks/"+wide, "org_1", "")
	require.Equal(t, http.StatusNoContent, r.status, r.body)
	r = e.do(http.MethodGet, "/webhooks/"+wide, "org_1", "")
	require.Equal(t, http.StatusNotFound, r.status)
	r = e.do(http.MethodDelete, "/webhooks/"+wide, "org_1", "")
	require.Equal(t, http.StatusNotFound, r.status)
}

// TestNew checks New's refusals and a stopped sender's answer.
func TestNew(t *testing.T) {
	snd, err := sender.New(memory.New(nil), nil)
	require.NoError(t, err)
	auth := func(*http.Request) (access.Scope, error) { return access.Scope{}, nil }
	_, err = webhookapi.New(nil, &webhookapi.Config{Authorize: auth})
	require.ErrorIs(t, err, webhookapi.ErrNoSender)
	_, err = webhookapi.New(snd, nil)
	require.ErrorIs(t, err, webhookapi.ErrNoAuthorize)
	_, err = webhookapi.New(snd, &webhookapi.Config{Authorize: auth, Format: "xml"})
	require.ErrorIs(t, err, webhookapi.ErrInvalidConfig)
	require.ErrorContains(t, err, "Format")
	_, err = webhookapi.New(snd, &webhookapi.Config{Authorize: auth, MaxBodyBytes: -1})
	require.ErrorIs(t, err, webhookapi.ErrInvalidConfig)
	require.ErrorContains(t, err, "MaxBodyBytes")

	e := newEnv(t, nil)
	require.NoError(t, e.snd.Close())
	r := e.do(http.MethodPost, "/webhooks", "org_1", validBody)
	require.Equal(t, http.StatusServiceUnavailable, r.status, r.body)
	code, _ := r.errorOf(t)
	require.Equal(t, "unavailable", code)
	require.NoError(t, snd.Close())
}
