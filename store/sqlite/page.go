package sqlite

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/webhookkit/webhookkit/store"
)

// Cursors are keyset positions, base64url-encoded so callers treat them as
// opaque: "id" for endpoints, "nanos:id" for time-ordered lists.

func encodeIDCursor(id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(id))
}

func decodeIDCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", fmt.Errorf("sqlite: cursor %q: %w", c, store.ErrInvalid)
	}
	return string(b), nil
}

func encodeTimeCursor(n int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(n, 10) + ":" + id))
}

func decodeTimeCursor(c string) (int64, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		ns, id, ok := strings.Cut(string(b), ":")
		if ok {
			n, err := strconv.ParseInt(ns, 10, 64)
			if err == nil {
				return n, id, nil
			}
		}
	}
	return 0, "", fmt.Errorf("sqlite: cursor %q: %w", c, store.ErrInvalid)
}

// where accumulates the conditions and arguments of a filtered query.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// likePrefix returns a LIKE pattern matching strings that start with p.
func likePrefix(p string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(p) + "%"
}
