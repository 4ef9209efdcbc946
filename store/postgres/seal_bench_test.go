package postgres_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/store/postgres"
	"github.com/webhookkit/webhookkit/store/storetest"
)

// BenchmarkGetEndpointSealed reads an endpoint with every credential (a
// signing secret, an OAuth2 client secret, a TLS key) from a store that
// keeps them in plaintext and from one that seals them: the cost of
// opening three sealed values per read, which the sender pays once per
// endpoint per lease batch.
func BenchmarkGetEndpointSealed(b *testing.B) {
	pool := newPool(b)
	for _, bc := range []struct {
		name string
		cfg  postgres.Config
	}{
		{"plaintext", postgres.Config{PlaintextSecrets: true}},
		{"sealed", postgres.Config{Keys: testKeys(b)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			s := storeIn(b, pool, randomSchema(b), bc.cfg)
			ep, _ := storetest.CredentialedEndpoint(b)
			require.NoError(b, s.CreateEndpoint(ctx, ep))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.GetEndpoint(ctx, ep.ID); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
