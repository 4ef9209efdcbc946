package receiver

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/signature"
)

// Key is one key the receiver verifies signatures with: a symmetric secret
// or an Ed25519 public key. Configure several during a rotation: a request
// is accepted when any of its signatures matches any key.
type Key struct {
	// Text is the key as text, parsed by [New]: a secret "whsec_..." (as
	// the sender shows an endpoint's secret; it verifies v1 signatures,
	// see [signature.ParseSecret]) or a public key "whpk_..." (v1a
	// signatures, see [signature.ParsePublicKey]). A private key
	// ("whsk_...") is refused: it signs, and does not belong on the
	// receiving side. Empty or malformed text fails New with
	// [ErrInvalidConfig]. That is the form of the Standard Webhooks
	// providers ([Webhookkit], [StandardWebhooks], [EventPayload]); for
	// another [Provider], Text is its secret in that provider's form (see
	// its NewVerifier), such as GitHub's webhook secret.
	Text string

	// Mode restricts the key to events of one api_mode. Empty: the key
	// verifies events of any mode. Set, an event of the other mode whose
	// signature only this key (or other keys of that mode) verifies is
	// refused with 400, so a widely shared test secret cannot sign a live
	// event. For a provider with modes other than [Webhookkit] (such as
	// [Stripe]) the mode is the event's [Message].Mode; an event without a
	// mode (providers without modes) is verified only by keys without one.
	Mode event.Mode
}

// parsedKey is a [Key] parsed: a secret, or a public key when isPublic.
type parsedKey struct {
	secret   signature.Secret
	public   signature.PublicKey
	isPublic bool
	mode     event.Mode
}

// parseKeys parses Config.Keys, naming the key at fault.
func parseKeys(keys []Key) ([]parsedKey, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: Config.Keys: %w", ErrInvalidConfig, ErrNoKeys)
	}
	parsed := make([]parsedKey, len(keys))
	for i, k := range keys {
		if k.Mode != "" && !k.Mode.Valid() {
			return nil, fmt.Errorf("%w: Config.Keys[%d].Mode %q: want %q, %q or empty", ErrInvalidConfig, i, k.Mode, event.ModeTest, event.ModeLive)
		}
		p, err := parseKeyText(k.Text)
		if err != nil {
			return nil, fmt.Errorf("%w: Config.Keys[%d].Text: %w", ErrInvalidConfig, i, err)
		}
		p.mode = k.Mode
		parsed[i] = p
	}
	return parsed, nil
}

// parseKeyText parses a Standard Webhooks key: a secret (whsec_) or a
// public key (whpk_); a private key (whsk_) is refused.
func parseKeyText(text string) (parsedKey, error) {
	var p parsedKey
	var err error
	switch {
	case strings.HasPrefix(text, signature.PublicKeyPrefix):
		p.public, err = signature.ParsePublicKey(text)
		p.isPublic = true
	case strings.HasPrefix(text, signature.PrivateKeyPrefix):
		err = errors.New("a private key (whsk_) signs; give the receiver its public key (whpk_)")
	default:
		p.secret, err = signature.ParseSecret(text)
	}
	return p, err
}

// verifiers returns the verifier of all the keys and, when some key is
// restricted to a mode, the verifier of the keys allowed to sign each mode
// (nil for a mode none may sign; all itself when every key may).
func verifiers(keys []parsedKey, opts *signature.VerifyOptions) (all *signature.Verifier, byMode map[event.Mode]*signature.Verifier, err error) {
	if all, err = verifierFor(keys, "", opts); err != nil {
		return nil, nil, err
	}
	if !slices.ContainsFunc(keys, func(k parsedKey) bool { return k.mode != "" }) {
		return all, nil, nil
	}
	byMode = make(map[event.Mode]*signature.Verifier, 2)
	for _, m := range []event.Mode{event.ModeTest, event.ModeLive} {
		if !slices.ContainsFunc(keys, func(k parsedKey) bool { return k.mode != "" && k.mode != m }) {
			byMode[m] = all // every key may sign m
			continue
		}
		if byMode[m], err = verifierFor(keys, m, opts); err != nil {
			return nil, nil, err
		}
	}
	return all, byMode, nil
}

// verifierFor returns a verifier of the keys that may sign events of mode
// m (every key when m is empty), or nil when there is none.
func verifierFor(keys []parsedKey, m event.Mode, opts *signature.VerifyOptions) (*signature.Verifier, error) {
	var secrets []signature.Secret
	var publics []signature.PublicKey
	for _, k := range keys {
		switch {
		case m != "" && k.mode != "" && k.mode != m:
		case k.isPublic:
			publics = append(publics, k.public)
		default:
			secrets = append(secrets, k.secret)
		}
	}
	if len(secrets)+len(publics) == 0 {
		return nil, nil
	}
	v, err := signature.NewVerifier(secrets, publics, opts)
	if err != nil {
		return nil, fmt.Errorf("%w: Config.Keys: %w", ErrInvalidConfig, err)
	}
	return v, nil
}
