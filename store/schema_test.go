package store_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store"
)

func TestCheckColumns(t *testing.T) {
	want := map[string]string{"id": "text", "url": "text", "created_at": "timestamp with time zone"}
	require.NoError(t, store.CheckColumns("endpoints", want, want))
	require.NoError(t, store.CheckColumns("endpoints", want,
		map[string]string{"id": "TEXT", "url": "text", "created_at": "timestamp with time zone", "note": "text"}),
		"types compare without case; extra columns are allowed")

	err := store.CheckColumns("endpoints", want, map[string]string{"id": "integer", "name": "text"})
	require.ErrorIs(t, err, store.ErrSchemaMismatch)
	require.EqualError(t, err, `store: schema mismatch: table "endpoints" exists but is not this store's: `+
		`missing columns created_at, url; columns of another type: id is integer, want text`)
}

// A SQL store's Migrate refuses a table of another application that has the
// store's table name; CheckColumns says how it differs.
func ExampleCheckColumns() {
	want := map[string]string{"id": "text", "tenant": "text", "description": "text"}
	have := map[string]string{"id": "integer", "tenant": "text", "name": "text"}
	fmt.Println(store.CheckColumns("public.endpoints", want, have))
	// Output:
	// store: schema mismatch: table "public.endpoints" exists but is not this store's: missing columns description; columns of another type: id is integer, want text
}
