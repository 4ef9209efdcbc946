package sender

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeGuard is a guard whose resolver answers addrs for every name and
// which allows only the addresses in public.
func fakeGuard(addrs []string, public ...string) *guard {
	return &guard{
		log: slog.New(slog.DiscardHandler),
		lookup: func(context.Context, string, string) ([]netip.Addr, error) {
			var ips []netip.Addr
			for _, a := range addrs {
				ips = append(ips, netip.MustParseAddr(a))
			}
			return ips, nil
		},
		allowed: func(ip netip.Addr) bool {
			for _, p := range public {
				if ip == netip.MustParseAddr(p) {
					return true
				}
			}
			return false
		},
	}
}

// recordingDial records the addresses it is asked for and connects to
// target whatever it is asked.
type recordingDial struct {
	mu     sync.Mutex
	asked  []string
	target string
}

func (d *recordingDial) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.asked = append(d.asked, addr)
	d.mu.Unlock()
	var nd net.Dialer
	return nd.DialContext(ctx, network, d.target)
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return l
}

// TestPinnedDialGetsCheckedIPs checks that a user's DialContext is called
// with the public addresses the guard resolved, never with the name or a
// private address. (127.0.0.1 plays the public address here.)
func TestPinnedDialGetsCheckedIPs(t *testing.T) {
	l := listen(t)
	_, port, _ := net.SplitHostPort(l.Addr().String())
	g := fakeGuard([]string{"10.0.0.1", "127.0.0.1", "192.168.1.1"}, "127.0.0.1")
	d := &recordingDial{target: l.Addr().String()}
	c, err := g.wrap(d.dial, dialPinned)(context.Background(), "tcp", net.JoinHostPort("hooks.example", port))
	require.NoError(t, err)
	c.Close()
	require.Equal(t, []string{net.JoinHostPort("127.0.0.1", port)}, d.asked)

	// No public address at all: refused without a call.
	d.asked = nil
	g = fakeGuard([]string{"10.0.0.1", "::1"})
	_, err = g.wrap(d.dial, dialPinned)(context.Background(), "tcp", net.JoinHostPort("hooks.example", port))
	require.ErrorIs(t, err, ErrPrivateAddress)
	require.Empty(t, d.asked)
}

// TestCheckedDialRefusesMixedNames checks that a user's DialTLSContext,
// which gets the host name, is not called for a name with any private
// address (it might pick that one), and is called for a public one.
func TestCheckedDialRefusesMixedNames(t *testing.T) {
	l := listen(t)
	_, port, _ := net.SplitHostPort(l.Addr().String())
	addr := net.JoinHostPort("hooks.example", port)
	d := &recordingDial{target: l.Addr().String()}

	g := fakeGuard([]string{"127.0.0.1", "10.0.0.1"}, "127.0.0.1")
	_, err := g.wrap(d.dial, dialChecked)(context.Background(), "tcp", addr)
	require.ErrorIs(t, err, ErrPrivateAddress)
	require.Empty(t, d.asked)

	g = fakeGuard([]string{"127.0.0.1"}, "127.0.0.1")
	c, err := g.wrap(d.dial, dialChecked)(context.Background(), "tcp", addr)
	require.NoError(t, err)
	c.Close()
	require.Equal(t, []string{addr}, d.asked, "called with the name, for TLS")
}

// TestPeerChecked checks that a connection a user's dial function made to
// somewhere other than it was asked is closed and refused when that place
// is not public, with the same error as every refusal.
func TestPeerChecked(t *testing.T) {
	l := listen(t)
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	g := fakeGuard([]string{"203.0.113.7"}, "203.0.113.7") // only the "public" one is allowed
	d := &recordingDial{target: l.Addr().String()}         // but the dial goes to 127.0.0.1
	_, err := g.wrap(d.dial, dialPinned)(context.Background(), "tcp", "hooks.example:443")
	require.ErrorIs(t, err, ErrPrivateAddress)
	require.Equal(t, "dial tcp: "+ErrPrivateAddress.Error(), err.Error())
	require.Equal(t, []string{"203.0.113.7:443"}, d.asked)

	c := <-accepted
	require.NotNil(t, c)
	defer c.Close()
	_, rerr := c.Read(make([]byte, 1))
	require.Error(t, rerr, "the guard closed the connection unused")
	require.False(t, errors.Is(rerr, net.ErrClosed))
}
