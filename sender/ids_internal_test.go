package sender

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestIDSource(t *testing.T) {
	g := newIDSource()
	seen := make(map[string]bool)
	for range 3 * 64 { // several refills
		s := g.newString()
		u, err := uuid.Parse(s)
		require.NoError(t, err)
		require.Equal(t, uuid.Version(4), u.Version())
		require.Equal(t, uuid.RFC4122, u.Variant())
		require.False(t, seen[s], "duplicate id %s", s)
		seen[s] = true
	}
}
