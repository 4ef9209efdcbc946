package dashboard

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/internal/jsonapi"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
)

// apiRoutes registers the JSON API under /api/.
func (h *handler) apiRoutes() {
	m := h.mux
	m.HandleFunc("GET /api/endpoints", h.apiListEndpoints)
	m.HandleFunc("POST /api/endpoints", h.api(h.apiCreateEndpoint))
	m.HandleFunc("GET /api/endpoints/{id}", h.endpointAPI(h.apiGetEndpoint))
	m.HandleFunc("PATCH /api/endpoints/{id}", h.api(h.endpointAPI(h.apiUpdateEndpoint)))
	m.HandleFunc("DELETE /api/endpoints/{id}", h.api(h.endpointAPI(h.apiDeleteEndpoint)))
	m.HandleFunc("POST /api/endpoints/{id}/rotate", h.api(h.endpointAPI(h.apiRotate)))
	m.HandleFunc("POST /api/endpoints/{id}/enable", h.api(h.endpointAPI(h.apiEnable)))
	m.HandleFunc("POST /api/endpoints/{id}/disable", h.api(h.endpointAPI(h.apiDisable)))
	m.HandleFunc("POST /api/endpoints/{id}/ping", h.api(h.endpointAPI(h.apiPing)))
	m.HandleFunc("POST /api/endpoints/{id}/replay", h.api(h.endpointAPI(h.apiReplay)))
	m.HandleFunc("POST /api/endpoints/{id}/simulate", h.api(h.endpointAPI(h.apiSimulate)))
	m.HandleFunc("GET /api/endpoints/{id}/deliveries", h.endpointAPI(h.apiListDeliveries))
	m.HandleFunc("GET /api/endpoints/{id}/deliveries/{did}", h.endpointAPI(h.apiGetDelivery))
	m.HandleFunc("GET /api/endpoints/{id}/deliveries/{did}/attempts", h.endpointAPI(h.apiListDeliveryAttempts))
	m.HandleFunc("POST /api/endpoints/{id}/deliveries/{did}/retry", h.api(h.endpointAPI(h.apiRetry)))
	m.HandleFunc("GET /api/endpoints/{id}/attempts", h.endpointAPI(h.apiListAttempts))
	m.HandleFunc("GET /api/endpoints/{id}/attempts/{aid}", h.endpointAPI(h.apiGetAttempt))
	m.HandleFunc("GET /api/endpoints/{id}/stats", h.endpointAPI(h.apiEndpointStats))
	m.HandleFunc("GET /api/stats", h.apiStats)
	m.HandleFunc("GET /api/events/{eid}/deliveries", h.apiEventDeliveries)
	noRoute := func(w http.ResponseWriter, r *http.Request) {
		writeJSONError(w, http.StatusNotFound, "not_found", "no such API route")
	}
	// "/api" too: otherwise the mux would redirect it to "/api/", outside
	// the base path.
	m.HandleFunc("/api", noRoute)
	m.HandleFunc("/api/", noRoute)
}

// listResponse is a page of a list.
type listResponse[T any] struct {
	Data []T `json:"data"`
	// NextCursor is the cursor query parameter of the next page, empty on
	// the last page.
	NextCursor string `json:"next_cursor"`
}

func codeFor(status int) string { return jsonapi.Code(status) }

func writeJSON(w http.ResponseWriter, status int, v any) { jsonapi.WriteJSON(w, status, v) }

// writeJSONError answers {"error":{"code","message"}} with status. msg is
// the dashboard's own text, never an error's.
func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	jsonapi.WriteError(w, status, code, msg, "")
}

