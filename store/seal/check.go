package seal

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/webhookkit/webhookkit/store"
)

// KeyIDs returns the ids of the keys that sealed ep's credentials, as
// stored (before [Policy.Open]): sorted, each once, and nil when none is
// sealed. The SQL stores keep them beside the endpoint so that their key
// check ([Policy.Check]) reads the ids in use without reading every
// endpoint.
func KeyIDs(ep *store.Endpoint) []string {
	var ids []string
	_ = each(ep, func(_ string, v *string) error {
		if id, ok := KeyID(*v); ok && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
		return nil
	})
	slices.Sort(ids)
	return ids
}

// KeysError is the error of a store's key check (CheckKeys on the SQL
// stores): the keys the store was given cannot open the endpoint
// credentials it holds. It wraps [ErrUnknownKey] when Unknown is set and
// [ErrWrongKey] when Wrong is set. It names key ids only, never key
// material.
type KeysError struct {
	// Unknown are the ids of the keys that sealed values the store holds
	// but the store's Keyring lacks (all of them when it has no Keyring),
	// sorted.
	Unknown []string
	// Wrong are ids the Keyring holds under which a value the store holds
	// does not open (another key was given that id, or the value was
	// altered), sorted.
	Wrong []string
	// Setting names what configures the keys, for the message:
	// "sqlite.Config.Keys", "postgres.Config.Keys", or an environment
	// variable.
	Setting string
}

// Error says which key ids are missing or wrong and where the keys are
// configured, as in: the store holds values sealed under key id "k1",
// which sqlite.Config.Keys does not hold.
func (e *KeysError) Error() string {
	var parts []string
	if len(e.Unknown) > 0 {
		parts = append(parts, "the store holds values sealed under "+idList(e.Unknown)+", which "+e.Setting+
			" does not hold")
	}
	if len(e.Wrong) > 0 {
		parts = append(parts, "the "+plural(len(e.Wrong), "key", "keys")+" in "+e.Setting+" under "+idList(e.Wrong)+
			" did not seal the values the store holds under "+plural(len(e.Wrong), "that id", "those ids")+
			" (another key was given the id, or the values were altered)")
	}
	return strings.Join(parts, "; ")
}

// Unwrap returns [ErrUnknownKey] and [ErrWrongKey], as they apply.
func (e *KeysError) Unwrap() []error {
	var errs []error
	if len(e.Unknown) > 0 {
		errs = append(errs, ErrUnknownKey)
	}
	if len(e.Wrong) > 0 {
		errs = append(errs, ErrWrongKey)
	}
	return errs
}

func idList(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = strconv.Quote(id)
	}
	return plural(len(ids), "key id ", "key ids ") + strings.Join(q, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Check is a store's key check: inUse are the ids of the keys that sealed
// the values the store holds (as [KeyIDs] gives them, for every endpoint),
// and samples some endpoints as stored, at least one per id in use. It
// returns nil when p holds every id in use and every sealed credential of
// the samples opens; otherwise a [*KeysError] naming setting (what
// configures the store's keys), with the ids p lacks (all of them when p
// has no Keys) and those under which a sample does not open. Opening one
// value per id tells a wrong key given the right id from the right one.
// Other errors (a malformed value) are returned as they are.
func (p Policy) Check(setting string, inUse []string, samples []*store.Endpoint) error {
	e := &KeysError{Setting: setting}
	for _, id := range inUse {
		if p.Keys == nil || p.Keys.aeads[id] == nil {
			e.Unknown = append(e.Unknown, id)
		}
	}
	var errs []error
	if p.Keys != nil {
		for _, ep := range samples {
			_ = each(ep, func(field string, v *string) error {
				id, ok := KeyID(*v)
				if !ok || p.Keys.aeads[id] == nil || slices.Contains(e.Wrong, id) {
					return nil
				}
				_, err := p.Keys.Open(*v, contextOf(ep.ID, field))
				switch {
				case errors.Is(err, ErrWrongKey):
					e.Wrong = append(e.Wrong, id)
				case err != nil:
					errs = append(errs, err)
				}
				return nil
			})
		}
	}
	if len(e.Unknown) == 0 && len(e.Wrong) == 0 {
		return errors.Join(errs...)
	}
	slices.Sort(e.Unknown)
	e.Unknown = slices.Compact(e.Unknown)
	slices.Sort(e.Wrong)
	return e
}
