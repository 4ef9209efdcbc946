package sender

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// proxied returns the dial function of a transport that reaches every
// destination through Config.Proxy with HTTP CONNECT: dial connects to the
// proxy (its address allowed explicitly), and, unless private networks are
// allowed, the guard resolves and checks each destination first and hands
// the CONNECT dialer the checked IP addresses, so the proxy connects where
// the guard allowed and not where its own DNS says.
func proxied(cfg *settings, dial dialFunc) dialFunc {
	c := &connectDialer{proxy: cfg.Proxy.Host, dial: dial}
	if u := cfg.Proxy.User; u != nil {
		pw, _ := u.Password()
		c.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pw))
	}
	if _, _, err := net.SplitHostPort(c.proxy); err != nil {
		c.proxy = net.JoinHostPort(c.proxy, "80")
	}
	if cfg.AllowPrivateNetworks {
		return c.dialContext
	}
	return newGuard(cfg).wrap(c.dialContext, dialProxied)
}

// connectDialer opens tunnels through an HTTP proxy.
type connectDialer struct {
	proxy string // host:port
	auth  string // Proxy-Authorization value, or ""
	dial  dialFunc
}

// dialContext connects to the proxy and asks it to CONNECT to addr. The
// transport then speaks HTTP, or TLS with the URL's host name, through the
// tunnel. Errors name the destination as given, never the proxy's
// credentials.
func (c *connectDialer) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := c.dial(ctx, network, c.proxy)
	if err != nil {
		return nil, fmt.Errorf("sender: proxy: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	}
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: addr}, Host: addr, Header: http.Header{}}
	if c.auth != "" {
		req.Header.Set("Proxy-Authorization", c.auth)
	}
	br := bufio.NewReader(conn)
	err = req.Write(conn)
	var resp *http.Response
	if err == nil {
		resp, err = http.ReadResponse(br, req)
	}
	if err != nil {
		conn.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("sender: proxy CONNECT %s: %w", addr, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		conn.Close()
		return nil, fmt.Errorf("sender: proxy refused CONNECT %s: %s", addr, resp.Status)
	}
	if !stop() {
		conn.Close()
		return nil, ctx.Err()
	}
	conn.SetDeadline(time.Time{})
	if br.Buffered() > 0 {
		return &bufferedConn{Conn: conn, r: br}, nil
	}
	return conn, nil
}

// bufferedConn is a tunnel whose first bytes the proxy sent along with its
// answer to CONNECT.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }
