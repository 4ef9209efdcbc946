package webhookapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
)

// createInput is the body that creates a webhook.
type createInput struct {
	Organization *string `json:"organization"`
	Account      string  `json:"account"`
	Active       *bool   `json:"active"`
	URL          string  `json:"url"`
	Events       events  `json:"events"`
	// Format is "event-payload" ({"id", "event", "payload"}; absent: the
	// handler's Config.Format, event-payload unless set) or "envelope"
	// (webhookkit's envelope, what a receiver with its default provider
	// reads). See "Body format" in the package documentation.
	Format      *string `json:"format"`
	Description string  `json:"description"`
}

// patchInput is the body that changes a webhook; absent fields are kept.
type patchInput struct {
	Organization *string `json:"organization"`
	Account      *string `json:"account"`
	Active       *bool   `json:"active"`
	URL          *string `json:"url"`
	Events       *events `json:"events"`
	Format       *string `json:"format"`
	Description  *string `json:"description"`
}

// rotateInput is the body of POST /webhooks/{id}/rotate-secret.
type rotateInput struct {
	// OverlapSeconds is how long the old secrets keep signing beside the
	// new one: absent, sender.DefaultRotationOverlap (24 hours); 0, they
	// stop at once; at most MaxRotationOverlap.
	OverlapSeconds *int64 `json:"overlap_seconds"`
}

// MaxRotationOverlap is the longest overlap_seconds POST
// /webhooks/{id}/rotate-secret accepts: 30 days.
const MaxRotationOverlap = 30 * 24 * time.Hour

// pingInput is the body of POST /webhook-events.
type pingInput struct {
	Webhook *string `json:"webhook"`
	Event   *string `json:"event"`
}

func (h *handler) create(w http.ResponseWriter, r *http.Request) {
	b, ok := readBody(w, r)
	if !ok {
		return
	}
	h.createFrom(w, r, b)
}

// createFrom creates the webhook the body b describes: the one path of
// POST /webhooks and of a webhook posted to /webhook-events.
func (h *handler) createFrom(w http.ResponseWriter, r *http.Request, b []byte) {
	var in createInput
	if !decode(w, b, &in) {
		return
	}
	scope := scopeOf(r)
	org := scope.Tenant
	switch {
	case in.Organization != nil && !scope.Allows(*in.Organization):
		writeError(w, http.StatusForbidden, "forbidden", "the organization is outside the request's scope", "organization")
		return
	case in.Organization != nil:
		org = *in.Organization
	case scope.All:
		writeError(w, http.StatusBadRequest, "invalid", "organization: required", "organization")
		return
	}
	format := h.format
	if in.Format != nil {
		format = store.BodyFormat(*in.Format)
	}
	ep := &store.Endpoint{
		Tenant:      org,
		Account:     in.Account,
		Format:      format,
		URL:         in.URL,
		EventTypes:  in.Events,
		Description: in.Description,
		Disabled:    in.Active != nil && !*in.Active,
	}
	secret, err := h.s.Endpoints().Create(r.Context(), ep)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := webhookOf(ep)
	out.Secret = secret.String()
	writeJSON(w, http.StatusCreated, out)
}

// list serves GET /webhooks: a page of webhooks in the store's order, by
// id, which is stable across calls and pages (the cursor is the last id).
func (h *handler) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	scope := scopeOf(r)
	f := store.EndpointFilter{Tenant: scope.Tenant, Page: store.Page{Cursor: q.Get("cursor"), Limit: DefaultPageSize}}
	switch org, ok := q["organization"]; {
	case ok && !scope.Allows(org[0]):
		writeError(w, http.StatusForbidden, "forbidden", "the organization is outside the request's scope", "organization")
		return
	case ok:
		f.Tenant = org[0]
	case scope.All:
		f.AllTenants = true
	}
	if acct, ok := q["account"]; ok {
		f.Accounts = acct[:1]
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxPageSize {
			writeError(w, http.StatusBadRequest, "invalid", "limit: want a number from 1 to "+strconv.Itoa(MaxPageSize), "limit")
			return
		}
		f.Page.Limit = n
	}
	eps, next, err := h.s.Endpoints().List(r.Context(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := listJSON{Data: make([]webhookJSON, 0, len(eps)), NextCursor: next}
	for _, ep := range eps {
		out.Data = append(out.Data, webhookOf(ep))
	}
	writeJSON(w, http.StatusOK, out)
}

// webhook wraps a handler of the webhook named in the path: it is passed to
// next when it exists, is of the sender's mode and is in the request's
// scope; otherwise the answer is 404.
func (h *handler) webhook(next func(http.ResponseWriter, *http.Request, *store.Endpoint)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ep, err := h.load(r, r.PathValue("id"))
		if err != nil {
			h.fail(w, r, err)
			return
		}
		next(w, r, ep)
	}
}

