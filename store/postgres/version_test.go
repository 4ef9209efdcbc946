package postgres_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store/postgres"
)

func TestInstalledVersion(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t)
	schema := randomSchema(t)
	s, err := postgres.New(pool, &postgres.Config{PlaintextSecrets: true, Schema: schema, Logger: quiet})
	require.NoError(t, err)
	schemaExists := func() bool {
		t.Helper()
		var ok bool
		require.NoError(t, pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).Scan(&ok))
		return ok
	}

	v, err := s.InstalledVersion(ctx)
	require.NoError(t, err)
	require.Zero(t, v, "an absent schema holds no store")
	require.False(t, schemaExists(), "InstalledVersion creates nothing")

	// A schema of someone else's tables, even one named schema_version, is
	// no store.
	_, err = pool.Exec(ctx, `CREATE SCHEMA "`+schema+`"; CREATE TABLE "`+schema+`".schema_version (version integer); INSERT INTO "`+schema+`".schema_version VALUES (7)`)
	require.NoError(t, err)
	v, err = s.InstalledVersion(ctx)
	require.NoError(t, err)
	require.Zero(t, v)

	_, err = pool.Exec(ctx, `DROP TABLE "`+schema+`".schema_version`)
	require.NoError(t, err)
	require.NoError(t, s.Migrate(ctx))
	v, err = s.InstalledVersion(ctx)
	require.NoError(t, err)
	require.Equal(t, postgres.SchemaVersion, v)
}
