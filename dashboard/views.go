package dashboard

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
)

// endpointView is what pages and the JSON API show of an endpoint: never a
// secret's key.
type endpointView struct {
	ID             string            `json:"id"`
	Tenant         string            `json:"tenant"`
	Account        string            `json:"account,omitempty"` // "": organization-wide
	Format         string            `json:"format"`            // the body format's name
	Mode           string            `json:"mode"`
	URL            string            `json:"url"`
	Description    string            `json:"description"`
	EventTypes     []string          `json:"event_types"`
	Disabled       bool              `json:"disabled"`
	DisabledReason string            `json:"disabled_reason,omitempty"`
	DisabledAt     *time.Time        `json:"disabled_at,omitempty"`
	Health         healthView        `json:"health"`
	Warning        bool              `json:"warning"`
	Secrets        []secretView      `json:"secrets"`
	OAuth2         *oauth2View       `json:"oauth2,omitempty"`
	TLS            *tlsView          `json:"tls,omitempty"`
	Metadata       map[string]string `json:"metadata,omitempty"`
	CreatedAt      time.Time         `json:"created_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
}

type healthView struct {
	ConsecutiveFailures int        `json:"consecutive_failures"`
	FailingSince        *time.Time `json:"failing_since,omitempty"`
	LastSuccessAt       *time.Time `json:"last_success_at,omitempty"`
	LastFailureAt       *time.Time `json:"last_failure_at,omitempty"`
	// Breaker is the circuit breaker when not closed ("open", "half-open").
	Breaker      string     `json:"breaker,omitempty"`
	BreakerSince *time.Time `json:"breaker_since,omitempty"`
}

// oauth2View describes an endpoint's OAuth2 settings; the client secret
// is never shown, only [sender.RedactedValue] in its place.
type oauth2View struct {
	TokenURL     string   `json:"token_url"`
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret"`
	Scopes       []string `json:"scopes,omitempty"`
	Audience     string   `json:"audience,omitempty"`
}

// tlsView says which TLS settings an endpoint has, with the client
// certificate's subject and expiry when it parses; the private key is never
// shown, not even its length.
type tlsView struct {
	ClientCertificate bool       `json:"client_certificate"`
	CertSubject       string     `json:"client_certificate_subject,omitempty"`
	CertNotAfter      *time.Time `json:"client_certificate_expires_at,omitempty"`
	CABundle          bool       `json:"ca_bundle"`
	CACertificates    int        `json:"ca_certificates,omitempty"` // PEM certificate blocks in the bundle
	// CertExpired says the certificate has expired (pages only).
	CertExpired bool `json:"-"`
}

// tlsViewOf describes t at now. Only certificates are parsed: the first
// CERTIFICATE block of CertPEM (the leaf) for its subject and expiry, and
// the blocks of CAPEM are counted. KeyPEM is never read.
func tlsViewOf(t *store.ClientTLS, now time.Time) *tlsView {
	v := &tlsView{ClientCertificate: t.CertPEM != "", CABundle: t.CAPEM != ""}
	if leaf := firstCertificate(t.CertPEM); leaf != nil {
		v.CertSubject = leaf.Subject.String()
		v.CertNotAfter = timePtr(leaf.NotAfter)
		v.CertExpired = now.After(leaf.NotAfter)
	}
	for rest := []byte(t.CAPEM); ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			v.CACertificates++
		}
	}
	return v
}

// firstCertificate parses the first CERTIFICATE block of certPEM, or
// returns nil.
func firstCertificate(certPEM string) *x509.Certificate {
	for rest := []byte(certPEM); ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return nil
		}
		if b.Type == "CERTIFICATE" {
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil
			}
			return c
		}
	}
}

