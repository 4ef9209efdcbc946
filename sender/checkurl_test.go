package sender_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
)

func TestCheckURL(t *testing.T) {
	tests := []struct {
		url     string
		invalid bool // not an absolute http(s) URL with a host, whatever allowPrivate says
		private bool // refused unless allowPrivate
	}{
		{url: "https://hooks.example.com/in"},
		{url: "http://hooks.example.com:8080/in?x=1"},
		{url: "https://user:pass@hooks.example.com/in"},
		{url: "https://93.184.216.34/in"},
		{url: "https://[2606:4700:4700::1111]/in"},
		{url: "https://localhost.example.com/"}, // a public name that merely starts with localhost
		{url: "https://1.2.3.4.example/"},

		{url: "", invalid: true},
		{url: "/relative/path", invalid: true},
		{url: "hooks.example.com/in", invalid: true},
		{url: "ftp://hooks.example.com/", invalid: true},
		{url: "https://", invalid: true},
		{url: "https://:443/", invalid: true},
		{url: "http://tok3n@[::1", invalid: true},

		{url: "http://127.0.0.1/", private: true},
		{url: "http://127.0.0.1:8080/hook", private: true},
		{url: "http://10.0.0.1/", private: true},
		{url: "http://172.16.5.4/", private: true},
		{url: "http://192.168.1.1/", private: true},
		{url: "http://100.64.0.1/", private: true},
		{url: "http://169.254.169.254/latest/meta-data/", private: true},
		{url: "http://0.0.0.0/", private: true},
		{url: "http://[::1]/", private: true},
		{url: "http://[::ffff:127.0.0.1]/", private: true},
		{url: "http://[fe80::1%25eth0]/", private: true},
		{url: "http://[fd00::1]:8443/", private: true},
		{url: "http://localhost/", private: true},
		{url: "http://LOCALHOST:3000/", private: true},
		{url: "http://localhost./", private: true},
		{url: "http://api.localhost/", private: true},
		{url: "http://127.1/", private: true},
		{url: "http://2130706433/", private: true},
		{url: "http://0x7f000001/", private: true},
		{url: "http://0177.0.0.1/", private: true},
		{url: "http://10.1/", private: true},
		{url: "http://127.0.0.1./", private: true},
		{url: "https://s3cret-token@10.0.0.1/hook", private: true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			for _, allow := range []bool{false, true} {
				err := sender.CheckURL(tt.url, allow)
				switch {
				case tt.invalid:
					require.ErrorIs(t, err, store.ErrInvalid)
					require.NotErrorIs(t, err, sender.ErrPrivateAddress)
				case tt.private && !allow:
					require.ErrorIs(t, err, store.ErrInvalid)
					require.ErrorIs(t, err, sender.ErrPrivateAddress)
					require.Contains(t, err.Error(), "is not a public host")
					require.NotContains(t, err.Error(), "s3cret")
				default:
					require.NoError(t, err, fmt.Sprintf("allowPrivate %v", allow))
				}
			}
		})
	}
}

func TestSenderCheckURL(t *testing.T) {
	st := newStore()
	guarded := newSender(t, st, nil, func(c *sender.Config) { c.AllowPrivateNetworks = false })
	open := newSender(t, st, nil, nil)
	require.ErrorIs(t, guarded.Endpoints().CheckURL("http://127.0.0.1:8080/"), sender.ErrPrivateAddress)
	require.NoError(t, open.Endpoints().CheckURL("http://127.0.0.1:8080/"))
	require.NoError(t, guarded.Endpoints().CheckURL("https://hooks.example.com/"))
	require.ErrorIs(t, open.Endpoints().CheckURL("ftp://hooks.example.com/"), store.ErrInvalid)
}
