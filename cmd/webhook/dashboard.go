package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/webhookkit/webhookkit/dashboard"
	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/sender"
)

const (
	defaultDashboardAddr = "127.0.0.1:8080"
	// tokenCookie carries the access token once the browser has presented
	// it in the URL.
	tokenCookie = "webhook_dashboard_token"
)

func runDashboard(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "dashboard", "[--store DSN] [--addr 127.0.0.1:8080] [--mode test|live] [--catalog FILE] [--read-only | --deliver] [--allow-private-networks] [--theme-name NAME] [--theme-logo URL] [--theme-color KEY=COLOR ...]", `
Serve the webhook dashboard (endpoints and their health, delivery logs with
every attempt, retries, replays, pings and the simulator, plus its JSON API)
over a store, for operators: every tenant is visible.

The event types offered as subscriptions and in the simulator, with their
samples, come from --catalog FILE, a JSON event catalog as for 'webhook
simulate' ({"types": [{"type": "order.paid", "sample": {...}}, ...]}).
Without --catalog, the provider's catalog is used: the events of Fasten
Connect (package event/fasten). Endpoints are created and edited by the
library's sender, which refuses a subscription that selects none of the
catalog's types (a typo), and simulates only the catalog's types.

It binds to loopback by default and requires an access token, random for
each run and printed on stderr at start as part of the URL to open
("http://127.0.0.1:8080/?token=..."). The browser trades the token in the URL
for an HttpOnly cookie; API clients send "Authorization: Bearer TOKEN".

--mode (default test) says which endpoints it shows and manages, and the
api_mode of the events it simulates: those of test mode, or of live mode.
When the store holds endpoints of the other mode only, it says so at start
("webhook dashboard: 3 live-mode endpoints are hidden: use --mode live").

What it delivers depends on the store. With --store memory (the default,
a local playground) it runs the library's sender, so retries, replays and
simulated events are delivered while it runs, to private and loopback
addresses too. With a durable store (sqlite:FILE, postgres://...), which
an application may share, it delivers nothing by default: retries,
replays and simulated events are queued in the store for the
application's own senders, with its settings (OAuth2, proxy, signers,
retry policy), and the pages and API answers say so. --deliver makes it a
delivery worker over the store's --mode endpoints, with the CLI's
settings; use it only for a store no application delivers from. Pings
are sent by the dashboard itself, synchronously, in every case. Over a
durable store the private-address guard stays on (pings and deliveries to
loopback, private and link-local addresses are refused, and so are such
endpoint URLs) unless --allow-private-networks is given.

Unless --read-only, a missing SQLite file or PostgreSQL schema is created,
and endpoint secrets are sealed under $`+storeKeysEnv+` ('webhook secret
--store-key'); with it unset they are stored in plaintext, and a warning
at start says so. With --read-only nothing is sent and the dashboard only reads: the store
must exist already, else it says so and exits 1, creating nothing. Stop it
with SIGINT or SIGTERM.

--theme-name, --theme-logo and --theme-color brand the pages: a name in
place of "Webhooks", a logo (an https URL, or an absolute path on the
dashboard's origin) and colours, served as CSS variables in theme.css.
--theme-color KEY=COLOR is repeatable; KEY is one of accent (links,
primary buttons), background, surface (header, cards, tables), text, muted,
line (borders, grid lines), ok and bad (success and failure); COLOR is a CSS
colour (#rgb, #rrggbb, #rrggbbaa, a name such as teal, or rgb()/hsl() with
numbers). A bad value is a usage error.`, `
	$ webhook dashboard --store sqlite:webhooks.db --catalog events.json
	webhook dashboard: open http://127.0.0.1:8080/?token=...
	$ webhook dashboard --theme-name "Acme Hooks" --theme-color accent=#ff6600 --theme-color background=white`)
	dsn := fs.String("store", "memory", dsnHelp)
	addr := fs.String("addr", defaultDashboardAddr, "`HOST:PORT` to listen on (keep it on loopback)")
	mode := fs.String("mode", string(event.ModeTest), "api_mode of the endpoints shown and managed: `test` or live")
	catalogPath := fs.String("catalog", "", "event catalog `FILE` (JSON; - for stdin; default: the provider's catalog, event/fasten)")
	readOnly := fs.Bool("read-only", false, "show only: the sender is not started, no actions")
	deliver := fs.Bool("deliver", false, "with a durable store: deliver what is queued, as a sender worker with the CLI's settings (default: leave it to the application's senders)")
	allowPrivate := fs.Bool("allow-private-networks", false, "with a durable store: let pings and deliveries reach loopback and private addresses (always allowed with --store memory)")
	themeName := fs.String("theme-name", "", "`NAME` shown in the header and page titles (default: Webhooks)")
	themeLogo := fs.String("theme-logo", "", "logo `URL`: https, or an absolute path such as /logo.svg")
	var colours listFlag
	fs.Var(&colours, "theme-color", "page colour `KEY=COLOR`, KEY one of "+themeKeyList+" (repeatable)")
	verbose := fs.Bool("v", false, "log debug details on stderr")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := maxArgs(fs, 0); err != nil {
		return err
	}
	theme, err := themeOf(*themeName, *themeLogo, colours)
	if err != nil {
		return err
	}
	if !event.Mode(*mode).Valid() {
		return usagef("--mode must be test or live")
	}
	if *readOnly && *deliver {
		return usagef("--read-only and --deliver exclude each other")
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return usagef("--addr: %v", err)
	}
	cat, err := loadCatalog(e, *catalogPath)
	if err != nil {
		return err
	}
	log := newLogger(e, *verbose)
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		log.Warn("webhook dashboard: listening beyond loopback; anyone who can reach it and learns the token can manage your endpoints", "addr", *addr)
	}

	open := migrate
	if *readOnly {
		open = existing
	}
	st, err := openStore(ctx, *dsn, open)
	if err != nil {
		return err
	}
	defer st.close()
	if err := st.checkKeys(ctx); err != nil {
		return err
	}
	if w := st.plaintextWarning(); w != "" && !*readOnly {
		fmt.Fprintf(e.stderr, "webhook dashboard: %s\n", w)
	}

	token, err := newToken()
	if err != nil {
		return err
	}
	// The dashboard works through a sender. A store of this process alone
	// (memory) is a local playground: its sender delivers, loopback too.
	// A durable store may be an application's outbox: its sender is not
	// started unless --deliver, since it would deliver the application's
	// queue without the application's settings, and it keeps the guard
	// unless --allow-private-networks. A read-only one is never started,
	// and the dashboard refuses every action.
	durable := st.durable()
	delivers := !*readOnly && (!durable || *deliver)
	snd, err := sender.New(st.st, &sender.Config{
		Mode:                 event.Mode(*mode),
		Catalog:              cat,
		AllowPrivateNetworks: !durable || *allowPrivate,
		Logger:               log,
	})
	if err != nil {
		return err
	}
	defer snd.Close() // after Shutdown, a no-op
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	auth := newTokenAuth(token, ln.Addr())
	h, err := dashboard.New(&dashboard.Config{
		Authorize: auth.authorize,
		Sender:    snd,
		ReadOnly:  *readOnly,
		Logger:    log,
		Theme:     theme,

		DeliveredElsewhere: !delivers,
	})
	if err != nil {
		_ = ln.Close()
		return err
	}
	srv := &http.Server{
		Handler:           auth.cookieHandoff(h),
		ReadHeaderTimeout: listenReadTimeout,
		ReadTimeout:       listenReadTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if delivers {
		if err := snd.Start(context.WithoutCancel(ctx)); err != nil {
			_ = ln.Close()
			return err
		}
	}
	hidden, err := hiddenModeNote(ctx, st.st, event.Mode(*mode))
	if err != nil {
		_ = ln.Close()
		return err
	}
	if hidden != "" {
		fmt.Fprintf(e.stderr, "webhook dashboard: %s\n", hidden)
	}
	if durable && !*readOnly && !*deliver {
		fmt.Fprintf(e.stderr, "webhook dashboard: not delivering: retries, replays and simulated events wait in %s for the application's senders (--deliver makes this process deliver them)\n", st.where)
	}
	where, note := browseAddr(ln.Addr())
	fmt.Fprintf(e.stderr, "webhook dashboard: open http://%s/?token=%s (store: %s; mode: %s%s)\n", where, token, st.where, *mode, note)
	var stop func(context.Context) error
	if delivers {
		stop = snd.Shutdown
	}
	return serve(ctx, log, "webhook dashboard", "", srv, ln, stop)
}

