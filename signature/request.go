package signature

import (
	"bytes"
	"fmt"
	"io"
	"net/http"

	"github.com/webhookkit/webhookkit/internal/bodyread"
)

// DefaultMaxBodyBytes is the body limit [Verifier.VerifyRequest] applies when
// given a limit of zero or less (1 MiB, the receiver's default).
const DefaultMaxBodyBytes = 1 << 20

// VerifyRequest reads r's body, at most maxBytes of it (zero or less means
// [DefaultMaxBodyBytes]), verifies it with [Verifier.Verify] against
// r.Header, and returns it.
//
// Once the body has been read, r.Body is replaced by a fresh reader over the
// same bytes (and r.GetBody set to return another), whether or not the
// signature verifies, so the caller can still read it. The original body is
// closed.
//
// Errors: a Content-Length or body over the limit returns an error wrapping an
// [*http.MaxBytesError] (the body is then not replaced); a failed read
// returns the read error wrapped; otherwise the errors of Verify. On any error
// the returned slice is nil.
func (v *Verifier) VerifyRequest(r *http.Request, maxBytes int64) ([]byte, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBodyBytes
	}
	if r.ContentLength > maxBytes {
		return nil, fmt.Errorf("signature: reading body: %w", &http.MaxBytesError{Limit: maxBytes})
	}
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		var err error
		body, err = bodyread.AppendAll(nil, r.Body, maxBytes, r.ContentLength)
		_ = r.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("signature: reading body: %w", err)
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	if err := v.Verify(r.Header, body); err != nil {
		return nil, err
	}
	return body, nil
}
