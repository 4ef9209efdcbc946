package memory

import (
	"slices"
	"strings"
	"time"
)

// key orders the rows of a [sortedList]: a time (as Unix seconds and
// nanoseconds, so every time.Time fits) and an id, unique per row.
type key struct {
	sec  int64
	nsec int32
	id   string
}

func keyOf(t time.Time, id string) key {
	return key{sec: t.Unix(), nsec: int32(t.Nanosecond()), id: id}
}

// cmp orders keys by time, then id.
func (k key) cmp(o key) int {
	switch {
	case k.sec != o.sec:
		if k.sec < o.sec {
			return -1
		}
		return 1
	case k.nsec != o.nsec:
		if k.nsec < o.nsec {
			return -1
		}
		return 1
	}
	return strings.Compare(k.id, o.id)
}

// entry is a row of a [sortedList]: its key, kept inline so that searching
// never touches the rows themselves, and the row.
type entry[T comparable] struct {
	k key
	v T
}

// chunkMax is the most entries a chunk of a [sortedList] holds.
const chunkMax = 128

// sortedList is a secondary index: rows in ascending key order, kept as a
// run of sorted chunks of at most chunkMax entries, so that inserting or
// removing anywhere costs O(log n + chunkMax) and finding a position
// O(log n). Every chunk but the last holds at least chunkMax/4 entries (a
// chunk that falls below joins a neighbour or evens out with it), and no
// chunk has room for much more than chunkMax (append rounds up to a size
// class), so a list of n rows has at most 4n/chunkMax+1 chunks and about
// 4n+chunkMax slots: its memory shrinks as rows are removed. The zero value
// is an empty list.
type sortedList[T comparable] struct {
	chunks [][]entry[T]
	n      int
}

// Len returns the number of rows.
func (l *sortedList[T]) Len() int { return l.n }

// chunkFor returns the index of the first chunk whose last key is at or
// after k, or len(l.chunks) when there is none.
func (l *sortedList[T]) chunkFor(k key) int {
	lo, hi := 0, len(l.chunks)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		c := l.chunks[m]
		if c[len(c)-1].k.cmp(k) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// search returns the index of the first entry of c whose key is at or
// after k, and whether it is k.
func search[T comparable](c []entry[T], k key) (int, bool) {
	lo, hi := 0, len(c)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if c[m].k.cmp(k) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(c) && c[lo].k.cmp(k) == 0
}

// newChunk returns a chunk holding a copy of parts, with room for chunkMax
// entries (or all of them, when there are more).
func newChunk[T comparable](parts ...[]entry[T]) []entry[T] {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	c := make([]entry[T], 0, max(n, chunkMax))
	for _, p := range parts {
		c = append(c, p...)
	}
	return c
}

// insert adds v at k; k must not be in the list.
func (l *sortedList[T]) insert(k key, v T) {
	l.n++
	e := entry[T]{k, v}
	if len(l.chunks) == 0 {
		l.chunks = append(l.chunks, []entry[T]{e})
		return
	}
	ci := min(l.chunkFor(k), len(l.chunks)-1)
	c := l.chunks[ci]
	j, _ := search(c, k)
	c = slices.Insert(c, j, e)
	if len(c) <= chunkMax {
		l.chunks[ci] = c
		return
	}
	// Split. Appending at the end (the usual case: a log in time order)
	// starts a new last chunk and leaves this one full; else halve.
	cut := len(c) / 2
	if ci == len(l.chunks)-1 && j == len(c)-1 {
		cut = len(c) - 1
	}
	hi := newChunk(c[cut:])
	lo := c[:cut]
	if cap(lo) > chunkMax {
		lo = newChunk(lo)
	} else {
		clear(c[cut:])
	}
	l.chunks[ci] = lo
	l.chunks = slices.Insert(l.chunks, ci+1, hi)
}

// remove takes the row at k out of the list and reports whether it was
// there.
func (l *sortedList[T]) remove(k key) bool {
	ci := l.chunkFor(k)
	if ci == len(l.chunks) {
		return false
	}
	c := l.chunks[ci]
	j, found := search(c, k)
	if !found {
		return false
	}
	l.n--
	c = slices.Delete(c, j, j+1)
	l.chunks[ci] = c
	switch {
	case len(c) == 0:
		l.chunks = slices.Delete(l.chunks, ci, ci+1)
	case len(c) < chunkMax/4 && len(l.chunks) > 1:
		l.rebalance(min(ci, len(l.chunks)-2))
	}
	return true
}

// rebalance fixes an underflow in chunk lo or lo+1: it joins the two when
// they fit in one chunk, else moves entries from the larger to the smaller
// until they are even. It allocates only when the receiving chunk lacks
// room.
func (l *sortedList[T]) rebalance(lo int) {
	a, b := l.chunks[lo], l.chunks[lo+1]
	switch {
	case len(a)+len(b) <= chunkMax:
		if cap(a) < len(a)+len(b) {
			a = newChunk(a)
		}
		a = append(a, b...)
		clear(b)
		l.chunks[lo] = a
		l.chunks = slices.Delete(l.chunks, lo+1, lo+2)
	case len(a) < len(b):
		k := (len(b) - len(a)) / 2
		if cap(a) < len(a)+k {
			a = newChunk(a)
		}
		a = append(a, b[:k]...)
		l.chunks[lo], l.chunks[lo+1] = a, slices.Delete(b, 0, k)
	default:
		k := (len(a) - len(b)) / 2
		moved := a[len(a)-k:]
		if cap(b) < len(b)+k {
			b = newChunk(moved, b)
		} else {
			b = slices.Insert(b, 0, moved...)
		}
		clear(moved)
		l.chunks[lo], l.chunks[lo+1] = a[:len(a)-k], b
	}
}

// first returns the row with the smallest key; ok is false when the list
// is empty.
func (l *sortedList[T]) first() (v T, ok bool) {
	if l.n == 0 {
		return v, false
	}
	return l.chunks[0][0].v, true
}

// descend calls yield with the rows whose key is below bound (every row
// when bound is nil), largest key first, until yield returns false. yield
// must not change the list.
func (l *sortedList[T]) descend(bound *key, yield func(T) bool) {
	const fromEnd = -2
	ci, j := len(l.chunks)-1, fromEnd
	if bound != nil {
		ci = l.chunkFor(*bound)
		if ci == len(l.chunks) {
			ci-- // every row is below the bound
		} else {
			j, _ = search(l.chunks[ci], *bound)
			j-- // the last row below it; -1 when none in this chunk
		}
	}
	for ; ci >= 0; ci-- {
		c := l.chunks[ci]
		if j == fromEnd {
			j = len(c) - 1
		}
		for ; j >= 0; j-- {
			if !yield(c[j].v) {
				return
			}
		}
		j = fromEnd
	}
}

// all calls yield with every row in ascending key order until it returns
// false. yield must not change the list.
func (l *sortedList[T]) all(yield func(T) bool) {
	for _, c := range l.chunks {
		for _, e := range c {
			if !yield(e.v) {
				return
			}
		}
	}
}

// footprint returns the number of chunks and the entry slots allocated for
// them, for the bounded-growth tests.
func (l *sortedList[T]) footprint() (chunks, slots int) {
	for _, c := range l.chunks {
		slots += cap(c)
	}
	return len(l.chunks), slots
}

// keys calls yield with every key in ascending order, for tests.
func (l *sortedList[T]) keys(yield func(key, T) bool) {
	for _, c := range l.chunks {
		for _, e := range c {
			if !yield(e.k, e.v) {
				return
			}
		}
	}
}
