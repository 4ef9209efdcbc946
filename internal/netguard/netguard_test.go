package netguard_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/internal/netguard"
)

func TestAllowed(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"8.8.8.8", true},
		{"1.1.1.1", true},
		{"93.184.216.34", true},
		{"2606:4700:4700::1111", true},
		{"2001:4860:4860::8888", true},
		{"::ffff:8.8.8.8", true},
		{"64:ff9b::808:808", true}, // NAT64 of 8.8.8.8
		{"2002:808:808::1", true},  // 6to4 of 8.8.8.8
		{"100.63.255.255", true},   // just below CGNAT
		{"100.128.0.0", true},      // just above CGNAT
		{"172.15.255.255", true},   // just below 172.16/12
		{"172.32.0.0", true},       // just above
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"10.1.2.3", false},
		{"100.64.0.1", false},
		{"100.127.255.255", false},
		{"127.0.0.1", false},
		{"127.255.255.254", false},
		{"169.254.169.254", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"192.0.0.8", false},
		{"192.0.2.1", false},
		{"192.168.1.1", false},
		{"198.18.0.1", false},
		{"198.51.100.7", false},
		{"203.0.113.9", false},
		{"224.0.0.1", false},
		{"239.255.255.250", false},
		{"240.0.0.1", false},
		{"255.255.255.255", false},
		{"::", false},
		{"::1", false},
		{"::127.0.0.1", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:10.0.0.1", false},
		{"::ffff:169.254.169.254", false},
		{"64:ff9b::7f00:1", false},    // NAT64 of 127.0.0.1
		{"64:ff9b::a9fe:a9fe", false}, // NAT64 of 169.254.169.254
		{"2002:7f00:1::", false},      // 6to4 of 127.0.0.1
		{"2002:c0a8:101::1", false},   // 6to4 of 192.168.1.1
		{"2001:db8::1", false},
		{"3fff::1", false},
		{"fc00::1", false},
		{"fd12:3456:789a::1", false},
		{"fe80::1", false},
		{"fe80::1%eth0", false},
		{"fec0::1", false},
		{"ff02::1", false},
		{"100::1", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			ip := netip.MustParseAddr(tt.addr)
			require.Equal(t, tt.want, netguard.Allowed(ip))
			err := netguard.Check(net.JoinHostPort(tt.addr, "443"))
			if tt.want {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, netguard.ErrPrivateAddress)
			}
		})
	}
	require.False(t, netguard.Allowed(netip.Addr{}))
}

func TestCheckRefusesNonIP(t *testing.T) {
	for _, a := range []string{"", "example.com:443", "/tmp/sock", "localhost"} {
		require.ErrorIs(t, netguard.Check(a), netguard.ErrPrivateAddress, a)
	}
	require.NoError(t, netguard.Check("8.8.8.8"))
}

// TestControlRefusesLoopbackDial dials a real loopback listener through a
// guarded dialer: the connection must be refused before it is made.
func TestControlRefusesLoopbackDial(t *testing.T) {
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	defer srv.Close()

	d := &net.Dialer{Control: netguard.Control}
	tr := &http.Transport{DialContext: d.DialContext}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	resp, err := tr.RoundTrip(req)
	if resp != nil {
		resp.Body.Close()
	}
	require.Error(t, err)
	require.True(t, errors.Is(err, netguard.ErrPrivateAddress), "got %v", err)
	require.Zero(t, hits)
}

func ExampleAllowed() {
	for _, s := range []string{"93.184.216.34", "10.0.0.1", "::ffff:127.0.0.1"} {
		fmt.Println(s, netguard.Allowed(netip.MustParseAddr(s)))
	}
	// Output:
	// 93.184.216.34 true
	// 10.0.0.1 false
	// ::ffff:127.0.0.1 false
}
