package sender

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"strings"

	"github.com/webhookkit/webhookkit/store"
)

// TokenSource obtains OAuth2 access tokens for endpoints with OAuth2
// settings (store.Endpoint.OAuth2). The sender calls it before every
// attempt to such an endpoint, so it should cache each endpoint's token
// until shortly before it expires, and fetch a new one when the settings
// change. Module github.com/webhookkit/webhookkit/oauth2 implements it with
// golang.org/x/oauth2's client-credentials grant. Implementations must be
// safe for concurrent use.
type TokenSource interface {
	// Authorization returns the Authorization header value for ep, such
	// as "Bearer <token>". Token requests must go through client: the
	// sender's HTTP client, with its private-address guard, proxy and
	// no redirects. ctx is the attempt's: it bounds the token request
	// too. An error fails the attempt (wrapped in [ErrOAuth2Token]); its
	// text is shown in the attempt log, with the client secret redacted.
	Authorization(ctx context.Context, client *http.Client, ep *store.Endpoint) (string, error)
}

// TokenForgetter is implemented by a [TokenSource] that can drop an
// endpoint's cached token. When an endpoint with OAuth2 settings answers
// 401 Unauthorized, the sender calls Forget, so that the retry asks for a
// new token rather than presenting the refused one until it expires (a
// token revoked early, or signed with a key the endpoint has rotated).
// The oauth2 module's Source implements it.
type TokenForgetter interface {
	Forget(endpointID string)
}

// forgetToken drops the cached token of an endpoint that refused it, when
// the token source can.
func (s *Sender) forgetToken(endpointID string) {
	if f, ok := s.cfg.OAuth2.(TokenForgetter); ok {
		f.Forget(endpointID)
	}
}

// tokenError is the error of an attempt whose token could not be had: its
// text is the token source's, redacted, after [ErrOAuth2Token]'s, and it
// unwraps to both, so errors.As still finds the token source's own error
// types.
type tokenError struct {
	text string
	err  error
}

func (e *tokenError) Error() string   { return ErrOAuth2Token.Error() + ": " + e.text }
func (e *tokenError) Unwrap() []error { return []error{ErrOAuth2Token, e.err} }

// authorize sets the Authorization header of a request to ep from its
// OAuth2 token, when it has OAuth2 settings, and reports whether it did.
func (s *Sender) authorize(ctx context.Context, ep *store.Endpoint, h http.Header) (bool, error) {
	o := ep.OAuth2
	if o == nil {
		return false, nil
	}
	if s.cfg.OAuth2 == nil {
		return false, ErrNoTokenSource
	}
	v, err := s.cfg.OAuth2.Authorization(ctx, s.client, ep)
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		hideResolver(err)
		text := err.Error()
		if o.ClientSecret != "" {
			text = strings.ReplaceAll(text, o.ClientSecret, RedactedValue)
		}
		return false, &tokenError{text: text, err: err}
	}
	h["Authorization"] = []string{v}
	return true, nil
}

// endpointClient is the client and direct transport (see Sender.do) of
// endpoints with TLS settings, built for one version of those settings.
type endpointClient struct {
	key    [32]byte // hash of the settings it was built from
	client *http.Client
	direct http.RoundTripper
	t      *http.Transport
}

// clientFor returns the client and direct transport that carry requests to
// ep: the sender's own, or, for an endpoint with TLS settings, a transport
// of its own (the guarded one, cloned, with the client certificate and CA
// bundle), built once and rebuilt when the settings change.
func (s *Sender) clientFor(ep *store.Endpoint) (*http.Client, http.RoundTripper, error) {
	if ep.TLS == nil {
		return s.client, s.direct, nil
	}
	key := sha256.Sum256([]byte(ep.TLS.CertPEM + "\x00" + ep.TLS.KeyPEM + "\x00" + ep.TLS.CAPEM))
	l := s.per
	l.mu.Lock()
	defer l.mu.Unlock()
	es := l.state(ep.ID)
	if es.tls != nil && es.tls.key == key {
		return es.tls.client, es.tls.direct, nil
	}
	ec, err := s.newEndpointClient(ep.TLS)
	if err != nil {
		return nil, nil, err
	}
	ec.key = key
	if es.tls != nil {
		es.tls.t.CloseIdleConnections()
	}
	es.tls = ec
	return ec.client, ec.direct, nil
}

// newEndpointClient builds the client of an endpoint with TLS settings.
func (s *Sender) newEndpointClient(c *store.ClientTLS) (*endpointClient, error) {
	if s.base == nil {
		return nil, fmt.Errorf("%w: the sender's transport is not an *http.Transport", ErrClientTLS)
	}
	tc, err := tlsConfig(s.base.TLSClientConfig, c)
	if err != nil {
		return nil, err
	}
	t := s.base.Clone()
	t.TLSClientConfig = tc
	var rt http.RoundTripper = t
	if s.cfg.WrapTransport != nil {
		rt = s.cfg.WrapTransport(rt)
	}
	client := *s.client
	client.Transport = rt
	ec := &endpointClient{client: &client, t: t}
	if s.direct != nil {
		ec.direct = rt
	}
	return ec, nil
}

// tlsConfig returns base (cloned; nil: defaults) with c's client
// certificate and CA bundle.
func tlsConfig(base *tls.Config, c *store.ClientTLS) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if base != nil {
		tc = base.Clone()
	}
	if c.CertPEM != "" {
		cert, err := tls.X509KeyPair([]byte(c.CertPEM), []byte(c.KeyPEM))
		if err != nil {
			return nil, fmt.Errorf("%w: the client certificate and key do not parse", ErrClientTLS)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	if c.CAPEM != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(c.CAPEM)) {
			return nil, fmt.Errorf("%w: the CA bundle holds no certificate", ErrClientTLS)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// closeIdle closes the idle connections of the sender's client and of
// every endpoint's own.
func (s *Sender) closeIdle() {
	s.client.CloseIdleConnections()
	s.per.mu.Lock()
	defer s.per.mu.Unlock()
	for _, es := range s.per.eps {
		if es.tls != nil {
			es.tls.t.CloseIdleConnections()
		}
	}
}
