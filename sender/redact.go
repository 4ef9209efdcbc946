package sender

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// RedactedValue replaces the value of every extra request header of an
// endpoint (store.Endpoint.Headers, which often carry credentials such as
// Authorization or X-Api-Key) in the attempt log and everything derived from
// it (Hooks.OnAttempt, Ping's result, the dashboard). The request itself
// carries the real values. The sender's own headers (Content-Type,
// User-Agent, webhook-id, webhook-timestamp, webhook-signature) are logged
// as sent: signatures are not secrets. It also replaces the whole userinfo
// of an endpoint URL (see [RedactURL]): https://(redacted)@example.com/hook,
// in the attempt's URL, its Error, the delivery's LastError, the logs and
// the dashboard.
const RedactedValue = "(redacted)"

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
// raw userinfo in the text is redacted too. A *net.DNSError in the chain
// loses the address of the resolver it asked ("lookup host on
// 10.0.0.53:53: no such host" becomes "lookup host: no such host"): the
// endpoint's owner reads the attempt log, and the sender's network is not
// theirs to map. Call it before wrapping err: fmt.Errorf's wrappers keep
// the text they were made with.
func redactError(err error, rawURL, shown string) string {
	hideResolver(err)
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

// hideResolver removes the resolver's address from a *net.DNSError in
// err's chain, so that err's text, shown to an endpoint's owner, does not
// reveal the sender's network.
func hideResolver(err error) {
	var de *net.DNSError
	if errors.As(err, &de) {
		de.Server = ""
	}
}

// redact returns a copy of h in which the values of the named headers are
// [RedactedValue].
func redact(h http.Header, names []string) http.Header {
	c := make(http.Header, len(h))
	for k, vs := range h {
		c[k] = vs
	}
	for _, k := range names {
		c[k] = []string{RedactedValue}
	}
	return c
}
