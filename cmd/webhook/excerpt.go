package main

import (
	"bytes"
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