// apiFail answers an error as [classify] sorts it: an invalid field is 400
// with code "invalid", "Field: Reason" and the field's name, another
// invalid argument 400 "bad_request", as package webhookapi answers them
// (the pages answer both 422); not found (or out of scope) 404; a conflict
// 409; everything else a generic message, logged.
func (h *handler) apiFail(w http.ResponseWriter, r *http.Request, err error) {
	p := h.classify(r, err)
	status, code := p.status, codeFor(p.status)
	if status == http.StatusUnprocessableEntity {
		status, code = http.StatusBadRequest, codeFor(http.StatusBadRequest)
		if p.field != "" {
			code = "invalid"
		}
	}
	jsonapi.WriteError(w, status, code, p.message, apiField(p.field))
}

// api wraps a state-changing API handler: the body must be JSON (which no
// HTML form can send, so no CSRF token is needed), a browser request must be
// same-origin, and the body is bounded.
func (h *handler) api(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !jsonRequest(r) {
			writeJSONError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "state-changing API requests must have Content-Type: application/json")
			return
		}
		if !sameOrigin(r) {
			writeJSONError(w, http.StatusForbidden, "forbidden", "cross-origin request refused")
			return
		}
		if h.readOnly {
			writeJSONError(w, http.StatusNotImplemented, "read_only", "this dashboard is read-only")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
		next(w, r)
	}
}

// endpointAPI wraps an API handler of one endpoint: the endpoint named in
// the path, when it exists and is in the request's scope, is passed to next;
// otherwise the request is answered by apiFail (404 for a missing or hidden
// endpoint).
func (h *handler) endpointAPI(next func(http.ResponseWriter, *http.Request, *store.Endpoint)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ep, err := h.loadEndpoint(r)
		if err != nil {
			h.apiFail(w, r, err)
			return
		}
		next(w, r, ep)
	}
}

// decode reads a JSON body into v; an empty body leaves v as is. It answers
// 400 itself and returns false on failure.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeJSONError(w, http.StatusRequestEntityTooLarge, "too_large", "request body too large")
			return false
		}
		writeJSONError(w, http.StatusBadRequest, "bad_request", "invalid JSON body: "+jsonapi.Problem(err))
		return false
	}
	return true
}

// listFail answers the failure of a list: a cursor the store refuses is
// 400 (the client's cursor, not one this dashboard issued), anything else
// as apiFail does.
func (h *handler) listFail(w http.ResponseWriter, r *http.Request, err error) {
	if badCursor(r, err) {
		writeJSONError(w, http.StatusBadRequest, "bad_request", "invalid cursor: pass the next_cursor of the previous page")
		return
	}
	h.apiFail(w, r, err)
}

// badCursor reports whether a list failed because of the request's cursor.
func badCursor(r *http.Request, err error) bool {
	return errors.Is(err, store.ErrInvalid) && r.URL.Query().Get("cursor") != ""
}

