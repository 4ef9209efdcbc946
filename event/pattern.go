package event

import (
	"fmt"
	"strings"
)

// Pattern selects event types, for endpoint subscriptions and receiver
// routing alike. It is one of:
//   - an exact type, such as "patient.ehi_export_success", matching only
//     that type;
//   - a prefix wildcard, a valid type followed by ".*", such as "patient.*",
//     matching every type that starts with that prefix and a dot and has
//     one or more further segments ("patient.connection_success",
//     "patient.a.b"), but not "patient" itself;
//   - "*", matching every valid type.
//
// Matching is case-sensitive. The zero value "" is not a valid pattern and
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

// Match reports whether typ is a valid event type that p selects. An invalid
// pattern matches nothing.
func (p Pattern) Match(typ string) bool {
	switch {
	case p == PatternAll:
		return isType(typ)
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
