package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
)

// Defaults of send and simulate: a few retries with waits of seconds, so a
// command run by hand finishes while its user watches (the library's own
// schedule spans days), and the library's request timeout.
const (
	defaultMaxAttempts = 5
	defaultMinBackoff  = time.Second
	defaultMaxBackoff  = 30 * time.Second
	defaultTimeout     = sender.DefaultRequestTimeout
)

// deliveryFlags are the flags send and simulate share.
type deliveryFlags struct {
	url         *string
	secrets     listFlag
	headers     listFlag
	maxAttempts *int
	minBackoff  *time.Duration
	maxBackoff  *time.Duration
	timeout     *time.Duration
	verbose     *bool

	// as, when set, is the provider send signs as (other than the
	// Standard Webhooks ones the sender speaks): endpoint then leaves the
	// endpoint's secret to the sender (it signs nothing that is sent) and
	// deliver re-signs each request with as's body and secrets.
	as *providerSend
	// format is the endpoint's body format: the envelope, or the
	// event-payload body for send --provider event-payload.
	format store.BodyFormat
}

func addDeliveryFlags(fs *flag.FlagSet) *deliveryFlags {
	d := &deliveryFlags{}
	d.url = fs.String("url", "", "endpoint `URL` to POST to (loopback and private addresses allowed)")
	fs.Var(&d.secrets, "secret", "signing `key`: whsec_... or whsk_... (repeatable; default $WEBHOOK_SECRET)")
	fs.Var(&d.headers, "header", "extra request header `\"Name: value\"` (repeatable)")
	d.maxAttempts = fs.Int("max-attempts", defaultMaxAttempts, "give up after `N` attempts in all")
	d.minBackoff = fs.Duration("min-backoff", defaultMinBackoff, "least wait between the end of an attempt and the next one")
	d.maxBackoff = fs.Duration("max-backoff", defaultMaxBackoff, "cap on the random part of a wait above --min-backoff (it starts at --min-backoff and doubles)")
	d.timeout = fs.Duration("timeout", defaultTimeout, "time limit of each attempt")
	d.verbose = fs.Bool("v", false, "log the sender's details on stderr")
	return d
}

// endpoint validates the flags and returns the one-off endpoint they
// describe; the sender's endpoint owner checks it further when deliver
// creates it.
func (d *deliveryFlags) endpoint(e *env, mode event.Mode) (*store.Endpoint, error) {
	if *d.url == "" {
		return nil, usagef("--url is required")
	}
	if u, err := url.Parse(*d.url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usagef("--url must be an absolute http or https URL")
	}
	var texts []string
	if d.as == nil {
		var err error
		if texts, err = secretsOrEnv(e, d.secrets); err != nil {
			return nil, err
		}
		if _, _, err := parseSigningKeys(texts); err != nil {
			return nil, err
		}
	}
	switch {
	case *d.maxAttempts < 1:
		return nil, usagef("--max-attempts must be 1 or more")
	case *d.minBackoff < 0:
		return nil, usagef("--min-backoff must not be negative")
	case *d.maxBackoff <= 0:
		return nil, usagef("--max-backoff must be positive")
	case *d.timeout <= 0:
		return nil, usagef("--timeout must be positive")
	}
	ep := &store.Endpoint{
		Mode:        mode,
		URL:         *d.url,
		Description: "webhook CLI",
		EventTypes:  []string{string(event.PatternAll)},
		Format:      d.format,
	}
	for _, t := range texts {
		ep.Secrets = append(ep.Secrets, store.SigningKey{Key: t})
	}
	for _, h := range d.headers {
		name, value, ok := strings.Cut(h, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, usagef("--header %q is not \"Name: value\"", h)
		}
		if ep.Headers == nil {
			ep.Headers = make(map[string]string)
		}
		ep.Headers[name] = strings.TrimSpace(value)
	}
	return ep, nil
}

// policy is the retry policy of the flags: exponential backoff with full
// jitter whose floor is --min-backoff, so no retry starts sooner than that
// after the previous attempt ended (the sender schedules from the end of an
// attempt, and Retry-After only lengthens a wait).
func (d *deliveryFlags) policy() retry.Policy {
	base := *d.minBackoff
	if base <= 0 {
		base = time.Millisecond
	}
	return retry.Exponential{
		Base:        base,
		Max:         *d.maxBackoff,
		MinDelay:    *d.minBackoff,
		MaxAttempts: *d.maxAttempts,
		MaxAge:      -1, // --max-attempts alone decides
	}
}

// refused reports whether status says the receiver refused the request's
// signature or credentials: 401 or 403. deliver does not retry them: the
// receiver would refuse every retry alike (a wrong --secret).
func refused(status int) bool {
	return status == http.StatusUnauthorized || status == http.StatusForbidden
}

// refusedHint is the message send and simulate end with after a 401 or 403.
const refusedHint = "the receiver refused the signature: check --secret (not retried)"

// attemptLine is the JSON line printed per attempt.
type attemptLine struct {
	Attempt    int    `json:"attempt"`
	Status     int    `json:"status"`
	Error      string `json:"error"`
	DurationMS int64  `json:"duration_ms"`
	// Body is, for an attempt answered with a status other than 2xx, the
	// start of the response body (see bodyExcerpt), where a receiver
	// explains a refusal; absent when empty.
	Body string `json:"body,omitempty"`
}

