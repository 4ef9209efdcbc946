package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/signature"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// bgListen is a 'webhook listen' (or another long-running command) running
// in the background.
type bgListen struct {
	cmd    *exec.Cmd
	url    string // http://HOST:PORT/PATH, parsed from stderr
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan error
}

var listeningRe = regexp.MustCompile(`listening on (http://\S+)`)

// startListen starts 'webhook listen --addr 127.0.0.1:0 args...' and waits
// for the address it prints on stderr.
func startListen(t *testing.T, args ...string) *bgListen {
	t.Helper()
	return startBackground(t, listeningRe, append([]string{"listen", "--addr", "127.0.0.1:0"}, args...)...)
}

// startBackground starts the binary with args and waits for a stderr line
// matching re, whose first group becomes url. The process is stopped
// (SIGINT) at cleanup if the test did not stop it.
func startBackground(t *testing.T, re *regexp.Regexp, args ...string) *bgListen {
	t.Helper()
	return startBackgroundEnv(t, nil, re, args...)
}

// startBackgroundEnv is startBackground with env ("NAME=value") added to
// the binary's environment.
func startBackgroundEnv(t *testing.T, env []string, re *regexp.Regexp, args ...string) *bgListen {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(childEnv(), env...)
	l := &bgListen{cmd: cmd, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stdout = l.stdout
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	require.NoError(t, cmd.Start())
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			_, _ = l.stderr.Write([]byte(line + "\n"))
			if m := re.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	go func() {
		err := cmd.Wait()
		_ = pw.Close()
		l.done <- err
	}()
	select {
	case l.url = <-found:
	case err := <-l.done:
		t.Fatalf("%v exited early: %v\n%s", args, err, l.stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("%v printed no address; stderr:\n%s", args, l.stderr.String())
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Signal(os.Interrupt)
		}
	})
	return l
}

// stop sends sig and requires a clean exit (0) after draining.
func (l *bgListen) stop(t *testing.T, sig os.Signal) {
	t.Helper()
	require.NoError(t, l.cmd.Process.Signal(sig))
	select {
	case err := <-l.done:
		require.NoError(t, err, "must exit 0 on %v; stderr:\n%s", sig, l.stderr.String())
		require.NotContains(t, l.stderr.String(), "DATA RACE")
	case <-time.After(30 * time.Second):
		t.Fatalf("did not stop on %v; stderr:\n%s", sig, l.stderr.String())
	}
}

// events decodes listen's stdout: one envelope per line.
func (l *bgListen) events(t *testing.T) []event.Event {
	t.Helper()
	var evs []event.Event
	for _, line := range strings.Split(strings.TrimSuffix(l.stdout.String(), "\n"), "\n") {
		if line == "" {
			continue
		}
		ev, err := event.Decode([]byte(line))
		require.NoError(t, err, "line %q", line)
		evs = append(evs, ev)
	}
	return evs
}

