package loadtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// ErrNotLoopback is returned (wrapped, with the address) for any address
// that is not a loopback address: the load programs never leave the machine.
var ErrNotLoopback = errors.New("loadtest: refusing a non-loopback address")

// CheckLoopback returns nil when addr ("host:port", host an IP literal) is a
// loopback address, and an error wrapping ErrNotLoopback otherwise.
func CheckLoopback(addr string) error {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return fmt.Errorf("%w: %q: %v", ErrNotLoopback, addr, err)
	}
	if !ap.Addr().Unmap().IsLoopback() {
		return fmt.Errorf("%w: %s", ErrNotLoopback, addr)
	}
	return nil
}

// CheckURL returns nil for an http URL whose host is "localhost" or a
// loopback IP literal; other URLs are refused with ErrNotLoopback. The
// dialer from Dialer checks the address actually connected to as well.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("loadtest: url %q: %w", raw, err)
	}
	if u.Scheme != "http" {
		return fmt.Errorf("loadtest: url %q: only http is supported", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.Unmap().IsLoopback() {
		return fmt.Errorf("%w: %s", ErrNotLoopback, raw)
	}
	return nil
}

// Dialer returns a net.Dialer that refuses, at connect time, any address
// that is not loopback (whatever a host name resolved to).
func Dialer() *net.Dialer {
	return &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			return CheckLoopback(address)
		},
	}
}

// Listen listens on addr, which must be a loopback address ("127.0.0.1:0"
// when empty).
func Listen(ctx context.Context, addr string) (net.Listener, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if err := CheckLoopback(addr); err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	return lc.Listen(ctx, "tcp", addr)
}
