package loadtest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Bare is the baseline endpoint: it reads the request body and answers 200
// with no body, as the cheapest correct webhook endpoint would.
func Bare() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	})
}

// Serve serves h on ln until ctx ends, then shuts the server down (waiting
// up to 5 s for requests in flight). The server sets the timeouts the CLI
// and examples use, ReadHeaderTimeout and ReadTimeout 10 s, so the
// benchmarks measure a server configured as users are told to configure
// theirs.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       10 * time.Second,
		ErrorLog:          slog.NewLogLogger(slog.DiscardHandler, slog.LevelError),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// Discard is a logger that drops everything, for the components under
// load (their warnings about 503s would otherwise flood stderr).
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