// themeKey is a key of --theme-color and the colour of a dashboard.Theme
// it sets.
type themeKey struct {
	key   string
	field func(*dashboard.Theme) *string
}

// themeKeys are the keys of --theme-color, each setting one colour of a
// dashboard.Theme.
var themeKeys = []themeKey{
	{"accent", func(t *dashboard.Theme) *string { return &t.Accent }},
	{"background", func(t *dashboard.Theme) *string { return &t.Background }},
	{"surface", func(t *dashboard.Theme) *string { return &t.Surface }},
	{"text", func(t *dashboard.Theme) *string { return &t.Text }},
	{"muted", func(t *dashboard.Theme) *string { return &t.Muted }},
	{"line", func(t *dashboard.Theme) *string { return &t.Line }},
	{"ok", func(t *dashboard.Theme) *string { return &t.OK }},
	{"bad", func(t *dashboard.Theme) *string { return &t.Bad }},
}

// themeKeyList is the keys of --theme-color for the usage text.
var themeKeyList = func() string {
	var keys []string
	for _, k := range themeKeys {
		keys = append(keys, k.key)
	}
	return strings.Join(keys, ", ")
}()

// themeOf builds the dashboard's theme from the --theme-* flags and checks
// it as dashboard.New would, so a bad value is a usage error naming its
// flag, found before the store is opened.
func themeOf(name, logo string, colours []string) (dashboard.Theme, error) {
	var t dashboard.Theme
	t.Name = name
	if err := t.Validate(); err != nil {
		return t, usagef("--theme-name: %s", themeReason(err, "Name"))
	}
	t.LogoURL = logo
	if err := t.Validate(); err != nil {
		return t, usagef("--theme-logo %q: %s", logo, themeReason(err, "LogoURL"))
	}
	for _, kv := range colours {
		key, val, ok := strings.Cut(kv, "=")
		key, val = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(val)
		i := slices.IndexFunc(themeKeys, func(k themeKey) bool { return k.key == key })
		switch {
		case !ok || val == "":
			return t, usagef("--theme-color %q: want KEY=COLOR, such as accent=#ff6600", kv)
		case i < 0:
			return t, usagef("--theme-color %q: unknown key %q (want one of %s)", kv, key, themeKeyList)
		}
		one := dashboard.Theme{}
		*themeKeys[i].field(&one) = val
		if one.Validate() != nil {
			return t, usagef("--theme-color %s=%s: not a CSS colour (want #rrggbb, a colour name such as teal, or rgb()/hsl() with numbers)", key, val)
		}
		*themeKeys[i].field(&t) = val
	}
	return t, nil
}

