package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/coffer-secrets/coffer/internal/keys/root"
)

func (m *Metrics) newKeyProvider() {
	m.keyProvider = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "coffer_keyprovider_seconds",
		Help:    `Root-key provider latency by operation ("wrap", "unwrap").`,
		Buckets: []float64{.0001, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"op"})
	m.keyProviderErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "coffer_keyprovider_errors_total",
		Help: `Root-key provider failures by operation ("wrap", "unwrap").`,
	}, []string{"op"})
	for _, op := range []string{"wrap", "unwrap"} {
		m.keyProviderErrors.WithLabelValues(op) // export zeros, so rate() works from the start
	}
	m.reg.MustRegister(m.keyProvider, m.keyProviderErrors)
}

// Root returns p instrumented: every Wrap and Unwrap is timed and its
// failures counted. For a nil Metrics it returns p itself.
func (m *Metrics) Root(p root.Provider) root.Provider {
	if m == nil {
		return p
	}
	return &timedProvider{p: p, m: m}
}

type timedProvider struct {
	p root.Provider
	m *Metrics
}

func (t *timedProvider) Wrap(ctx context.Context, plaintext, aad []byte) ([]byte, error) {
	start := time.Now()
	b, err := t.p.Wrap(ctx, plaintext, aad)
	t.m.keyOp("wrap", time.Since(start), err)
	return b, err
}

func (t *timedProvider) Unwrap(ctx context.Context, ciphertext, aad []byte) ([]byte, error) {
	start := time.Now()
	b, err := t.p.Unwrap(ctx, ciphertext, aad)
	t.m.keyOp("unwrap", time.Since(start), err)
	return b, err
}

func (t *timedProvider) Describe() string { return t.p.Describe() }

func (m *Metrics) keyOp(op string, d time.Duration, err error) {
	m.keyProvider.WithLabelValues(op).Observe(d.Seconds())
	if err != nil {
		m.keyProviderErrors.WithLabelValues(op).Inc()
	}
}
