package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store/sqlite"
)

func TestInstalledVersion(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "x.db"), plaintext)
	require.NoError(t, err)
	defer s.Close()
	tables := func() int {
		t.Helper()
		var n int
		require.NoError(t, s.DB().QueryRow("SELECT count(*) FROM sqlite_master WHERE type = 'table'").Scan(&n))
		return n
	}

	v, err := s.InstalledVersion(ctx)
	require.NoError(t, err)
	require.Zero(t, v, "a new database holds no store")
	require.Zero(t, tables(), "InstalledVersion creates nothing")

	require.NoError(t, s.Migrate(ctx))
	v, err = s.InstalledVersion(ctx)
	require.NoError(t, err)
	require.Equal(t, sqlite.SchemaVersion, v)

	// A database with a version recorded but a table missing is no store.
	_, err = s.DB().Exec("DROP TABLE webhookkit_inbox")
	require.NoError(t, err)
	v, err = s.InstalledVersion(ctx)
	require.NoError(t, err)
	require.Zero(t, v)
}
