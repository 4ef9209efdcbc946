package netguard

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// ErrPrivateAddress is returned (wrapped, with the address) by [Control] and
// [Check] for an address [Allowed] refuses.
var ErrPrivateAddress = errors.New("netguard: refusing to connect to a non-public address")

// blockedV4 are the IPv4 ranges that are not publicly routable unicast
// (IANA IPv4 Special-Purpose Address Registry, plus multicast and 240/4).
var blockedV4 = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network", unspecified
	netip.MustParsePrefix("10.0.0.0/8"),      // private
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (CGNAT)
	netip.MustParsePrefix("127.0.0.0/8"),     // loopback
	netip.MustParsePrefix("169.254.0.0/16"),  // link-local (cloud metadata)
	netip.MustParsePrefix("172.16.0.0/12"),   // private
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation (TEST-NET-1)
	netip.MustParsePrefix("192.88.99.0/24"),  // 6to4 relay anycast (deprecated)
	netip.MustParsePrefix("192.168.0.0/16"),  // private
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation (TEST-NET-2)
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation (TEST-NET-3)
	netip.MustParsePrefix("224.0.0.0/4"),     // multicast
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and 255.255.255.255 broadcast
}

// blockedV6 are the IPv6 ranges that are not publicly routable unicast.
var blockedV6 = []netip.Prefix{
	netip.MustParsePrefix("::/96"),           // unspecified, loopback, IPv4-compatible (deprecated)
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use IPv4/IPv6 translation
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2001:2::/48"),     // benchmarking
	netip.MustParsePrefix("2001:10::/28"),    // ORCHID (deprecated)
	netip.MustParsePrefix("3fff::/20"),       // documentation
	netip.MustParsePrefix("fc00::/7"),        // unique local (ULA)
	netip.MustParsePrefix("fe80::/10"),       // link-local
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated)
	netip.MustParsePrefix("ff00::/8"),        // multicast
}

var (
	nat64  = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4 = netip.MustParsePrefix("2002::/16")
)

// Allowed reports whether ip is a public unicast address a webhook may be
// delivered to. The zero Addr and addresses in the special-purpose ranges
// listed in the package doc are not allowed. Zones are ignored
// (fe80::1%eth0 is link-local either way).
func Allowed(ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	ip = ip.WithZone("").Unmap()
	if ip.Is4() {
		for _, p := range blockedV4 {
			if p.Contains(ip) {
				return false
			}
		}
		return true
	}
	for _, p := range blockedV6 {
		if p.Contains(ip) {
			return false
		}
	}
	b := ip.As16()
	switch {
	case nat64.Contains(ip):
		return Allowed(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	case sixTo4.Contains(ip):
		return Allowed(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
	}
	return true
}

// Check parses address, an "ip:port" or bare IP as passed to a dialer's
// Control function, and returns nil when its IP is [Allowed]. Otherwise it
// returns an error wrapping [ErrPrivateAddress]; an address that is not an
// IP literal (a host name, a Unix socket path) is refused too, because a
// dialer's Control function only ever sees resolved addresses.
func Check(address string) error {
	host := address
	if h, _, err := net.SplitHostPort(address); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %q is not an IP address", ErrPrivateAddress, address)
	}
	if !Allowed(ip) {
		return fmt.Errorf("%w: %s", ErrPrivateAddress, ip)
	}
	return nil
}

// Control has the signature of [net.Dialer.Control]: it runs after the host
// name has been resolved and before the connection is made, and refuses
// addresses that are not [Allowed] with an error wrapping
// [ErrPrivateAddress]. The network argument and the raw connection are not
// used.
//
//	d := &net.Dialer{Timeout: 10 * time.Second, Control: netguard.Control}
func Control(network, address string, _ syscall.RawConn) error {
	return Check(address)
}