// themeReason is the reason of dashboard.Theme.Validate's error about the
// field: the text after "Theme.<field>: ".
func themeReason(err error, field string) string {
	_, reason, ok := strings.Cut(err.Error(), "Theme."+field+": ")
	if !ok {
		return err.Error()
	}
	return reason
}

// newToken returns 32 random bytes, base64url without padding.
func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// tokenAuth checks the dashboard's access token. Cookies ignore ports, so
// the cookie's name carries the port: dashboards on several ports do not
// overwrite each other's.
type tokenAuth struct {
	token  string
	cookie string
}

func newTokenAuth(token string, addr net.Addr) *tokenAuth {
	name := tokenCookie
	if ta, ok := addr.(*net.TCPAddr); ok {
		name = fmt.Sprintf("%s_%d", tokenCookie, ta.Port)
	}
	return &tokenAuth{token: token, cookie: name}
}

func (a *tokenAuth) match(t string) bool {
	return t != "" && subtle.ConstantTimeCompare([]byte(t), []byte(a.token)) == 1
}

// authorize admits a request carrying the token in the cookie, a bearer
// Authorization header or the token query parameter, with every tenant in
// scope.
func (a *tokenAuth) authorize(r *http.Request) (dashboard.Scope, error) {
	if c, err := r.Cookie(a.cookie); err == nil && a.match(c.Value) {
		return dashboard.Scope{All: true}, nil
	}
	if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && a.match(strings.TrimSpace(v)) {
		return dashboard.Scope{All: true}, nil
	}
	if a.match(r.URL.Query().Get("token")) {
		return dashboard.Scope{All: true}, nil
	}
	return dashboard.Scope{}, errors.New("webhook dashboard: missing or wrong access token")
}

// cookieHandoff turns a GET with the right ?token= into a cookie and a
// redirect to the same URL without it, so the token leaves the address bar
// and the history. Everything else goes to next, which authorizes.
func (a *tokenAuth) cookieHandoff(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.Method != http.MethodGet || !a.match(q.Get("token")) {
			next.ServeHTTP(w, r)
			return
		}
		// A session cookie: the token changes with every run anyway.
		http.SetCookie(w, &http.Cookie{
			Name: a.cookie, Value: a.token, Path: "/",
			HttpOnly: true, SameSite: http.SameSiteStrictMode,
		})
		q.Del("token")
		// One leading slash: "//host/..." would be a scheme-relative
		// Location, a redirect off the dashboard.
		u := url.URL{Path: "/" + strings.TrimLeft(r.URL.Path, "/"), RawQuery: q.Encode()}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, u.String(), http.StatusSeeOther)
	})
}
