package main

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/signature"
)

// Attribute keys follow the OpenTelemetry HTTP semantic conventions where
// one exists; the webhook.* keys are this example's own.
const (
	attrMethod     = "http.request.method"
	attrStatusCode = "http.response.status_code"
	attrServer     = "server.address"
	attrEventID    = "webhook.event_id"
	attrEventType  = "webhook.event_type"
	attrAttempt    = "webhook.attempt"
	attrResult     = "webhook.result"
)

// --- Sender: a client span around every delivery attempt. ---

// tracingTransport wraps the sender's guarded transport
// (sender.Config.WrapTransport): each attempt gets a client span, and the
// W3C traceparent header goes out with the request, so a receiver that
// traces can join the trace. The sender sets webhook-id to the event id.
func tracingTransport(tracer trace.Tracer, prop propagation.TextMapPropagator) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			ctx, span := tracer.Start(req.Context(), "webhook deliver",
				trace.WithSpanKind(trace.SpanKindClient),
				trace.WithAttributes(
					attribute.String(attrMethod, req.Method),
					attribute.String(attrServer, req.URL.Host),
					attribute.String(attrEventID, req.Header.Get(signature.HeaderID)),
				))
			defer span.End()
			req = req.Clone(ctx) // a RoundTripper must not modify the request it is given
			prop.Inject(ctx, propagation.HeaderCarrier(req.Header))
			resp, err := next.RoundTrip(req)
			if err != nil {
				span.RecordError(err)
				span.SetStatus(codes.Error, "request failed")
				return nil, err
			}
			span.SetAttributes(attribute.Int(attrStatusCode, resp.StatusCode))
			if resp.StatusCode >= 300 {
				span.SetStatus(codes.Error, strconv.Itoa(resp.StatusCode))
			}
			return resp, nil
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// --- Receiver: a server span per request, a span per callback attempt. ---

// tracingMiddleware wraps the receiver's http.Handler with a server span
// that continues the sender's trace (from traceparent). The event id is
// recorded only for a 200, when the receiver has verified the request.
func tracingMiddleware(tracer trace.Tracer, prop propagation.TextMapPropagator, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := tracer.Start(ctx, "webhook receive",
			trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String(attrMethod, r.Method)))
		defer span.End()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r.WithContext(ctx))
		span.SetAttributes(attribute.Int(attrStatusCode, sw.status))
		if sw.status == http.StatusOK {
			span.SetAttributes(attribute.String(attrEventID, r.Header.Get(signature.HeaderID)))
		} else {
			span.SetStatus(codes.Error, strconv.Itoa(sw.status))
		}
	})
}

// statusWriter records the status a handler writes.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the real writer (the receiver
// sets read deadlines through it).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// callbackSpans returns a receiver OnCallback hook that records each call
// of the handler as a span. The hook runs after the call, on a context that
// carries the values of the receiver's Start context but no request's span
// (callbacks run detached from the request), so the span is a root of its
// own, timed from the call's duration, and found by its event id.
func callbackSpans(tracer trace.Tracer) func(context.Context, receiver.CallbackInfo) {
	return func(ctx context.Context, info receiver.CallbackInfo) {
		end := time.Now()
		_, span := tracer.Start(ctx, "webhook callback "+info.Event.Type,
			trace.WithSpanKind(trace.SpanKindConsumer),
			trace.WithTimestamp(end.Add(-info.Duration)),
			trace.WithAttributes(
				attribute.String(attrEventID, info.Event.ID),
				attribute.String(attrEventType, info.Event.Type),
				attribute.Int(attrAttempt, info.Number),
				attribute.String(attrResult, string(info.Result)),
			))
		if info.Err != nil {
			span.RecordError(info.Err)
			span.SetStatus(codes.Error, string(info.Result))
		}
		span.End(trace.WithTimestamp(end))
	}
}
