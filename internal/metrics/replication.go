package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func (m *Metrics) newReplication() {
	m.replicationLag = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "coffer_replication_lag_seconds",
		Help: "How far each replica region is behind: the age of the oldest change to a replicated secret it has not acknowledged (0 when in sync).",
	}, []string{"region"})
	m.reg.MustRegister(m.replicationLag)
}

// ReplicationLag records how far a replica region is behind (replicate.Shipper.Lag).
func (m *Metrics) ReplicationLag(region string, behind time.Duration) {
	if m == nil {
		return
	}
	m.replicationLag.WithLabelValues(region).Set(behind.Seconds())
}

func (m *Metrics) newRotation() {
	m.rotations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "coffer_rotations_total",
		Help: `Rotation runs that ended, by result ("ok", "failed", "rolled_back").`,
	}, []string{"result"})
	m.rotationSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "coffer_rotation_seconds",
		Help:    "Duration of rotation runs, from start to end, retries included.",
		Buckets: prometheus.ExponentialBuckets(0.01, 4, 10), // 10 ms … ~43 min
	})
	m.reg.MustRegister(m.rotations, m.rotationSeconds)
}

// RotationEnded records a rotation run that ended (rotation.Service.OnEnd).
func (m *Metrics) RotationEnded(result string, d time.Duration) {
	if m == nil {
		return
	}
	m.rotations.WithLabelValues(result).Inc()
	m.rotationSeconds.Observe(d.Seconds())
}
