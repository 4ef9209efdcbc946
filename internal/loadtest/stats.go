package loadtest

import (
	"slices"
	"time"
)

// Median returns the median of xs (the mean of the two middle values for an
// even count), or zero for none. xs is not modified.
func Median[T Number](xs []T) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return float64(s[n/2])
	}
	return (float64(s[n/2-1]) + float64(s[n/2])) / 2
}

// Number is what Median takes.
type Number interface {
	~int | ~int64 | ~uint64 | ~float64
}

// Percentile returns the q-quantile (0 <= q <= 1) of sorted, by the
// nearest-rank method, or zero for none.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Ratio returns a/b, or zero when b is zero.
func Ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
