package groupcommit_test

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/webhookkit/webhookkit/internal/groupcommit"
)

// On one processor, goroutines made ready before Yield join the batch
// before it is taken.
func TestYieldLetsReadyGoroutinesJoin(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var (
		size atomic.Int64
		wg   sync.WaitGroup
	)
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); size.Add(1) }()
	}
	groupcommit.Yield(func() int { return int(size.Load()) }, 100)
	assert.Equal(t, int64(8), size.Load())
	wg.Wait()
}

func TestYieldReturnsAtOnceWhenFull(t *testing.T) {
	calls := 0
	groupcommit.Yield(func() int { calls++; return 5 }, 5)
	assert.Equal(t, 1, calls)
}

func ExampleYield() {
	var mu sync.Mutex
	var queue []int
	size := func() int { mu.Lock(); defer mu.Unlock(); return len(queue) }
	groupcommit.Yield(size, 256) // then take up to 256 from the queue
}
