package sender

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

// Endpoints administers the endpoints of a sender's mode: the one place
// that creates, edits, enables, disables and deletes them and rotates their
// secrets, so that each is checked by the rules the sender delivers by, and
// the same place that keeps their health as attempts succeed and fail
// (warning, automatic disabling, recovery) and calls the endpoint hooks.
// Get one with [Sender.Endpoints]; dashboards and command-line tools should
// administer endpoints through it rather than through the store.
//
// Every endpoint it creates or updates passes [store.Endpoint.Validate]
// (mode, URL shape, patterns, secrets that sign, limits), the sender's URL
// policy ([Endpoints.CheckURL]), has the sender's mode, has event-type
// patterns that each select at least one type of Config.Catalog when one
// is set (typo protection: "order.payed" is refused, wrapping
// [event.ErrUnknownType]), and has extra headers that are valid HTTP (a token name; a value without control
// characters such as CR or LF) and that the sender does not set itself
// (Content-Type, User-Agent, the webhook-* headers, and those net/http
// manages such as Host and Content-Length). A refusal is a
// *[store.FieldError] (find it with errors.As) that wraps
// [store.ErrInvalid], and [ErrModeMismatch], [ErrPrivateAddress] or
// [ErrInsecureURL] when one of those is the cause.
//
// Methods taking an id refuse an endpoint of the other mode with
// [ErrModeMismatch] and an unknown id with [store.ErrNotFound]. After the
// sender is closed every method but CheckURL returns [ErrClosed]. It is safe
// for concurrent use.
//
// Update and RotateSecret read the endpoint, change it and write it back;
// the store offers no version check (compare-and-swap) to make that
// atomic. Within one process the Endpoints serialises them, so neither
// loses the other's change; across processes two edits of one endpoint at
// the same moment may: the last write wins, and an Update in one process
// racing a RotateSecret in another may drop the new secret (rotate again,
// or edit endpoints from one process).
type Endpoints struct {
	s *Sender

	editMu    sync.Mutex // one read-modify-write edit (Update, RotateSecret) at a time
	disableMu sync.Mutex // one disable (and one hook) at a time in this process
}

// Endpoints returns the sender's endpoint administration. The value is the
// same on every call.
func (s *Sender) Endpoints() *Endpoints { return s.eps }

// Create checks ep (see [Endpoints]) and stores it, filling in on success
// what the store assigns: ID (a UUID when empty), CreatedAt, UpdatedAt and
// the secrets' CreatedAt. An empty Mode means the sender's. When ep.Secrets
// is empty, Create generates a "whsec_" secret, stores it as ep's only
// secret and returns it: show it to the endpoint's owner once
// ([signature.Secret.String] is its text), it is not shown again. When the
// caller supplies secrets it returns the zero Secret. On error ep is not
// changed; an existing ID is [store.ErrConflict].
//
// ep.Account (an account of the organization ep.Tenant; empty:
// organization-wide) and ep.Format (the body shape) are fixed from now on.
// An ep with Disabled set is created disabled (an inactive webhook: publishing
// skips it until [Endpoints.Enable]), with DisabledAt now and DisabledReason
// "created disabled" unless given; no hook is called.
func (e *Endpoints) Create(ctx context.Context, ep *store.Endpoint) (signature.Secret, error) {
	if e.s.isClosed() {
		return signature.Secret{}, ErrClosed
	}
	if ep == nil {
		return signature.Secret{}, fmt.Errorf("sender: create endpoint: %w: nil endpoint", store.ErrInvalid)
	}
	c := ep.Clone()
	if c.Mode == "" {
		c.Mode = e.s.cfg.Mode
	}
	if c.Disabled {
		if c.DisabledAt.IsZero() {
			c.DisabledAt = e.s.now()
		}
		if c.DisabledReason == "" {
			c.DisabledReason = "created disabled"
		}
	}
	var sec signature.Secret
	if len(c.Secrets) == 0 {
		var err error
		if sec, err = signature.NewSecret(); err != nil {
			return signature.Secret{}, fmt.Errorf("sender: create endpoint: %w", err)
		}
		c.Secrets = []store.SigningKey{{Key: sec.String(), CreatedAt: e.s.now()}}
	}
	if err := e.check(c, nil); err != nil {
		return signature.Secret{}, fmt.Errorf("sender: create endpoint: %w", err)
	}
	if err := e.s.st.CreateEndpoint(ctx, c); err != nil {
		return signature.Secret{}, fmt.Errorf("sender: create endpoint: %w", err)
	}
	*ep = *c
	return sec, nil
}

