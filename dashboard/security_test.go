package dashboard_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

// snapshot is what an action could change, to prove that refused requests
// changed nothing.
type snapshot struct {
	url, desc  string
	types      string
	secrets    int
	disabled   bool
	deliveries int
	states     string
	received   int
	endpoints  int
}

func (e *env) snapshot(t *testing.T, epID string) snapshot {
	t.Helper()
	ctx := context.Background()
	s := snapshot{received: e.rc.Count()}
	if ep, err := e.st.GetEndpoint(ctx, epID); err == nil {
		s.url, s.desc, s.types, s.secrets, s.disabled = ep.URL, ep.Description, strings.Join(ep.EventTypes, ","), len(ep.Secrets), ep.Disabled
	}
	ds, _, err := e.st.ListDeliveries(ctx, store.DeliveryFilter{AllTenants: true, Page: store.Page{Limit: store.MaxPageSize}})
	require.NoError(t, err)
	s.deliveries = len(ds)
	for _, d := range ds {
		s.states += d.ID + "=" + string(d.State) + ";"
	}
	eps, _, err := e.st.ListEndpoints(ctx, store.EndpointFilter{AllTenants: true})
	require.NoError(t, err)
	s.endpoints = len(eps)
	return s
}

func TestTenantIsolation(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	epA := e.addEndpoint("acme", "mine", "*")
	epB := e.addEndpoint("globex", "theirs", "*")
	e.rc.Status.Store(http.StatusInternalServerError)
	dA := e.deliver(epA, "ping")
	dB := e.deliver(epB, "ping")
	as, _, err := e.st.ListAttempts(ctx, store.AttemptFilter{DeliveryID: dB.ID, Tenant: "globex"})
	require.NoError(t, err)
	require.Len(t, as, 1)
	aB := as[0]
	e.rc.Status.Store(http.StatusOK)
	// An endpoint of the other mode is invisible too, even to operators.
	sec, err := signature.NewSecret()
	require.NoError(t, err)
	live := &store.Endpoint{Tenant: "acme", Mode: event.ModeLive, URL: "https://example.com/live", EventTypes: []string{"*"},
		Secrets: []store.SigningKey{{Key: sec.String()}}}
	require.NoError(t, e.st.CreateEndpoint(ctx, live))

	before := e.snapshot(t, epB.ID)
	a := e.client("acme")
	unknown := a.get("endpoints/00000000-0000-4000-8000-000000000000")
	require.Equal(t, http.StatusNotFound, unknown.status)

	gets := []string{
		"endpoints/" + epB.ID,
		"endpoints/" + epB.ID + "?state=failed",
		"endpoints/" + epB.ID + "/simulate",
		"endpoints/" + epB.ID + "/deliveries/" + dB.ID,
		"endpoints/" + epA.ID + "/deliveries/" + dB.ID, // own endpoint, their delivery
		"endpoints/" + live.ID,
	}
	unknownDelivery := a.get("endpoints/" + epA.ID + "/deliveries/00000000-0000-4000-8000-000000000000")
	require.Equal(t, http.StatusNotFound, unknownDelivery.status)
	for _, p := range gets {
		r := a.get(p)
		require.Equal(t, http.StatusNotFound, r.status, p)
		want := unknown.body
		if strings.HasPrefix(p, "endpoints/"+epA.ID) {
			want = unknownDelivery.body
		}
		require.Equal(t, want, r.body, "%s: answered exactly like an unknown id", p)
		require.NotContains(t, r.body, "theirs")
	}
	posts := []struct {
		path string
		form url.Values
	}{
		{"endpoints/" + epB.ID + "/edit", url.Values{"url": {"https://evil.example/"}, "event_type": {"ping"}}},
		{"endpoints/" + epB.ID + "/rotate", nil},
		{"endpoints/" + epB.ID + "/disable", nil},
		{"endpoints/" + epB.ID + "/enable", nil},
		{"endpoints/" + epB.ID + "/delete", nil},
		{"endpoints/" + epB.ID + "/ping", nil},
		{"endpoints/" + epB.ID + "/replay", url.Values{"since": {"24h"}}},
		{"endpoints/" + epB.ID + "/simulate", url.Values{"type": {"ping"}, "payload": {"{}"}}},
		{"endpoints/" + epB.ID + "/deliveries/" + dB.ID + "/retry", nil},
		{"endpoints/" + epA.ID + "/deliveries/" + dB.ID + "/retry", nil},
		{"endpoints/" + live.ID + "/delete", nil},
	}
	for _, p := range posts {
		r := a.post(p.path, p.form)
		require.Equal(t, http.StatusNotFound, r.status, p.path)
	}
	apis := []struct {
		method, path string
		body         any
	}{
		{http.MethodGet, "endpoints/" + epB.ID, nil},
		{http.MethodPatch, "endpoints/" + epB.ID, map[string]any{"url": "https://evil.example/"}},
		{http.MethodDelete, "endpoints/" + epB.ID, nil},
		{http.MethodPost, "endpoints/" + epB.ID + "/rotate", nil},
		{http.MethodPost, "endpoints/" + epB.ID + "/disable", nil},
		{http.MethodPost, "endpoints/" + epB.ID + "/enable", nil},
		{http.MethodPost, "endpoints/" + epB.ID + "/ping", nil},
		{http.MethodPost, "endpoints/" + epB.ID + "/replay", map[string]any{"since": "2000-01-01T00:00:00Z"}},
		{http.MethodPost, "endpoints/" + epB.ID + "/simulate", map[string]any{"type": "ping"}},
		{http.MethodGet, "endpoints/" + epB.ID + "/deliveries", nil},
		{http.MethodGet, "endpoints/" + epB.ID + "/deliveries/" + dB.ID, nil},
		{http.MethodGet, "endpoints/" + epA.ID + "/deliveries/" + dB.ID, nil},
		{http.MethodGet, "endpoints/" + epB.ID + "/deliveries/" + dB.ID + "/attempts", nil},
		{http.MethodGet, "endpoints/" + epA.ID + "/deliveries/" + dB.ID + "/attempts", nil},
		{http.MethodPost, "endpoints/" + epB.ID + "/deliveries/" + dB.ID + "/retry", nil},
		{http.MethodPost, "endpoints/" + epA.ID + "/deliveries/" + dB.ID + "/retry", nil},
		{http.MethodGet, "endpoints/" + epB.ID + "/attempts", nil},
		{http.MethodGet, "endpoints/" + epB.ID + "/attempts/" + aB.ID, nil},
		{http.MethodGet, "endpoints/" + epA.ID + "/attempts/" + aB.ID, nil},
		{http.MethodGet, "endpoints/" + live.ID, nil},
	}
	for _, c := range apis {
		r, body := a.api(c.method, c.path, c.body)
		require.Equal(t, http.StatusNotFound, r.status, "%s %s: %s", c.method, c.path, r.body)
		require.Equal(t, "not_found", body["error"].(map[string]any)["code"])
		require.NotContains(t, r.body, "theirs")
	}
	// Creating an endpoint for another tenant is refused.
	r, _ := a.api(http.MethodPost, "endpoints", map[string]any{"url": "https://example.com/", "event_types": []string{"*"}, "tenant": "globex"})
	require.Equal(t, http.StatusForbidden, r.status)
	// Lists show only the tenant's own rows.
	r, body := a.api(http.MethodGet, "endpoints", nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Len(t, body["data"], 1)
	require.NotContains(t, r.body, epB.ID)
	require.NotContains(t, a.get("").body, epB.ID)

	require.Equal(t, before, e.snapshot(t, epB.ID), "tenant acme changed nothing of globex's")

	// The owner and operators do see it.
	require.Equal(t, http.StatusOK, e.client("globex").get("endpoints/"+epB.ID+"/deliveries/"+dB.ID).status)
	require.Equal(t, http.StatusOK, e.client("operator").get("endpoints/"+epB.ID+"/deliveries/"+dB.ID).status)
	r, _ = e.client("operator").api(http.MethodGet, "endpoints/"+epB.ID+"/attempts/"+aB.ID, nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, http.StatusOK, a.get("endpoints/"+epA.ID+"/deliveries/"+dA.ID).status)
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, envOptions{})
	ep := e.addEndpoint("acme", "desc", "*")
	e.rc.Status.Store(http.StatusInternalServerError)
	d := e.deliver(ep, "ping")
	e.rc.Status.Store(http.StatusOK)
	a := e.client("acme")
	valid := a.csrfToken()
	foreign := e.client("globex").csrfToken() // a token from another session and scope

	actions := []struct {
		path string
		form url.Values
	}{
		{"endpoints", url.Values{"url": {"https://example.com/"}, "event_type": {"ping"}}},
		{"endpoints/" + ep.ID + "/edit", url.Values{"url": {"https://evil.example/"}, "event_type": {"ping"}}},
		{"endpoints/" + ep.ID + "/rotate", nil},
		{"endpoints/" + ep.ID + "/disable", nil},
		{"endpoints/" + ep.ID + "/delete", nil},
		{"endpoints/" + ep.ID + "/ping", nil},
		{"endpoints/" + ep.ID + "/replay", url.Values{"since": {"24h"}}},
		{"endpoints/" + ep.ID + "/simulate", url.Values{"type": {"ping"}, "payload": {"{}"}}},
		{"endpoints/" + ep.ID + "/deliveries/" + d.ID + "/retry", nil},
	}
	attacks := []struct {
		name  string
		token string
		hdr   http.Header
	}{
		{"missing token", "", nil},
		{"wrong token", "AAAA" + valid[4:], nil},
		{"token of another session", foreign, nil},
		{"cross-site Origin", valid, http.Header{"Origin": {"https://evil.example"}}},
		{"null Origin", valid, http.Header{"Origin": {"null"}}},
		{"cross-site fetch", valid, http.Header{"Sec-Fetch-Site": {"cross-site"}}},
		{"same-site fetch", valid, http.Header{"Sec-Fetch-Site": {"same-site"}}},
	}
	before := e.snapshot(t, ep.ID)
	for _, at := range attacks {
		for _, act := range actions {
			form := url.Values{}
			for k, v := range act.form {
				form[k] = v
			}
			if at.token != "" {
				form.Set("csrf_token", at.token)
			}
			r := a.postRaw(act.path, form, at.hdr)
			require.Equal(t, http.StatusForbidden, r.status, "%s: %s", at.name, act.path)
			require.Contains(t, r.body, "security token")
		}
	}
	// A request without the cookie fails even with a token.
	noCookie := e.client("acme")
	r := noCookie.postRaw("endpoints/"+ep.ID+"/disable", url.Values{"csrf_token": {valid}}, nil)
	require.Equal(t, http.StatusForbidden, r.status)
	require.Equal(t, before, e.snapshot(t, ep.ID), "refused requests changed nothing")

	// Same-origin browser requests pass.
	host := strings.TrimPrefix(e.srv.URL, "http://")
	r = a.postRaw("endpoints/"+ep.ID+"/disable", url.Values{"csrf_token": {valid}}, http.Header{"Origin": {"http://" + host}, "Sec-Fetch-Site": {"same-origin"}})
	require.Equal(t, http.StatusSeeOther, r.status)

	// The JSON API: no form can send it, and cross-site browsers are refused.
	apiAttacks := []struct {
		name, ctype string
		hdr         http.Header
		want        int
	}{
		{"form content type", "application/x-www-form-urlencoded", nil, http.StatusUnsupportedMediaType},
		{"text/plain", "text/plain", nil, http.StatusUnsupportedMediaType},
		{"multipart", "multipart/form-data; boundary=x", nil, http.StatusUnsupportedMediaType},
		{"no content type", "", nil, http.StatusUnsupportedMediaType},
		{"cross-site Origin", "application/json", http.Header{"Origin": {"https://evil.example"}}, http.StatusForbidden},
		{"cross-site fetch", "application/json", http.Header{"Sec-Fetch-Site": {"cross-site"}}, http.StatusForbidden},
	}
	before = e.snapshot(t, ep.ID)
	for _, at := range apiAttacks {
		for _, path := range []string{"endpoints/" + ep.ID + "/enable", "endpoints/" + ep.ID + "/rotate"} {
			req, err := http.NewRequest(http.MethodPost, e.srv.URL+e.base+"api/"+path, strings.NewReader(`{}`))
			require.NoError(t, err)
			if at.ctype != "" {
				req.Header.Set("Content-Type", at.ctype)
			}
			for k, v := range at.hdr {
				req.Header[k] = v
			}
			r := a.do(req)
			require.Equal(t, at.want, r.status, "%s: %s", at.name, path)
		}
	}
	require.Equal(t, before, e.snapshot(t, ep.ID), "refused API requests changed nothing")
	require.True(t, before.disabled)
}
