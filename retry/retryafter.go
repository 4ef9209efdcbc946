package retry

import (
	"math"
	"net/http"
	"strings"
	"time"
)

// ParseRetryAfter parses the Retry-After header of h (RFC 9110, section
// 10.2.3) into a delay from now. Both forms are accepted: delay-seconds
// ("120") and an HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT", or the obsolete
// RFC 850 and asctime forms). An HTTP-date in the past yields 0, true. A
// delay-seconds value too large for a [time.Duration] saturates at the
// largest Duration; policies cap it with their MaxRetryAfter.
//
// It returns 0, false when the header is absent, empty, negative, fractional
// or otherwise malformed.
func ParseRetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if isDigits(v) {
		const maxSeconds = math.MaxInt64 / int64(time.Second)
		var secs int64
		for i := 0; i < len(v); i++ {
			if secs > maxSeconds {
				break
			}
			secs = secs*10 + int64(v[i]-'0')
		}
		if secs > maxSeconds {
			return math.MaxInt64, true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