// secretView describes a secret without its key.
type secretView struct {
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	Active    bool       `json:"active"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func (h *handler) endpointView(ep *store.Endpoint) endpointView {
	now := h.now()
	v := endpointView{
		ID:             ep.ID,
		Tenant:         ep.Tenant,
		Account:        ep.Account,
		Format:         ep.Format.Name(),
		Mode:           string(ep.Mode),
		URL:            shownURL(ep.URL),
		Description:    ep.Description,
		EventTypes:     slices.Clone(ep.EventTypes),
		Disabled:       ep.Disabled,
		DisabledReason: ep.DisabledReason,
		DisabledAt:     timePtr(ep.DisabledAt),
		Health: healthView{
			ConsecutiveFailures: ep.Health.ConsecutiveFailures,
			FailingSince:        timePtr(ep.Health.FailingSince),
			LastSuccessAt:       timePtr(ep.Health.LastSuccessAt),
			LastFailureAt:       timePtr(ep.Health.LastFailureAt),
			Breaker:             string(ep.Health.Breaker),
			BreakerSince:        timePtr(ep.Health.BreakerSince),
		},
		Warning:   ep.Disabled || ep.Health.ConsecutiveFailures >= h.warnAt,
		Metadata:  ep.Metadata,
		CreatedAt: ep.CreatedAt.UTC(),
		UpdatedAt: ep.UpdatedAt.UTC(),
	}
	for _, s := range ep.Secrets {
		v.Secrets = append(v.Secrets, secretView{CreatedAt: s.CreatedAt.UTC(), ExpiresAt: timePtr(s.ExpiresAt), Active: s.Active(now)})
	}
	if o := ep.OAuth2; o != nil {
		v.OAuth2 = &oauth2View{TokenURL: shownURL(o.TokenURL), ClientID: o.ClientID, ClientSecret: sender.RedactedValue,
			Scopes: slices.Clone(o.Scopes), Audience: o.Audience}
	}
	if t := ep.TLS; t != nil {
		v.TLS = tlsViewOf(t, now)
	}
	return v
}

// shownURL is an endpoint URL as the dashboard shows it: its userinfo (user
// name and password) is a credential the sender sends as basic auth and
// redacts from the attempt log, so it is redacted the same way
// ([sender.RedactURL]: https://(redacted)@host/...).
func shownURL(raw string) string { return sender.RedactURL(raw) }

// submittedURL is the URL an update stores: the current one when the
// submitted URL is the current one as shown (its userinfo redacted), so
// saving an edit form does not replace the credentials with "(redacted)".
// Only the exact URL as shown keeps them: a changed host must not inherit
// credentials meant for another.
func submittedURL(current, submitted string) string {
	if submitted != current && submitted == shownURL(current) {
		return current
	}
	return submitted
}

// deliveryView is a row of the delivery log.
type deliveryView struct {
	ID            string          `json:"id"`
	EndpointID    string          `json:"endpoint_id"`
	Tenant        string          `json:"tenant"`
	EventID       string          `json:"event_id"`
	EventType     string          `json:"event_type"`
	Mode          string          `json:"mode"`
	State         string          `json:"state"`
	Attempts      int             `json:"attempts"`
	CreatedAt     time.Time       `json:"created_at"`
	NextAttemptAt *time.Time      `json:"next_attempt_at,omitempty"`
	LastAttemptAt *time.Time      `json:"last_attempt_at,omitempty"`
	FinishedAt    *time.Time      `json:"finished_at,omitempty"`
	LastError     string          `json:"last_error,omitempty"`
	Data          json.RawMessage `json:"data"`
	// Latest is the most recent attempt (pages only).
	Latest *attemptView `json:"-"`
}

func deliveryViewOf(d *store.Delivery) deliveryView {
	v := deliveryView{
		ID:            d.ID,
		EndpointID:    d.EndpointID,
		Tenant:        d.Tenant,
		EventID:       d.Event.ID,
		EventType:     d.Event.Type,
		Mode:          string(d.Event.APIMode),
		State:         string(d.State),
		Attempts:      d.Attempts,
		CreatedAt:     d.CreatedAt.UTC(),
		LastAttemptAt: timePtr(d.LastAttemptAt),
		FinishedAt:    timePtr(d.FinishedAt),
		LastError:     d.LastError,
		Data:          json.RawMessage(slices.Clone(d.Event.Data)),
	}
	if d.State == store.StatePending || d.State == store.StateLeased {
		v.NextAttemptAt = timePtr(d.NextAttemptAt)
	}
	return v
}

// Retryable reports whether the page offers "retry now" (failed) or
// "resend" (succeeded): the states [sender.Sender.Retry] accepts.
func (d deliveryView) Retryable() bool {
	return d.State == string(store.StateFailed) || d.State == string(store.StateSucceeded)
}

// attemptView is one attempt with its request and response.
type attemptView struct {
	ID                string      `json:"id"`
	DeliveryID        string      `json:"delivery_id"`
	EndpointID        string      `json:"endpoint_id"`
	EventID           string      `json:"event_id"`
	EventType         string      `json:"event_type"`
	Number            int         `json:"number"`
	At                time.Time   `json:"at"`
	DurationMS        float64     `json:"duration_ms"`
	URL               string      `json:"url"`
	RequestHeaders    http.Header `json:"request_headers"`
	RequestBody       string      `json:"request_body"`
	StatusCode        int         `json:"status"`
	ResponseHeaders   http.Header `json:"response_headers"`
	ResponseBody      string      `json:"response_body"`
	ResponseTruncated bool        `json:"response_truncated,omitempty"`
	Error             string      `json:"error,omitempty"`
	Success           bool        `json:"success"`
	Format            string      `json:"format"` // the request body's format's name
	duration          time.Duration
}

func attemptViewOf(a *store.Attempt) *attemptView {
	return &attemptView{
		ID:                a.ID,
		DeliveryID:        a.DeliveryID,
		EndpointID:        a.EndpointID,
		EventID:           a.EventID,
		EventType:         a.EventType,
		Format:            a.Format.Name(),
		Number:            a.Number,
		At:                a.At.UTC(),
		DurationMS:        float64(a.Duration.Microseconds()) / 1000,
		URL:               shownURL(a.URL), // attempts logged before the whole userinfo was redacted
		RequestHeaders:    redactHeaders(a.RequestHeaders),
		RequestBody:       string(a.RequestBody),
		StatusCode:        a.StatusCode,
		ResponseHeaders:   a.ResponseHeaders.Clone(),
		ResponseBody:      string(a.ResponseBody),
		ResponseTruncated: a.ResponseTruncated,
		Error:             a.Error,
		Success:           a.Success,
		duration:          a.Duration,
	}
}

// Duration is the attempt's duration for people.
func (a *attemptView) Duration() string { return fmtDuration(a.duration) }

// redactHeaders copies request headers, hiding the values of headers that
// usually carry credentials (an endpoint's extra headers may hold an API
// key). Signature headers are kept: they are not secrets.
func redactHeaders(hd http.Header) http.Header {
	c := hd.Clone()
	for k := range c {
		switch strings.ToLower(k) {
		case "authorization", "proxy-authorization", "cookie", "x-api-key", "api-key":
			c[k] = []string{"(redacted)"}
		}
	}
	return c
}

// headerLine is one "Name: value" pair for display.
type headerLine struct{ Name, Value string }

func headerLines(hd http.Header) []headerLine {
	keys := make([]string, 0, len(hd))
	for k := range hd {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []headerLine
	for _, k := range keys {
		for _, v := range hd[k] {
			out = append(out, headerLine{k, v})
		}
	}
	return out
}

// prettyJSON indents a JSON body for display; anything else is shown as is.
func prettyJSON(s string) string {
	var buf bytes.Buffer
	if json.Indent(&buf, []byte(s), "", "  ") == nil {
		return buf.String()
	}
	return s
}

func fmtTime(v any) string {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case *time.Time:
		if x == nil {
			return "—"
		}
		t = *x
	default:
		return ""
	}
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func fmtDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0 ms"
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return d.Round(100 * time.Millisecond).String()
}

func statusText(code int) string {
	if code == 0 {
		return "no response"
	}
	return fmt.Sprintf("%d %s", code, http.StatusText(code))
}

// link returns the path of a page under the base path, from path segments,
// each escaped.
func (h *handler) link(segs ...string) string {
	var b strings.Builder
	b.WriteString(h.base)
	for i, s := range segs {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// funcs are the template functions; url builds links under the base path
// from path segments, each escaped.
func (h *handler) funcs() template.FuncMap {
	return template.FuncMap{
		"url":        h.link,
		"time":       fmtTime,
		"status":     statusText,
		"pretty":     prettyJSON,
		"headers":    headerLines,
		"join":       strings.Join,
		"contains":   slices.Contains[[]string, string],
		"okStatus":   func(code int) bool { return code >= 200 && code < 300 },
		"sub":        func(a, b int) int { return a - b },
		"stateClass": func(s string) string { return "state-" + s },
	}
}
