package loadtest

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
)

// Machine describes the machine a run measures, for the header of every
// program's output.
type Machine struct {
	CPUs      int    // runtime.NumCPU of this process (its CPU affinity)
	CPUModel  string // "model name" in /proc/cpuinfo, empty when unknown
	GoVersion string
	OS, Arch  string
	LoadAvg   string // /proc/loadavg's first three fields, empty when unknown
}

// ThisMachine reads the machine's description.
func ThisMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
		_ = f.Close()
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	return m
}

// String returns a one-line description.
func (m Machine) String() string {
	s := fmt.Sprintf("%d CPUs", m.CPUs)
	if m.CPUModel != "" {
		s += " (" + m.CPUModel + ")"
	}
	s += ", " + m.GoVersion + " " + m.OS + "/" + m.Arch
	if m.LoadAvg != "" {
		s += ", load average " + m.LoadAvg
	}
	return s
}
