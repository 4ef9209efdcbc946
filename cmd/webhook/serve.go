package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
)

// serve serves srv on ln until ctx ends or serving fails, then shuts srv
// down and calls stop (when not nil) to drain the sender or receiver behind
// it, both within listenDrainTimeout. name prefixes the log lines and
// stopping says what the drain does. It returns stop's error, else the
// serving error (http.ErrServerClosed aside); a connection that would not
// close in time is only logged.
func serve(ctx context.Context, log *slog.Logger, name, stopping string, srv *http.Server, ln net.Listener, stop func(context.Context) error) error {
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
	}
	log.Info(name + ": shutting down" + stopping)
	// ctx has ended: the drain gets a fresh deadline of its own.
	sctx, cancel := context.WithTimeout(context.Background(), listenDrainTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn(name+": closing connections", "error", err)
	}
	if stop != nil {
		if err := stop(sctx); err != nil {
			return err
		}
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	log.Info(name + ": stopped")
	return nil
}

// browseAddr returns the HOST:PORT to print in a URL a person can open, and
// a note to print after it. That is the listener's address and no note, or,
// when it listens on every interface (--addr 0.0.0.0:8080 and :8080 listen
// on [::]:8080, which is no address to browse to), 127.0.0.1 and its port,
// with a note saying that it listens on all interfaces.
func browseAddr(a net.Addr) (addr, note string) {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String(), ""
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp.Port)), "; listening on all interfaces"
}
