package sqlite

import (
	"context"
	"encoding/base64"
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
		return "", errorf("sqlite: cursor %q: %w", c, store.ErrInvalid)
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
	return 0, "", errorf("sqlite: cursor %q: %w", c, store.ErrInvalid)
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

// queryAll runs query on q and returns one value per row, read by scan. The
// rows are closed before it returns, so q is free for the next statement.
func queryAll[T any](ctx context.Context, q dbtx, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// scanString reads a row of one text column.
func scanString(sc scanner) (string, error) {
	var s string
	err := sc.Scan(&s)
	return s, err
}

// cutPage trims rows, read with LIMIT size+1, to one page and returns the
// next page's cursor, made from the page's last row ("" when no row was
// left over).
func cutPage[T any](rows []T, size int, cursor func(last T) string) ([]T, string) {
	if len(rows) <= size {
		return rows, ""
	}
	rows = rows[:size]
	return rows, cursor(rows[size-1])
}
