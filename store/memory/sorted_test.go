package memory

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type item struct {
	at time.Time
	id string
}

func (it *item) key() key { return keyOf(it.at, it.id) }

// descendAll returns the items of l below bound, largest first.
func descendAll(l *sortedList[*item], bound *key) []*item {
	var out []*item
	l.descend(bound, func(x *item) bool { out = append(out, x); return true })
	return out
}

func TestKeyOrder(t *testing.T) {
	times := []time.Time{
		{}, // year 1: the zero time fits too
		time.Date(1600, 1, 1, 0, 0, 0, 999, time.UTC),
		t0.Add(-time.Nanosecond),
		t0,
		t0.Add(time.Nanosecond),
		time.Date(2500, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for i, a := range times {
		for j, b := range times {
			require.Equal(t, a.Compare(b), keyOf(a, "x").cmp(keyOf(b, "x")), "%v vs %v", a, b)
			require.Equal(t, max(-1, min(1, i-j)), keyOf(a, "x").cmp(keyOf(b, "x")))
		}
	}
	require.Negative(t, keyOf(t0, "a").cmp(keyOf(t0, "b")), "ties broken by id")
	require.Negative(t, keyOf(t0, "").cmp(keyOf(t0, "a")), "the empty id sorts first")
	require.Zero(t, keyOf(t0.In(time.FixedZone("x", 3600)), "a").cmp(keyOf(t0, "a")), "locations do not matter")
}

// The sorted list agrees with a sorted slice through random inserts and
// removals in every pattern the store uses: appends in time order, inserts
// out of order, removal of the oldest and removal anywhere.
func TestSortedListMatchesReference(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ops     int
		span    int     // times are drawn from [0, span) seconds, plus the op number when inOrder
		inOrder bool    // times grow with the op number
		pRemove float64 // chance an op removes instead of inserting
		oldest  bool    // removals take the oldest item
	}{
		{"log in time order, oldest evicted", 20_000, 3, true, 0.45, true},
		{"random times, random removals", 20_000, 500, false, 0.4, false},
		{"many equal times", 5_000, 2, false, 0.3, false},
		{"grow then drain", 6_000, 1000, false, 0.0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(len(tc.name))))
			var l sortedList[*item]
			var ref []*item
			byKey := func(a, b *item) int { return a.key().cmp(b.key()) }
			for i := range tc.ops {
				if len(ref) > 0 && rng.Float64() < tc.pRemove {
					k := 0
					if !tc.oldest {
						k = rng.IntN(len(ref))
					}
					require.True(t, l.remove(ref[k].key()))
					require.False(t, l.remove(ref[k].key()), "removed twice")
					ref = slices.Delete(ref, k, k+1)
				} else {
					sec := rng.IntN(tc.span)
					if tc.inOrder {
						sec += i
					}
					x := &item{at: t0.Add(time.Duration(sec) * time.Second), id: fmt.Sprintf("%08x", rng.Uint32())}
					l.insert(x.key(), x)
					k, _ := slices.BinarySearchFunc(ref, x, byKey)
					ref = slices.Insert(ref, k, x)
				}
				if i%997 == 0 {
					checkList(t, &l, len(ref), (*item).key, "list")
				}
			}
			checkList(t, &l, len(ref), (*item).key, "list")
			if tc.pRemove == 0 {
				// Drain in random order: chunks merge, memory shrinks.
				for j, k := range rng.Perm(len(ref)) {
					require.True(t, l.remove(ref[k].key()))
					if j%499 == 0 {
						checkList(t, &l, len(ref)-j-1, (*item).key, "draining list")
					}
				}
				checkList(t, &l, 0, (*item).key, "drained list")
				require.Empty(t, l.chunks)
				return
			}
			want := slices.Clone(ref)
			slices.Reverse(want)
			require.Equal(t, want, descendAll(&l, nil))
			// Bounds: at every item, between items, and beyond both ends.
			for range 300 {
				var b key
				if rng.IntN(2) == 0 && len(ref) > 0 {
					b = ref[rng.IntN(len(ref))].key()
				} else {
					b = keyOf(t0.Add(time.Duration(rng.IntN(tc.ops+tc.span+2)-1)*time.Second), fmt.Sprintf("%08x", rng.Uint32()))
				}
				var w []*item
				for _, x := range want {
					if x.key().cmp(b) < 0 {
						w = append(w, x)
					}
				}
				require.Equal(t, w, descendAll(&l, &b), "below %+v", b)
			}
		})
	}
}

func TestSortedListEmpty(t *testing.T) {
	var l sortedList[*item]
	_, ok := l.first()
	require.False(t, ok)
	require.False(t, l.remove(keyOf(t0, "x")))
	b := keyOf(t0, "x")
	require.Empty(t, descendAll(&l, &b))
	require.Empty(t, descendAll(&l, nil))
}
