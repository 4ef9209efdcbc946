package postgres

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/webhookkit/webhookkit/store"
)

// Cursors are keyset positions: the sort key of the last row of a page,
// base64url-encoded so callers treat them as opaque. A list of endpoints
// pages by id; deliveries, attempts and inbox entries by (time, id).
// The prefix names the list so a cursor of one list is refused by another.

func encodeIDCursor(list, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(list + ":" + id))
}

func decodeIDCursor(list, c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(b), list+":") {
		return "", fmt.Errorf("%w: cursor %q", store.ErrInvalid, c)
	}
	return string(b[len(list)+1:]), nil
}

func encodeTimeCursor(list string, t time.Time, id string) string {
	s := list + ":" + strconv.FormatInt(t.UnixMicro(), 10) + ":" + id
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

func decodeTimeCursor(list, c string) (time.Time, string, error) {
	bad := fmt.Errorf("%w: cursor %q", store.ErrInvalid, c)
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(b), list+":") {
		return time.Time{}, "", bad
	}
	micros, id, ok := strings.Cut(string(b[len(list)+1:]), ":")
	if !ok {
		return time.Time{}, "", bad
	}
	us, err := strconv.ParseInt(micros, 10, 64)
	if err != nil {
		return time.Time{}, "", bad
	}
	return time.UnixMicro(us).UTC(), id, nil
}

// where accumulates the conditions and arguments of a list query.
type where struct {
	conds []string
	args  []any
}

// add appends a condition; each "?" in cond is replaced by the next
// positional parameter, bound to the next value of vals.
func (w *where) add(cond string, vals ...any) {
	for _, v := range vals {
		w.args = append(w.args, v)
		cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(w.args)), 1)
	}
	w.conds = append(w.conds, cond)
}

// arg binds one more value and returns its placeholder.
func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// likeEscape escapes LIKE's metacharacters (and the escape character, a
// backslash, itself) so s matches literally.
func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}
