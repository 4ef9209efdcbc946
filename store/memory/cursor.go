package memory

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/webhookkit/webhookkit/store"
)

// Cursors are base64url text: "i" and an id for lists ordered by id; "t",
// an RFC 3339 time, "|" and an id for lists ordered newest first.

func encodeIDCursor(id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("i" + id))
}

func decodeIDCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) < 2 || b[0] != 'i' {
		return "", badCursor(c)
	}
	return string(b[1:]), nil
}

// timeCursor is the last item of a newest-first page.
type timeCursor struct {
	at time.Time
	id string
}

// before reports whether an item at (at, id) comes after the cursor in
// newest-first order.
func (c *timeCursor) before(at time.Time, id string) bool {
	if !at.Equal(c.at) {
		return at.Before(c.at)
	}
	return id < c.id
}

func encodeTimeCursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("t" + at.UTC().Format(time.RFC3339Nano) + "|" + id))
}

func decodeTimeCursor(c string) (*timeCursor, error) {
	if c == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) < 2 || b[0] != 't' {
		return nil, badCursor(c)
	}
	ts, id, ok := strings.Cut(string(b[1:]), "|")
	if !ok {
		return nil, badCursor(c)
	}
	at, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return nil, badCursor(c)
	}
	return &timeCursor{at: at, id: id}, nil
}

func badCursor(c string) error {
	return fmt.Errorf("memory: page cursor %q: %w", c, store.ErrInvalid)
}
