package retry_test

import (
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/retry"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
		ok     bool
	}{
		{"absent", http.Header{}, 0, false},
		{"nil header", nil, 0, false},
		{"empty", retryAfter(""), 0, false},
		{"seconds", retryAfter("120"), 120 * time.Second, true},
		{"zero", retryAfter("0"), 0, true},
		{"leading zeros", retryAfter("007"), 7 * time.Second, true},
		{"surrounding space", http.Header{"Retry-After": {"  30 "}}, 30 * time.Second, true},
		{"negative", retryAfter("-5"), 0, false},
		{"plus sign", retryAfter("+5"), 0, false},
		{"fraction", retryAfter("1.5"), 0, false},
		{"garbage", retryAfter("soon"), 0, false},
		{"unit suffix", retryAfter("10s"), 0, false},
		{"huge saturates", retryAfter("99999999999999999999999999"), time.Duration(math.MaxInt64), true},
		{"just over max seconds", retryAfter("9223372037"), time.Duration(math.MaxInt64), true},
		{"max seconds", retryAfter("9223372036"), 9223372036 * time.Second, true},
		{"imf-fixdate", retryAfter("Sun, 01 Mar 2026 12:10:00 GMT"), 10 * time.Minute, true},
		{"rfc850", retryAfter("Sunday, 01-Mar-26 12:00:30 GMT"), 30 * time.Second, true},
		{"asctime", retryAfter("Sun Mar  1 13:00:00 2026"), time.Hour, true},
		{"date in the past", retryAfter("Sun, 01 Mar 2026 11:00:00 GMT"), 0, true},
		{"bad date", retryAfter("Sun, 31 Feb 2026 99:00:00 GMT"), 0, false},
		{"first value wins", http.Header{"Retry-After": {"5", "600"}}, 5 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := retry.ParseRetryAfter(tt.header, now)
			require.Equal(t, tt.ok, ok)
			require.Equal(t, tt.want, got)
		})
	}
}
