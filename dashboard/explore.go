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
	ds, next, err := h.eventDeliveries(r, id, p)
	if err != nil {
		h.listFailed(w, r, "deliveries", err)
		return
	}
	d.Searched = true
	eps := make(map[string]*store.Endpoint)
	for _, dl := range ds {
		ep, seen := eps[dl.EndpointID]
		if !seen {
			ep, err = h.st.GetEndpoint(r.Context(), dl.EndpointID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				h.fail(w, r, http.StatusInternalServerError, "Could not read the endpoints.", err)
				return
			}
			if ep != nil && (ep.Mode != h.mode || !s.Allows(ep.Tenant)) {
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

// eventDeliveries returns a page of the deliveries of event id in the
// request's scope and the dashboard's mode.
func (h *handler) eventDeliveries(r *http.Request, id string, p store.Page) ([]*store.Delivery, string, error) {
	s := scopeOf(r)
	ds, next, err := h.st.ListDeliveries(r.Context(), store.DeliveryFilter{Tenant: s.Tenant, AllTenants: s.All, EventID: id, Page: p})
	if err != nil {
		return nil, "", err
	}
	out := ds[:0]
	for _, dl := range ds {
		if s.Allows(dl.Tenant) && dl.Event.APIMode == h.mode && dl.Event.ID == id { // the filter did this; stay safe with any store
			out = append(out, dl)
		}
	}
	return out, next, nil
}

// apiEventDeliveries lists the deliveries of an event in scope, as the
// search page does.
func (h *handler) apiEventDeliveries(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("eid")
	if len(id) > maxEventIDLen {
		writeJSONError(w, http.StatusBadRequest, "bad_request", "event id too long")
		return
	}
	ds, next, err := h.eventDeliveries(r, id, h.pageOf(r.URL.Query()))
	if err != nil {
		h.listFail(w, r, err)
		return
	}
	resp := listResponse[deliveryView]{Data: []deliveryView{}, NextCursor: next}
	for _, d := range ds {
		resp.Data = append(resp.Data, deliveryViewOf(d))
	}
	writeJSON(w, http.StatusOK, resp)
}

// statsResponse is the JSON form of the charts: the window and one entry
// per hour with attempts.
type statsResponse struct {
	From        time.Time  `json:"from"`
	To          time.Time  `json:"to"`
	Total       int64      `json:"total"`
	SuccessRate float64    `json:"success_rate"`
	P50MS       float64    `json:"p50_ms"`
	P95MS       float64    `json:"p95_ms"`
	Hours       []hourJSON `json:"hours"`
}

type hourJSON struct {
	Hour        time.Time        `json:"hour"`
	Counts      map[string]int64 `json:"counts"`
	Total       int64            `json:"total"`
	SuccessRate float64          `json:"success_rate"`
	P50MS       float64          `json:"p50_ms"`
	P95MS       float64          `json:"p95_ms"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// apiStats answers the chart numbers of the scope's endpoints.
func (h *handler) apiStats(w http.ResponseWriter, r *http.Request) {
	s := scopeOf(r)
	h.writeStats(w, r, store.StatsFilter{Tenant: s.Tenant, AllTenants: s.All})
}

// apiEndpointStats answers the chart numbers of one endpoint.
func (h *handler) apiEndpointStats(w http.ResponseWriter, r *http.Request, ep *store.Endpoint) {
	h.writeStats(w, r, store.StatsFilter{Tenant: ep.Tenant, EndpointID: ep.ID})
}

func (h *handler) writeStats(w http.ResponseWriter, r *http.Request, f store.StatsFilter) {
	st := h.statsReader()
	if st == nil {
		writeJSONError(w, http.StatusNotImplemented, "not_implemented", "the store keeps no attempt statistics")
		return
	}
	end := store.Hour(h.now()).Add(time.Hour)
	f.Mode, f.Since, f.Until = h.mode, end.Add(-h.chartWindow), end
	hours, err := st.AttemptStats(r.Context(), f)
	if err != nil {
		h.listFail(w, r, err)
		return
	}
	resp := statsResponse{From: f.Since, To: end, Hours: []hourJSON{}}
	var sum store.HourStats
	for i := range hours {
		hs := &hours[i]
		sum.Add(hs)
		hj := hourJSON{Hour: hs.Hour, Counts: make(map[string]int64, store.NumClasses), Total: hs.Total(),
			SuccessRate: hs.SuccessRate(), P50MS: ms(hs.Quantile(0.5)), P95MS: ms(hs.Quantile(0.95))}
		for c := range store.NumClasses {
			hj.Counts[c.String()] = hs.Counts[c]
		}
		resp.Hours = append(resp.Hours, hj)
	}
	resp.Total, resp.SuccessRate = sum.Total(), sum.SuccessRate()
	resp.P50MS, resp.P95MS = ms(sum.Quantile(0.5)), ms(sum.Quantile(0.95))
	writeJSON(w, http.StatusOK, resp)
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