// Get returns the endpoint with the given id.
func (e *Endpoints) Get(ctx context.Context, id string) (*store.Endpoint, error) {
	if e.s.isClosed() {
		return nil, ErrClosed
	}
	return e.get(ctx, id)
}

// List returns one page of the endpoints f selects, ordered by ID, and the
// cursor of the next page ("" after the last). f.Mode empty means the
// sender's mode; the other mode is [ErrModeMismatch].
func (e *Endpoints) List(ctx context.Context, f store.EndpointFilter) ([]*store.Endpoint, string, error) {
	if e.s.isClosed() {
		return nil, "", ErrClosed
	}
	switch f.Mode {
	case "":
		f.Mode = e.s.cfg.Mode
	case e.s.cfg.Mode:
	default:
		return nil, "", fmt.Errorf("%w: listing %q endpoints, sender is %q", ErrModeMismatch, f.Mode, e.s.cfg.Mode)
	}
	eps, next, err := e.s.st.ListEndpoints(ctx, f)
	if err != nil {
		return nil, "", fmt.Errorf("sender: list endpoints: %w", err)
	}
	return eps, next, nil
}

// Update replaces the user-editable fields of the stored endpoint ep.ID
// with ep's: URL, Description, EventTypes, Headers, RateLimit, Burst,
// MaxInFlight and Metadata. Secrets are not changed by Update (ep.Secrets
// is ignored: see [Endpoints.RotateSecret]), nor are the enabled state and
// health (see Enable and Disable) or the dates. Mode, Tenant, Account and
// Format cannot change: an empty Mode or Format means the endpoint's,
// another Tenant, Account, Mode or Format is refused (a *[store.FieldError]
// naming it). The result is checked as Create checks, except that an
// unchanged URL is not held to the URL policy again, nor a pattern the
// endpoint had already to the catalog, so an endpoint stored before a
// stricter policy or a smaller catalog can still be edited. On success ep.UpdatedAt is
// set as stored; ep is not otherwise changed.
func (e *Endpoints) Update(ctx context.Context, ep *store.Endpoint) error {
	if e.s.isClosed() {
		return ErrClosed
	}
	if ep == nil {
		return fmt.Errorf("sender: update endpoint: %w: nil endpoint", store.ErrInvalid)
	}
	e.editMu.Lock()
	defer e.editMu.Unlock()
	cur, err := e.get(ctx, ep.ID)
	if err != nil {
		return err
	}
	if ep.Tenant != cur.Tenant {
		return fmt.Errorf("sender: update endpoint %q: %w", ep.ID,
			&store.FieldError{Field: "tenant", Reason: "an endpoint's tenant cannot be changed"})
	}
	if ep.Account != cur.Account {
		return fmt.Errorf("sender: update endpoint %q: %w", ep.ID,
			&store.FieldError{Field: "account", Reason: "an endpoint's account cannot be changed"})
	}
	if ep.Format != "" && ep.Format.Name() != cur.Format.Name() {
		return fmt.Errorf("sender: update endpoint %q: %w", ep.ID,
			&store.FieldError{Field: "format", Reason: "an endpoint's body format is chosen at creation and cannot be changed"})
	}
	c := ep.Clone()
	if c.Mode == "" {
		c.Mode = cur.Mode
	}
	c.Format = cur.Format
	c.Secrets = cur.Secrets
	if err := e.check(c, cur); err != nil {
		return fmt.Errorf("sender: update endpoint %q: %w", ep.ID, err)
	}
	if err := e.s.st.UpdateEndpoint(ctx, c); err != nil {
		return fmt.Errorf("sender: update endpoint %q: %w", ep.ID, err)
	}
	ep.UpdatedAt = c.UpdatedAt
	return nil
}

// Delete removes the endpoint and its pending and paused deliveries; its
// attempt log stays until pruned.
func (e *Endpoints) Delete(ctx context.Context, id string) error {
	if e.s.isClosed() {
		return ErrClosed
	}
	if _, err := e.get(ctx, id); err != nil {
		return err
	}
	if err := e.s.st.DeleteEndpoint(ctx, id); err != nil {
		return fmt.Errorf("sender: delete endpoint %q: %w", id, err)
	}
	e.s.per.forget(id)
	return nil
}

