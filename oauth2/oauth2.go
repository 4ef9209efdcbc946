// Package oauth2 gives a webhookkit sender OAuth 2.0 client credentials for
// its endpoints: a [Source] is a sender.TokenSource that obtains each
// endpoint's access token with golang.org/x/oauth2/clientcredentials (token
// URL, client id and secret, scopes and audience from store.Endpoint.OAuth2),
// caches it until shortly before it expires, and fetches a new one when it
// is about to expire or the endpoint's settings change. An endpoint no
// attempt has asked for a token for a while (Config.IdleTTL: deleted,
// disabled, or quiet) is dropped from the cache, so a long-running process
// keeps no tokens of endpoints it no longer delivers to.
//
// Token requests go through the HTTP client the sender passes: the sender's
// own, so the private-address guard, the proxy and the request timeout
// apply to the token endpoint as to deliveries.
//
//	snd, err := sender.New(st, &sender.Config{OAuth2: oauth2.New(nil)})
//
// It lives in a module of its own so that the core module does not depend
// on golang.org/x/oauth2.
package oauth2

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	xoauth2 "golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
)

// DefaultRefreshBefore is how long before its expiry a cached token is
// replaced, when Config.RefreshBefore is zero.
const DefaultRefreshBefore = time.Minute

// DefaultIdleTTL is how long a cached token stays unused before it is
// dropped, when Config.IdleTTL is zero.
const DefaultIdleTTL = time.Hour

// Config configures a [Source]. The zero value (or nil) works.
type Config struct {
	// RefreshBefore is how long before its expiry a token is replaced by
	// a new one (for a token that lives less than twice as long: half its
	// life). Zero: [DefaultRefreshBefore].
	RefreshBefore time.Duration
	// IdleTTL is how long an endpoint's cached token is kept after the
	// last call of Authorization for it: the token of an endpoint that
	// was deleted or disabled, here or by another process, goes
	// without anyone calling [Source.Forget]. Authorization itself sweeps
	// the cache, at most once per IdleTTL: the first call at least IdleTTL
	// after the previous sweep drops every token unused for IdleTTL. So
	// while any endpoint is delivered to, the cache holds only endpoints
	// used within the last two IdleTTLs. A dropped endpoint gets a new
	// token at its next attempt. Zero: [DefaultIdleTTL]. Negative: tokens
	// are kept until replaced or forgotten.
	IdleTTL time.Duration
	// Now is the clock that ages cached tokens and times how long they
	// went unused. Nil: time.Now.
	Now func() time.Time
}

// Source obtains and caches OAuth2 client-credentials tokens per endpoint,
// one per endpoint id: a token fetched with other settings than the
// endpoint's current ones is replaced, not kept beside them, and one unused
// for [Config].IdleTTL is dropped. Create one with [New]; it is safe for
// concurrent use, and concurrent attempts to one endpoint share one token
// request.
type Source struct {
	early time.Duration
	idle  time.Duration // <= 0: never drop idle entries
	now   func() time.Time

	mu      sync.Mutex
	entries map[string]*entry // by endpoint id
	swept   time.Time         // when idle entries were last dropped
}

var (
	_ sender.TokenSource    = (*Source)(nil)
	_ sender.TokenForgetter = (*Source)(nil) // the sender forgets a token an endpoint refused with 401
)

// entry is one endpoint's token. Its fields but used are guarded by busy,
// a lock that a waiter can give up on when its context ends: it is held
// while a token is fetched, so the others wait for it instead of fetching
// their own.
type entry struct {
	busy     chan struct{} // holds one value while locked
	settings [32]byte      // hash of the settings the token was fetched with
	header   string        // "" when there is no token
	refresh  time.Time     // when to replace it; zero: never
	expiry   time.Time     // when it expires; zero: never
	used     time.Time     // the last call of Authorization for it; Source.mu guards it
}

// New returns a Source configured by cfg (nil: defaults).
func New(cfg *Config) *Source {
	s := &Source{early: DefaultRefreshBefore, idle: DefaultIdleTTL, now: time.Now, entries: make(map[string]*entry)}
	if cfg != nil && cfg.RefreshBefore > 0 {
		s.early = cfg.RefreshBefore
	}
	if cfg != nil && cfg.IdleTTL != 0 {
		s.idle = cfg.IdleTTL
	}
	if cfg != nil && cfg.Now != nil {
		s.now = cfg.Now
	}
	return s
}

