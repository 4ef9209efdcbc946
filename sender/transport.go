package sender

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"

	"github.com/webhookkit/webhookkit/internal/netguard"
)

// newClient builds the HTTP client the sender uses: the user's client or
// transport (cloned), the private-address guard installed at dial time, the
// response headers bounded, and redirects never followed.
//
// It also returns the guarded *http.Transport before Config.WrapTransport,
// from which endpoints with TLS settings get transports of their own, or
// nil when the transport is another RoundTripper.
func newClient(cfg *settings) (*http.Client, *http.Transport, error) {
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
	var guarded *http.Transport
	switch t := base.(type) {
	case nil:
		guarded = defaultTransport(cfg)
		rt = guarded
	case *http.Transport:
		if !cfg.AllowPrivateNetworks && t.Proxy != nil {
			// Through a proxy the guard would check the proxy's address,
			// not the endpoint's: refuse rather than guard the wrong thing.
			return nil, nil, fmt.Errorf("%w: Config.%s has a Proxy, so the private-address guard would check the proxy instead of the endpoint; clear Proxy (http.DefaultTransport.Clone() sets it) or set AllowPrivateNetworks", ErrUnguardedTransport, field)
		}
		c := t.Clone()
		if c.MaxResponseHeaderBytes == 0 {
			c.MaxResponseHeaderBytes = DefaultMaxResponseHeaderBytes
		}
		switch {
		case cfg.Proxy != nil:
			if c.Proxy != nil {
				return nil, nil, fmt.Errorf("%w: Config.Proxy with a Config.%s that has a Proxy of its own: set one of them", ErrInvalidConfig, field)
			}
			if c.DialTLSContext != nil || c.DialTLS != nil { //nolint:staticcheck
				return nil, nil, fmt.Errorf("%w: Config.Proxy with a Config.%s that has a DialTLSContext: TLS must run through the proxy's tunnel", ErrInvalidConfig, field)
			}
			dial := c.DialContext
			if dial == nil {
				dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
			}
			c.DialContext = proxied(cfg, dial)
		case !cfg.AllowPrivateNetworks:
			newGuard(cfg).install(c)
		}
		guarded = c
		rt = c
	default:
		if !cfg.AllowPrivateNetworks {
			return nil, nil, fmt.Errorf("%w: Config.%s is a %T, not an *http.Transport (use Config.WrapTransport for middleware)", ErrUnguardedTransport, field, base)
		}
		rt = base
	}
	if cfg.WrapTransport != nil {
		rt = cfg.WrapTransport(rt)
	}
	client.Transport = rt
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return client, guarded, nil
}

// defaultTransport is http.DefaultTransport's settings with a keep-alive pool
// large enough for every worker, no proxy (an environment proxy would make
// the guard check the proxy instead of the endpoint), bounded response
// headers, and the guard.
func defaultTransport(cfg *settings) *http.Transport {
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	dial := d.DialContext
	switch {
	case cfg.Proxy != nil:
		dial = proxied(cfg, dial)
	case !cfg.AllowPrivateNetworks:
		g := newGuard(cfg)
		d.Control = g.control
		dial = g.wrap(dial, dialControlled)
	}
	return &http.Transport{
		DialContext:            dial,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           max(100, 4*cfg.Workers),
		MaxIdleConnsPerHost:    cfg.Workers,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: DefaultMaxResponseHeaderBytes,
	}
}

type dialFunc = func(ctx context.Context, network, addr string) (net.Conn, error)

// dialMode is how a guarded dial function is checked.
type dialMode int

const (
	// dialControlled: a net.Dialer whose Control is netguard.Control, which
	// checks every resolved address before connecting to it.
	dialControlled dialMode = iota
	// dialPinned: a user's dial function for plain connections. The guard
	// resolves the host itself and dials the public addresses, as IPs.
	dialPinned
	// dialProxied: the sender's CONNECT dialer. Like dialPinned it is
	// called with checked IPs, and the proxy connects to what it is asked:
	// the connection's peer is the proxy, allowed explicitly, so it is not
	// checked again.
	dialProxied
	// dialChecked: a user's TLS dial function, which needs the host name
	// (for SNI and certificate checks). The guard resolves the host and
	// refuses it if any address is not public, then dials the name.
	dialChecked
)

// guard refuses connections to addresses that are not public, before
// dialling them. Its refusals read the same whatever the address and
// whatever the state of the port, and never name a resolved address:
// attempt errors are shown to the endpoint's owner, who must learn neither
// what a name resolves to inside the network nor which ports are open
// there. The operator's debug log gets the details.
type guard struct {
	log     *slog.Logger
	lookup  func(ctx context.Context, network, host string) ([]netip.Addr, error)
	allowed func(netip.Addr) bool
}

