package sender

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/webhookkit/webhookkit/internal/netguard"
	"github.com/webhookkit/webhookkit/store"
)

// RedactURL returns rawURL with its whole userinfo (the "user:password"
// before the host's "@") replaced by [RedactedValue]:
// https://TOKEN@example.com/hook becomes https://(redacted)@example.com/hook.
// Both parts are credentials (the sender sends them as basic auth, and a
// bare user name is often a token), so the attempt log, errors, logs and the
// dashboard show this form. Everything else in rawURL is kept byte for byte,
// so a URL shown this way and submitted back unchanged can be recognised;
// a URL without userinfo is returned as is. It works on strings that do not
// parse as URLs too, redacting from the first "//" to the last "@" before
// the next "/", "?" or "#" (url.Parse's reading). Safe for concurrent use.
func RedactURL(rawURL string) string {
	start, end := userinfo(rawURL)
	if start == end {
		return rawURL
	}
	return rawURL[:start] + RedactedValue + rawURL[end:]
}

// userinfo returns the bounds of rawURL's userinfo, without its "@";
// start == end when it has none.
func userinfo(rawURL string) (start, end int) {
	if strings.IndexByte(rawURL, '@') < 0 {
		return 0, 0
	}
	i := strings.Index(rawURL, "//")
	if i < 0 {
		return 0, 0
	}
	start = i + 2
	auth := rawURL[start:]
	if j := strings.IndexAny(auth, "/?#"); j >= 0 {
		auth = auth[:j]
	}
	at := strings.LastIndexByte(auth, '@')
	if at < 0 {
		return 0, 0
	}
	return start, start + at
}

// redactError redacts rawURL's userinfo in err and returns err's text: a
// *url.Error in err's chain (net/http and net/url build them with the user
// name in the URL) is made to name shown instead, and any other copy of the
// raw userinfo in the text is redacted too. Call it before wrapping err:
// fmt.Errorf's wrappers keep the text they were made with.
func redactError(err error, rawURL, shown string) string {
	start, end := userinfo(rawURL)
	if start == end {
		return err.Error()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = shown
	}
	return strings.ReplaceAll(err.Error(), rawURL[start:end]+"@", RedactedValue+"@")
}

// CheckURL reports whether rawURL may be an endpoint URL, for the forms that
// create and edit endpoints (the dashboard calls it; applications may call
// it for their own). It must be an absolute http or https URL with a host;
// unless allowPrivate is set, the host must not be an IP address that is not
// public (loopback, private, link-local, CGNAT, unique-local, multicast,
// documentation and the other ranges the dial-time guard refuses, including
// the shorthand and hexadecimal IPv4 forms such as 127.1 and 0x7f000001)
// nor localhost or a name under .localhost.
//
// It returns nil or an error wrapping [store.ErrInvalid], and also
// [ErrPrivateAddress] when the host is not public. The error text never
// contains the URL's userinfo. CheckURL does not resolve host names: a name
// that resolves to a private address is refused when the sender dials it
// (DNS can change after the check). Safe for concurrent use.
func CheckURL(rawURL string, allowPrivate bool) error {
	if err := store.CheckURL(rawURL); err != nil {
		return err
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("%w: endpoint url: %v", store.ErrInvalid, err) // store.CheckURL parsed it
	}
	if allowPrivate {
		return nil
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if ip, ok := parseHostIP(host); (ok && !netguard.Allowed(ip)) || host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return fmt.Errorf("%w: endpoint url: %q is not a public host: %w", store.ErrInvalid, u.Hostname(), ErrPrivateAddress)
	}
	return nil
}

// CheckURL is [CheckURL] with the sender's Config.AllowPrivateNetworks.
func (s *Sender) CheckURL(rawURL string) error {
	return CheckURL(rawURL, s.cfg.AllowPrivateNetworks)
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
