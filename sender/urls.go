package sender

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/webhookkit/webhookkit/internal/netguard"
	"github.com/webhookkit/webhookkit/store"
)

// CheckURL reports whether rawURL may be an endpoint URL: [store.CheckURL]'s
// shape (an absolute http or https URL with a host) and, unless
// allowPrivate is set, a host that is not an IP address that is not public
// (loopback, private, link-local, CGNAT, unique-local, multicast,
// documentation and the other ranges the dial-time guard refuses, including
// the shorthand and hexadecimal IPv4 forms such as 127.1 and 0x7f000001)
// nor localhost or a name under .localhost. A sender's [Endpoints] applies
// it, with the sender's settings, to every endpoint it creates
// ([Endpoints.CheckURL]); applications may call it for their own forms.
//
// It returns nil or a *[store.FieldError] for the field "url", which wraps
// [store.ErrInvalid], and also [ErrPrivateAddress] when the host is not
// public. The error text never contains the URL's userinfo. CheckURL does
// not resolve host names: a name that resolves to a private address is
// refused when the sender dials it (DNS can change after the check). Safe
// for concurrent use.
func CheckURL(rawURL string, allowPrivate bool) error {
	if err := store.CheckURL(rawURL); err != nil {
		return err
	}
	if allowPrivate {
		return nil
	}
	u, err := url.Parse(rawURL)
	if err != nil { // store.CheckURL parsed it
		return &store.FieldError{Field: "url", Reason: "not a URL"}
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if ip, ok := parseHostIP(host); (ok && !netguard.Allowed(ip)) || host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return &store.FieldError{Field: "url", Reason: fmt.Sprintf("%q is not a public host", u.Hostname()), Err: ErrPrivateAddress}
	}
	return nil
}

// parseHostIP parses a URL host that is an IP address: an IPv6 or dotted
// IPv4 literal, or one of the IPv4 forms inet_aton accepts (and so some
// resolvers): one to four parts, each decimal, octal (leading 0) or
// hexadecimal (0x), the last filling the remaining bytes.
func parseHostIP(host string) (netip.Addr, bool) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip, true
	}
	parts := strings.Split(host, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var v uint64
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 0, 32)
		if err != nil || strings.ContainsRune(p, '_') { // base 0 allows 1_000
			return netip.Addr{}, false
		}
		if i < len(parts)-1 {
			if n > 0xff {
				return netip.Addr{}, false
			}
			v |= n << (8 * (3 - i))
			continue
		}
		if rest := 8 * (4 - i); rest < 32 && n >= 1<<rest {
			return netip.Addr{}, false
		}
		v |= n
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}
