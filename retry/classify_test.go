package retry_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/retry"
)

func TestClassify(t *testing.T) {
	netErr := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	tests := []struct {
		name   string
		status int
		err    error
		want   retry.Class
	}{
		{"200", 200, nil, retry.ClassSuccess},
		{"204", 204, nil, retry.ClassSuccess},
		{"299", 299, nil, retry.ClassSuccess},
		{"2xx with body read error", 200, io.ErrUnexpectedEOF, retry.ClassSuccess},
		{"301", 301, nil, retry.ClassRetry},
		{"302", 302, nil, retry.ClassRetry},
		{"304", 304, nil, retry.ClassRetry},
		{"400", 400, nil, retry.ClassRetry},
		{"401", 401, nil, retry.ClassRetry},
		{"403", 403, nil, retry.ClassRetry},
		{"404", 404, nil, retry.ClassRetry},
		{"408", 408, nil, retry.ClassRetry},
		{"409", 409, nil, retry.ClassRetry},
		{"410", 410, nil, retry.ClassGone},
		{"422", 422, nil, retry.ClassRetry},
		{"429", 429, nil, retry.ClassRetry},
		{"500", 500, nil, retry.ClassRetry},
		{"502", 502, nil, retry.ClassRetry},
		{"503", 503, nil, retry.ClassRetry},
		{"504", 504, nil, retry.ClassRetry},
		{"1xx", 100, nil, retry.ClassRetry},
		{"out of range", 600, nil, retry.ClassRetry},
		{"network error", 0, netErr, retry.ClassRetry},
		{"wrapped network error", 0, fmt.Errorf("post: %w", netErr), retry.ClassRetry},
		{"deadline exceeded", 0, context.DeadlineExceeded, retry.ClassRetry},
		{"connection reset", 0, syscall.ECONNRESET, retry.ClassRetry},
		{"callback success", 0, nil, retry.ClassSuccess},
		{"callback error", 0, errors.New("db down"), retry.ClassRetry},
		{"callback permanent", 0, retry.Permanent(errors.New("bad payload")), retry.ClassPermanent},
		{"callback permanent wrapped", 0, fmt.Errorf("handler: %w", retry.Permanent(errors.New("x"))), retry.ClassPermanent},
		{"callback after", 0, retry.After(1, errors.New("later")), retry.ClassRetry},
		{"500 with permanent error", 500, retry.Permanent(errors.New("x")), retry.ClassPermanent},
		{"410 beats permanent", 410, retry.Permanent(errors.New("x")), retry.ClassGone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, retry.Classify(tt.status, tt.err))
			require.Equal(t, tt.want, retry.Classifier{}.Classify(tt.status, tt.err))
		})
	}
}

func TestClassifierPermanentStatus(t *testing.T) {
	c := retry.Classifier{PermanentStatus: retry.ClientError}
	tests := []struct {
		status int
		err    error
		want   retry.Class
	}{
		{200, nil, retry.ClassSuccess},
		{302, nil, retry.ClassRetry},
		{400, nil, retry.ClassPermanent},
		{401, nil, retry.ClassPermanent},
		{403, nil, retry.ClassPermanent},
		{404, nil, retry.ClassPermanent},
		{408, nil, retry.ClassRetry},
		{409, nil, retry.ClassPermanent},
		{410, nil, retry.ClassGone},
		{422, nil, retry.ClassPermanent},
		{425, nil, retry.ClassRetry},
		{429, nil, retry.ClassRetry},
		{500, nil, retry.ClassRetry},
		{503, nil, retry.ClassRetry},
		{0, context.DeadlineExceeded, retry.ClassRetry},
		{0, nil, retry.ClassSuccess},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status, tt.err), func(t *testing.T) {
			require.Equal(t, tt.want, c.Classify(tt.status, tt.err))
		})
	}

	// The function sees every failed status except 410, and never 2xx or 0.
	var seen []int
	c = retry.Classifier{PermanentStatus: func(code int) bool {
		seen = append(seen, code)
		return code == 500
	}}
	for _, code := range []int{0, 200, 299, 302, 404, 410, 500} {
		c.Classify(code, nil)
	}
	require.Equal(t, []int{302, 404, 500}, seen)
	require.Equal(t, retry.ClassPermanent, c.Classify(500, nil))
}

func TestClassString(t *testing.T) {
	require.Equal(t, "success", retry.ClassSuccess.String())
	require.Equal(t, "retry", retry.ClassRetry.String())
	require.Equal(t, "permanent", retry.ClassPermanent.String())
	require.Equal(t, "gone", retry.ClassGone.String())
	require.Equal(t, "Class(9)", retry.Class(9).String())
}