func newGuard(cfg *settings) *guard {
	allowed := netguard.Allowed
	if cfg.allowAddr != nil {
		allowed = cfg.allowAddr
	}
	return &guard{log: cfg.Logger, lookup: net.DefaultResolver.LookupNetIP, allowed: allowed}
}

// control is a net.Dialer's Control function: netguard.Control under the
// guard's rule.
func (g *guard) control(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		host = address
	}
	if ip, err := netip.ParseAddr(host); err != nil || !g.allowed(ip) {
		return fmt.Errorf("%w: %s", ErrPrivateAddress, address)
	}
	return nil
}

// install guards every dial function of t: a plain dialer gets
// netguard.Control (checked before connecting); a user's DialContext is
// pinned to the addresses the guard resolved and checked; a user's
// DialTLSContext is checked before and after it dials (see dialChecked).
func (g *guard) install(t *http.Transport) {
	switch {
	case t.DialContext != nil:
		t.DialContext = g.wrap(t.DialContext, dialPinned)
	case t.Dial != nil: //nolint:staticcheck // honour the deprecated field if a user set it
		dial := t.Dial //nolint:staticcheck
		t.Dial = nil   //nolint:staticcheck
		t.DialContext = g.wrap(func(_ context.Context, network, addr string) (net.Conn, error) { return dial(network, addr) }, dialPinned)
	default:
		d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: g.control}
		t.DialContext = g.wrap(d.DialContext, dialControlled)
	}
	if t.DialTLSContext != nil {
		t.DialTLSContext = g.wrap(t.DialTLSContext, dialChecked)
	}
	if t.DialTLS != nil { //nolint:staticcheck
		dial := t.DialTLS //nolint:staticcheck
		t.DialTLS = nil   //nolint:staticcheck
		t.DialTLSContext = g.wrap(func(_ context.Context, network, addr string) (net.Conn, error) { return dial(network, addr) }, dialChecked)
	}
}

// wrap guards dial as mode says. An IP-literal host that is not public is
// refused before anything is dialled, in every mode.
func (g *guard) wrap(dial dialFunc, mode dialMode) dialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, g.refuse(ctx, network, addr, err.Error())
		}
		var ips []netip.Addr
		if ip, err := netip.ParseAddr(host); err == nil {
			if !g.allowed(ip) {
				return nil, g.refuse(ctx, network, addr, ip.String())
			}
			ips = []netip.Addr{ip}
		} else if mode != dialControlled {
			all, err := g.lookup(ctx, lookupNetwork(network), host)
			if err != nil {
				return nil, err
			}
			for _, ip := range all {
				if g.allowed(ip) {
					ips = append(ips, ip)
				} else if mode == dialChecked {
					// The user's function picks the address: refuse
					// the name if any of its addresses is private.
					return nil, g.refuse(ctx, network, addr, ip.String())
				}
			}
			if len(ips) == 0 {
				return nil, g.refuse(ctx, network, addr, fmt.Sprint(all))
			}
		}
		switch mode {
		case dialControlled:
			c, err := dial(ctx, network, addr)
			if errors.Is(err, netguard.ErrPrivateAddress) {
				return nil, g.refuse(ctx, network, addr, err.Error())
			}
			return c, err
		case dialPinned, dialProxied:
			var first error
			for _, ip := range ips {
				c, err := dial(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
				if err == nil && mode == dialProxied {
					return c, nil
				}
				if err == nil {
					return g.checkPeer(ctx, network, addr, c)
				}
				if first == nil {
					first = err
				}
				if ctx.Err() != nil {
					break
				}
			}
			return nil, first
		default:
			c, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return g.checkPeer(ctx, network, addr, c)
		}
	}
}

// checkPeer closes c and refuses it when its remote address is not public:
// a user's dial function may not have connected where it was asked to.
func (g *guard) checkPeer(ctx context.Context, network, addr string, c net.Conn) (net.Conn, error) {
	var ip netip.Addr
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		ip, _ = netip.AddrFromSlice(ta.IP)
	} else if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		ip = ap.Addr()
	}
	if !g.allowed(ip) {
		c.Close()
		return nil, g.refuse(ctx, network, addr, c.RemoteAddr().String())
	}
	return c, nil
}

// refuse logs why addr was refused at debug level and returns the error
// every refusal shares: it wraps [ErrPrivateAddress] and names no address.
func (g *guard) refuse(ctx context.Context, network, addr, detail string) error {
	g.log.LogAttrs(ctx, slog.LevelDebug, "sender: refused a non-public address",
		slog.String("address", addr), slog.String("detail", detail))
	return &net.OpError{Op: "dial", Net: network, Err: ErrPrivateAddress}
}

// lookupNetwork is the resolver network ("ip", "ip4", "ip6") for a dial
// network.
func lookupNetwork(network string) string {
	switch network {
	case "tcp4", "udp4":
		return "ip4"
	case "tcp6", "udp6":
		return "ip6"
	}
	return "ip"
}
