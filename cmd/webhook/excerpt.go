package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxBodyExcerpt bounds the response body send and simulate print per
// attempt (the "body" field), in bytes.
const maxBodyExcerpt = 200

// bodyExcerpt returns the first two non-empty lines of a response body,
// joined by " | ", with control characters removed, cut to max bytes
// (at a character boundary, ending in "..."), for people reading why an
// attempt failed. It returns "" for a body of blanks.
func bodyExcerpt(body []byte, max int) string {
	var lines []string
	for len(body) > 0 && len(lines) < 2 {
		line, rest, _ := bytes.Cut(body, []byte("\n"))
		body = rest
		if s := printable(line); s != "" {
			lines = append(lines, s)
		}
	}
	s := strings.Join(lines, " | ")
	if len(s) <= max {
		return s
	}
	cut := max - len("...")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// printable is b as text without control characters (tabs become spaces),
// invalid UTF-8 as U+FFFD, trimmed.
func printable(b []byte) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		switch {
		case r == '\t':
			return ' '
		case unicode.IsControl(r), r == '\u2028', r == '\u2029':
			return -1
		}
		return r
	}, strings.ToValidUTF8(string(b), "\uFFFD")))
}

// maxHintCapture bounds what listen keeps of an answer's body to log its
// hint.
const maxHintCapture = 1 << 10

// bodyCapture keeps the start of the body a handler writes, for
// logResponse: the receiver calls its OnResponse hook after writing the
// answer, with the request's context, which carries the capture.
type bodyCapture struct {
	http.ResponseWriter
	buf []byte
}

func (c *bodyCapture) Write(p []byte) (int, error) {
	if room := maxHintCapture - len(c.buf); room > 0 {
		c.buf = append(c.buf, p[:min(room, len(p))]...)
	}
	return c.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (c *bodyCapture) Unwrap() http.ResponseWriter { return c.ResponseWriter }

type captureKey struct{}

// captureBodies passes each request to next with a bodyCapture that
// answerHint finds in the request's context.
func captureBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &bodyCapture{ResponseWriter: w}
		next.ServeHTTP(c, r.WithContext(context.WithValue(r.Context(), captureKey{}, c)))
	})
}

// answerHint returns the hint of the answer written for the request of
// ctx: the receiver's refusals are the reason on a first line and, for
// some, a second line saying what to fix. It returns "" without one.
func answerHint(ctx context.Context) string {
	c, ok := ctx.Value(captureKey{}).(*bodyCapture)
	if !ok {
		return ""
	}
	_, rest, ok := bytes.Cut(c.buf, []byte("\n"))
	if !ok {
		return ""
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	return printable(line)
}
