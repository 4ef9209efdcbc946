package loadtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// EnvChild is set to "1" in the environment of every child process the
// programs start. A program's main ignores it; its tests, whose binary
// stands in for the program, use it to act as the child (see ChildMain).
const EnvChild = "WEBHOOKKIT_LOADTEST_CHILD"

// IsChild reports whether this process was started by StartChild.
func IsChild() bool { return os.Getenv(EnvChild) == "1" }

// CanPin reports whether children can be pinned to cpu: taskset is
// installed and this process may run on at least cpu+1 CPUs.
func CanPin(cpu int) bool {
	if cpu < 0 || runtime.NumCPU() <= cpu {
		return false
	}
	_, err := exec.LookPath("taskset")
	return err == nil
}

// Child is a copy of the running executable started with other arguments,
// optionally pinned to one CPU with taskset. Its stdout is read line by
// line (see Line); its stderr goes to the writer given to StartChild.
// Closing its stdin (Stop) tells it to exit.
type Child struct {
	Name   string // for messages
	Pinned bool   // whether taskset pins it
	CPU    int    // the CPU it is pinned to, when Pinned

	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	done   chan struct{} // closed when stdout ends
	waited bool
}

// StartChild starts this executable with args, pinned to cpu when cpu >= 0
// and CanPin(cpu), with EnvChild set.
func StartChild(name string, cpu int, stderr io.Writer, args ...string) (*Child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("loadtest: %w", err)
	}
	c := &Child{Name: name, lines: make(chan string, 64), done: make(chan struct{})}
	argv := append([]string{exe}, args...)
	if cpu >= 0 && CanPin(cpu) {
		c.Pinned, c.CPU = true, cpu
		argv = append([]string{"taskset", "-c", strconv.Itoa(cpu)}, argv...)
	}
	c.cmd = exec.Command(argv[0], argv[1:]...)
	c.cmd.Env = append(os.Environ(), EnvChild+"=1")
	c.cmd.Stderr = stderr
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("loadtest: %s: %w", name, err)
	}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("loadtest: %s: %w", name, err)
	}
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("loadtest: start %s: %w", name, err)
	}
	go func() {
		defer close(c.done)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	return c, nil
}

// Line returns the rest of the next stdout line that starts with prefix
// followed by a space, skipping other lines. It fails if the child's stdout
// ends first or timeout passes.
func (c *Child) Line(prefix string, timeout time.Duration) (string, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case l := <-c.lines:
			if rest, ok := strings.CutPrefix(l, prefix+" "); ok {
				return rest, nil
			}
		case <-c.done:
			// Drain what the scanner delivered before it ended.
			for {
				select {
				case l := <-c.lines:
					if rest, ok := strings.CutPrefix(l, prefix+" "); ok {
						return rest, nil
					}
				default:
					return "", fmt.Errorf("loadtest: %s exited without printing %q", c.Name, prefix)
				}
			}
		case <-t.C:
			return "", fmt.Errorf("loadtest: %s: no %q line within %v", c.Name, prefix, timeout)
		}
	}
}

// CloseStdin closes the child's stdin, which asks it to finish; read its
// last lines with Line, then reap it with Wait.
func (c *Child) CloseStdin() { _ = c.stdin.Close() }

// Stop closes the child's stdin, which asks it to finish, and waits for it
// to exit (killing it after timeout). It returns the CPU time the child
// used (user plus system).
func (c *Child) Stop(timeout time.Duration) (time.Duration, error) {
	_ = c.stdin.Close()
	return c.Wait(timeout)
}

// Wait waits for the child to exit by itself (killing it after timeout) and
// returns the CPU time it used.
func (c *Child) Wait(timeout time.Duration) (time.Duration, error) {
	c.waited = true
	waited := make(chan error, 1)
	go func() { waited <- c.cmd.Wait() }()
	var err error
	select {
	case err = <-waited:
	case <-time.After(timeout):
		_ = c.cmd.Process.Kill()
		err = <-waited
		if err == nil {
			err = errors.New("killed")
		}
		err = fmt.Errorf("loadtest: %s did not exit within %v: %w", c.Name, timeout, err)
	}
	var cpu time.Duration
	if st := c.cmd.ProcessState; st != nil {
		cpu = st.UserTime() + st.SystemTime()
	}
	if err != nil {
		return cpu, fmt.Errorf("loadtest: %s: %w", c.Name, err)
	}
	return cpu, nil
}

// Kill kills the child at once and reaps it, for cleanup paths; after Stop
// or Wait it does nothing. Call it from the goroutine that calls Stop.
func (c *Child) Kill() {
	if c.waited {
		return
	}
	c.waited = true
	_ = c.stdin.Close()
	_ = c.cmd.Process.Kill()
	_ = c.cmd.Wait()
}

// Send writes line and a newline to the child's stdin, for a child that
// reads its parent's commands with StdinLines.
func (c *Child) Send(line string) error {
	if _, err := io.WriteString(c.stdin, line+"\n"); err != nil {
		return fmt.Errorf("loadtest: %s: %w", c.Name, err)
	}
	return nil
}

// Exited returns a channel that is closed when the child's stdout ends,
// which is when it exits; its last lines can still be read with Line.
func (c *Child) Exited() <-chan struct{} { return c.done }

// StopOnStdinEOF cancels the returned context when stdin reaches its end,
// if this process is a child (IsChild), and otherwise on nothing but its
// parent's cancellation: a child never outlives its parent.
func StopOnStdinEOF(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel, _ := watchStdin(parent, false)
	return ctx, cancel
}

// StdinLines is StopOnStdinEOF for a child its parent sends commands to
// (Child.Send): it also passes on each line read before stdin ends. The
// channel holds up to 64 unread lines (later ones are dropped) and is
// never written to when this process is not a child.
func StdinLines(parent context.Context) (context.Context, context.CancelFunc, <-chan string) {
	return watchStdin(parent, true)
}

func watchStdin(parent context.Context, keep bool) (context.Context, context.CancelFunc, <-chan string) {
	ctx, cancel := context.WithCancel(parent)
	lines := make(chan string, 64)
	if IsChild() {
		go func() {
			defer cancel()
			if !keep {
				_, _ = io.Copy(io.Discard, os.Stdin)
				return
			}
			sc := bufio.NewScanner(os.Stdin)
			for sc.Scan() {
				select {
				case lines <- sc.Text():
				default:
				}
			}
			_, _ = io.Copy(io.Discard, os.Stdin)
		}()
	}
	return ctx, cancel, lines
}

// SyncWriter returns w made safe for concurrent use, for a writer shared by
// several children's stderr: an *os.File as is (each child then writes to
// the file descriptor itself), anything else behind a mutex.
func SyncWriter(w io.Writer) io.Writer {
	if f, ok := w.(*os.File); ok {
		return f
	}
	return &syncWriter{w: w}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
