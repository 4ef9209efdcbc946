package store

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/webhookkit/webhookkit/signature"
)

// OAuth2 is an endpoint's OAuth 2.0 client-credentials grant (RFC 6749
// section 4.4): before a delivery the sender obtains an access token from
// TokenURL with ClientID and ClientSecret and sends it as the request's
// Authorization header. It is plain data; the sender needs a token source
// configured to use it (see sender.Config.OAuth2).
//
// fmt and log/slog print it with ClientSecret redacted. Stores that
// encrypt secrets at rest seal ClientSecret.
type OAuth2 struct {
	// TokenURL is the token endpoint: an absolute http or https URL
	// without userinfo (credentials go in ClientID and ClientSecret).
	TokenURL string
	// ClientID and ClientSecret identify the sender to the token
	// endpoint. ClientID is required; ClientSecret must never be logged.
	ClientID     string
	ClientSecret string
	// Scopes are requested with the token; none means the server's default.
	Scopes []string
	// Audience, when set, is sent as the "audience" parameter of the token
	// request (as Auth0, Okta and others require).
	Audience string
}

// String keeps the client secret out of formatted output.
func (o OAuth2) String() string {
	return fmt.Sprintf("store.OAuth2{TokenURL: %q, ClientID: %q, ClientSecret: (redacted), Scopes: %q, Audience: %q}",
		o.TokenURL, o.ClientID, o.Scopes, o.Audience)
}

// GoString keeps the client secret out of %#v output.
func (o OAuth2) GoString() string { return o.String() }

// LogValue keeps the client secret out of logs.
func (o OAuth2) LogValue() slog.Value {
	return slog.GroupValue(slog.String("token_url", o.TokenURL), slog.String("client_id", o.ClientID),
		slog.String("client_secret", "(redacted)"))
}

func (o *OAuth2) clone() *OAuth2 {
	if o == nil {
		return nil
	}
	c := *o
	c.Scopes = append([]string(nil), o.Scopes...)
	return &c
}

func (o *OAuth2) validate() error {
	if o.ClientID == "" {
		return &FieldError{Field: "oauth2.client_id", Reason: "required"}
	}
	if o.ClientSecret == "" {
		return &FieldError{Field: "oauth2.client_secret", Reason: "required"}
	}
	if reason := checkURL(o.TokenURL); reason != "" {
		return &FieldError{Field: "oauth2.token_url", Reason: reason}
	}
	if u, _ := url.Parse(o.TokenURL); u.User != nil {
		return &FieldError{Field: "oauth2.token_url", Reason: "must not hold credentials; use the client id and secret"}
	}
	for i, s := range o.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n") {
			return &FieldError{Field: fmt.Sprintf("oauth2.scopes[%d]", i), Reason: "a scope is one non-empty word"}
		}
	}
	return nil
}

// ClientTLS is an endpoint's TLS settings: a client certificate for mutual
// TLS, and a CA bundle to trust instead of the system's roots. All fields
// are PEM text. It is plain data, checked by [Endpoint.Validate] (the pair
// must match, the bundle must hold certificates).
//
// fmt and log/slog print it with KeyPEM redacted. Stores that encrypt
// secrets at rest seal KeyPEM.
type ClientTLS struct {
	// CertPEM is the client certificate (and any intermediates) presented
	// to the endpoint; KeyPEM is its private key. Both or neither.
	CertPEM string
	KeyPEM  string
	// CAPEM, when set, is the bundle of CA certificates that verify the
	// endpoint's server certificate, instead of the system's roots.
	CAPEM string
}

// String keeps the private key out of formatted output.
func (c ClientTLS) String() string {
	return fmt.Sprintf("store.ClientTLS{CertPEM: %d bytes, KeyPEM: (redacted), CAPEM: %d bytes}", len(c.CertPEM), len(c.CAPEM))
}

// GoString keeps the private key out of %#v output.
func (c ClientTLS) GoString() string { return c.String() }

// LogValue keeps the private key out of logs.
func (c ClientTLS) LogValue() slog.Value {
	return slog.GroupValue(slog.Bool("client_certificate", c.CertPEM != ""), slog.Bool("ca_bundle", c.CAPEM != ""),
		slog.String("key", "(redacted)"))
}

func (c *ClientTLS) clone() *ClientTLS {
	if c == nil {
		return nil
	}
	cc := *c
	return &cc
}

// validate parses the PEM text; its reasons never repeat it.
func (c *ClientTLS) validate() error {
	switch {
	case c.CertPEM == "" && c.KeyPEM == "" && c.CAPEM == "":
		return &FieldError{Field: "tls", Reason: "set a client certificate and key, a CA bundle, or both"}
	case (c.CertPEM == "") != (c.KeyPEM == ""):
		return &FieldError{Field: "tls", Reason: "a client certificate needs its key, and a key its certificate"}
	}
	if c.CertPEM != "" {
		if _, err := tls.X509KeyPair([]byte(c.CertPEM), []byte(c.KeyPEM)); err != nil {
			// crypto/tls's errors name no key material.
			return &FieldError{Field: "tls.certificate", Reason: "not a PEM certificate and matching private key: " + strings.TrimPrefix(err.Error(), "tls: ")}
		}
	}
	if c.CAPEM != "" && !x509.NewCertPool().AppendCertsFromPEM([]byte(c.CAPEM)) {
		return &FieldError{Field: "tls.ca", Reason: "holds no PEM certificate"}
	}
	return nil
}

// validateCredentials checks an endpoint's OAuth2 and TLS settings.
func (e *Endpoint) validateCredentials() error {
	if e.OAuth2 != nil {
		if err := e.OAuth2.validate(); err != nil {
			return err
		}
	}
	if e.TLS != nil {
		return e.TLS.validate()
	}
	return nil
}

// checkSigningKey parses a signing key's text: a key that signs, or a
// reference to a key held in a KMS ([signature.KeyRefPrefix]).
func checkSigningKey(key string) error {
	if strings.HasPrefix(key, signature.KeyRefPrefix) {
		_, err := signature.ParseKeyRef(key)
		return err
	}
	_, _, err := signature.ParseSigningKey(key)
	return err
}
