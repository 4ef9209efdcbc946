package event_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
)

func TestParsePattern(t *testing.T) {
	valid := []string{"*", "ping", "patient.ehi_export_success", "patient.*", "a.b.*", "medical-encounters.*", "A_1.*"}
	for _, s := range valid {
		p, err := event.ParsePattern(s)
		require.NoError(t, err, s)
		require.Equal(t, event.Pattern(s), p)
	}
	invalid := []string{"", "pat*", "*.x", "a..b", "a.*.b", ".*", "**", "*.*", "a.**", "a*", "patient.", ".patient", "a b", "patient.* ", "PATIENT.é", strings.Repeat("a", event.MaxTypeLength+1)}
	for _, s := range invalid {
		p, err := event.ParsePattern(s)
		require.ErrorIs(t, err, event.ErrInvalidPattern, "%q", s)
		require.Empty(t, p)
		require.True(t, strings.HasPrefix(err.Error(), "event: invalid pattern"))
	}
}

// TestParsePatternWildcardReason checks that a misplaced '*' is explained as
// misplaced, not as a character patterns may not contain.
func TestParsePatternWildcardReason(t *testing.T) {
	const want = `'*' is allowed only as the whole last segment, as in "order.*", or as the whole pattern "*"`
	for _, s := range []string{"order.*.x", "pat*", "*.x", "a.*.b", "**", "*.*", "a.**", "a*", "a.b*", "a.*.*"} {
		_, err := event.ParsePattern(s)
		require.ErrorIs(t, err, event.ErrInvalidPattern, "%q", s)
		require.True(t, strings.HasSuffix(err.Error(), ": "+want), "%q: %v", s, err)
	}
	// Other characters keep their own reason.
	_, err := event.ParsePattern("a b.*")
	require.ErrorContains(t, err, "characters other than letters, digits, '_', '-' and '.'")
	require.NotContains(t, err.Error(), "'*'")
}

func TestPatternMatch(t *testing.T) {
	types := []string{
		"ping",
		"patient",
		"patient.ehi_export_success",
		"patient.ehi_export_failed",
		"patient.connection.success",
		"patients.x",
		"webhook.test",
		"Patient.x",
		"",         // invalid types never match
		"a..b",     // ...
		"patient.", // ...
	}
	// want lists the types (by index in types) each pattern matches.
	matrix := []struct {
		pattern string
		want    []int
	}{
		{"*", []int{0, 1, 2, 3, 4, 5, 6, 7}},
		{"ping", []int{0}},
		// A one-segment pattern other than "ping" is a service: itself
		// and all its methods.
		{"patient", []int{1, 2, 3, 4}},
		{"patients", []int{5}},
		{"webhook", []int{6}},
		{"Patient", []int{7}},
		{"patient.ehi_export_success", []int{2}},
		{"patient.*", []int{2, 3, 4}},
		{"patient.connection.*", []int{4}},
		{"patient.ehi_export_success.*", nil},
		{"webhook.*", []int{6}},
		{"Patient.*", []int{7}},
		// Invalid patterns match nothing, even themselves.
		{"", nil},
		{"pat*", nil},
		{"patient*", nil},
		{"*.x", nil},
		{".*", nil},
		{"a..b", []int{}},
		{"patient.", nil},
	}
	for _, row := range matrix {
		want := map[int]bool{}
		for _, i := range row.want {
			want[i] = true
		}
		for i, typ := range types {
			require.Equal(t, want[i], event.Pattern(row.pattern).Match(typ), "pattern %q type %q", row.pattern, typ)
		}
	}
}

// TestPatternService checks the service rule: a one-segment pattern other
// than "ping" matches its own type and every method of the service, and
// "ping" stays exact.
func TestPatternService(t *testing.T) {
	for _, typ := range []string{"medical-encounters.create", "medical-encounters.update", "medical-encounters.remove", "medical-encounters"} {
		require.NoError(t, event.ValidType(typ), typ)
	}
	svc := event.Pattern("medical-encounters")
	require.True(t, svc.Service())
	for _, typ := range []string{"medical-encounters", "medical-encounters.create", "medical-encounters.update", "medical-encounters.remove", "medical-encounters.notes.create"} {
		require.True(t, svc.Match(typ), typ)
	}
	for _, typ := range []string{"medical-encounters-x.create", "medical-encounter.create", "medical-encountersx", "medical-encounters.", "medical-encounters..x", "ping", "x.medical-encounters"} {
		require.False(t, svc.Match(typ), typ)
	}
	ping := event.Pattern(event.TypePing)
	require.False(t, ping.Service(), `"ping" is an exact type`)
	require.True(t, ping.Match("ping"))
	require.False(t, ping.Match("ping.x"))
	for _, p := range []event.Pattern{"*", "a.b", "a.*", "", "a b", "Ping"} {
		require.Equal(t, p == "Ping", p.Service(), "%q", p) // case-sensitive: "Ping" is a service
	}
}

func TestMatchAny(t *testing.T) {
	tests := []struct {
		patterns []string
		typ      string
		want     bool
	}{
		{nil, "ping", false},
		{[]string{}, "ping", false},
		{[]string{"ping"}, "ping", true},
		{[]string{"webhook.test", "patient.*"}, "patient.ehi_export_failed", true},
		{[]string{"webhook.test", "patient.*"}, "ping", false},
		{[]string{"bad*", "*"}, "ping", true},
		{[]string{"bad*", "pin*"}, "ping", false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, event.MatchAny(tt.patterns, tt.typ), "%v %q", tt.patterns, tt.typ)
	}
}

func TestPatternMatchAllocs(t *testing.T) {
	p := event.Pattern("patient.*")
	allocs := testing.AllocsPerRun(100, func() {
		_ = p.Match("patient.ehi_export_success")
		_ = p.Match("bad type")
		_ = event.Pattern("patient").Match("patient.ehi_export_success")
		_ = event.MatchAny([]string{"a.b", "*"}, "x..y")
	})
	require.Zero(t, allocs)
}