// post sends a raw webhook request, as curl would, and returns the status.
func post(t *testing.T, url string, h http.Header, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header = h
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

func TestListenSendOnceTamperedRefused(t *testing.T) {
	t.Parallel()
	l := startListen(t, "--secret", vecSecret, "--path", "/webhooks")
	require.True(t, strings.HasSuffix(l.url, "/webhooks"), l.url)

	id := uuid.NewString()
	send := func() {
		r := cli(t, "", "send", "--url", l.url, "--secret", vecSecret, "--type", "patient.ehi_export_success",
			"--data", `{"org_connection_id": "c-1"}`, "--id", id)
		require.Equal(t, 0, r.code, r.stderr)
		require.Equal(t, `{"attempt":1,"status":200,"error":"","duration_ms":`, r.stdout[:strings.LastIndex(r.stdout, ":")+1])
	}
	send()
	send() // the same id: accepted as a duplicate, not printed again

	// A tampered request: signed for one body, sent with another.
	signer, err := signature.NewSigner([]signature.Secret{mustSecret(t, vecSecret)})
	require.NoError(t, err)
	ev, err := event.New(event.ModeTest, "ping", map[string]int{"n": 1})
	require.NoError(t, err)
	body, err := ev.MarshalJSON()
	require.NoError(t, err)
	h := make(http.Header)
	signer.SignHeader(h, ev.ID, time.Now(), body)
	tampered := bytes.Replace(body, []byte(`"n":1`), []byte(`"n":2`), 1)
	require.Equal(t, http.StatusUnauthorized, post(t, l.url, h.Clone(), tampered))
	// A signature by another secret.
	other, err := signature.NewSecret()
	require.NoError(t, err)
	s2, err := signature.NewSigner([]signature.Secret{other})
	require.NoError(t, err)
	h2 := make(http.Header)
	s2.SignHeader(h2, ev.ID, time.Now(), body)
	require.Equal(t, http.StatusUnauthorized, post(t, l.url, h2, body))
	// Unsigned.
	require.Equal(t, http.StatusBadRequest, post(t, l.url, make(http.Header), body))

	// SIGINT drains what was accepted, so everything printed is on stdout
	// once listen has exited.
	l.stop(t, os.Interrupt)
	evs := l.events(t)
	require.Len(t, evs, 1, "stdout:\n%s", l.stdout.String())
	require.Equal(t, id, evs[0].ID)
	require.Equal(t, "patient.ehi_export_success", evs[0].Type)
	require.Equal(t, event.ModeTest, evs[0].APIMode)
	require.JSONEq(t, `{"org_connection_id": "c-1"}`, string(evs[0].Data))
	require.NotContains(t, l.stdout.String(), `"n":2`)
	require.Contains(t, l.stderr.String(), "invalid signature")
}

func TestListenForwardsOriginalRequest(t *testing.T) {
	t.Parallel()
	// The "application": a second listener that verifies with the same
	// secret, so it accepts only the original body and headers.
	app := startListen(t, "--secret", vecSecret)
	fwd := startListen(t, "--secret", vecSecret, "--forward-to", app.url)

	r := cli(t, "", "simulate", "--url", fwd.url, "--secret", vecSecret, "--type", "patient.ehi_export_failed")
	require.Equal(t, 0, r.code, r.stderr)
	require.Eventually(t, func() bool { return strings.Contains(app.stdout.String(), "\n") }, 20*time.Second, 10*time.Millisecond,
		"forwarded event not received; forwarder stderr:\n%s", fwd.stderr.String())

	fwd.stop(t, syscall.SIGTERM)
	app.stop(t, syscall.SIGTERM)
	got, want := app.events(t), fwd.events(t)
	require.Len(t, want, 1)
	require.Len(t, got, 1)
	require.Equal(t, want[0], got[0])
	require.Equal(t, "patient.ehi_export_failed", got[0].Type)
}

func TestListenUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no secret", []string{"listen"}, "--secret is required"},
		{"private key", []string{"listen", "--secret", "whsk_QFRVyUul//UpvPcRe6aXBKorTlU6iuQ9fNGg78oHlwsyUsokPXZdLWq8iXckrdfli5ZYo68K1A1i3tig9sWeuQ=="}, "public key"},
		{"bad path", []string{"listen", "--secret", vecSecret, "--path", "webhooks"}, "--path"},
		{"bad store", []string{"listen", "--secret", vecSecret, "--store", "mysql://x"}, "unknown store"},
		{"bad forward URL", []string{"listen", "--secret", vecSecret, "--forward-to", "localhost:3000"}, "--forward-to"},
		{"bad mode", []string{"listen", "--secret", vecSecret, "--mode", "prod"}, "--mode"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := cli(t, "", tc.args...)
			require.Equal(t, 2, r.code, r.stderr)
			require.Contains(t, r.stderr, tc.want)
		})
	}
}

func mustSecret(t *testing.T, s string) signature.Secret {
	t.Helper()
	sec, err := signature.ParseSecret(s)
	require.NoError(t, err)
	return sec
}

func TestListenDurableStoreRemembersAcrossRestarts(t *testing.T) {
	t.Parallel()
	dsn := "sqlite:" + t.TempDir() + "/inbox.db"
	id := uuid.NewString()
	for run := range 2 {
		l := startListen(t, "--secret", vecSecret, "--store", dsn)
		require.Contains(t, l.stderr.String(), "store: sqlite")
		r := cli(t, "", "send", "--url", l.url, "--secret", vecSecret, "--type", "ping", "--id", id)
		require.Equal(t, 0, r.code, r.stderr)
		l.stop(t, syscall.SIGTERM)
		if run == 0 {
			require.Len(t, l.events(t), 1)
		} else {
			require.Empty(t, l.events(t), "a restarted listener still knows the event id")
			require.Contains(t, l.stderr.String(), "reason=duplicate")
		}
	}
}

func TestListenRetriesFailedForward(t *testing.T) {
	t.Parallel()
	app := newEndpoint(t, http.StatusInternalServerError, http.StatusOK)
	l := startListen(t, "--secret", vecSecret, "--forward-to", app.URL+"/hooks")
	r := cli(t, "", "send", "--url", l.url, "--secret", vecSecret, "--type", "ping", "--data", `{"n": 1}`)
	require.Equal(t, 0, r.code, r.stderr)
	require.Eventually(t, func() bool { return len(app.requests()) == 2 }, 20*time.Second, 10*time.Millisecond,
		"stderr:\n%s", l.stderr.String())
	l.stop(t, os.Interrupt)

	require.Len(t, l.events(t), 1, "printed once, however often it is forwarded")
	got := app.requests()
	require.Len(t, got, 2)
	v, err := signature.NewVerifier([]signature.Secret{mustSecret(t, vecSecret)}, nil, &signature.VerifyOptions{Tolerance: time.Hour})
	require.NoError(t, err)
	for _, req := range got {
		require.Equal(t, got[0].body, req.body)
		require.NoError(t, v.Verify(req.header, req.body), "the original signature is forwarded")
		require.Equal(t, "application/json", req.header.Get("Content-Type"))
	}
	require.Contains(t, string(got[0].body), `"data":{"n": 1}`, "the body is forwarded byte for byte")
}
