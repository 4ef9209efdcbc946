package signature

import (
	"crypto/ed25519"
	"crypto/hmac"
	"strings"
)

// candidates are the webhook-signature entries worth checking, decoded:
// v1 MACs when the Verifier has secrets, v1a signatures when it has public
// keys. Fixed arrays, so a value on the caller's stack holds them all.
type candidates struct {
	macs  [MaxSignatures][hmacSize]byte
	sigs  [MaxAsymmetricSignatures][ed25519.SignatureSize]byte
	nMacs int
	nSigs int
}

// decode fills c from the first MaxSignatures non-empty entries of a
// webhook-signature value. Entries that cannot match are skipped: an
// unknown version, no comma, base64 of the wrong length, non-canonical or
// invalid base64, a version the Verifier has no key for, and v1a entries
// beyond MaxAsymmetricSignatures.
func (v *Verifier) decode(signatures string, c *candidates) {
	var (
		scratch [ed25519B64Len]byte // a copy of the entry's base64, so no conversion allocates
		decoded [ed25519B64Len / 4 * 3]byte
	)
	// decodeInto decodes b64 into dst, which it must fill exactly.
	decodeInto := func(dst []byte, b64 string) bool {
		n := copy(scratch[:], b64)
		m, err := v.b64.Decode(decoded[:], scratch[:n])
		if err != nil || m != len(dst) {
			return false
		}
		copy(dst, decoded[:m])
		return true
	}
	rest := signatures
	for examined := 0; rest != "" && examined < MaxSignatures; {
		var entry string
		entry, rest, _ = strings.Cut(rest, " ")
		if entry == "" {
			continue
		}
		examined++
		version, b64, ok := strings.Cut(entry, ",")
		if !ok {
			continue
		}
		switch version {
		case versionHMAC:
			if len(v.secrets) > 0 && len(b64) == hmacB64Len && decodeInto(c.macs[c.nMacs][:], b64) {
				c.nMacs++
			}
		case versionEd25519:
			if len(v.keys) > 0 && len(b64) == ed25519B64Len && c.nSigs < MaxAsymmetricSignatures &&
				decodeInto(c.sigs[c.nSigs][:], b64) {
				c.nSigs++
			}
		}
	}
}

// matchMAC reports whether any v1 candidate is the MAC of the content by
// any secret. It computes one MAC per secret and compares it with every
// candidate in constant time, without stopping at a match.
func (v *Verifier) matchMAC(c *candidates, id, timestamp string, body []byte) bool {
	if c.nMacs == 0 {
		return false
	}
	for _, mk := range v.secrets {
		st := mk.get()
		st.buf = appendPrefix(st.buf[:0], id, timestamp)
		sum := st.sumOver(body)
		matched := false
		for i := range c.nMacs {
			if hmac.Equal(sum, c.macs[i][:]) {
				matched = true
			}
		}
		mk.put(st)
		if matched {
			return true
		}
	}
	return false
}

// matchEd25519 reports whether any v1a candidate is a signature of the
// content by any public key.
func (v *Verifier) matchEd25519(c *candidates, id, timestamp string, body []byte) bool {
	if c.nSigs == 0 {
		return false
	}
	msg := v.msgs.get(len(id) + len(timestamp) + 2 + len(body))
	defer v.msgs.put(msg)
	*msg = appendPrefix((*msg)[:0], id, timestamp)
	*msg = append(*msg, body...)
	for _, k := range v.keys {
		for i := range c.nSigs {
			if ed25519.Verify(k, *msg, c.sigs[i][:]) {
				return true
			}
		}
	}
	return false
}
