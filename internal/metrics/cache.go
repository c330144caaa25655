package metrics

import "github.com/prometheus/client_golang/prometheus"

func (m *Metrics) newCache() {
	m.cache = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "coffer_cache_requests_total",
		Help: `Look-ups in an in-memory cache by cache ("key_material", "credentials") and result ("hit", "miss").`,
	}, []string{"cache", "result"})
	m.reg.MustRegister(m.cache)
}

// Cache returns the hook a cache calls on each look-up (keys.Keyring and
// iam.Service OnLookup). It returns nil for a nil Metrics, which the caches
// take as "not observed".
func (m *Metrics) Cache(name string) func(hit bool) {
	if m == nil {
		return nil
	}
	hit, miss := m.cache.WithLabelValues(name, "hit"), m.cache.WithLabelValues(name, "miss")
	return func(h bool) {
		if h {
			hit.Inc()
		} else {
			miss.Inc()
		}
	}
}
