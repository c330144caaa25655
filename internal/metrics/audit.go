package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func (m *Metrics) newAudit() {
	depth := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "coffer_audit_queue_depth",
		Help: "Audit events waiting for a group commit (not counting the batch being written).",
	}, func() float64 {
		if f := m.auditDepth.Load(); f != nil {
			return float64((*f)())
		}
		return 0
	})
	m.auditCommit = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "coffer_audit_commit_seconds",
		Help:    "Duration of one audit group commit.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	})
	m.auditBatch = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "coffer_audit_batch_events",
		Help:    "Events written by one audit group commit.",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512},
	})
	m.auditFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "coffer_audit_commit_failures_total",
		Help: "Audit group commits that failed; each failed the calls in its batch.",
	})
	m.reg.MustRegister(depth, m.auditCommit, m.auditBatch, m.auditFailures)
}

// AuditQueue sets the function sampled for coffer_audit_queue_depth at
// each scrape (audit.Writer.Queued).
func (m *Metrics) AuditQueue(depth func() int) {
	if m == nil {
		return
	}
	m.auditDepth.Store(&depth)
}

// AuditCommit records one group commit of events that took d and failed
// with err (nil on success). It fits audit.Writer.Observe.
func (m *Metrics) AuditCommit(events int, d time.Duration, err error) {
	if m == nil {
		return
	}
	m.auditCommit.Observe(d.Seconds())
	m.auditBatch.Observe(float64(events))
	if err != nil {
		m.auditFailures.Inc()
	}
}
