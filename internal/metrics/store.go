package metrics

import (
	"math"

	"github.com/prometheus/client_golang/prometheus"
)

// StoreWrites registers the embedded store's group-commit counters:
// stats returns how many write transactions were committed and how many
// Update calls they carried (sqlite.DB.WriteStats), queued how many calls
// wait for the writer (sqlite.DB.QueuedWrites). Both are sampled at each
// scrape. A server over PostgreSQL, which does not group writes, does not
// call it and has none of these series.
func (m *Metrics) StoreWrites(stats func() (commits, calls int64), queued func() int) {
	if m == nil {
		return
	}
	commits := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "coffer_store_write_commits_total",
		Help: "Write transactions the embedded store committed; each carries one or more write calls (group commit).",
	}, func() float64 { c, _ := stats(); return float64(c) })
	calls := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "coffer_store_write_calls_total",
		Help: "Write calls the embedded store ran; divided by coffer_store_write_commits_total, the average group size.",
	}, func() float64 { _, n := stats(); return float64(n) })
	depth := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "coffer_store_write_queue_depth",
		Help: "Write calls waiting for the embedded store's writer, not counting the group being committed.",
	}, func() float64 { return float64(queued()) })
	m.reg.MustRegister(commits, calls, depth)
}

// AuditUnindexed registers the embedded store's audit indexing lag:
// unindexed returns how many audit events its background indexer has not
// reached (sqlite.DB.UnindexedEvents), sampled at each scrape; a failed
// sample shows as NaN. A look-up reads those events by a scan, so a number
// that keeps growing means look-ups slow down. A server over PostgreSQL
// does not call it.
func (m *Metrics) AuditUnindexed(unindexed func() (int, error)) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "coffer_audit_unindexed_events",
		Help: "Audit events the embedded store's background indexer has not reached yet; look-ups scan them.",
	}, func() float64 {
		n, err := unindexed()
		if err != nil {
			return math.NaN()
		}
		return float64(n)
	}))
}
