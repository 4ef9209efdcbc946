package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
)

// routes registers the pages, the assets and the JSON API on h.mux, with
// paths relative to the base path.
func (h *handler) routes() {
	m := h.mux
	m.Handle("GET /static/{file}", h.staticHandler())
	m.HandleFunc("GET /theme.css", h.themeHandler)

	m.HandleFunc("GET /{$}", h.pageEndpoints)
	m.HandleFunc("POST /endpoints", h.form(h.postCreate))
	m.HandleFunc("GET /endpoints/{id}", h.pageEndpoint)
	m.HandleFunc("POST /endpoints/{id}/edit", h.form(h.postEdit))
	m.HandleFunc("POST /endpoints/{id}/rotate", h.form(h.postRotate))
	m.HandleFunc("POST /endpoints/{id}/enable", h.form(h.postEnable))
	m.HandleFunc("POST /endpoints/{id}/disable", h.form(h.postDisable))
	m.HandleFunc("POST /endpoints/{id}/delete", h.form(h.postDelete))
	m.HandleFunc("POST /endpoints/{id}/ping", h.form(h.postPing))
	m.HandleFunc("POST /endpoints/{id}/replay", h.form(h.postReplay))
	m.HandleFunc("GET /endpoints/{id}/deliveries/{did}", h.pageDelivery)
	m.HandleFunc("POST /endpoints/{id}/deliveries/{did}/retry", h.form(h.postRetry))
	m.HandleFunc("GET /endpoints/{id}/simulate", h.pageSimulate)
	m.HandleFunc("POST /endpoints/{id}/simulate", h.form(h.postSimulate))
	m.HandleFunc("GET /events", h.pageEvents)
	m.HandleFunc("GET /catalog", h.pageCatalog)

	h.apiRoutes()
}

func (h *handler) staticHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("file")
		if name != "style.css" && name != "app.js" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "private, max-age=3600")
		http.ServeFileFS(w, r, assets, "static/"+name)
	})
}

// pageData is everything a page template may show. Common fields are
// filled by render; the rest by each handler.
type pageData struct {
	Title    string
	Mode     string
	Live     bool
	Scope    Scope
	CSRF     string
	ReadOnly bool
	Flash    string
	Error    string
	WarnAt   int
	// Theme: the name and logo in the header.
	Brand, Logo string

	// Charts of the endpoints list (every endpoint in scope) or of one
	// endpoint; nil when the store keeps no hourly aggregates.
	Chart      *chartView
	ChartError bool // the charts could not be read (logged)

	// Endpoints list. KnownTypes are the catalog's types, offered as
	// checkboxes and in the simulator; empty without a catalog, when
	// types are typed in.
	Endpoints  []endpointView
	KnownTypes []typeOption
	Formats    []formatOption // the create form's body formats
	Form       endpointForm
	NextURL    string
	FirstURL   string

	// One endpoint and its logs.
	Endpoint   *endpointView
	NewSecret  string
	Ping       *pingResult
	Deliveries []deliveryView
	States     []string
	Filter     logFilter

	// One delivery.
	Delivery *deliveryView
	Attempts []*attemptView

	// Simulator.
	SimType    string
	SimPayload string

	// Event search: the id searched, whether a search ran, the event (from
	// its first delivery) and its deliveries.
	Search   string
	Searched bool
	Event    *deliveryView
	Results  []searchRow

	// Catalog page.
	Catalog []catalogEntry
}

type typeOption struct{ Type, Label string }

// endpointForm is what the create and edit forms show: the fields as
// typed, or as stored. Account and Format are set at creation only.
type endpointForm struct {
	URL, Description, Tenant, Patterns string
	Account, Format                    string
	Types                              []string
}

// formatOption is a choice of the create form's body format.
type formatOption struct{ Format, Label string }

// bodyFormats are the body formats the create form offers, the default
// first.
var bodyFormats = []formatOption{
	{string(store.BodyEnvelope), "envelope: the standard event envelope (default)"},
	{string(store.BodyEventPayload), `event-payload: {"id", "event", "payload"}`},
}

// logFilter is the delivery log's filter: a state, a type or pattern, and
// a time range of creation (From <= created < To) as typed.
type logFilter struct{ State, Type, From, To string }

type pingResult struct {
	OK      bool
	Message string
	Attempt *attemptView
}

// subscriptionTypes are the catalog's types an endpoint may subscribe to:
// all but ping, which the sender sends to any endpoint that is pinged,
// whatever it subscribes to. Nil without a catalog.
func (h *handler) subscriptionTypes() []typeOption {
	var out []typeOption
	for _, t := range h.catalog.Types() {
		if t.Type != event.TypePing {
			out = append(out, typeOption{Type: t.Type, Label: t.Description})
		}
	}
	return out
}

