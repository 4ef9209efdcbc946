package receiver

import "github.com/webhookkit/webhookkit/event"

// Key is one secret or public key the receiver verifies signatures with.
// Configure several during a rotation: a request is accepted when any of its
// signatures matches any key.
type Key struct {
	// Secret is the key's text: "whsec_..." for a symmetric secret (v1
	// signatures) or "whpk_..." for an Ed25519 public key (v1a). A private
	// key ("whsk_...") is refused: it signs, and does not belong on the
	// receiving side.
	Secret string

	// Mode restricts the key to events of one api_mode. Empty: the key
	// verifies events of any mode. Set, an event of the other mode whose
	// signature only this key (or other keys of that mode) verifies is
	// refused with 400, so a widely shared test secret cannot sign a live
	// event.
	Mode event.Mode
}
