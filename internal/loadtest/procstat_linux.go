package loadtest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the CPU times in /proc: Linux reports them in
// clock ticks of 1/100 s (USER_HZ) on every architecture Go supports.
const userHZ = 100

// ProcCPU reads /proc/PID/stat: the CPU time (user plus system, at 10 ms
// resolution) process pid has used so far, and its parent's pid. It fails
// for a process that is gone or unreadable.
func ProcCPU(pid int) (cpu time.Duration, ppid int, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, fmt.Errorf("loadtest: %w", err)
	}
	// The command name, in parentheses, may hold spaces and parentheses:
	// the fields start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("loadtest: /proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state), so field k is f[k-3].
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("loadtest: /proc/%d/stat: %d fields", pid, len(f)+2)
	}
	ppid, err1 := strconv.Atoi(f[1])
	utime, err2 := strconv.ParseInt(f[11], 10, 64)
	stime, err3 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return 0, 0, fmt.Errorf("loadtest: /proc/%d/stat: %w", pid, err)
	}
	return ticks(utime + stime), ppid, nil
}

// ProcChildren returns the pids of the processes whose parent is ppid,
// from a scan of /proc (processes that end during the scan are left out).
func ProcChildren(ppid int) ([]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("loadtest: %w", err)
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if _, pp, err := ProcCPU(pid); err == nil && pp == ppid {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// MachineBusy reads the first line of /proc/stat: the CPU time all CPUs
// together have spent busy so far: user, nice, system, irq and softirq
// time (not idle, I/O wait, or time stolen by the hypervisor).
func MachineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, fmt.Errorf("loadtest: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return 0, fmt.Errorf("loadtest: /proc/stat: unexpected first line %q", line)
	}
	var busy int64
	for i, v := range f[1:] {
		// user nice system idle iowait irq softirq steal [guest guest_nice]:
		// guest time is counted in user time already.
		if i == 3 || i == 4 || i >= 7 {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("loadtest: /proc/stat: %w", err)
		}
		busy += n
	}
	return ticks(busy), nil
}

func ticks(n int64) time.Duration { return time.Duration(n) * time.Second / userHZ }
