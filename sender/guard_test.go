package sender_test

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/sender"
)

// acceptLog is a TCP listener on 127.0.0.1 that records the remote address
// of every connection it accepts, and serves nothing.
type acceptLog struct {
	l    net.Listener
	mu   sync.Mutex
	seen []string
	more chan struct{}   // signalled after each accept
	mine map[string]bool // acceptedSoFar's own connections
	done chan struct{}   // closed when the accept loop ends
}

func newAcceptLog(t *testing.T) *acceptLog {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	a := &acceptLog{l: l, more: make(chan struct{}, 1), done: make(chan struct{}), mine: map[string]bool{}}
	go func() {
		defer close(a.done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			a.mu.Lock()
			a.seen = append(a.seen, c.RemoteAddr().String())
			a.mu.Unlock()
			c.Close()
			select {
			case a.more <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(a.close)
	return a
}

func (a *acceptLog) port() string {
	_, p, _ := net.SplitHostPort(a.l.Addr().String())
	return p
}

func (a *acceptLog) close() {
	a.l.Close()
	<-a.done
}

// acceptedSoFar returns how many connections were made to the listener
// before this call: it connects once more itself and waits until that
// connection is accepted, which the kernel's accept queue does in order,
// so no earlier connection can still be on its way.
func (a *acceptLog) acceptedSoFar(t *testing.T) int {
	t.Helper()
	c, err := net.Dial("tcp", a.l.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	me := c.LocalAddr().String()
	for {
		a.mu.Lock()
		i := slices.Index(a.seen, me)
		n := 0
		if i >= 0 {
			a.mine[me] = true
			for _, addr := range a.seen[:i] {
				if !a.mine[addr] {
					n++
				}
			}
		}
		a.mu.Unlock()
		if i >= 0 {
			return n
		}
		<-a.more
	}
}

// rawDial dials TCP and records the addresses it was asked for; as a
// DialTLSContext it does no handshake (the guard must refuse first).
type rawDial struct {
	mu    sync.Mutex
	addrs []string
}

func (d *rawDial) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.addrs = append(d.addrs, addr)
	d.mu.Unlock()
	var nd net.Dialer
	return nd.DialContext(ctx, network, addr)
}

func (d *rawDial) calls() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.addrs)
}

// TestGuardRefusesBeforeDialling checks that the private-address guard
// opens no connection to a non-public address, IP literal or host name,
// with the sender's transport and with a user's dial functions, and that
// its refusal is the same text whether the port is open or closed and
// names no resolved address, so the attempt log cannot scan the private
// network; the debug log has the address for the operator.
func TestGuardRefusesBeforeDialling(t *testing.T) {
	transports := []struct {
		name   string
		scheme string
		tr     func(d *rawDial) *http.Transport
	}{
		{"sender's transport", "http", func(*rawDial) *http.Transport { return nil }},
		{"user transport without a dialer", "http", func(*rawDial) *http.Transport { return &http.Transport{} }},
		{"user DialContext", "http", func(d *rawDial) *http.Transport { return &http.Transport{DialContext: d.dial} }},
		{"user Dial", "http", func(d *rawDial) *http.Transport {
			return &http.Transport{Dial: func(n, a string) (net.Conn, error) { return d.dial(context.Background(), n, a) }}
		}},
		{"user DialTLSContext", "https", func(d *rawDial) *http.Transport {
			return &http.Transport{DialTLSContext: d.dial, TLSClientConfig: &tls.Config{}}
		}},
	}
	hosts := []struct {
		name string
		host string
	}{
		{"IP literal", "127.0.0.1"},
		{"host name", "localhost"},
	}
	for _, tr := range transports {
		for _, h := range hosts {
			t.Run(tr.name+", "+h.name, func(t *testing.T) {
				ctx := context.Background()
				clk := newClock()
				st := newStore()
				lst := newAcceptLog(t)
				url := tr.scheme + "://" + net.JoinHostPort(h.host, lst.port()) + "/hook"
				ep, _ := addEndpoint(t, st, url, nil)
				d := &rawDial{}
				var logs syncBuffer
				s := newSender(t, st, clk, func(c *sender.Config) {
					c.AllowPrivateNetworks = false
					if t := tr.tr(d); t != nil {
						c.Transport = t
					}
					c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
				})

				// The port is open.
				a, err := s.Ping(ctx, ep.ID)
				require.ErrorIs(t, err, sender.ErrPrivateAddress)
				require.Zero(t, lst.acceptedSoFar(t), "no connection was made")
				require.Empty(t, d.calls(), "the user's dial function was not called")
				open := a.Error

				ev := newEvent(t, clk, "a.b", `{}`)
				_, err = s.Publish(ctx, ev, sender.ToTenant(""), nil)
				require.NoError(t, err)
				require.Equal(t, 1, processDue(t, s))
				require.Zero(t, lst.acceptedSoFar(t), "no connection was made")
				as := attemptsOf(t, st, ev.ID)
				require.Len(t, as, 1)
				require.Equal(t, open, as[0].Error)
				require.Equal(t, open, delivery(t, st, ev.ID).LastError)

				// The same port, closed.
				lst.close()
				a, err = s.Ping(ctx, ep.ID)
				require.ErrorIs(t, err, sender.ErrPrivateAddress)
				require.Equal(t, open, a.Error, "a refusal does not tell an open port from a closed one")
				require.Empty(t, d.calls())

				require.Contains(t, open, "non-public address")
				if h.host == "localhost" {
					for _, resolved := range []string{"127.0.0.1", "::1"} {
						require.NotContains(t, open, resolved, "the resolved address is not shown")
					}
					require.Contains(t, logs.String(), "127.0.0.1", "the operator's debug log has it")
				}
			})
		}
	}
}