// Enable re-enables an endpoint: its health is reset, its paused
// deliveries become due now and the workers are woken. If it was disabled,
// Hooks.OnEndpointRecovered is called. Enabling an enabled endpoint resets
// its health and calls no hook.
func (e *Endpoints) Enable(ctx context.Context, id string) error {
	if e.s.isClosed() {
		return ErrClosed
	}
	before, err := e.get(ctx, id)
	if err != nil {
		return err
	}
	seq := e.s.per.seq()
	ep, err := e.s.st.SetDisabled(ctx, id, false, "", e.s.now())
	if err != nil {
		return fmt.Errorf("sender: enable endpoint %q: %w", id, err)
	}
	e.s.per.observe(seq, ep)
	if before.Disabled {
		e.s.log.LogAttrs(ctx, slog.LevelInfo, "sender: endpoint enabled", slog.String("endpoint_id", id))
		e.recovered(ctx, ep.Clone())
	}
	e.s.signal()
	return nil
}

// Disable disables an endpoint with a reason for people (empty: "disabled
// manually"): publishing skips it and its queued deliveries wait, paused,
// until it is enabled. If it was enabled, Hooks.OnEndpointDisabled is
// called; disabling a disabled endpoint changes nothing else.
func (e *Endpoints) Disable(ctx context.Context, id, reason string) error {
	if e.s.isClosed() {
		return ErrClosed
	}
	if reason == "" {
		reason = "disabled manually"
	}
	if _, err := e.get(ctx, id); err != nil {
		return err
	}
	_, err := e.disable(ctx, id, reason)
	return err
}

// RotateSecret adds a fresh "whsec_" signing secret to the endpoint and
// returns it (show it to the endpoint's owner once: [signature.Secret.String]
// is its text). The old secrets keep signing for overlap (zero:
// [DefaultRotationOverlap]; negative: they stop at once), so during the
// overlap every request carries a signature per secret and receivers can
// switch at their pace; secrets that had expired already are removed. See
// [Endpoints] on concurrent edits.
func (e *Endpoints) RotateSecret(ctx context.Context, id string, overlap time.Duration) (signature.Secret, error) {
	if e.s.isClosed() {
		return signature.Secret{}, ErrClosed
	}
	if overlap == 0 {
		overlap = DefaultRotationOverlap
	}
	sec, err := signature.NewSecret()
	if err != nil {
		return signature.Secret{}, fmt.Errorf("sender: rotate secret: %w", err)
	}
	e.editMu.Lock()
	defer e.editMu.Unlock()
	ep, err := e.get(ctx, id)
	if err != nil {
		return signature.Secret{}, err
	}
	now := e.s.now()
	until := now.Add(max(overlap, 0))
	kept := ep.Secrets[:0:0]
	for _, old := range ep.Secrets {
		if !old.Active(now) || overlap < 0 {
			continue
		}
		if old.ExpiresAt.IsZero() || old.ExpiresAt.After(until) {
			old.ExpiresAt = until
		}
		kept = append(kept, old)
	}
	ep.Secrets = append(kept, store.SigningKey{Key: sec.String(), CreatedAt: now})
	if err := e.s.st.UpdateEndpoint(ctx, ep); err != nil {
		return signature.Secret{}, fmt.Errorf("sender: rotate secret of %q: %w", id, err)
	}
	return sec, nil
}

// CheckURL reports whether rawURL may be the URL of one of the sender's
// endpoints, by the policy Create and Update apply: [CheckURL] with
// Config.AllowPrivateNetworks, and, for a live-mode sender with
// Config.RequireHTTPSInLive, https only ([ErrInsecureURL]). The error is a
// *[store.FieldError] for the field "url". It does not resolve host names
// (the sender checks resolved addresses when it dials) and works after
// Close.
func (e *Endpoints) CheckURL(rawURL string) error {
	if err := CheckURL(rawURL, e.s.cfg.AllowPrivateNetworks); err != nil {
		return err
	}
	if e.s.requireHTTPS() && !isHTTPS(rawURL) {
		return &store.FieldError{Field: "url", Reason: "live mode requires an https URL", Err: ErrInsecureURL}
	}
	return nil
}

// get loads an endpoint of the sender's mode.
func (e *Endpoints) get(ctx context.Context, id string) (*store.Endpoint, error) {
	return e.s.endpointIn(ctx, e.s.st, id)
}