// simulatorTypes are the catalog's types the simulator offers, ping among
// them. Nil without a catalog.
func (h *handler) simulatorTypes() []typeOption {
	var out []typeOption
	for _, t := range h.catalog.Types() {
		out = append(out, typeOption{Type: t.Type, Label: t.Description})
	}
	return out
}

// render executes a page into a buffer (so a template error never sends
// half a page) and writes it with the given status.
func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, name string, d *pageData) {
	d.Mode = string(h.mode)
	d.Live = h.mode == event.ModeLive
	d.Scope = scopeOf(r)
	d.CSRF = h.csrfToken(w, r)
	d.ReadOnly = h.readOnly
	d.WarnAt = h.warnAt
	d.Brand, d.Logo = h.theme.Name, h.theme.LogoURL
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "layout", d); err != nil {
		h.log.LogAttrs(r.Context(), slog.LevelError, "dashboard: rendering page", slog.String("page", name), slog.String("error", err.Error()))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fail renders a short error page. 5xx causes are logged, never shown.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, status int, msg string, err error) {
	if status >= 500 && err != nil {
		h.log.LogAttrs(r.Context(), slog.LevelError, "dashboard: "+msg, slog.String("path", r.URL.Path), slog.String("error", err.Error()))
	}
	h.render(w, r, status, "error", &pageData{Title: http.StatusText(status), Error: msg})
}

// form wraps a state-changing form handler: it bounds and parses the body
// and checks the CSRF token and origin before anything else happens.
func (h *handler) form(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
		if h.readOnly {
			h.fail(w, r, http.StatusNotImplemented, "This dashboard is read-only.", nil)
			return
		}
		if err := r.ParseForm(); err != nil {
			h.fail(w, r, http.StatusBadRequest, "The form could not be read.", nil)
			return
		}
		if !h.checkCSRF(r) {
			h.fail(w, r, http.StatusForbidden, "The form's security token is missing or invalid, or the request came from another site. Reload the page and try again.", nil)
			return
		}
		next(w, r)
	}
}

// errHidden is returned by loadEndpoint for an endpoint the scope may not
// see; it is reported exactly as a missing one.
var errHidden = errors.New("dashboard: endpoint not in scope")

