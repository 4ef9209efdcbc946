package main

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// fault is what the faulty endpoint does to one request.
type fault int

const (
	faultNone  fault = iota // passed to the receiver
	fault500                // 500, the receiver never sees it
	fault503                // 503 without Retry-After, the receiver never sees it
	faultHang               // no answer until the sender's request timeout
	faultReset              // connection reset before the receiver sees it
	faultLost               // the receiver handles it, then the connection is reset: the 200 is lost
	numFaults
)

var faultNames = [numFaults]string{"none", "500", "503", "hang", "reset", "lost-200"}

// faultMix gives each fault's probability, in percent.
type faultMix [numFaults]int

// faulty is an endpoint that injects faults in front of a receiver. The
// fault of the n-th request for an event id depends only on the seed, the id
// and n, so a run's faults do not depend on scheduling; each id gets at most
// max faults, so enough retries always get through.
type faulty struct {
	next http.Handler
	seed uint64
	max  int
	mix  faultMix
	// forget drops an id's counters once a request for it was passed
	// through untouched (the sender then has its 200 and is done with the
	// id), so a long run keeps no per-id state.
	forget bool

	mu     sync.Mutex
	seen   map[string]int // requests per id
	faults map[string]int // faults per id
	counts [numFaults]int
}

func newFaulty(next http.Handler, seed uint64, max int, mix faultMix, forget bool) *faulty {
	return &faulty{next: next, seed: seed, max: max, mix: mix, forget: forget, seen: map[string]int{}, faults: map[string]int{}}
}

func (f *faulty) pick(id string) fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.seen[id]
	f.seen[id] = n + 1
	k := faultNone
	if f.faults[id] < f.max {
		h := fnv.New64a()
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:8], f.seed)
		binary.LittleEndian.PutUint64(b[8:], uint64(n))
		_, _ = h.Write(b[:])
		_, _ = h.Write([]byte(id))
		p := int(h.Sum64() % 100)
		for i := fault500; i < numFaults; i++ {
			if p < f.mix[i] {
				k = i
				break
			}
			p -= f.mix[i]
		}
	}
	if k != faultNone {
		f.faults[id]++
	}
	if f.forget && k == faultNone { // delivered: the sender will not send it again
		delete(f.seen, id)
		delete(f.faults, id)
	}
	f.counts[k]++
	return k
}

// Counts returns how many requests got each fault.
func (f *faulty) Counts() [numFaults]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts
}

func (f *faulty) String() string {
	c := f.Counts()
	var parts []string
	total := 0
	for i, n := range c {
		total += n
		parts = append(parts, faultNames[i]+" "+strconv.Itoa(n))
	}
	return fmt.Sprintf("%d requests: %s", total, strings.Join(parts, ", "))
}

func (f *faulty) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch f.pick(r.Header.Get("Webhook-Id")) {
	case faultNone:
		f.next.ServeHTTP(w, r)
	case fault500:
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusInternalServerError)
	case fault503:
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusServiceUnavailable)
	case faultHang:
		select { // the sender's request timeout ends it
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	case faultReset:
		_, _ = io.Copy(io.Discard, r.Body)
		reset(w)
	case faultLost:
		rec := httptest.NewRecorder()
		f.next.ServeHTTP(rec, r)
		reset(w)
	}
}

// reset closes the request's connection with a TCP RST.
func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
