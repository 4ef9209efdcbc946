package main

import (
	"context"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/receiver"
	"github.com/webhookkit/webhookkit/sender"
	"github.com/webhookkit/webhookkit/store"
)

// Labels stay low-cardinality: outcome, status class, reason, result and
// event type (bounded by what endpoints subscribe to). Endpoint and event
// ids belong in traces and logs, not in metric labels.

// senderMetrics turns the sender's hooks into Prometheus metrics.
type senderMetrics struct {
	attempts  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	exhausted *prometheus.CounterVec
	health    *prometheus.CounterVec
	breakers  *prometheus.CounterVec
	open      prometheus.Gauge

	mu     sync.Mutex
	opened map[string]bool // endpoints whose breaker this sender has open
}

func newSenderMetrics(reg prometheus.Registerer) *senderMetrics {
	m := &senderMetrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webhookkit_sender_attempts_total",
			Help: "Delivery attempts, by outcome (success, failure) and HTTP status class (2xx..5xx, none when no response).",
		}, []string{"outcome", "status_class"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "webhookkit_sender_attempt_duration_seconds",
			Help:    "Duration of delivery attempts, until the response was read or the attempt failed.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12), // 5 ms .. about 10 s
		}, []string{"outcome"}),
		exhausted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webhookkit_sender_deliveries_exhausted_total",
			Help: "Deliveries given up, by reason.",
		}, []string{"reason"}),
		health: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webhookkit_sender_endpoint_health_events_total",
			Help: "Endpoint health changes: warning (half-way to disabling), disabled, recovered.",
		}, []string{"event"}),
		breakers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webhookkit_sender_breaker_transitions_total",
			Help: "Circuit breaker changes in this sender, by the state entered (open, closed).",
		}, []string{"state"}),
		open: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "webhookkit_sender_breakers_open",
			Help: "Endpoints whose circuit breaker is open in this sender: their deliveries wait, with their retry schedules frozen.",
		}),
		opened: make(map[string]bool),
	}
	reg.MustRegister(m.attempts, m.duration, m.exhausted, m.health, m.breakers, m.open)
	return m
}

// onBreakerChange counts the transition and keeps the gauge of open
// breakers: a set per endpoint, so that a repeated state cannot skew it.
func (m *senderMetrics) onBreakerChange(_ context.Context, ep *store.Endpoint, state store.BreakerState) {
	m.breakers.WithLabelValues(state.String()).Inc()
	m.mu.Lock()
	defer m.mu.Unlock()
	if state == store.BreakerOpen {
		m.opened[ep.ID] = true
	} else {
		delete(m.opened, ep.ID)
	}
	m.open.Set(float64(len(m.opened)))
}

func (m *senderMetrics) onAttempt(_ context.Context, a *store.Attempt) {
	outcome := "failure"
	if a.Success {
		outcome = "success"
	}
	m.attempts.WithLabelValues(outcome, statusClass(a.StatusCode)).Inc()
	m.duration.WithLabelValues(outcome).Observe(a.Duration.Seconds())
}

func (m *senderMetrics) onExhausted(_ context.Context, _ *store.Delivery, reason string) {
	m.exhausted.WithLabelValues(reason).Inc()
}

func (m *senderMetrics) healthEvent(name string) func(context.Context, *store.Endpoint) {
	c := m.health.WithLabelValues(name)
	return func(context.Context, *store.Endpoint) { c.Inc() }
}

// hooks returns sender hooks that update the metrics.
func (m *senderMetrics) hooks() sender.Hooks {
	return sender.Hooks{
		OnAttempt:           m.onAttempt,
		OnDeliveryExhausted: m.onExhausted,
		OnEndpointWarning:   m.healthEvent("warning"),
		OnEndpointDisabled:  m.healthEvent("disabled"),
		OnEndpointRecovered: m.healthEvent("recovered"),
		OnBreakerChange:     m.onBreakerChange,
	}
}

// receiverMetrics turns the receiver's hooks and Stats into Prometheus
// metrics.
type receiverMetrics struct {
	requests        *prometheus.CounterVec
	requestDuration prometheus.Histogram
	callbacks       *prometheus.CounterVec
	callbackTime    *prometheus.HistogramVec
	dropped         *prometheus.CounterVec
}

func newReceiverMetrics(reg prometheus.Registerer) *receiverMetrics {
	m := &receiverMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webhookkit_receiver_requests_total",
			Help: "Webhook requests answered, by status code and reason (receiver.Reason: accepted, duplicate, invalid signature, ...).",
		}, []string{"code", "reason"}),
		requestDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "webhookkit_receiver_request_duration_seconds",
			Help:    "Time spent answering webhook requests (verification, de-duplication, queueing).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 8), // 0.1 ms .. 1.6 s
		}),
		callbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webhookkit_receiver_callback_attempts_total",
			Help: "Callback attempts, by event type and result (handled, retry, dead, dropped, interrupted).",
		}, []string{"event_type", "result"}),
		callbackTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "webhookkit_receiver_callback_duration_seconds",
			Help:    "Duration of callback attempts.",
			Buckets: prometheus.DefBuckets,
		}, []string{"result"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webhookkit_receiver_dropped_total",
			Help: "Events acknowledged without a handler (no route for their type).",
		}, []string{"event_type"}),
	}
	reg.MustRegister(m.requests, m.requestDuration, m.callbacks, m.callbackTime, m.dropped)
	return m
}

// registerStats exports the receiver's current queue sizes, read at scrape
// time.
func (m *receiverMetrics) registerStats(reg prometheus.Registerer, r *receiver.Receiver) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "webhookkit_receiver_queued_events",
			Help: "Accepted events waiting for a worker.",
		}, func() float64 { return float64(r.Stats().Queued) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "webhookkit_receiver_pending_events",
			Help: "Accepted events not finished: queued, running or waiting for a retry.",
		}, func() float64 { return float64(r.Stats().Pending) }),
	)
}

// hooks returns receiver hooks that update the metrics; extra hooks (the
// tracing ones) run after them.
func (m *receiverMetrics) hooks(extra receiver.Hooks) receiver.Hooks {
	return receiver.Hooks{
		OnResponse: func(ctx context.Context, info receiver.ResponseInfo) {
			m.requests.WithLabelValues(strconv.Itoa(info.Status), string(info.Reason)).Inc()
			m.requestDuration.Observe(info.Duration.Seconds())
			if extra.OnResponse != nil {
				extra.OnResponse(ctx, info)
			}
		},
		OnCallback: func(ctx context.Context, info receiver.CallbackInfo) {
			m.callbacks.WithLabelValues(info.Event.Type, string(info.Result)).Inc()
			m.callbackTime.WithLabelValues(string(info.Result)).Observe(info.Duration.Seconds())
			if extra.OnCallback != nil {
				extra.OnCallback(ctx, info)
			}
		},
		OnDropped: func(ctx context.Context, ev event.Event) {
			m.dropped.WithLabelValues(ev.Type).Inc()
			if extra.OnDropped != nil {
				extra.OnDropped(ctx, ev)
			}
		},
		OnAccepted: extra.OnAccepted,
		OnDead:     extra.OnDead,
	}
}

func statusClass(code int) string {
	if code < 100 || code > 599 {
		return "none"
	}
	return strconv.Itoa(code/100) + "xx"
}
