package postgres

import (
	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/store"
)

// LeaseStatement returns the SQL and arguments Lease runs for req, for
// tests that EXPLAIN it.
func LeaseStatement(s *Store, req store.LeaseRequest) (string, []any) {
	modes := leaseModes
	if req.Mode != "" {
		modes = []event.Mode{req.Mode}
	}
	skip := req.SkipEndpoints
	if skip == nil {
		skip = []string{}
	}
	return s.n.q(leaseSQL(len(modes))), leaseArgs(req, skip, modes)
}
