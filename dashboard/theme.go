package dashboard

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode"
)

// DefaultName is the name in the header and page titles when Theme.Name
// is empty.
const DefaultName = "Webhooks"

// Theme brands the dashboard for the application embedding it: a name, a
// logo and colours. The colours become CSS custom properties of a small
// stylesheet the handler serves (theme.css), so the Content-Security-Policy
// keeps refusing inline styles. Every field is checked by [New], which
// refuses (with an error wrapping [ErrInvalidConfig] that names the field)
// anything that is not plainly a name, a URL or a colour, so a theme taken
// from a tenant's settings cannot inject CSS or HTML. The zero Theme is
// the default look.
type Theme struct {
	// Name replaces "Webhooks" ([DefaultName]) in the header and the page
	// titles, shown as text (HTML-escaped). At most 100 characters, no
	// control characters.
	Name string

	// LogoURL is an image shown beside the name, at most 2 rem high:
	// an https URL, or an absolute path on the application's own origin
	// such as "/assets/logo.svg". The handler's Content-Security-Policy
	// allows images from the URL's origin (scheme, host and port) and no
	// other. Credentials, quotes, spaces, parentheses and backslashes are
	// refused. Empty: no logo.
	LogoURL string

	// Colours, as CSS colours: #rgb, #rgba, #rrggbb or #rrggbbaa, a named
	// colour such as "teal", or rgb(), rgba(), hsl() or hsla() with
	// numbers. Empty: the default. Accent colours links, primary buttons
	// and the p50 line; Background the page; Surface the header, cards and
	// tables; Text the text; Muted secondary text; Line borders and grid
	// lines; OK and Bad success and failure (and the 2xx and 5xx bars).
	Accent, Background, Surface, Text, Muted, Line, OK, Bad string
}

// Validate reports whether [New] accepts the theme: nil, or the error New
// would return, wrapping [ErrInvalidConfig] and naming the field
// ("Theme.Accent: ..."). It lets a caller check a theme taken from
// settings or flags before building the rest of a [Config]. The zero Theme
// is valid.
func (t Theme) Validate() error {
	_, err := t.check()
	return err
}

// themeVars maps the CSS variables of style.css to the Theme's colours.
func (t *Theme) vars() [][2]string {
	return [][2]string{
		{"--accent", t.Accent}, {"--bg", t.Background}, {"--surface", t.Surface}, {"--fg", t.Text},
		{"--muted", t.Muted}, {"--line", t.Line}, {"--ok", t.OK}, {"--bad", t.Bad},
	}
}

var (
	hexColour   = regexp.MustCompile(`^#([0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$`)
	funcColour  = regexp.MustCompile(`^(rgb|rgba|hsl|hsla)\(\s*[0-9.]+(deg)?%?(\s*[,/ ]\s*[0-9.]+%?){2,3}\s*\)$`)
	namedColour = regexp.MustCompile(`^[a-zA-Z]{3,20}$`)
	logoChars   = regexp.MustCompile(`^[A-Za-z0-9\-._~/?#\[\]@!$&*+,;=:%]+$`)
)

// check validates the theme and returns the origin the logo is loaded
// from ("" for none or the handler's own).
func (t *Theme) check() (logoOrigin string, err error) {
	bad := func(field, reason string) error {
		return fmt.Errorf("%w: Theme.%s: %s", ErrInvalidConfig, field, reason)
	}
	if len([]rune(t.Name)) > 100 {
		return "", bad("Name", "longer than 100 characters")
	}
	if strings.ContainsFunc(t.Name, unicode.IsControl) {
		return "", bad("Name", "contains control characters")
	}
	for _, v := range []struct{ field, val string }{
		{"Accent", t.Accent}, {"Background", t.Background}, {"Surface", t.Surface}, {"Text", t.Text},
		{"Muted", t.Muted}, {"Line", t.Line}, {"OK", t.OK}, {"Bad", t.Bad},
	} {
		if v.val != "" && !hexColour.MatchString(v.val) && !funcColour.MatchString(v.val) && !namedColour.MatchString(v.val) {
			return "", bad(v.field, fmt.Sprintf("%q is not a CSS colour (want #rrggbb, a colour name, or rgb()/hsl() with numbers)", v.val))
		}
	}
	if t.LogoURL == "" {
		return "", nil
	}
	if len(t.LogoURL) > 2048 || !logoChars.MatchString(t.LogoURL) {
		return "", bad("LogoURL", "want an https URL or an absolute path, without quotes, spaces, parentheses or backslashes")
	}
	u, err := url.Parse(t.LogoURL)
	if err != nil {
		return "", bad("LogoURL", "not a URL")
	}
	switch {
	case u.Scheme == "" && u.Host == "" && strings.HasPrefix(t.LogoURL, "/") && !strings.HasPrefix(t.LogoURL, "//"):
		return "", nil // the application's own origin: 'self'
	case u.Scheme == "https" && u.Host != "" && u.User == nil && u.Opaque == "":
		return "https://" + u.Host, nil
	}
	return "", bad("LogoURL", "want an https URL without credentials, or an absolute path such as /logo.svg")
}

// css returns theme.css: the theme's colours as CSS variables.
func (t *Theme) css() string {
	var b strings.Builder
	b.WriteString(":root {")
	for _, v := range t.vars() {
		if v[1] != "" {
			b.WriteString(" " + v[0] + ":" + v[1] + ";")
		}
	}
	b.WriteString(" }\n")
	return b.String()
}

// contentSecurityPolicy is the policy of every response, allowing images
// from logoOrigin too when it is not empty.
func contentSecurityPolicy(logoOrigin string) string {
	img := "img-src 'self' data:"
	if logoOrigin != "" {
		img += " " + logoOrigin
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; " + img + "; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
}

// themeHandler serves theme.css.
func (h *handler) themeHandler(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	_, _ = w.Write([]byte(h.themeCSS))
}
