package sender

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/retry"
	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
	"github.com/webhookkit/webhookkit/store/memory"
)

// TestRedactErrorParseFailure checks an attempt to a URL that does not
// parse (a store that does not validate URLs could hold one): net/url
// quotes it whole, userinfo and all, in its error, which the attempt's
// Error and the error Ping returns must not repeat.
func TestRedactErrorParseFailure(t *testing.T) {
	raw := "http://t0k3n@hooks.example:bad-port/x"
	_, perr := http.NewRequest(http.MethodPost, raw, nil)
	require.ErrorContains(t, perr, "t0k3n")

	s, err := New(memory.New(nil), &Config{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	defer s.Close()
	sec, err := signature.NewSecret()
	require.NoError(t, err)
	ep := &store.Endpoint{ID: "ep", Mode: event.ModeTest, URL: raw, Secrets: []store.SigningKey{{Key: sec.String()}}}
	ev, err := event.New(event.ModeTest, "a.b", []byte(`{}`))
	require.NoError(t, err)
	res := s.attempt(context.Background(), ep, &ev, 1)
	defer res.free(s)
	require.True(t, retry.IsPermanent(res.err))
	for _, text := range []string{res.a.URL, res.a.Error, res.err.Error()} {
		require.NotContains(t, text, "t0k3n")
	}
	require.Contains(t, res.err.Error(), `parse "http://(redacted)@hooks.example:bad-port/x"`)
}

// TestRedactErrorResolver checks that an attempt's error names the host
// that did not resolve but not the sender's resolver, and keeps the URL's
// credentials out as before.
func TestRedactErrorResolver(t *testing.T) {
	raw := "https://user:pw@hooks.example.invalid/in"
	err := &url.Error{Op: "Post", URL: raw, Err: &net.OpError{Op: "dial", Net: "tcp",
		Err: &net.DNSError{Name: "hooks.example.invalid", Server: "10.255.255.53:53", Err: "no such host", IsNotFound: true}}}
	text := redactError(err, raw, "https://"+RedactedValue+"@hooks.example.invalid/in")
	require.Contains(t, text, "lookup hooks.example.invalid: no such host")
	require.NotContains(t, text, "10.255.255.53")
	require.NotContains(t, text, "pw")
	// Without credentials in the URL, too.
	err.URL = "https://hooks.example.invalid/in"
	text = redactError(err, err.URL, err.URL)
	require.Contains(t, text, "lookup hooks.example.invalid: no such host")
	require.NotContains(t, text, "10.255.255.53")
}