func (h *handler) apiListEndpoints(w http.ResponseWriter, r *http.Request) {
	s := scopeOf(r)
	eps, next, err := h.st.ListEndpoints(r.Context(), store.EndpointFilter{Tenant: s.Tenant, AllTenants: s.All, Mode: h.mode, Page: h.pageOf(r.URL.Query())})
	if err != nil {
		h.listFail(w, r, err)
		return
	}
	resp := listResponse[endpointView]{Data: []endpointView{}, NextCursor: next}
	for _, ep := range eps {
		if s.Allows(ep.Tenant) && ep.Mode == h.mode {
			resp.Data = append(resp.Data, h.endpointView(ep))
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

// endpointInput is the body of POST and PATCH /api/endpoints. Absent fields
// are left unchanged by PATCH.
type endpointInput struct {
	URL         *string           `json:"url"`
	Description *string           `json:"description"`
	EventTypes  []string          `json:"event_types"`
	Tenant      *string           `json:"tenant"`
	Account     *string           `json:"account"` // fixed at creation
	Format      *string           `json:"format"`  // fixed at creation
	Headers     map[string]string `json:"headers"`
	Metadata    map[string]string `json:"metadata"`
}

// endpointCreated is an endpoint with its secret, returned once.
type endpointCreated struct {
	endpointView
	Secret string `json:"secret"`
}

func (h *handler) apiCreateEndpoint(w http.ResponseWriter, r *http.Request) {
	var in endpointInput
	if !decode(w, r, &in) {
		return
	}
	s := scopeOf(r)
	tenant := s.Tenant
	if in.Tenant != nil {
		if !s.All && *in.Tenant != s.Tenant {
			writeJSONError(w, http.StatusForbidden, "forbidden", "tenant outside the request's scope")
			return
		}
		tenant = *in.Tenant
	}
	ep := &store.Endpoint{Tenant: tenant, EventTypes: in.EventTypes, Headers: in.Headers, Metadata: in.Metadata}
	if in.Account != nil {
		ep.Account = *in.Account
	}
	if in.Format != nil {
		ep.Format = store.BodyFormat(*in.Format)
	}
	if in.URL != nil {
		ep.URL = *in.URL
	}
	if in.Description != nil {
		ep.Description = *in.Description
	}
	secret, err := h.sender.Endpoints().Create(r.Context(), ep)
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, endpointCreated{h.endpointView(ep), secret.String()})
}

func (h *handler) apiGetEndpoint(w http.ResponseWriter, r *http.Request, ep *store.Endpoint) {
	writeJSON(w, http.StatusOK, h.endpointView(ep))
}

func (h *handler) apiUpdateEndpoint(w http.ResponseWriter, r *http.Request, ep *store.Endpoint) {
	var in endpointInput
	if !decode(w, r, &in) {
		return
	}
	upd := ep.Clone()
	if in.Tenant != nil {
		upd.Tenant = *in.Tenant // the owner refuses a change
	}
	if in.Account != nil {
		upd.Account = *in.Account // the owner refuses a change
	}
	if in.Format != nil {
		upd.Format = store.BodyFormat(*in.Format) // the owner refuses a change
	}
	if in.URL != nil {
		upd.URL = submittedURL(ep.URL, *in.URL)
	}
	if in.Description != nil {
		upd.Description = *in.Description
	}
	if in.EventTypes != nil {
		upd.EventTypes = in.EventTypes
	}
	if in.Headers != nil {
		upd.Headers = in.Headers
	}
	if in.Metadata != nil {
		upd.Metadata = in.Metadata
	}
	if err := h.sender.Endpoints().Update(r.Context(), upd); err != nil {
		h.apiFail(w, r, err)
		return
	}
	ep, err := h.st.GetEndpoint(r.Context(), ep.ID)
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, h.endpointView(ep))
}

func (h *handler) apiDeleteEndpoint(w http.ResponseWriter, r *http.Request, ep *store.Endpoint) {
	if err := h.sender.Endpoints().Delete(r.Context(), ep.ID); err != nil {
		h.apiFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) apiRotate(w http.ResponseWriter, r *http.Request, ep *store.Endpoint) {
	var in struct {
		// OverlapSeconds is how long the old secrets keep signing; absent:
		// the dashboard's RotationOverlap; 0 or negative: they stop now.
		OverlapSeconds *int64 `json:"overlap_seconds"`
	}
	if !decode(w, r, &in) {
		return
	}
	overlap := h.overlap
	if in.OverlapSeconds != nil {
		overlap = time.Duration(*in.OverlapSeconds) * time.Second
		if overlap <= 0 {
			overlap = -1
		}
	}
	sec, err := h.sender.Endpoints().RotateSecret(r.Context(), ep.ID, overlap)
	if err == nil {
		ep, err = h.st.GetEndpoint(r.Context(), ep.ID)
	}
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, endpointCreated{h.endpointView(ep), sec.String()})
}

func (h *handler) apiEnable(w http.ResponseWriter, r *http.Request, ep *store.Endpoint) {
	h.apiSetDisabled(w, r, ep, false)
}

func (h *handler) apiDisable(w http.ResponseWriter, r *http.Request, ep *store.Endpoint) {
	h.apiSetDisabled(w, r, ep, true)
}

func (h *handler) apiSetDisabled(w http.ResponseWriter, r *http.Request, ep *store.Endpoint, disable bool) {
	var in struct {
		Reason string `json:"reason"`
	}
	if !decode(w, r, &in) {
		return
	}
	var err error
	if disable {
		err = h.sender.Endpoints().Disable(r.Context(), ep.ID, in.Reason)
	} else {
		err = h.sender.Endpoints().Enable(r.Context(), ep.ID)
	}
	if err == nil {
		ep, err = h.st.GetEndpoint(r.Context(), ep.ID)
	}
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, h.endpointView(ep))
}

