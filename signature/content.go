package signature

import (
	"fmt"
	"math"
	"strconv"
)

// ValidateID reports whether id is acceptable as a webhook-id: 1 to
// [MaxIDLength] bytes of visible ASCII (0x21 to 0x7E) other than '.'. The dot
// is excluded because it separates the parts of the signed content.
// On failure it returns an error wrapping [ErrMalformedHeader] (or
// [ErrMissingHeader] for the empty string).
//
// A [Signer] does not validate the ids it signs; a producer should call
// ValidateID before sending, because every verifier in this package rejects
// an invalid id.
func ValidateID(id string) error {
	if id == "" {
		return fmt.Errorf("%w: %s is empty", ErrMissingHeader, HeaderID)
	}
	if len(id) > MaxIDLength {
		return fmt.Errorf("%w: %s is %d bytes, at most %d allowed", ErrMalformedHeader, HeaderID, len(id), MaxIDLength)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x21 || c > 0x7e || c == '.' {
			return fmt.Errorf("%w: %s has a disallowed byte at offset %d", ErrMalformedHeader, HeaderID, i)
		}
	}
	return nil
}

// parseTimestamp parses a canonical non-negative decimal int64: digits only,
// no sign, no leading zeros (except "0" itself), no white space.
func parseTimestamp(s string) (int64, bool) {
	if s == "" || len(s) > 19 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		d := int64(s[i]) - '0'
		if d < 0 || d > 9 {
			return 0, false
		}
		if n > (math.MaxInt64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// appendPrefix appends "id.timestamp." to dst.
func appendPrefix(dst []byte, id, timestamp string) []byte {
	dst = append(dst, id...)
	dst = append(dst, '.')
	dst = append(dst, timestamp...)
	return append(dst, '.')
}

// appendPrefixUnix appends "id.<unix seconds>." to dst.
func appendPrefixUnix(dst []byte, id string, unix int64) []byte {
	dst = append(dst, id...)
	dst = append(dst, '.')
	dst = strconv.AppendInt(dst, unix, 10)
	return append(dst, '.')
}
