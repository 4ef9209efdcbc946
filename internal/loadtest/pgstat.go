package loadtest

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PGCPU reads the CPU time of the PostgreSQL server's processes from /proc:
// the backends whose application_name is app, and every process of the
// server (the postmaster and its children).
type PGCPU struct {
	pool       *pgxpool.Pool
	app        string
	postmaster int // zero: the server's processes cannot be read
}

// PGSnapshot is the CPU time of each process, by pid, at one moment:
// [PGCPU.Snapshot] makes one, [PGSnapshot.Since] compares two.
type PGSnapshot struct {
	ok        bool
	ours, all map[int]time.Duration
}

// NewPGCPU returns a PGCPU for the server pool connects to, which must run
// on this machine for its snapshots to read anything (they are empty
// otherwise); app names the backends counted as ours.
func NewPGCPU(ctx context.Context, pool *pgxpool.Pool, app string) *PGCPU {
	p := &PGCPU{pool: pool, app: app}
	var pid int
	if err := pool.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		return p
	}
	// The server runs on this machine, in this process's view of /proc,
	// when the backend's pid is a postgres process here.
	if comm, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm"); err != nil || strings.TrimSpace(string(comm)) != "postgres" {
		return p
	}
	if _, ppid, err := ProcCPU(pid); err == nil {
		p.postmaster = ppid
	}
	return p
}

// Snapshot reads the CPU time of the server's processes now; it is empty
// (not ok) when they cannot be read.
func (p *PGCPU) Snapshot(ctx context.Context) PGSnapshot {
	s := PGSnapshot{ours: map[int]time.Duration{}, all: map[int]time.Duration{}}
	if p.postmaster == 0 {
		return s
	}
	rows, err := p.pool.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE application_name = $1", p.app)
	if err != nil {
		return s
	}
	ours, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return s
	}
	procs, err := ProcChildren(p.postmaster)
	if err != nil {
		return s
	}
	for _, pid := range append(procs, p.postmaster) {
		if cpu, _, err := ProcCPU(pid); err == nil {
			s.all[pid] = cpu
		}
	}
	for _, pid := range ours {
		if cpu, ok := s.all[int(pid)]; ok {
			s.ours[int(pid)] = cpu
		}
	}
	s.ok = true
	return s
}

// Since returns the CPU time used between s0 and s (a process that
// started in between counts from zero); ok is false unless both were read.
func (s PGSnapshot) Since(s0 PGSnapshot) (ours, all time.Duration, ok bool) {
	if !s.ok || !s0.ok {
		return 0, 0, false
	}
	sum := func(now, then map[int]time.Duration) time.Duration {
		var d time.Duration
		for pid, cpu := range now {
			d += cpu - then[pid]
		}
		return d
	}
	return sum(s.ours, s0.ours), sum(s.all, s0.all), true
}

// SampleWaits samples the state of the backends named app (but the one
// sampling) every 20 ms
// until ctx ends and returns how often each non-idle state was seen, and
// the number of samples.
func SampleWaits(ctx context.Context, pool *pgxpool.Pool, app string) (map[string]int, int) {
	waits, samples := map[string]int{}, 0
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return waits, samples
		case <-tick.C:
		}
		rows, err := pool.Query(ctx, `SELECT state, coalesce(wait_event_type, ''), coalesce(wait_event, '')
			FROM pg_stat_activity WHERE application_name = $1 AND state IS DISTINCT FROM 'idle'
			AND pid <> pg_backend_pid()`, app)
		if err != nil {
			continue
		}
		var state, typ, ev string
		_, err = pgx.ForEachRow(rows, []any{&state, &typ, &ev}, func() error {
			switch {
			case state != "active":
				waits[state]++
			case typ == "":
				waits["running"]++
			default:
				waits[typ+":"+ev]++
			}
			return nil
		})
		if err == nil {
			samples++
		}
	}
}

// maxWaits is how many states WaitProfile names; the rest are "other".
const maxWaits = 8

// WaitProfile formats wait-event samples, largest first, as backends per
// sample.
func WaitProfile(waits map[string]int, samples int) string {
	if samples == 0 {
		return "no samples"
	}
	keys := make([]string, 0, len(waits))
	for w := range waits {
		keys = append(keys, w)
	}
	sort.Slice(keys, func(i, j int) bool {
		if waits[keys[i]] != waits[keys[j]] {
			return waits[keys[i]] > waits[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, 0, len(keys))
	other := 0
	for i, w := range keys {
		if i >= maxWaits {
			other += waits[w]
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %.2f", w, float64(waits[w])/float64(samples)))
	}
	if other > 0 {
		parts = append(parts, fmt.Sprintf("other %.2f", float64(other)/float64(samples)))
	}
	if len(parts) == 0 {
		return "all idle"
	}
	return strings.Join(parts, ", ")
}

// StartCPUProfile starts the CPU profiler writing to path, unless path is
// empty, and returns the function that stops it (safe to call twice).
func StartCPUProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		})
	}, nil
}
