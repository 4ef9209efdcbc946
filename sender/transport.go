package sender

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/webhookkit/webhookkit/internal/netguard"
)

// newClient builds the HTTP client the sender uses: the user's client or
// transport (cloned), the private-address guard installed at dial time, the
// response headers bounded, and redirects never followed.
func newClient(cfg *settings) (*http.Client, error) {
	client := &http.Client{}
	var base http.RoundTripper
	field := "Transport"
	if cfg.HTTPClient != nil {
		*client = *cfg.HTTPClient
		base = client.Transport
		field = "HTTPClient.Transport"
	}
	if cfg.Transport != nil {
		base = cfg.Transport
	}
	var rt http.RoundTripper
	switch t := base.(type) {
	case nil:
		rt = defaultTransport(cfg)
	case *http.Transport:
		if !cfg.AllowPrivateNetworks && t.Proxy != nil {
			// Through a proxy the guard would check the proxy's address,
			// not the endpoint's: refuse rather than guard the wrong thing.
			return nil, fmt.Errorf("%w: Config.%s has a Proxy, so the private-address guard would check the proxy instead of the endpoint; clear Proxy (http.DefaultTransport.Clone() sets it) or set AllowPrivateNetworks", ErrUnguardedTransport, field)
		}
		c := t.Clone()
		if c.MaxResponseHeaderBytes == 0 {
			c.MaxResponseHeaderBytes = DefaultMaxResponseHeaderBytes
		}
		if !cfg.AllowPrivateNetworks {
			guardTransport(c)
		}
		rt = c
	default:
		if !cfg.AllowPrivateNetworks {
			return nil, fmt.Errorf("%w: Config.%s is a %T, not an *http.Transport (use Config.WrapTransport for middleware)", ErrUnguardedTransport, field, base)
		}
		rt = base
	}
	if cfg.WrapTransport != nil {
		rt = cfg.WrapTransport(rt)
	}
	client.Transport = rt
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return client, nil
}

// defaultTransport is http.DefaultTransport's settings with a keep-alive pool
// large enough for every worker, no proxy (an environment proxy would make
// the guard check the proxy instead of the endpoint), bounded response
// headers, and the guard.
func defaultTransport(cfg *settings) *http.Transport {
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	if !cfg.AllowPrivateNetworks {
		d.Control = netguard.Control
	}
	return &http.Transport{
		DialContext:            d.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           max(100, 4*cfg.Workers),
		MaxIdleConnsPerHost:    cfg.Workers,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: DefaultMaxResponseHeaderBytes,
	}
}

// guardTransport installs the guard in t: a plain dialer gets
// netguard.Control (checked before connecting); custom dial functions are
// wrapped to check the address they connected to before anything is sent.
func guardTransport(t *http.Transport) {
	switch {
	case t.DialContext != nil:
		t.DialContext = guardDial(t.DialContext)
	case t.Dial != nil: //nolint:staticcheck // honour the deprecated field if a user set it
		dial := t.Dial //nolint:staticcheck
		t.Dial = nil   //nolint:staticcheck
		t.DialContext = guardDial(func(_ context.Context, network, addr string) (net.Conn, error) { return dial(network, addr) })
	default:
		d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: netguard.Control}
		t.DialContext = d.DialContext
	}
	if t.DialTLSContext != nil {
		t.DialTLSContext = guardDial(t.DialTLSContext)
	}
	if t.DialTLS != nil { //nolint:staticcheck
		dial := t.DialTLS //nolint:staticcheck
		t.DialTLS = nil   //nolint:staticcheck
		t.DialTLSContext = guardDial(func(_ context.Context, network, addr string) (net.Conn, error) { return dial(network, addr) })
	}
}

type dialFunc = func(ctx context.Context, network, addr string) (net.Conn, error)

// guardDial wraps a dial function: the connection's remote address must be
// allowed, else it is closed before use.
func guardDial(dial dialFunc) dialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		var ip netip.Addr
		if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
			ip, _ = netip.AddrFromSlice(ta.IP)
		} else if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
			ip = ap.Addr()
		}
		if !netguard.Allowed(ip) {
			c.Close()
			return nil, &net.OpError{Op: "dial", Net: network, Addr: c.RemoteAddr(), Err: fmt.Errorf("%w: %s", netguard.ErrPrivateAddress, ip)}
		}
		return c, nil
	}
}