// enqueueFunc puts the event to deliver on the sender's queue for the
// endpoint and returns it.
type enqueueFunc func(ctx context.Context, s *sender.Sender, endpointID string) (event.Event, error)

// deliver delivers one event to the endpoint of the flags with the library's
// sender over a memory store, printing a JSON line per attempt, until it is
// delivered (nil) or given up (an exitError with code 1). The endpoint is
// created by the sender's endpoint owner: what it refuses (a header the
// sender sets itself, say) is a usage error naming the flag.
func deliver(ctx context.Context, e *env, name string, d *deliveryFlags, ep *store.Endpoint, enqueue enqueueFunc) error {
	st := memory.New(nil)
	lvl := slog.LevelError // attempts and giving up are reported already
	if *d.verbose {
		lvl = slog.LevelDebug
	}
	out := &jsonLines{w: e.stdout}
	var lastStatus atomic.Int64 // of the last attempt, for the end message
	var wrap func(http.RoundTripper) http.RoundTripper
	if d.as != nil {
		wrap = d.as.wrap
	}
	snd, err := sender.New(st, &sender.Config{
		Mode:                 ep.Mode,
		Workers:              1,
		RequestTimeout:       *d.timeout,
		Retry:                d.policy(),
		Classifier:           retry.Classifier{PermanentStatus: refused},
		DisableAfterFailures: -1,
		AllowPrivateNetworks: true, // the CLI delivers where its user points
		WrapTransport:        wrap,
		Logger:               slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: lvl})),
		Hooks: sender.Hooks{
			OnAttempt: func(_ context.Context, a *store.Attempt) {
				lastStatus.Store(int64(a.StatusCode))
				// A write error is kept by out and ends the loop below.
				line := attemptLine{
					Attempt: a.Number, Status: a.StatusCode, Error: a.Error, DurationMS: a.Duration.Milliseconds(),
				}
				if a.StatusCode != 0 && !a.Success {
					line.Body = bodyExcerpt(a.ResponseBody, maxBodyExcerpt)
				}
				_ = out.write(line)
			},
		},
	})
	if err != nil {
		return usagef("%v", err)
	}
	defer snd.Close()
	if _, err := snd.Endpoints().Create(ctx, ep); err != nil {
		var fe *store.FieldError
		if errors.As(err, &fe) {
			return usagef("%s: %s", flagOf(fe.Field), fe.Reason)
		}
		return err
	}

	ev, err := enqueue(ctx, snd, ep.ID)
	if err != nil {
		if errors.Is(err, sender.ErrPayloadTooLarge) || errors.Is(err, event.ErrInvalidData) ||
			errors.Is(err, event.ErrInvalidType) || errors.Is(err, event.ErrInvalidID) {
			return usagef("%v", err)
		}
		return err
	}
	what := fmt.Sprintf("event %s (%s, %s mode)", ev.ID, ev.Type, ev.APIMode)
	if d.as != nil {
		what = d.as.describe
	}
	fmt.Fprintf(e.stderr, "webhook %s: delivering %s to %s\n", name, what, sender.RedactURL(ep.URL))

	for {
		if _, err := snd.ProcessDue(ctx); err != nil {
			if ctx.Err() != nil {
				return &exitError{code: exitFailure, msg: "interrupted before the event was delivered"}
			}
			return err
		}
		if err := out.err(); err != nil {
			return err
		}
		dl, err := deliveryOf(ctx, st, ev.ID, ep.ID)
		if err != nil {
			return err
		}
		wait := 5 * time.Millisecond
		switch dl.State {
		case store.StateSucceeded:
			fmt.Fprintf(e.stderr, "webhook %s: delivered after %d attempt(s)\n", name, dl.Attempts)
			return nil
		case store.StateFailed:
			if refused(int(lastStatus.Load())) {
				return &exitError{code: exitFailure, msg: dl.LastError + ": " + refusedHint}
			}
			return &exitError{code: exitFailure, msg: dl.LastError}
		case store.StatePending:
			wait = max(time.Until(dl.NextAttemptAt), time.Millisecond)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return &exitError{code: exitFailure, msg: "interrupted before the event was delivered"}
		case <-t.C:
		}
	}
}

// flagOf names the flag behind an endpoint field the owner refused.
func flagOf(field string) string {
	switch {
	case field == "url":
		return "--url"
	case strings.HasPrefix(field, "secrets"):
		return "--secret"
	case strings.HasPrefix(field, "headers"):
		return "--header " + strings.TrimSuffix(strings.TrimPrefix(field, "headers["), "]")
	}
	return field
}

// deliveryOf returns the delivery of event eventID to endpoint endpointID.
func deliveryOf(ctx context.Context, st store.Deliveries, eventID, endpointID string) (*store.Delivery, error) {
	ds, _, err := st.ListDeliveries(ctx, store.DeliveryFilter{AllTenants: true, EventID: eventID, EndpointID: endpointID})
	if err != nil {
		return nil, err
	}
	if len(ds) != 1 {
		return nil, fmt.Errorf("expected one delivery of event %s, found %d", eventID, len(ds))
	}
	return ds[0], nil
}
