package sender_test

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/internal/testcert"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

// onlyLoopback4 plays the guard's rule in tests: 127.0.0.1 is "public",
// every other address (127.0.0.2 and ::1 included) private.
func onlyLoopback4(ip netip.Addr) bool { return ip.Unmap() == netip.MustParseAddr("127.0.0.1") }

// guardedSender is a sender with the private-address guard on, under
// onlyLoopback4 unless real is set.
func guardedSender(t *testing.T, st store.SenderStore, real bool, edit func(*sender.Config)) *sender.Sender {
	t.Helper()
	return newSender(t, st, nil, func(c *sender.Config) {
		c.AllowPrivateNetworks = false
		if !real {
			sender.AllowAddrForTest(c, onlyLoopback4)
		}
		if edit != nil {
			edit(c)
		}
	})
}

// mtlsServer is an https server for "localhost" and 127.0.0.1 that
// requires a client certificate from clientCA and records the common name
// of each one it saw.
type mtlsServer struct {
	*httptest.Server
	ca  *testcert.CA
	mu  sync.Mutex
	cns []string
}

func newMTLSServer(t *testing.T, clientCA *testcert.CA) *mtlsServer {
	t.Helper()
	m := &mtlsServer{ca: testcert.NewCA(t, "server CA")}
	m.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.cns = append(m.cns, r.TLS.PeerCertificates[0].Subject.CommonName)
		m.mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	}))
	m.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	m.TLS = &tls.Config{
		Certificates: []tls.Certificate{m.ca.Server(t, "localhost", "127.0.0.1")},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clientCA.Pool(),
	}
	m.StartTLS()
	t.Cleanup(m.Close)
	return m
}

func (m *mtlsServer) seen() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.cns...)
}

// TestMutualTLS delivers to a server that requires a client certificate:
// with the endpoint's certificate and CA bundle it succeeds, with the guard
// on; without a certificate the handshake fails; a changed certificate is
// used at once (the endpoint's transport is rebuilt); and the private key
// appears nowhere in the attempt.
func TestMutualTLS(t *testing.T) {
	ctx := context.Background()
	clients := testcert.NewCA(t, "client CA")
	srv := newMTLSServer(t, clients)
	cert, key := clients.Client(t, "tenant-a")
	st := newStore()
	ep, _ := addEndpoint(t, st, srv.URL, func(ep *store.Endpoint) {
		ep.TLS = &store.ClientTLS{CertPEM: cert, KeyPEM: key, CAPEM: srv.ca.PEM}
	})
	snd := guardedSender(t, st, false, nil)

	a, err := snd.Ping(ctx, ep.ID)
	require.NoError(t, err)
	require.True(t, a.Success)
	require.Equal(t, []string{"tenant-a"}, srv.seen())
	keyLine := strings.Split(key, "\n")[1]
	require.NotContains(t, fmt.Sprintf("%+v %#v", a, ep), keyLine)

	// Another certificate: the next attempt presents it.
	cert2, key2 := clients.Client(t, "tenant-a-rotated")
	ep.TLS = &store.ClientTLS{CertPEM: cert2, KeyPEM: key2, CAPEM: srv.ca.PEM}
	require.NoError(t, snd.Endpoints().Update(ctx, ep))
	_, err = snd.Ping(ctx, ep.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"tenant-a", "tenant-a-rotated"}, srv.seen())

	// The CA bundle alone: the server refuses the handshake.
	ep.TLS = &store.ClientTLS{CAPEM: srv.ca.PEM}
	require.NoError(t, snd.Endpoints().Update(ctx, ep))
	a, err = snd.Ping(ctx, ep.ID)
	require.Error(t, err)
	require.False(t, a.Success)
	require.Len(t, srv.seen(), 2)

	// No CA bundle: the server's certificate is not trusted.
	ep.TLS = &store.ClientTLS{CertPEM: cert, KeyPEM: key}
	require.NoError(t, snd.Endpoints().Update(ctx, ep))
	a, err = snd.Ping(ctx, ep.ID)
	require.Error(t, err)
	require.Contains(t, a.Error, "certificate")
	require.Len(t, srv.seen(), 2)
}

