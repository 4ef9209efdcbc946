//go:build !linux

package loadtest

import (
	"errors"
	"time"
)

// errNoProc is what the /proc readers return where there is no /proc.
var errNoProc = errors.New("loadtest: /proc is only read on Linux")

// ProcCPU fails: /proc is only read on Linux.
func ProcCPU(pid int) (cpu time.Duration, ppid int, err error) { return 0, 0, errNoProc }

// ProcChildren fails: /proc is only read on Linux.
func ProcChildren(ppid int) ([]int, error) { return nil, errNoProc }

// MachineBusy fails: /proc is only read on Linux.
func MachineBusy() (time.Duration, error) { return 0, errNoProc }
