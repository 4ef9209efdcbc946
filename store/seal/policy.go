package seal

import (
	"fmt"

	"github.com/webhookkit/webhookkit/store"
)

// Policy is what a store does with an endpoint's credentials (its signing
// keys, its OAuth2 client secret and its TLS private key) as it writes and
// reads them. The zero Policy refuses to write credentials: plaintext is
// kept only by explicit choice. It is safe for concurrent use.
type Policy struct {
	// Keys, when set, seals every credential written and opens those read.
	Keys *Keyring
	// Plaintext, when Keys is nil, keeps credentials as given. Values
	// sealed earlier still need their keys to be read.
	Plaintext bool
}

// the contexts a credential is sealed with: its endpoint and field.
func contextOf(id, field string) string { return "webhookkit/endpoint/" + id + "/" + field }

// Seal returns a copy of ep, whose ID must be set, with its credentials
// sealed under p.Keys; with Plaintext set, ep itself. It returns an error
// wrapping [ErrNoPolicy] for the zero Policy.
func (p Policy) Seal(ep *store.Endpoint) (*store.Endpoint, error) {
	if p.Keys == nil {
		if !p.Plaintext {
			return nil, fmt.Errorf("%w: give the store a Keyring (its Config.Keys; NewKey makes a key, ParseKeyring reads keys) "+
				"to encrypt endpoint secrets at rest, or allow plaintext secrets explicitly (its Config.PlaintextSecrets)", ErrNoPolicy)
		}
		return ep, nil
	}
	c := ep.Clone()
	err := each(c, func(field string, v *string) error {
		s, err := p.Keys.Seal(*v, contextOf(c.ID, field))
		*v = s
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Open opens the sealed credentials of ep, as read from a store, in place.
// Credentials in plaintext (written before sealing was turned on, or by a
// store keeping plaintext) are left as they are. It returns an error
// wrapping [ErrUnknownKey] for a value sealed under a key p does not hold
// (or when p has no Keys), or [ErrWrongKey] for one that does not open.
func (p Policy) Open(ep *store.Endpoint) error {
	return each(ep, func(field string, v *string) error {
		if !IsSealed(*v) {
			return nil
		}
		if p.Keys == nil {
			id, _ := KeyID(*v)
			return fmt.Errorf("endpoint %s %s: %w: key id %q (the store has no Keyring)", ep.ID, field, ErrUnknownKey, id)
		}
		pt, err := p.Keys.Open(*v, contextOf(ep.ID, field))
		if err != nil {
			return fmt.Errorf("endpoint %s %s: %w", ep.ID, field, err)
		}
		*v = pt
		return nil
	})
}

// Stale reports whether ep, as stored (before [Policy.Open]), holds a
// credential that a re-encryption pass would rewrite: one in plaintext, or
// sealed under another key than the primary. With no Keys nothing is
// stale.
func (p Policy) Stale(ep *store.Endpoint) bool {
	if p.Keys == nil {
		return false
	}
	stale := false
	_ = each(ep, func(_ string, v *string) error {
		if !p.Keys.Current(*v) {
			stale = true
		}
		return nil
	})
	return stale
}

// each calls f with each credential of ep that is set, and the name of its
// field, stopping at the first error.
func each(ep *store.Endpoint, f func(field string, v *string) error) error {
	for i := range ep.Secrets {
		if err := f("secrets", &ep.Secrets[i].Key); err != nil {
			return err
		}
	}
	if ep.OAuth2 != nil && ep.OAuth2.ClientSecret != "" {
		if err := f("oauth2.client_secret", &ep.OAuth2.ClientSecret); err != nil {
			return err
		}
	}
	if ep.TLS != nil && ep.TLS.KeyPEM != "" {
		if err := f("tls.key", &ep.TLS.KeyPEM); err != nil {
			return err
		}
	}
	return nil
}
