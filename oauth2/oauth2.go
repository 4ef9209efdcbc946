// Package oauth2 gives a webhookkit sender OAuth 2.0 client credentials for
// its endpoints: a [Source] is a sender.TokenSource that obtains each
// endpoint's access token with golang.org/x/oauth2/clientcredentials (token
// URL, client id and secret, scopes and audience from store.Endpoint.OAuth2),
// caches it until shortly before it expires, and fetches a new one when it
// is about to expire or the endpoint's settings change.
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

// Config configures a [Source]. The zero value (or nil) works.
type Config struct {
	// RefreshBefore is how long before its expiry a token is replaced by
	// a new one (for a token that lives less than twice as long: half its
	// life). Zero: [DefaultRefreshBefore].
	RefreshBefore time.Duration
	// Now is the clock that ages cached tokens. Nil: time.Now.
	Now func() time.Time
}

// Source obtains and caches OAuth2 client-credentials tokens per endpoint.
// Create one with [New]; it is safe for concurrent use, and concurrent
// attempts to one endpoint share one token request.
type Source struct {
	early time.Duration
	now   func() time.Time

	mu      sync.Mutex
	entries map[string]*entry // by endpoint id
}

var _ sender.TokenSource = (*Source)(nil)

// entry is one endpoint's token. mu is held while a token is fetched, so
// the others wait for it instead of fetching their own.
type entry struct {
	mu       sync.Mutex
	settings [32]byte // hash of the settings the token was fetched with
	header   string   // "" when there is no token
	refresh  time.Time
}

// New returns a Source configured by cfg (nil: defaults).
func New(cfg *Config) *Source {
	s := &Source{early: DefaultRefreshBefore, now: time.Now, entries: make(map[string]*entry)}
	if cfg != nil && cfg.RefreshBefore > 0 {
		s.early = cfg.RefreshBefore
	}
	if cfg != nil && cfg.Now != nil {
		s.now = cfg.Now
	}
	return s
}

// Authorization returns the Authorization header value for ep ("Bearer
// <token>"): the cached token when it is not about to expire and ep's
// OAuth2 settings are those it was fetched with, else a new one from ep's
// token URL, requested through client within ctx. An endpoint without
// OAuth2 settings gets "" and no error. Errors are x/oauth2's (a
// *oauth2.RetrieveError for an answer that is not a token), whose text
// never holds the client secret.
func (s *Source) Authorization(ctx context.Context, client *http.Client, ep *store.Endpoint) (string, error) {
	o := ep.OAuth2
	if o == nil {
		return "", nil
	}
	sum := fingerprint(o)
	s.mu.Lock()
	e := s.entries[ep.ID]
	if e == nil {
		e = &entry{}
		s.entries[ep.ID] = e
	}
	s.mu.Unlock()

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.header != "" && e.settings == sum && (e.refresh.IsZero() || s.now().Before(e.refresh)) {
		return e.header, nil
	}
	e.header = ""
	start := s.now()
	cc := clientcredentials.Config{ClientID: o.ClientID, ClientSecret: o.ClientSecret, TokenURL: o.TokenURL, Scopes: o.Scopes}
	if o.Audience != "" {
		cc.EndpointParams = url.Values{"audience": {o.Audience}}
	}
	tok, err := cc.Token(context.WithValue(ctx, xoauth2.HTTPClient, client))
	if err != nil {
		return "", err
	}
	e.settings, e.header, e.refresh = sum, tok.Type()+" "+tok.AccessToken, time.Time{}
	if !tok.Expiry.IsZero() {
		life := time.Until(tok.Expiry)
		e.refresh = start.Add(life - min(s.early, life/2))
	}
	return e.header, nil
}

// Forget drops the cached token of an endpoint (deleted, say). Tokens of
// changed settings are replaced without it.
func (s *Source) Forget(endpointID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.entries, endpointID)
}

// fingerprint is a hash of the settings a token depends on.
func fingerprint(o *store.OAuth2) [32]byte {
	return sha256.Sum256([]byte(strings.Join(append([]string{o.TokenURL, o.ClientID, o.ClientSecret, o.Audience}, o.Scopes...), "\x00")))
}
