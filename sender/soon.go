package sender

import (
	"container/heap"
	"sync"
	"time"
)

// soonQueue holds the times at which retries this sender scheduled fall
// due, for those that fall due before its next poll: the loop sleeps no
// longer than until the earliest, so that a retry sooner than
// Config.PollInterval is made on time rather than at the next poll. Retries
// due later, and those of other instances, are found by polling. Safe for
// concurrent use.
type soonQueue struct {
	mu    sync.Mutex
	times soonHeap
	round uint64        // rounds begun; a time added during round n has gen n
	limit int           // the most times held; more are left to polling
	kick  chan struct{} // capacity 1: "a time earlier than the earliest was added"
}

// soonTime is a time a retry falls due, and the round during which it was
// written.
type soonTime struct {
	due time.Time
	gen uint64
}

func newSoonQueue(limit int) *soonQueue {
	return &soonQueue{limit: limit, kick: make(chan struct{}, 1)}
}

// add notes that a retry written to the store falls due at t, and kicks
// the loop when t is the earliest time held.
func (q *soonQueue) add(t time.Time) {
	q.mu.Lock()
	if len(q.times) >= q.limit {
		q.mu.Unlock()
		return
	}
	first := len(q.times) == 0 || t.Before(q.times[0].due)
	heap.Push(&q.times, soonTime{due: t, gen: q.round})
	q.mu.Unlock()
	if first {
		select {
		case q.kick <- struct{}{}:
		default:
		}
	}
}

// begin marks the start of a round, before it leases, and returns its
// number for next.
func (q *soonQueue) begin() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.round++
	return q.round
}

// next drops the times that round n, which leased at leasedAt, has found
// due (written before it began and due by leasedAt), and returns the
// earliest time left, or the zero time. A retry written while the round
// was leasing stays, though due, for the next round.
func (q *soonQueue) next(n uint64, leasedAt time.Time) time.Time {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.times) > 0 && q.times[0].gen < n && !q.times[0].due.After(leasedAt) {
		heap.Pop(&q.times)
	}
	if len(q.times) == 0 {
		return time.Time{}
	}
	return q.times[0].due
}

// soonHeap is a min-heap of soonTimes by due time, for container/heap.
type soonHeap []soonTime

func (h soonHeap) Len() int           { return len(h) }
func (h soonHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h soonHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *soonHeap) Push(x any)        { *h = append(*h, x.(soonTime)) }
func (h *soonHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}