// TestMutualTLSGuarded checks that an endpoint's own transport keeps the
// private-address guard: with the real rule, loopback is refused before
// any handshake.
func TestMutualTLSGuarded(t *testing.T) {
	clients := testcert.NewCA(t, "client CA")
	srv := newMTLSServer(t, clients)
	cert, key := clients.Client(t, "tenant-a")
	st := newStore()
	ep, _ := addEndpoint(t, st, srv.URL, func(ep *store.Endpoint) {
		ep.TLS = &store.ClientTLS{CertPEM: cert, KeyPEM: key, CAPEM: srv.ca.PEM}
	})
	snd := guardedSender(t, st, true, nil)
	_, err := snd.Ping(context.Background(), ep.ID)
	require.ErrorIs(t, err, sender.ErrPrivateAddress)
	require.Empty(t, srv.seen())
}

// connectProxy is a tiny HTTP CONNECT proxy that records what it was
// asked to connect to, and the Proxy-Authorization it got.
type connectProxy struct {
	l    net.Listener
	mu   sync.Mutex
	asks []string
	auth []string
	wg   sync.WaitGroup
}

func newConnectProxy(t *testing.T) *connectProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &connectProxy{l: l}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() { defer p.wg.Done(); p.serve(c) }()
		}
	}()
	t.Cleanup(func() { l.Close(); p.wg.Wait() })
	return p
}

func (p *connectProxy) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil || req.Method != http.MethodConnect {
		return
	}
	p.mu.Lock()
	p.asks = append(p.asks, req.Host)
	p.auth = append(p.auth, req.Header.Get("Proxy-Authorization"))
	p.mu.Unlock()
	up, err := net.Dial("tcp", req.Host)
	if err != nil {
		_, _ = io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
		return
	}
	defer up.Close()
	_, _ = io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
	done := make(chan struct{})
	go func() { _, _ = io.Copy(up, br); up.(*net.TCPConn).CloseWrite(); close(done) }()
	_, _ = io.Copy(c, up)
	c.(*net.TCPConn).CloseWrite()
	<-done
}

func (p *connectProxy) url(user string) *url.URL {
	u := &url.URL{Scheme: "http", Host: p.l.Addr().String()}
	if user != "" {
		u.User = url.UserPassword(user, "proxy-pass")
	}
	return u
}

func (p *connectProxy) asked() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.asks...)
}

// TestProxy delivers through a CONNECT proxy with the guard on: the
// sender resolves "localhost" itself and asks the proxy for the checked
// address, while TLS still verifies the certificate for "localhost"; the
// proxy's own loopback address is allowed; a private destination is
// refused before the proxy hears of it.
func TestProxy(t *testing.T) {
	ctx := context.Background()
	proxy := newConnectProxy(t)
	clients := testcert.NewCA(t, "client CA")
	srv := newMTLSServer(t, clients)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	cert, key := clients.Client(t, "via-proxy")
	st := newStore()
	ep, _ := addEndpoint(t, st, "https://localhost:"+port+"/hook", func(ep *store.Endpoint) {
		ep.TLS = &store.ClientTLS{CertPEM: cert, KeyPEM: key, CAPEM: srv.ca.PEM}
	})
	snd := guardedSender(t, st, false, func(c *sender.Config) { c.Proxy = proxy.url("proxy-user") })

	a, err := snd.Ping(ctx, ep.ID)
	require.NoError(t, err)
	require.True(t, a.Success)
	require.Equal(t, []string{"127.0.0.1:" + port}, proxy.asked(), "the proxy is asked for the checked IP, not the name")
	require.Equal(t, "Basic "+base64.StdEncoding.EncodeToString([]byte("proxy-user:proxy-pass")), proxy.auth[0])
	require.Equal(t, []string{"via-proxy"}, srv.seen())

	// A destination the guard calls private is refused without a CONNECT.
	plain := newServer(t, nil)
	_, pport, _ := net.SplitHostPort(plain.Listener.Addr().String())
	priv, _ := addEndpoint(t, st, "http://127.0.0.2:"+pport+"/hook", nil)
	a, err = snd.Ping(ctx, priv.ID)
	require.ErrorIs(t, err, sender.ErrPrivateAddress)
	require.Contains(t, a.Error, sender.ErrPrivateAddress.Error())
	require.Len(t, proxy.asked(), 1)

	// With the real rule, loopback destinations are refused even though
	// the proxy itself is on loopback.
	real := guardedSender(t, st, true, func(c *sender.Config) { c.Proxy = proxy.url("") })
	_, err = real.Ping(ctx, ep.ID)
	require.ErrorIs(t, err, sender.ErrPrivateAddress)
	require.Len(t, proxy.asked(), 1)
	require.Zero(t, plain.count())

	_, err = sender.New(st, &sender.Config{Proxy: &url.URL{Scheme: "socks5", Host: "p:1"}})
	require.ErrorIs(t, err, sender.ErrInvalidConfig)
	_, err = sender.New(st, &sender.Config{Proxy: proxy.url(""), AllowPrivateNetworks: true, Transport: http.DefaultTransport.(*http.Transport).Clone()})
	require.ErrorIs(t, err, sender.ErrInvalidConfig, "two proxies")
	_, err = sender.New(st, &sender.Config{Proxy: proxy.url(""), Transport: &http.Transport{DialTLSContext: (&tls.Dialer{}).DialContext}})
	require.ErrorIs(t, err, sender.ErrInvalidConfig, "TLS must run through the tunnel")
}

