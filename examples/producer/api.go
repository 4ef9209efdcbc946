package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/webhookkit/webhookkit/access"
	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/event/fasten"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/webhookapi"
)

// api is the producer's HTTP API. A real service would authenticate the
// caller and take the tenant from the credentials, not from the request.
type api struct {
	db       database
	s        *sender.Sender
	log      *slog.Logger
	webhooks http.Handler // the webhookapi handler
}

func newAPI(db database, s *sender.Sender, log *slog.Logger) (*api, error) {
	webhooks, err := webhookapi.New(s, &webhookapi.Config{Authorize: demoAuthorize, Logger: log})
	if err != nil {
		return nil, err
	}
	return &api{db: db, s: s, log: log, webhooks: webhooks}, nil
}

// demoAuthorize scopes a webhookapi request to the organization named by
// "Authorization: Bearer <organization>". A real service checks a session
// or an API key and takes the organization from it; the same function type
// guards the dashboard (access.AuthorizeFunc).
func demoAuthorize(r *http.Request) (access.Scope, error) {
	org, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || org == "" {
		return access.Scope{}, errors.New("no bearer token")
	}
	return access.Scope{Tenant: org}, nil
}

func (a *api) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /endpoints", a.createEndpoint)
	mux.HandleFunc("GET /endpoints", a.listEndpoints)
	mux.HandleFunc("POST /exports", a.createExport)
	mux.HandleFunc("POST /exports/{id}/complete", a.completeExport)
	mux.HandleFunc("POST /exports/{id}/fail", a.failExport)
	mux.HandleFunc("GET /deliveries", a.listDeliveries)
	// The customers' own webhook management API (webhookapi), under /api/:
	// organizations install webhooks, on the organization or on one of its
	// accounts (here, an org connection), and ping them.
	mux.Handle("/api/", http.StripPrefix("/api", a.webhooks))
	return mux
}

// createEndpoint registers a customer's webhook URL through the sender's
// endpoint owner, which checks it (URL policy, patterns against the
// catalog, headers) and generates its secret: the secret is shown in this
// response only.
func (a *api) createEndpoint(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Tenant      string   `json:"tenant"`
		URL         string   `json:"url"`
		EventTypes  []string `json:"event_types"`
		Description string   `json:"description"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Tenant == "" {
		httpError(w, http.StatusBadRequest, "tenant is required")
		return
	}
	ep := &store.Endpoint{
		Tenant:      in.Tenant,
		URL:         in.URL,
		EventTypes:  in.EventTypes,
		Description: in.Description,
	}
	secret, err := a.s.Endpoints().Create(r.Context(), ep) // ep.ID is set on success
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"id": ep.ID, "secret": secret.String()})
}

func (a *api) listEndpoints(w http.ResponseWriter, r *http.Request) {
	eps, next, err := a.s.Endpoints().List(r.Context(), store.EndpointFilter{
		Tenant: r.URL.Query().Get("tenant"),
		Page:   store.Page{Cursor: r.URL.Query().Get("cursor")},
	})
	if err != nil {
		a.fail(w, err)
		return
	}
	type out struct {
		ID         string   `json:"id"`
		URL        string   `json:"url"`
		EventTypes []string `json:"event_types"`
		Disabled   bool     `json:"disabled"`
		Reason     string   `json:"disabled_reason,omitempty"`
	}
	list := make([]out, 0, len(eps))
	for _, ep := range eps {
		list = append(list, out{ep.ID, ep.URL, ep.EventTypes, ep.Disabled, ep.DisabledReason})
	}
	writeJSON(w, http.StatusOK, map[string]any{"endpoints": list, "next_cursor": next})
}

func (a *api) createExport(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Tenant          string `json:"tenant"`
		OrgConnectionID string `json:"org_connection_id"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Tenant == "" || in.OrgConnectionID == "" {
		httpError(w, http.StatusBadRequest, "tenant and org_connection_id are required")
		return
	}
	ex := export{ID: uuid.NewString(), Tenant: in.Tenant, OrgConnectionID: in.OrgConnectionID, Status: "pending"}
	if err := a.db.CreateExport(r.Context(), ex); err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, ex)
}

