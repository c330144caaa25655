// Package metrics owns Coffer's Prometheus metrics: one registry per server
// (never the default one), the collectors on it, and the typed methods the
// gate, the audit writer, the caches and the root-key provider report
// through, so no other package imports Prometheus.
//
// Labels never carry a secret's name or value, an account or an access key:
// every label takes its values from a small closed set (API families, the
// actions an edge serves, wire error codes, cache and operation names).
package metrics

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Unknown labels an API family or action the edge does not serve, so a
// client cannot grow the label set by inventing names.
const Unknown = "unknown"

// OK is the code label of a call that succeeded.
const OK = "ok"

// The cache label values.
const (
	CacheKeyMaterial = "key_material" // unwrapped CMK material (keys.Keyring)
	CacheCredentials = "credentials"  // unsealed access keys (iam.Service)
)

// Metrics holds a server's collectors and the registry they are on.
// A nil *Metrics records nothing, so code under unit test needs no setup.
type Metrics struct {
	reg *prometheus.Registry

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec

	auditDepth    atomic.Pointer[func() int]
	auditCommit   prometheus.Histogram
	auditBatch    prometheus.Histogram
	auditFailures prometheus.Counter

	cache *prometheus.CounterVec

	keyProvider       *prometheus.HistogramVec
	keyProviderErrors *prometheus.CounterVec

	replicationLag  *prometheus.GaugeVec
	rotations       *prometheus.CounterVec
	rotationSeconds prometheus.Histogram
}

// New returns a Metrics on a registry of its own, with the Go runtime and
// process collectors registered beside Coffer's.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.newRequests()
	m.newAudit()
	m.newCache()
	m.newKeyProvider()
	m.newReplication()
	m.newRotation()
	return m
}

// Handler serves the registry in the Prometheus exposition format. A nil
// Metrics serves 404.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry returns the registry, for collectors added by later capabilities
// (rotation, replication) and for tests. It returns nil for a nil Metrics.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// requestBuckets span 0.5 ms (a cached read) to 5 s (a slow store or key holder).
var requestBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

func (m *Metrics) newRequests() {
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "coffer_requests_total",
		Help: `API calls by family, action and result code ("ok" or the caller protocol's error code).`,
	}, []string{"family", "action", "code"})
	m.requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "coffer_request_duration_seconds",
		Help:    "API call latency, from the edge receiving the request to the outcome being known.",
		Buckets: requestBuckets,
	}, []string{"family", "action"})
	m.reg.MustRegister(m.requests, m.requestDuration)
}

// Request records one API call. family and action must come from the
// edge's own tables (Unknown otherwise); code is OK or a wire error code.
func (m *Metrics) Request(family, action, code string, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(family, action, code).Inc()
	m.requestDuration.WithLabelValues(family, action).Observe(d.Seconds())
}