// pingResponse is the result of POST /api/endpoints/{id}/ping.
type pingResponse struct {
	OK      bool         `json:"ok"`
	Error   string       `json:"error,omitempty"`
	Attempt *attemptView `json:"attempt,omitempty"`
}

func (h *handler) apiPing(w http.ResponseWriter, r *http.Request, ep *store.Endpoint) {
	a, perr := h.sender.Ping(r.Context(), ep.ID)
	if a == nil && perr != nil {
		h.apiFail(w, r, perr)
		return
	}
	resp := pingResponse{OK: perr == nil}
	if perr != nil {
		resp.Error = pingFailure(a, perr)
	}
	if a != nil {
		resp.Attempt = attemptViewOf(a)
	}
	writeJSON(w, http.StatusOK, resp)
}

func (h *handler) apiReplay(w http.ResponseWriter, r *http.Request, ep *store.Endpoint) {
	var in struct {
		Since time.Time `json:"since"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Since.IsZero() {
		jsonapi.WriteError(w, http.StatusBadRequest, "invalid", `since: required (an RFC 3339 time)`, "since")
		return
	}
	n, err := h.sender.ReplayFailed(r.Context(), ep.ID, in.Since)
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, h.noted(map[string]int{"requeued": n}))
}

func (h *handler) apiSimulate(w http.ResponseWriter, r *http.Request, ep *store.Endpoint) {
	if h.mode == event.ModeLive {
		writeJSONError(w, http.StatusConflict, "live_mode", liveRefusal)
		return
	}
	var in struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if !decode(w, r, &in) {
		return
	}
	if len(in.Data) == 0 || string(in.Data) == "null" {
		// As the simulator page and "webhook simulate" do: the sample the
		// catalog declares for the type ({} without one).
		in.Data = h.sampleData(in.Type)
	}
	ev, err := h.sender.Simulate(r.Context(), ep.ID, in.Type, in.Data)
	switch {
	case errors.Is(err, sender.ErrLiveMode):
		writeJSONError(w, http.StatusConflict, "live_mode", liveRefusal)
		return
	case errors.Is(err, sender.ErrEndpointDisabled):
		writeJSONError(w, http.StatusConflict, "conflict", disabledRefusal)
		return
	case errors.Is(err, sender.ErrPayloadTooLarge):
		writeJSONError(w, http.StatusRequestEntityTooLarge, "too_large", tooLargeRefusal)
		return
	case err != nil:
		h.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, h.noted(ev))
}

func (h *handler) apiListDeliveries(w http.ResponseWriter, r *http.Request, ep *store.Endpoint) {
	q := r.URL.Query()
	f := store.DeliveryFilter{Tenant: ep.Tenant, EndpointID: ep.ID, Page: h.pageOf(q)}
	if s := q.Get("state"); s != "" {
		if !store.DeliveryState(s).Valid() {
			writeJSONError(w, http.StatusBadRequest, "bad_request", "unknown state "+s)
			return
		}
		f.State = store.DeliveryState(s)
	}
	if t := q.Get("type"); t != "" {
		if _, err := event.ParsePattern(t); err != nil {
			writeJSONError(w, http.StatusBadRequest, "bad_request", badTypeFilter)
			return
		}
		f.EventType = t
	}
	for _, b := range []struct {
		name string
		t    *time.Time
	}{{"from", &f.Since}, {"to", &f.Until}} {
		t, err := parseLogTime(q.Get(b.name))
		if err != nil {
			writeJSONError(w, http.StatusBadRequest, "bad_request", `"`+b.name+`" is not an RFC 3339 time`)
			return
		}
		*b.t = t
	}
	ds, next, err := h.st.ListDeliveries(r.Context(), f)
	if err != nil {
		h.listFail(w, r, err)
		return
	}
	resp := listResponse[deliveryView]{Data: []deliveryView{}, NextCursor: next}
	for _, d := range ds {
		if d.EndpointID == ep.ID && d.Tenant == ep.Tenant {
			resp.Data = append(resp.Data, deliveryViewOf(d))
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

func (h *handler) apiGetDelivery(w http.ResponseWriter, r *http.Request, ep *store.Endpoint) {
	d, err := h.loadDelivery(r, ep)
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, deliveryViewOf(d))
}

func (h *handler) apiListDeliveryAttempts(w http.ResponseWriter, r *http.Request, ep *store.Endpoint) {
	d, err := h.loadDelivery(r, ep)
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	h.writeAttempts(w, r, store.AttemptFilter{Tenant: ep.Tenant, EndpointID: ep.ID, DeliveryID: d.ID})
}

func (h *handler) apiListAttempts(w http.ResponseWriter, r *http.Request, ep *store.Endpoint) {
	h.writeAttempts(w, r, store.AttemptFilter{Tenant: ep.Tenant, EndpointID: ep.ID})
}

func (h *handler) writeAttempts(w http.ResponseWriter, r *http.Request, f store.AttemptFilter) {
	f.Page = h.pageOf(r.URL.Query())
	as, next, err := h.st.ListAttempts(r.Context(), f)
	if err != nil {
		h.listFail(w, r, err)
		return
	}
	resp := listResponse[*attemptView]{Data: []*attemptView{}, NextCursor: next}
	for _, a := range as {
		if a.EndpointID == f.EndpointID && a.Tenant == f.Tenant && (f.DeliveryID == "" || a.DeliveryID == f.DeliveryID) {
			resp.Data = append(resp.Data, attemptViewOf(a))
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

func (h *handler) apiGetAttempt(w http.ResponseWriter, r *http.Request, ep *store.Endpoint) {
	a, err := h.st.GetAttempt(r.Context(), r.PathValue("aid"))
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	if a.EndpointID != ep.ID || a.Tenant != ep.Tenant {
		h.apiFail(w, r, store.ErrNotFound)
		return
	}
	writeJSON(w, http.StatusOK, attemptViewOf(a))
}

func (h *handler) apiRetry(w http.ResponseWriter, r *http.Request, ep *store.Endpoint) {
	d, err := h.loadDelivery(r, ep)
	if err == nil {
		err = h.sender.Retry(r.Context(), d.ID)
	}
	if err == nil {
		d, err = h.st.GetDelivery(r.Context(), d.ID)
	}
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, h.noted(deliveryViewOf(d)))
}

// noted returns v, the answer to an action that queued a delivery, with a
// first field "note" holding [queuedNote] when the dashboard does not
// deliver (Config.DeliveredElsewhere); v itself otherwise. v must encode
// as a JSON object.
func (h *handler) noted(v any) any {
	if !h.elsewhere {
		return v
	}
	b, err := json.Marshal(v)
	if err != nil || len(b) < 2 || b[0] != '{' {
		return v
	}
	note, _ := json.Marshal(queuedNote)
	out := append([]byte(`{"note":`), note...)
	if len(b) > 2 {
		out = append(out, ',')
	}
	return json.RawMessage(append(out, b[1:]...))
}