// loadEndpoint returns the endpoint named in the path if it exists, has the
// dashboard's mode and belongs to the request's scope. Otherwise it returns
// an error matching store.ErrNotFound: a tenant cannot learn whether another
// tenant's id exists.
func (h *handler) loadEndpoint(r *http.Request) (*store.Endpoint, error) {
	id := r.PathValue("id")
	ep, err := h.st.GetEndpoint(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if ep.ID != id || ep.Mode != h.mode || !scopeOf(r).Allows(ep.Tenant) {
		return nil, fmt.Errorf("%w: %w", store.ErrNotFound, errHidden)
	}
	return ep, nil
}

// loadDelivery returns the delivery named in the path if it belongs to the
// (already scoped) endpoint ep; otherwise an error matching ErrNotFound.
func (h *handler) loadDelivery(r *http.Request, ep *store.Endpoint) (*store.Delivery, error) {
	d, err := h.st.GetDelivery(r.Context(), r.PathValue("did"))
	if err != nil {
		return nil, err
	}
	if d.EndpointID != ep.ID || d.Tenant != ep.Tenant || !scopeOf(r).Allows(d.Tenant) {
		return nil, fmt.Errorf("%w: %w", store.ErrNotFound, errHidden)
	}
	return d, nil
}

// loadFailed answers the failure of a page or an action on a page: 404 for
// anything not found or hidden, 409 for a conflict, and otherwise what
// [handler.classify] says (an invalid field shows "Field: Reason").
func (h *handler) loadFailed(w http.ResponseWriter, r *http.Request, what string, err error) {
	p := h.classify(r, err)
	switch p.status {
	case http.StatusNotFound:
		h.fail(w, r, p.status, "No such "+what+".", nil)
	case http.StatusConflict:
		h.fail(w, r, p.status, "The "+what+" changed meanwhile. Reload the page and try again.", nil)
	case http.StatusUnprocessableEntity:
		h.fail(w, r, p.status, "Nothing was changed: "+p.message+".", nil)
	case http.StatusServiceUnavailable:
		h.fail(w, r, p.status, "The sender is stopped; try again later.", nil)
	default:
		h.fail(w, r, p.status, "Could not load the "+what+".", nil) // classify logged it
	}
}

// listFailed answers the failure of a page's list: 400 for a page link
// whose cursor the store refuses, else 500 (logged).
func (h *handler) listFailed(w http.ResponseWriter, r *http.Request, what string, err error) {
	if badCursor(r, err) {
		h.fail(w, r, http.StatusBadRequest, "This page link is not valid any more. Start again from the first page.", nil)
		return
	}
	h.fail(w, r, http.StatusInternalServerError, "Could not list "+what+".", err)
}

// pageOf reads the cursor and limit query parameters.
func (h *handler) pageOf(q url.Values) store.Page {
	p := store.Page{Cursor: q.Get("cursor"), Limit: h.pageSize}
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 {
		p.Limit = min(n, MaxPageSize)
	}
	return p
}

// pageLinks returns the "next page" and "first page" links: path plus the
// given query with the cursor replaced.
func pageLinks(path string, q url.Values, cur, next string) (nextURL, firstURL string) {
	q = maps(q)
	if next != "" {
		q.Set("cursor", next)
		nextURL = path + "?" + q.Encode()
	}
	if cur != "" {
		q.Del("cursor")
		firstURL = path
		if enc := q.Encode(); enc != "" {
			firstURL += "?" + enc
		}
	}
	return nextURL, firstURL
}

func maps(q url.Values) url.Values {
	c := url.Values{}
	for k, v := range q {
		if len(v) > 0 && v[0] != "" {
			c.Set(k, v[0])
		}
	}
	return c
}

// flashes are the fixed messages a redirect may ask a page to show (by
// code, so a link cannot inject text).
var flashes = map[string]string{
	"updated":   "Endpoint updated.",
	"enabled":   "Endpoint enabled. Paused deliveries resume now.",
	"disabled":  "Endpoint disabled. Its deliveries wait until it is enabled again.",
	"deleted":   "Endpoint deleted.",
	"retried":   "Delivery queued for another attempt now.",
	"simulated": "Simulated event sent. It appears in the delivery log below (refresh if it is still pending).",
}

// flashOf returns the message a redirect asked for, with [queuedNote]
// after those of actions that queue a delivery when the dashboard does not
// deliver (Config.DeliveredElsewhere).
func (h *handler) flashOf(q url.Values) string {
	if n, err := strconv.Atoi(q.Get("replayed")); err == nil && n >= 0 {
		return h.queued(fmt.Sprintf("%d failed deliveries queued again.", n))
	}
	done := q.Get("done")
	if done == "retried" || done == "simulated" {
		return h.queued(flashes[done])
	}
	return flashes[done]
}

// queuedNote says, after an action that queued a delivery, that this
// dashboard does not deliver it (Config.DeliveredElsewhere).
const queuedNote = "This dashboard does not deliver: the application's senders that share the store will."

// queued returns msg followed by [queuedNote] when the dashboard does not
// deliver, msg otherwise.
func (h *handler) queued(msg string) string {
	if !h.elsewhere {
		return msg
	}
	return msg + " " + queuedNote
}

func (h *handler) redirect(w http.ResponseWriter, r *http.Request, path, done string) {
	if done != "" {
		path += "?done=" + url.QueryEscape(done)
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// pageEndpoints lists the scope's endpoints, one page at a time.
func (h *handler) pageEndpoints(w http.ResponseWriter, r *http.Request) {
	d := &pageData{Title: "Webhook endpoints", KnownTypes: h.subscriptionTypes(), Formats: bodyFormats, Flash: h.flashOf(r.URL.Query()),
		Form: endpointForm{Format: string(store.BodyEnvelope)}}
	if err := h.listEndpointsInto(w, r, d); err != nil {
		h.listFailed(w, r, "endpoints", err)
		return
	}
	h.render(w, r, http.StatusOK, "endpoints", d)
}

func (h *handler) listEndpointsInto(_ http.ResponseWriter, r *http.Request, d *pageData) error {
	s := scopeOf(r)
	q := r.URL.Query()
	p := h.pageOf(q)
	eps, next, err := h.st.ListEndpoints(r.Context(), store.EndpointFilter{Tenant: s.Tenant, AllTenants: s.All, Mode: h.mode, Page: p})
	if err != nil {
		return err
	}
	d.Endpoints = d.Endpoints[:0]
	for _, ep := range eps {
		if s.Allows(ep.Tenant) && ep.Mode == h.mode { // the filter did this; stay safe with any store
			d.Endpoints = append(d.Endpoints, h.endpointView(ep))
		}
	}
	d.NextURL, d.FirstURL = pageLinks(h.base, q, p.Cursor, next)
	of := "all endpoints"
	if s.All {
		of = "all endpoints of all tenants"
	}
	d.Chart, d.ChartError = h.chartOrLog(r, "chart-all", of, store.StatsFilter{Tenant: s.Tenant, AllTenants: s.All})
	return nil
}

// parseTypes reads the event-type checkboxes and the free-text patterns
// (separated by commas or spaces), without duplicates. The sender's
// endpoint owner checks them.
func parseTypes(r *http.Request) (types []string, f endpointForm) {
	f.Types = r.PostForm["event_type"]
	f.Patterns = r.PostFormValue("patterns")
	all := slices.Clone(f.Types)
	all = append(all, strings.FieldsFunc(f.Patterns, func(c rune) bool { return c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t' })...)
	for _, t := range all {
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	return types, f
}

// postCreate adds an endpoint through the sender's endpoint owner, which
// checks it and generates its secret, and shows the secret once. The
// tenant is the scope's (an operator's scope types it in); the account, an
// account of that tenant (empty: organization-wide), and the body format
// (empty: the envelope) are fixed from now on.
func (h *handler) postCreate(w http.ResponseWriter, r *http.Request) {
	d := &pageData{Title: "Webhook endpoints", KnownTypes: h.subscriptionTypes(), Formats: bodyFormats}
	types, f := parseTypes(r)
	f.URL = strings.TrimSpace(r.PostFormValue("url"))
	f.Description = r.PostFormValue("description")
	f.Tenant = r.PostFormValue("tenant")
	f.Account = strings.TrimSpace(r.PostFormValue("account"))
	f.Format = r.PostFormValue("format")
	d.Form = f
	s := scopeOf(r)
	tenant := s.Tenant
	if s.All {
		tenant = f.Tenant
	}
	ep := &store.Endpoint{Tenant: tenant, Account: f.Account, Format: store.BodyFormat(f.Format),
		URL: f.URL, Description: f.Description, EventTypes: types}
	secret, err := h.sender.Endpoints().Create(r.Context(), ep)
	if _, msg, ok := invalidField(err); ok {
		d.Error = "Endpoint not added: " + msg + "."
		if lerr := h.listEndpointsInto(w, r, d); lerr != nil {
			h.listFailed(w, r, "endpoints", lerr)
			return
		}
		h.render(w, r, http.StatusUnprocessableEntity, "endpoints", d)
		return
	}
	if err != nil {
		h.loadFailed(w, r, "endpoint", err)
		return
	}
	h.showEndpoint(w, r, ep, http.StatusCreated, func(d *pageData) {
		d.NewSecret = secret.String()
		d.Flash = "Endpoint added. Copy its signing secret now: it is shown only once."
	})
}

// pageEndpoint shows one endpoint, its settings and its delivery log.
func (h *handler) pageEndpoint(w http.ResponseWriter, r *http.Request) {
	ep, err := h.loadEndpoint(r)
	if err != nil {
		h.loadFailed(w, r, "endpoint", err)
		return
	}
	h.showEndpoint(w, r, ep, http.StatusOK, func(d *pageData) { d.Flash = h.flashOf(r.URL.Query()) })
}

// showEndpoint renders the endpoint page with its delivery log, filtered by
// the query's state and type, one page at a time.
func (h *handler) showEndpoint(w http.ResponseWriter, r *http.Request, ep *store.Endpoint, status int, extra func(*pageData)) {
	v := h.endpointView(ep)
	d := &pageData{Title: v.URL, Endpoint: &v, KnownTypes: h.subscriptionTypes(), States: []string{
		string(store.StatePending), string(store.StateLeased), string(store.StatePaused), string(store.StateSucceeded), string(store.StateFailed),
	}}
	d.Form = editForm(ep, d.KnownTypes)
	q := r.URL.Query()
	if r.Method != http.MethodGet {
		q = url.Values{} // after an action, show the first page unfiltered
	}
	f := store.DeliveryFilter{Tenant: ep.Tenant, EndpointID: ep.ID, Page: h.pageOf(q)}
	d.Filter = logFilter{State: q.Get("state"), Type: strings.TrimSpace(q.Get("type"))}
	if st := store.DeliveryState(d.Filter.State); st.Valid() {
		f.State = st
	} else {
		d.Filter.State = ""
	}
	if d.Filter.Type != "" {
		if _, err := event.ParsePattern(d.Filter.Type); err != nil {
			d.Error = fmt.Sprintf("%q is not an event type or pattern; showing all types.", d.Filter.Type)
		} else {
			f.EventType = d.Filter.Type
		}
	}
	d.Filter.From, d.Filter.To = strings.TrimSpace(q.Get("from")), strings.TrimSpace(q.Get("to"))
	for _, b := range []struct {
		text string
		t    *time.Time
	}{{d.Filter.From, &f.Since}, {d.Filter.To, &f.Until}} {
		t, err := parseLogTime(b.text)
		if err != nil {
			d.Error = fmt.Sprintf("%q is not a time (want 2006-01-02T15:04, UTC); showing all times.", b.text)
			f.Since, f.Until = time.Time{}, time.Time{}
			d.Filter.From, d.Filter.To = "", ""
			break
		}
		*b.t = t
	}
	if extra != nil {
		extra(d)
	}
	d.Chart, d.ChartError = h.chartOrLog(r, "chart-ep", "this endpoint", store.StatsFilter{Tenant: ep.Tenant, EndpointID: ep.ID})
	ds, next, err := h.st.ListDeliveries(r.Context(), f)
	if err != nil {
		h.listFailed(w, r, "deliveries", err)
		return
	}
	latest, err := h.latestAttempts(r.Context(), ep, ds)
	if err != nil {
		h.fail(w, r, http.StatusInternalServerError, "Could not list attempts.", err)
		return
	}
	for _, dl := range ds {
		if dl.EndpointID != ep.ID || dl.Tenant != ep.Tenant {
			continue
		}
		dv := deliveryViewOf(dl)
		if a := latest[dl.ID]; a != nil {
			dv.Latest = attemptViewOf(a)
		}
		d.Deliveries = append(d.Deliveries, dv)
	}
	d.NextURL, d.FirstURL = pageLinks(h.link("endpoints", ep.ID), q, f.Page.Cursor, next)
	h.render(w, r, status, "endpoint", d)
}

// latestBatch is how many of the endpoint's newest attempts, per delivery
// row, latestAttempts reads in its first query.
const latestBatch = 5

// latestAttempts returns the latest attempt of each delivery of a page, by
// delivery id. It reads the endpoint's newest attempts since the oldest
// delivery of the page in one bounded query, which usually holds the latest
// attempt of every row on the first pages, and looks up the rows it missed
// one by one (by the attempts' delivery index). A delivery never attempted
// has no entry.
func (h *handler) latestAttempts(ctx context.Context, ep *store.Endpoint, ds []*store.Delivery) (map[string]*store.Attempt, error) {
	latest := make(map[string]*store.Attempt, len(ds))
	if len(ds) == 0 {
		return latest, nil
	}
	want := make(map[string]bool, len(ds))
	since := ds[0].CreatedAt
	for _, d := range ds {
		want[d.ID] = true
		if d.CreatedAt.Before(since) {
			since = d.CreatedAt
		}
	}
	as, _, err := h.st.ListAttempts(ctx, store.AttemptFilter{
		Tenant: ep.Tenant, EndpointID: ep.ID, Since: since,
		Page: store.Page{Limit: min(latestBatch*len(ds), store.MaxPageSize)},
	})
	if err != nil {
		return nil, err
	}
	for _, a := range as { // newest first: the first seen is the latest
		if want[a.DeliveryID] && latest[a.DeliveryID] == nil && a.EndpointID == ep.ID && a.Tenant == ep.Tenant {
			latest[a.DeliveryID] = a
		}
	}
	for _, d := range ds {
		if latest[d.ID] != nil {
			continue
		}
		as, _, err := h.st.ListAttempts(ctx, store.AttemptFilter{Tenant: ep.Tenant, DeliveryID: d.ID, Page: store.Page{Limit: 1}})
		if err != nil {
			return nil, err
		}
		if len(as) == 1 && as[0].DeliveryID == d.ID {
			latest[d.ID] = as[0]
		}
	}
	return latest, nil
}

func editForm(ep *store.Endpoint, known []typeOption) endpointForm {
	f := endpointForm{URL: shownURL(ep.URL), Description: ep.Description, Tenant: ep.Tenant,
		Account: ep.Account, Format: ep.Format.Name()}
	var other []string
	for _, t := range ep.EventTypes {
		if slices.ContainsFunc(known, func(o typeOption) bool { return o.Type == t }) {
			f.Types = append(f.Types, t)
		} else {
			other = append(other, t)
		}
	}
	f.Patterns = strings.Join(other, ", ")
	return f
}

// postEdit changes an endpoint's URL, description and event types through
// the sender's endpoint owner.
func (h *handler) postEdit(w http.ResponseWriter, r *http.Request) {
	ep, err := h.loadEndpoint(r)
	if err != nil {
		h.loadFailed(w, r, "endpoint", err)
		return
	}
	types, f := parseTypes(r)
	f.URL = strings.TrimSpace(r.PostFormValue("url"))
	f.Description = r.PostFormValue("description")
	f.Account, f.Format = ep.Account, ep.Format.Name() // fixed at creation
	upd := ep.Clone()
	upd.URL, upd.Description, upd.EventTypes = submittedURL(ep.URL, f.URL), f.Description, types
	err = h.sender.Endpoints().Update(r.Context(), upd)
	if _, msg, ok := invalidField(err); ok {
		h.showEndpoint(w, r, ep, http.StatusUnprocessableEntity, func(d *pageData) {
			d.Form = f
			d.Error = "Endpoint not updated: " + msg + "."
		})
		return
	}
	if err != nil {
		h.loadFailed(w, r, "endpoint", err)
		return
	}
	h.redirect(w, r, h.link("endpoints", ep.ID), "updated")
}

// postRotate adds a new secret; the old ones keep signing for the overlap.
func (h *handler) postRotate(w http.ResponseWriter, r *http.Request) {
	ep, err := h.loadEndpoint(r)
	if err != nil {
		h.loadFailed(w, r, "endpoint", err)
		return
	}
	sec, err := h.sender.Endpoints().RotateSecret(r.Context(), ep.ID, h.overlap)
	if err != nil {
		h.loadFailed(w, r, "endpoint", err)
		return
	}
	if ep, err = h.st.GetEndpoint(r.Context(), ep.ID); err != nil {
		h.loadFailed(w, r, "endpoint", err)
		return
	}
	h.showEndpoint(w, r, ep, http.StatusOK, func(d *pageData) {
		d.NewSecret = sec.String()
		d.Flash = fmt.Sprintf("Secret rotated. Copy the new secret now: it is shown only once. The previous secret keeps signing until %s.", fmtTime(h.now().Add(h.overlap)))
	})
}

func (h *handler) postEnable(w http.ResponseWriter, r *http.Request) {
	ep, err := h.loadEndpoint(r)
	if err == nil {
		err = h.sender.Endpoints().Enable(r.Context(), ep.ID)
	}
	if err != nil {
		h.loadFailed(w, r, "endpoint", err)
		return
	}
	h.redirect(w, r, h.link("endpoints", ep.ID), "enabled")
}

func (h *handler) postDisable(w http.ResponseWriter, r *http.Request) {
	ep, err := h.loadEndpoint(r)
	if err == nil {
		err = h.sender.Endpoints().Disable(r.Context(), ep.ID, "disabled from the dashboard")
	}
	if err != nil {
		h.loadFailed(w, r, "endpoint", err)
		return
	}
	h.redirect(w, r, h.link("endpoints", ep.ID), "disabled")
}

func (h *handler) postDelete(w http.ResponseWriter, r *http.Request) {
	ep, err := h.loadEndpoint(r)
	if err == nil {
		err = h.sender.Endpoints().Delete(r.Context(), ep.ID)
	}
	if err != nil {
		h.loadFailed(w, r, "endpoint", err)
		return
	}
	h.redirect(w, r, h.base, "deleted")
}

// postPing sends a ping synchronously and shows the result.
func (h *handler) postPing(w http.ResponseWriter, r *http.Request) {
	ep, err := h.loadEndpoint(r)
	if err != nil {
		h.loadFailed(w, r, "endpoint", err)
		return
	}
	a, perr := h.sender.Ping(r.Context(), ep.ID)
	if a == nil && perr != nil { // no attempt was made: the endpoint could not be loaded
		h.loadFailed(w, r, "endpoint", perr)
		return
	}
	res := &pingResult{OK: perr == nil}
	if a != nil {
		res.Attempt = attemptViewOf(a)
	}
	switch {
	case perr == nil:
		res.Message = "Ping delivered"
		if a != nil {
			res.Message += fmt.Sprintf(": %s in %s.", statusText(a.StatusCode), fmtDuration(a.Duration))
		}
	default:
		res.Message = "Ping failed: " + pingFailure(a, perr) + "."
	}
	if ep2, err := h.st.GetEndpoint(r.Context(), ep.ID); err == nil {
		ep = ep2 // health changed
	}
	h.showEndpoint(w, r, ep, http.StatusOK, func(d *pageData) { d.Ping = res })
}

// replayWindows are the "replay failed deliveries since" choices.
var replayWindows = map[string]time.Duration{"1h": time.Hour, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "15d": store.DefaultRetention}

func (h *handler) postReplay(w http.ResponseWriter, r *http.Request) {
	ep, err := h.loadEndpoint(r)
	if err != nil {
		h.loadFailed(w, r, "endpoint", err)
		return
	}
	win, ok := replayWindows[r.PostFormValue("since")]
	if !ok {
		h.fail(w, r, http.StatusBadRequest, "Choose how far back to replay.", nil)
		return
	}
	n, err := h.sender.ReplayFailed(r.Context(), ep.ID, h.now().Add(-win))
	if err != nil {
		h.loadFailed(w, r, "endpoint", err)
		return
	}
	http.Redirect(w, r, h.link("endpoints", ep.ID)+"?replayed="+strconv.Itoa(n), http.StatusSeeOther)
}

// pageDelivery shows one delivery and its attempts, newest first, paged.
func (h *handler) pageDelivery(w http.ResponseWriter, r *http.Request) {
	ep, err := h.loadEndpoint(r)
	if err != nil {
		h.loadFailed(w, r, "endpoint", err)
		return
	}
	dl, err := h.loadDelivery(r, ep)
	if err != nil {
		h.loadFailed(w, r, "delivery", err)
		return
	}
	q := r.URL.Query()
	p := h.pageOf(q)
	as, next, err := h.st.ListAttempts(r.Context(), store.AttemptFilter{Tenant: ep.Tenant, DeliveryID: dl.ID, Page: p})
	if err != nil {
		h.listFailed(w, r, "attempts", err)
		return
	}
	ev, dv := h.endpointView(ep), deliveryViewOf(dl)
	d := &pageData{Title: dl.Event.Type + " " + dl.Event.ID, Endpoint: &ev, Delivery: &dv, Flash: h.flashOf(q)}
	for _, a := range as {
		if a.DeliveryID == dl.ID {
			d.Attempts = append(d.Attempts, attemptViewOf(a))
		}
	}
	d.NextURL, d.FirstURL = pageLinks(h.link("endpoints", ep.ID, "deliveries", dl.ID), q, p.Cursor, next)
	h.render(w, r, http.StatusOK, "delivery", d)
}

// postRetry queues a delivery for an attempt now.
func (h *handler) postRetry(w http.ResponseWriter, r *http.Request) {
	ep, err := h.loadEndpoint(r)
	if err != nil {
		h.loadFailed(w, r, "endpoint", err)
		return
	}
	dl, err := h.loadDelivery(r, ep)
	if err == nil {
		err = h.sender.Retry(r.Context(), dl.ID)
	}
	switch {
	case errors.Is(err, store.ErrConflict):
		h.fail(w, r, http.StatusConflict, "This delivery cannot be retried now: it is already queued or in flight.", nil)
		return
	case err != nil:
		h.loadFailed(w, r, "delivery", err)
		return
	}
	if r.PostFormValue("return") == "delivery" {
		h.redirect(w, r, h.link("endpoints", ep.ID, "deliveries", dl.ID), "retried")
		return
	}
	h.redirect(w, r, h.link("endpoints", ep.ID), "retried")
}

// pingFailure says why a ping failed, for people: the status the endpoint
// answered, or the attempt's error as the attempt log records it (its URL
// credentials redacted).
func pingFailure(a *store.Attempt, err error) string {
	var se *sender.StatusError
	switch {
	case errors.As(err, &se):
		return "the endpoint answered " + statusText(se.StatusCode)
	case a != nil && a.Error != "":
		return a.Error
	}
	return "no answer"
}

// samplePayload returns the pretty-printed sample the catalog declares for
// typ, or {} (no catalog, no sample, or a type it does not list).
func (h *handler) samplePayload(typ string) string {
	return prettyJSON(string(h.sampleData(typ)))
}

// sampleData returns the sample the catalog declares for typ, or {} (no
// catalog, no sample, or a type it does not list).
func (h *handler) sampleData(typ string) json.RawMessage {
	info, ok := h.catalog.Lookup(typ)
	if !ok || len(info.Sample) == 0 {
		return json.RawMessage(`{}`)
	}
	return info.Sample
}

// Refusals the dashboard explains in its own words (no error carries them
// as a field).
const (
	liveRefusal     = "The webhook simulator is only available in test mode. This dashboard manages live-mode endpoints, where simulated events are refused."
	disabledRefusal = "This endpoint is disabled; enable it before simulating events."
	tooLargeRefusal = "The payload is too large: its envelope exceeds the sender's limit."
	badTypeFilter   = "invalid type filter: use an event type or a pattern such as order.paid, order.* or *"
)

// pageSimulate shows the simulator form, pre-filled with the chosen type's
// sample from the sender's catalog (or a free type field and {} without
// one), or a refusal in live mode.
func (h *handler) pageSimulate(w http.ResponseWriter, r *http.Request) {
	ep, err := h.loadEndpoint(r)
	if err != nil {
		h.loadFailed(w, r, "endpoint", err)
		return
	}
	v := h.endpointView(ep)
	d := &pageData{Title: "Simulate webhook", Endpoint: &v, KnownTypes: h.simulatorTypes()}
	if h.mode == event.ModeLive {
		d.Error = liveRefusal
		h.render(w, r, http.StatusOK, "simulate", d)
		return
	}
	d.SimType = strings.TrimSpace(r.URL.Query().Get("type"))
	if len(d.KnownTypes) > 0 && !slices.ContainsFunc(d.KnownTypes, func(o typeOption) bool { return o.Type == d.SimType }) {
		d.SimType = ""
		for _, o := range d.KnownTypes {
			if o.Type != event.TypePing && event.MatchAny(ep.EventTypes, o.Type) {
				d.SimType = o.Type
				break
			}
		}
		if d.SimType == "" {
			d.SimType = d.KnownTypes[0].Type
		}
	}
	d.SimPayload = h.samplePayload(d.SimType)
	h.render(w, r, http.StatusOK, "simulate", d)
}

// simulateError turns a Simulate failure into a status and a message for
// people; 5xx causes are logged by classify.
func (h *handler) simulateError(r *http.Request, err error) (int, string) {
	switch {
	case errors.Is(err, sender.ErrLiveMode):
		return http.StatusConflict, liveRefusal
	case errors.Is(err, sender.ErrEndpointDisabled):
		return http.StatusConflict, disabledRefusal
	case errors.Is(err, sender.ErrPayloadTooLarge):
		return http.StatusRequestEntityTooLarge, tooLargeRefusal
	}
	p := h.classify(r, err)
	switch p.status {
	case http.StatusUnprocessableEntity:
		return p.status, "Nothing was sent: " + p.message + "."
	case http.StatusNotFound:
		return p.status, "No such endpoint."
	}
	return p.status, "The simulated event could not be sent."
}

// checkPayload explains why text is not a JSON object, with the position.
func checkPayload(text string) error {
	var v any
	dec := json.NewDecoder(strings.NewReader(text))
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := position(text, se.Offset)
			return fmt.Errorf("invalid JSON at line %d, column %d: %s", line, col, se.Error())
		}
		if errors.Is(err, io.EOF) {
			return errors.New("the payload is empty; enter a JSON object")
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return errors.New("invalid JSON: the text ends before the object is complete")
		}
		return fmt.Errorf("invalid JSON: %s", err.Error())
	}
	if dec.More() {
		return errors.New("invalid JSON: unexpected text after the object")
	}
	if _, ok := v.(map[string]any); !ok {
		return errors.New("the payload must be a JSON object ({...})")
	}
	return nil
}

func position(text string, off int64) (line, col int) {
	line, col = 1, 1
	for i, c := range text {
		if int64(i) >= off-1 {
			break
		}
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// postSimulate validates the edited payload and sends it as a test event;
// on success it redirects to the delivery log.
func (h *handler) postSimulate(w http.ResponseWriter, r *http.Request) {
	ep, err := h.loadEndpoint(r)
	if err != nil {
		h.loadFailed(w, r, "endpoint", err)
		return
	}
	v := h.endpointView(ep)
	d := &pageData{Title: "Simulate webhook", Endpoint: &v, KnownTypes: h.simulatorTypes(),
		SimType: strings.TrimSpace(r.PostFormValue("type")), SimPayload: r.PostFormValue("payload")}
	if h.mode == event.ModeLive {
		d.Error = liveRefusal
		d.SimPayload = ""
		h.render(w, r, http.StatusConflict, "simulate", d)
		return
	}
	if err := checkPayload(d.SimPayload); err != nil {
		d.Error = "Nothing was sent: " + err.Error() + "."
		h.render(w, r, http.StatusUnprocessableEntity, "simulate", d)
		return
	}
	if _, err := h.sender.Simulate(r.Context(), ep.ID, d.SimType, json.RawMessage(d.SimPayload)); err != nil {
		status, msg := h.simulateError(r, err)
		d.Error = msg
		h.render(w, r, status, "simulate", d)
		return
	}
	h.redirect(w, r, h.link("endpoints", ep.ID), "simulated")
}
