package dashboard

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/webhookkit/webhookkit/store"
)

// searchRow is one delivery of a searched event, with its endpoint.
type searchRow struct {
	deliveryView
	EndpointURL string // "" when the endpoint was deleted
}

// catalogEntry is one event type of the catalog page.
type catalogEntry struct {
	Type, Description, Sample, Schema string
}

// maxEventIDLen bounds a searched event id; longer ids are refused.
const maxEventIDLen = 256

// pageEvents finds an event by id across the scope's endpoints and lists
// each of its deliveries (one page at a time), with the endpoint and the
// latest attempt of each. The store finds an event's deliveries by event id
// (an index in every store), so a search costs one page of rows.
func (h *handler) pageEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id := strings.TrimSpace(q.Get("id"))
	d := &pageData{Title: "Find an event", Search: id}
	if id == "" {
		h.render(w, r, http.StatusOK, "events", d)
		return
	}
	if len(id) > maxEventIDLen {
		d.Error = "That is not an event id: it is too long."
		h.render(w, r, http.StatusBadRequest, "events", d)
		return
	}
	s := scopeOf(r)
	p := h.pageOf(q)
	ds, next, err := h.st.ListDeliveries(r.Context(), store.DeliveryFilter{Tenant: s.Tenant, AllTenants: s.All, EventID: id, Page: p})
	if err != nil {
		h.listFailed(w, r, "deliveries", err)
		return
	}
	d.Searched = true
	eps := make(map[string]*store.Endpoint)
	for _, dl := range ds {
		if !s.allows(dl.Tenant) || dl.Event.APIMode != h.mode || dl.Event.ID != id {
			continue // the filter did this; stay safe with any store
		}
		ep, seen := eps[dl.EndpointID]
		if !seen {
			ep, err = h.st.GetEndpoint(r.Context(), dl.EndpointID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				h.fail(w, r, http.StatusInternalServerError, "Could not read the endpoints.", err)
				return
			}
			if ep != nil && (ep.Mode != h.mode || !s.allows(ep.Tenant)) {
				ep = nil
			}
			eps[dl.EndpointID] = ep
		}
		row := searchRow{deliveryView: deliveryViewOf(dl)}
		if ep != nil {
			row.EndpointURL = shownURL(ep.URL)
		}
		as, _, err := h.st.ListAttempts(r.Context(), store.AttemptFilter{Tenant: dl.Tenant, DeliveryID: dl.ID, Page: store.Page{Limit: 1}})
		if err != nil {
			h.fail(w, r, http.StatusInternalServerError, "Could not list attempts.", err)
			return
		}
		if len(as) == 1 && as[0].DeliveryID == dl.ID {
			row.Latest = attemptViewOf(as[0])
		}
		if d.Event == nil {
			ev := row.deliveryView
			d.Event = &ev
		}
		d.Results = append(d.Results, row)
	}
	d.NextURL, d.FirstURL = pageLinks(h.link("events"), q, p.Cursor, next)
	h.render(w, r, http.StatusOK, "events", d)
}

// pageCatalog lists the sender's event types with their descriptions,
// samples and schemas, for customers choosing what to subscribe to.
func (h *handler) pageCatalog(w http.ResponseWriter, r *http.Request) {
	d := &pageData{Title: "Event catalog"}
	for _, t := range h.catalog.Types() {
		e := catalogEntry{Type: t.Type, Description: t.Description}
		if len(t.Sample) > 0 {
			e.Sample = prettyJSON(string(t.Sample))
		}
		if len(t.Schema) > 0 {
			e.Schema = prettyJSON(string(t.Schema))
		}
		d.Catalog = append(d.Catalog, e)
	}
	h.render(w, r, http.StatusOK, "catalog", d)
}

// logTimeLayout is how the delivery log's time filter is typed: the value
// of an <input type="datetime-local">, read as UTC.
const logTimeLayout = "2006-01-02T15:04"

// parseLogTime reads a time of the delivery log's filter: "" (none), a
// datetime-local value in UTC, or an RFC 3339 time.
func parseLogTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{logTimeLayout, logTimeLayout + ":05", time.RFC3339Nano} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("not a time")
}