// tokenSource is a sender.TokenSource that counts its calls and fails
// with err when set, and a sender.TokenForgetter that records the
// endpoints whose token it was told to forget.
type tokenSource struct {
	mu     sync.Mutex
	calls  int
	err    error
	forgot []string
}

func (s *tokenSource) Forget(endpointID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forgot = append(s.forgot, endpointID)
}

func (s *tokenSource) forgotten() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.forgot)
}

// tokenRefused is a token source's own error type.
type tokenRefused struct{ status int }

func (e *tokenRefused) Error() string { return fmt.Sprintf("token endpoint answered %d", e.status) }

func (s *tokenSource) Authorization(_ context.Context, client *http.Client, ep *store.Endpoint) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if client == nil {
		return "", errors.New("no client")
	}
	if s.err != nil {
		return "", s.err
	}
	return "Bearer tok-" + ep.OAuth2.ClientID, nil
}

// TestOAuth2 checks the sender's side of OAuth2: the token source's
// header is sent and redacted in the attempt log; its failure is a failed
// attempt with a clear error (no request, the client secret redacted); and
// a sender without a token source refuses such endpoints and fails their
// attempts naming what to configure.
func TestOAuth2(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t, nil)
	st := newStore()
	oauth := &store.OAuth2{TokenURL: "https://auth.example.com/token", ClientID: "c1", ClientSecret: "very-secret"}
	ts := &tokenSource{}
	snd := newSender(t, st, nil, func(c *sender.Config) { c.OAuth2 = ts })
	ep := &store.Endpoint{Mode: "test", URL: srv.URL, EventTypes: []string{"*"}, OAuth2: oauth}
	_, err := snd.Endpoints().Create(ctx, ep)
	require.NoError(t, err)

	a, err := snd.Ping(ctx, ep.ID)
	require.NoError(t, err)
	require.Equal(t, "Bearer tok-c1", srv.requests()[0].Header.Get("Authorization"))
	require.Equal(t, sender.RedactedValue, a.RequestHeaders.Get("Authorization"))

	ts.err = errors.New("token endpoint said 401: bad client very-secret")
	a, err = snd.Ping(ctx, ep.ID)
	require.ErrorIs(t, err, sender.ErrOAuth2Token)
	require.False(t, a.Success)
	require.Contains(t, a.Error, "OAuth2")
	require.NotContains(t, a.Error, "very-secret")
	require.Equal(t, 1, srv.count(), "no request without a token")

	bare := newSender(t, st, nil, nil)
	_, err = bare.Endpoints().Create(ctx, &store.Endpoint{Mode: "test", URL: srv.URL, EventTypes: []string{"*"}, OAuth2: oauth})
	require.ErrorIs(t, err, sender.ErrNoTokenSource)
	var fe *store.FieldError
	require.True(t, errors.As(err, &fe))
	require.Equal(t, "oauth2", fe.Field)
	a, err = bare.Ping(ctx, ep.ID)
	require.ErrorIs(t, err, sender.ErrNoTokenSource)
	require.Contains(t, a.Error, "Config.OAuth2")
	require.Equal(t, 1, srv.count())

	// The token source's own error stays reachable through the sender's.
	ts.err = &tokenRefused{status: 400}
	_, err = snd.Ping(ctx, ep.ID)
	require.ErrorIs(t, err, sender.ErrOAuth2Token)
	var tr *tokenRefused
	require.ErrorAs(t, err, &tr)
	require.Equal(t, 400, tr.status)
	ts.err = nil

	// The token URL is held to the URL policy.
	guarded := guardedSender(t, st, true, func(c *sender.Config) { c.OAuth2 = ts })
	_, err = guarded.Endpoints().Create(ctx, &store.Endpoint{Mode: "test", URL: "https://hooks.example.com/", EventTypes: []string{"*"},
		OAuth2: &store.OAuth2{TokenURL: "http://127.0.0.1/token", ClientID: "c", ClientSecret: "s"}})
	require.ErrorIs(t, err, sender.ErrPrivateAddress)
	require.True(t, errors.As(err, &fe))
	require.Equal(t, "oauth2.token_url", fe.Field)
}