// completeExport marks the export complete and publishes
// patient.ehi_export_success in the same transaction.
func (a *api) completeExport(w http.ResponseWriter, r *http.Request) {
	a.finish(w, r, "complete", func(ex export) (event.Event, error) {
		return event.New(a.s.Mode(), fasten.TypeEHIExportSuccess, fasten.EHIExportSuccess{
			DownloadLinks: []fasten.DownloadLink{{
				URL:         "https://files.example.com/exports/" + ex.ID + ".jsonl",
				ExportType:  "jsonl",
				ContentType: "application/fhir+ndjson",
			}},
			OrgConnectionID: ex.OrgConnectionID,
			TaskID:          ex.ID,
			Stats:           fasten.Stats{TotalResources: 412},
		})
	})
}

// failExport marks the export failed and publishes patient.ehi_export_failed
// in the same transaction.
func (a *api) failExport(w http.ResponseWriter, r *http.Request) {
	var in struct {
		FailureReason fasten.FailureReason `json:"failure_reason"`
	}
	if r.ContentLength != 0 && !decode(w, r, &in) {
		return
	}
	if in.FailureReason == "" {
		in.FailureReason = fasten.ReasonSuppressedPleaseContact
	}
	a.finish(w, r, "failed", func(ex export) (event.Event, error) {
		return event.New(a.s.Mode(), fasten.TypeEHIExportFailed, fasten.EHIExportFailed{
			FailureReason:   in.FailureReason,
			OrgConnectionID: ex.OrgConnectionID,
			TaskID:          ex.ID,
		})
	})
}

func (a *api) finish(w http.ResponseWriter, r *http.Request, status string, newEvent func(export) (event.Event, error)) {
	ev, n, err := a.db.FinishExport(r.Context(), a.s, r.PathValue("id"), status, newEvent)
	if errors.Is(err, errNotPending) {
		httpError(w, http.StatusConflict, err.Error())
		return
	}
	if err != nil {
		a.fail(w, err)
		return
	}
	// The transaction has committed: the store's notification has woken
	// the sender already.
	a.log.Info("producer: published", "event_id", ev.ID, "event_type", ev.Type, "deliveries", n)
	writeJSON(w, http.StatusOK, map[string]any{"event_id": ev.ID, "event_type": ev.Type, "deliveries": n})
}

func (a *api) listDeliveries(w http.ResponseWriter, r *http.Request) {
	ds, next, err := a.s.Store().ListDeliveries(r.Context(), store.DeliveryFilter{
		Tenant: r.URL.Query().Get("tenant"),
		Page:   store.Page{Cursor: r.URL.Query().Get("cursor")},
	})
	if err != nil {
		a.fail(w, err)
		return
	}
	type out struct {
		ID         string              `json:"id"`
		EndpointID string              `json:"endpoint_id"`
		EventID    string              `json:"event_id"`
		EventType  string              `json:"event_type"`
		State      store.DeliveryState `json:"state"`
		Attempts   int                 `json:"attempts"`
		LastError  string              `json:"last_error,omitempty"`
	}
	list := make([]out, 0, len(ds))
	for _, d := range ds {
		list = append(list, out{d.ID, d.EndpointID, d.Event.ID, d.Event.Type, d.State, d.Attempts, d.LastError})
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": list, "next_cursor": next})
}

// fail answers an error: 422 naming the field for an endpoint the sender
// refuses (a *store.FieldError: "url: ...", "event types[0]: ..."), 400
// for another invalid argument (a bad cursor), 404, 409, and 500 (logged,
// not shown) for the rest. Error texts are never shown: they name the
// code that failed, not what the client should fix.
func (a *api) fail(w http.ResponseWriter, err error) {
	var fe *store.FieldError
	switch {
	case errors.As(err, &fe):
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": fe.Field + ": " + fe.Reason, "field": fe.Field})
	case errors.Is(err, store.ErrInvalid):
		httpError(w, http.StatusBadRequest, "invalid request")
	case errors.Is(err, store.ErrNotFound):
		httpError(w, http.StatusNotFound, "not found")
	case errors.Is(err, store.ErrConflict):
		httpError(w, http.StatusConflict, "conflict")
	default:
		a.log.Error("producer: request failed", "err", err)
		httpError(w, http.StatusInternalServerError, "internal error")
	}
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		httpError(w, http.StatusBadRequest, fmt.Sprintf("invalid JSON body: %v", err))
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func httpError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