// Authorization returns the Authorization header value for ep ("Bearer
// <token>"): the cached token when it is not about to expire and ep's
// OAuth2 settings are those it was fetched with, else a new one from ep's
// token URL, requested through client within ctx (when that request fails
// before the cached token has expired, the cached token). It also drops the
// tokens of endpoints unused for [Config].IdleTTL. An endpoint without
// OAuth2 settings gets "" and no error. Concurrent calls for one endpoint
// share one token request; a call waiting for another's returns an error
// wrapping ctx.Err() when ctx ends first. Other errors wrap x/oauth2's (a
// *oauth2.RetrieveError for an answer that is not a token, whose Body is
// the answer as received); their text holds the client secret neither as
// given nor form-encoded, even when the answer repeats the request.
func (s *Source) Authorization(ctx context.Context, client *http.Client, ep *store.Endpoint) (string, error) {
	o := ep.OAuth2
	if o == nil {
		return "", nil
	}
	sum := fingerprint(o)
	now := s.now()
	s.mu.Lock()
	s.sweep(now)
	e := s.entries[ep.ID]
	if e == nil {
		e = &entry{busy: make(chan struct{}, 1)}
		s.entries[ep.ID] = e
	}
	e.used = now
	s.mu.Unlock()

	if err := e.lock(ctx); err != nil {
		return "", err
	}
	defer e.unlock()
	if e.header != "" && e.settings == sum && (e.refresh.IsZero() || s.now().Before(e.refresh)) {
		return e.header, nil
	}
	start := s.now()
	cc := clientcredentials.Config{ClientID: o.ClientID, ClientSecret: o.ClientSecret, TokenURL: o.TokenURL, Scopes: o.Scopes}
	if o.Audience != "" {
		cc.EndpointParams = url.Values{"audience": {o.Audience}}
	}
	tok, err := cc.Token(context.WithValue(ctx, xoauth2.HTTPClient, client))
	if err != nil {
		// A token replaced early is still good until it expires: a
		// failed request to replace it fails no attempt before then.
		if e.header != "" && e.settings == sum && ctx.Err() == nil && s.now().Before(e.expiry) {
			return e.header, nil
		}
		e.header = ""
		return "", redact(err, o.ClientSecret)
	}
	e.settings, e.header, e.refresh, e.expiry = sum, tok.Type()+" "+tok.AccessToken, time.Time{}, time.Time{}
	if !tok.Expiry.IsZero() {
		// x/oauth2 sets Expiry from expires_in on the real clock; the
		// token's remaining life, measured on that clock, is then counted
		// from when the fetch started on s.now's.
		life := time.Until(tok.Expiry)
		e.refresh = start.Add(life - min(s.early, life/2))
		e.expiry = start.Add(life)
	}
	return e.header, nil
}

// redact returns err with secret, as given or form-encoded, replaced in
// its text by "[redacted]": x/oauth2's errors repeat the token endpoint's
// answer, which may repeat the request. It unwraps to err.
func redact(err error, secret string) error {
	if secret == "" {
		return err
	}
	text := err.Error()
	red := strings.ReplaceAll(text, secret, "[redacted]")
	red = strings.ReplaceAll(red, url.QueryEscape(secret), "[redacted]")
	if red == text {
		return err
	}
	return &redactedError{err: err, text: red}
}

// redactedError is an error whose text is redacted.
type redactedError struct {
	err  error
	text string
}

func (e *redactedError) Error() string { return e.text }
func (e *redactedError) Unwrap() error { return e.err }

// lock locks e, unless ctx ends first: then it returns ctx's error, so
// that an attempt waiting for another's token request ends with its own
// context rather than with the other request.
func (e *entry) lock(ctx context.Context) error {
	select {
	case e.busy <- struct{}{}:
		return nil
	default:
	}
	select {
	case e.busy <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("oauth2: waiting for another attempt's token request: %w", ctx.Err())
	}
}

func (e *entry) unlock() { <-e.busy }

// Forget drops the cached token of an endpoint at once: one deleted, say,
// when its token should not wait for [Config].IdleTTL to go, or, as the
// sender does (see sender.TokenForgetter), one whose endpoint answered 401
// Unauthorized, so that the next attempt presents a new token. Tokens of
// changed settings are replaced without it. An attempt already fetching a
// token for the endpoint still gets it; the next fetches a new one.
func (s *Source) Forget(endpointID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.entries, endpointID)
}

// sweep drops the entries unused since now minus the idle TTL, at most
// once per idle TTL. s.mu must be held.
func (s *Source) sweep(now time.Time) {
	if s.idle <= 0 || now.Sub(s.swept) < s.idle {
		return
	}
	s.swept = now
	cutoff := now.Add(-s.idle)
	for id, e := range s.entries {
		if e.used.Before(cutoff) {
			delete(s.entries, id)
		}
	}
}

// fingerprint is a hash of the settings a token depends on: each text
// length-prefixed, so that no two settings hash the same texts whatever
// bytes they hold.
func fingerprint(o *store.OAuth2) [32]byte {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	for _, s := range append([]string{o.TokenURL, o.ClientID, o.ClientSecret, o.Audience}, o.Scopes...) {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
		h.Write([]byte(s))
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}