// fakeKMS holds Ed25519 keys by name and signs with them.
type fakeKMS struct{ keys map[string]ed25519.PrivateKey }

func (k fakeKMS) SignEd25519(_ context.Context, name string, content []byte) ([]byte, error) {
	key, ok := k.keys[name]
	if !ok {
		return nil, fmt.Errorf("no key %q", name)
	}
	return ed25519.Sign(key, content), nil
}

// TestKMSKey signs with a key held in a (fake) KMS beside a local secret:
// the receiver verifies either; a sender without a KMS refuses such keys.
func TestKMSKey(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t, nil)
	st := newStore()
	pub, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	kms := fakeKMS{keys: map[string]ed25519.PrivateKey{"hooks-1": priv}}
	clk := newClock()
	snd := newSender(t, st, clk, func(c *sender.Config) { c.KMS = kms })
	ep := &store.Endpoint{Mode: "test", URL: srv.URL, EventTypes: []string{"*"},
		Secrets: []store.SigningKey{{Key: "whkms_hooks-1"}}}
	_, err = snd.Endpoints().Create(ctx, ep)
	require.NoError(t, err)
	_, err = snd.Ping(ctx, ep.ID)
	require.NoError(t, err)

	pk, err := signature.ParsePublicKey(signature.PublicKeyPrefix + base64.StdEncoding.EncodeToString(pub))
	require.NoError(t, err)
	v, err := signature.NewVerifier(nil, []signature.PublicKey{pk}, &signature.VerifyOptions{Now: clk.Now})
	require.NoError(t, err)
	r := srv.requests()[0]
	require.NoError(t, v.Verify(r.Header, r.Body))

	bare := newSender(t, st, clk, nil)
	_, err = bare.Endpoints().Create(ctx, &store.Endpoint{Mode: "test", URL: srv.URL, EventTypes: []string{"*"},
		Secrets: []store.SigningKey{{Key: "whkms_hooks-1"}}})
	require.ErrorIs(t, err, sender.ErrNoKMS)
	_, err = bare.Ping(ctx, ep.ID)
	require.ErrorIs(t, err, sender.ErrNoKMS)
}

// TestOAuth2ForgetOn401: an endpoint with OAuth2 settings that answers 401
// makes the sender drop its cached token (TokenForgetter), so the next
// attempt asks for a new one; other answers, and endpoints without OAuth2,
// do not.
func TestOAuth2ForgetOn401(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 || n == 3 {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	st := newStore()
	ts := &tokenSource{}
	snd := newSender(t, st, nil, func(c *sender.Config) { c.OAuth2 = ts })
	ep := &store.Endpoint{Mode: "test", URL: srv.URL, EventTypes: []string{"*"},
		OAuth2: &store.OAuth2{TokenURL: "https://auth.example.com/token", ClientID: "c1", ClientSecret: "s3cret"}}
	_, err := snd.Endpoints().Create(ctx, ep)
	require.NoError(t, err)
	plain, _ := addEndpoint(t, st, srv.URL, nil)

	a, _ := snd.Ping(ctx, ep.ID) // 401 (Ping's error says so)
	require.Equal(t, 401, a.StatusCode)
	require.Equal(t, []string{ep.ID}, ts.forgotten())
	a, _ = snd.Ping(ctx, ep.ID) // 503: the token is kept
	require.Equal(t, 503, a.StatusCode)
	require.Equal(t, []string{ep.ID}, ts.forgotten())
	a, _ = snd.Ping(ctx, plain.ID) // 401 from an endpoint without OAuth2
	require.Equal(t, 401, a.StatusCode)
	require.Equal(t, []string{ep.ID}, ts.forgotten())
}
