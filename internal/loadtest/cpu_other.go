//go:build !unix

package loadtest

import "time"

// CPUTime returns zero: this platform's CPU time is not read.
func CPUTime() time.Duration { return 0 }
