package event

import (
	"fmt"
	"strings"
)

// Pattern selects event types, for endpoint subscriptions, receiver
// routing and delivery filters alike. It is one of:
//   - an exact type of two or more segments, such as
//     "patient.ehi_export_success" or "medical-encounters.create", matching
//     only that type;
//   - a service: one segment without a dot, such as "medical-encounters",
//     matching the type of that name and every type of the service, whose
//     first segment it is ("medical-encounters.create",
//     "medical-encounters.update", "medical-encounters.a.b"), so that
//     subscribing to a service delivers all its methods;
//   - [TypePing], "ping": one segment but not a service, matching only
//     "ping", the event that tests an endpoint;
//   - a prefix wildcard, a valid type followed by ".*", such as "patient.*",
//     matching every type that starts with that prefix and a dot and has
//     one or more further segments ("patient.connection_success",
//     "patient.a.b"), but not "patient" itself;
//   - "*", matching every valid type.
//
// A one-segment pattern is thus told apart by its name alone: "ping" is the
// exact type, any other is a service (see [Pattern.Service]). Matching is
// case-sensitive. The zero value "" is not a valid pattern and
// matches nothing; so does any string [ParsePattern] rejects. A Pattern is
// a string and safe for concurrent use.
type Pattern string

// PatternAll is the pattern that matches every event type.
const PatternAll Pattern = "*"

// ParsePattern returns s as a Pattern if it is "*", a valid event type (see
// [ValidType]), or a valid event type followed by ".*". Anything else,
// such as "", "pat*", "*.x", "a..b" or "a.*.b", fails with an error wrapping
// [ErrInvalidPattern].
func ParsePattern(s string) (Pattern, error) {
	if reason := patternSyntax(s); reason != "" {
		return "", fmt.Errorf("%w %.64q: %s", ErrInvalidPattern, s, reason)
	}
	return Pattern(s), nil
}

// wildcardMisplaced is the reason given for a '*' anywhere but where a
// Pattern allows it.
const wildcardMisplaced = `'*' is allowed only as the whole last segment, as in "order.*", or as the whole pattern "*"`

func patternSyntax(s string) string {
	if s == "" {
		return "empty"
	}
	if s == string(PatternAll) {
		return ""
	}
	if prefix, ok := strings.CutSuffix(s, ".*"); ok {
		s = prefix
	}
	if strings.Contains(s, "*") {
		return wildcardMisplaced
	}
	if len(s) > MaxTypeLength {
		return fmt.Sprintf("longer than %d bytes", MaxTypeLength)
	}
	return typeSyntax(s)
}

// Service reports whether p names a service: a valid type of one segment
// (no dot) other than [TypePing]. A service matches its own name and every
// type that starts with it and a dot.
func (p Pattern) Service() bool {
	return p != TypePing && !strings.Contains(string(p), ".") && isType(string(p))
}

// Match reports whether typ is a valid event type that p selects. An invalid
// pattern matches nothing.
func (p Pattern) Match(typ string) bool {
	switch {
	case p == PatternAll:
		return isType(typ)
	case p.Service():
		n := len(p)
		return strings.HasPrefix(typ, string(p)) && (len(typ) == n || typ[n] == '.' && isType(typ))
	case strings.HasSuffix(string(p), ".*"):
		prefix := string(p[:len(p)-1]) // keeps the dot
		rest, ok := strings.CutPrefix(typ, prefix)
		return ok && len(typ) <= MaxTypeLength && typeSyntax(rest) == "" &&
			typeSyntax(prefix[:len(prefix)-1]) == ""
	default:
		return string(p) == typ && isType(typ)
	}
}

// MatchAny reports whether any of patterns matches typ. Invalid patterns
// never match, so a stored subscription list need not be re-validated first.
func MatchAny(patterns []string, typ string) bool {
	for _, p := range patterns {
		if Pattern(p).Match(typ) {
			return true
		}
	}
	return false
}

// isType is ValidType(s) == nil without allocating.
func isType(s string) bool { return s != "" && len(s) <= MaxTypeLength && typeSyntax(s) == "" }