// load returns the webhook with the id if the request's scope covers it,
// and otherwise an error matching store.ErrNotFound: a webhook outside the
// scope is answered as an unknown one.
func (h *handler) load(r *http.Request, id string) (*store.Endpoint, error) {
	ep, err := h.s.Endpoints().Get(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if !scopeOf(r).Allows(ep.Tenant) {
		return nil, store.ErrNotFound
	}
	return ep, nil
}

func (h *handler) get(w http.ResponseWriter, _ *http.Request, ep *store.Endpoint) {
	writeJSON(w, http.StatusOK, webhookOf(ep))
}

func (h *handler) patch(w http.ResponseWriter, r *http.Request, ep *store.Endpoint) {
	b, ok := readBody(w, r)
	if !ok {
		return
	}
	var in patchInput
	if !decode(w, b, &in) {
		return
	}
	upd := ep.Clone()
	edit := false
	set := func(dst *string, src *string) {
		if src != nil {
			*dst, edit = *src, true
		}
	}
	// The owner refuses another organization, account or format.
	set(&upd.Tenant, in.Organization)
	set(&upd.Account, in.Account)
	set(&upd.Description, in.Description)
	if in.Format != nil {
		upd.Format, edit = store.BodyFormat(*in.Format), true
	}
	if in.URL != nil {
		upd.URL, edit = *in.URL, true
		if *in.URL == sender.RedactURL(ep.URL) {
			upd.URL = ep.URL // the URL as shown: keep its credentials
		}
	}
	if in.Events != nil {
		upd.EventTypes, edit = *in.Events, true
	}
	// Enable and Disable keep updated_at (the store's SetDisabled does not
	// set it): a PATCH of "active" alone writes the unchanged fields too,
	// so that every PATCH naming a field sets updated_at.
	edit = edit || in.Active != nil
	ctx := r.Context()
	eps := h.s.Endpoints()
	if edit {
		if err := eps.Update(ctx, upd); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if in.Active != nil && *in.Active == ep.Disabled {
		var err error
		if *in.Active {
			err = eps.Enable(ctx, ep.ID)
		} else {
			err = eps.Disable(ctx, ep.ID, "deactivated")
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
	}
	cur, err := eps.Get(ctx, ep.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, webhookOf(cur))
}

func (h *handler) delete(w http.ResponseWriter, r *http.Request, ep *store.Endpoint) {
	if err := h.s.Endpoints().Delete(r.Context(), ep.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// events serves POST /webhook-events: a ping, or a webhook to create.
func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	b, ok := readBody(w, r)
	if !ok {
		return
	}
	var keys map[string]json.RawMessage
	if json.Unmarshal(b, &keys) == nil {
		if _, ok := keys["webhook"]; !ok {
			h.createFrom(w, r, b)
			return
		}
	}
	var in pingInput
	if !decode(w, b, &in) {
		return
	}
	switch {
	case in.Webhook == nil || *in.Webhook == "":
		writeError(w, http.StatusBadRequest, "invalid", "webhook: required", "webhook")
		return
	case in.Event != nil && *in.Event != event.TypePing:
		writeError(w, http.StatusBadRequest, "invalid",
			`event: only "ping" can be sent through this API; the application publishes the others`, "event")
		return
	}
	ep, err := h.load(r, *in.Webhook)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	a, err := h.s.Ping(r.Context(), ep.ID)
	if a == nil {
		if err == nil {
			err = errors.New("webhookapi: ping returned no attempt")
		}
		h.fail(w, r, err)
		return
	}
	// A ping the webhook failed is still a ping made: its attempt says how.
	writeJSON(w, http.StatusCreated, attemptOf(a))
}

// rotate serves POST /webhooks/{id}/rotate-secret: a new signing secret,
// shown this once, with the old ones signing beside it for the overlap.
func (h *handler) rotate(w http.ResponseWriter, r *http.Request, ep *store.Endpoint) {
	b, ok := readBody(w, r)
	if !ok {
		return
	}
	var in rotateInput
	if len(b) > 0 && !decode(w, b, &in) {
		return
	}
	overlap := time.Duration(0) // the sender's default
	if in.OverlapSeconds != nil {
		n := *in.OverlapSeconds
		if n < 0 || n > int64(MaxRotationOverlap/time.Second) {
			writeError(w, http.StatusBadRequest, "invalid",
				"overlap_seconds: want a number of seconds from 0 to "+strconv.FormatInt(int64(MaxRotationOverlap/time.Second), 10), "overlap_seconds")
			return
		}
		overlap = time.Duration(n) * time.Second
		if n == 0 {
			overlap = -1 // the old secrets stop at once
		}
	}
	eps := h.s.Endpoints()
	secret, err := eps.RotateSecret(r.Context(), ep.ID, overlap)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	cur, err := eps.Get(r.Context(), ep.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := webhookOf(cur)
	out.Secret = secret.String()
	writeJSON(w, http.StatusCreated, out)
}
