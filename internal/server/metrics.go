package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/coffer-secrets/coffer/internal/metrics"
)

// newMetrics returns the server's metrics, or nil when they are turned off
// (every instrumented part then records nothing).
func newMetrics(cfg Config) *metrics.Metrics {
	if cfg.MetricsOff {
		return nil
	}
	return metrics.New()
}

// routeMetrics serves /metrics on the main listener unless the metrics
// are off or have a listener of their own. Like /healthz it needs no
// signature: no label names a secret, an account or a key.
func (s *Server) routeMetrics(mux *http.ServeMux) {
	if s.metrics == nil || s.cfg.MetricsListen != "" {
		return
	}
	mux.Handle("GET /metrics", s.metrics.Handler())
}

// listenMetrics opens the separate metrics listener, when configured:
// plain HTTP on a loopback address, TLS with the API's certificate on any
// other (in development mode only loopback is allowed, see Config.check).
func (s *Server) listenMetrics() error {
	if s.metrics == nil || s.cfg.MetricsListen == "" {
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.MetricsListen)
	if err != nil {
		return fmt.Errorf("metrics: listen on %s: %w", s.cfg.MetricsListen, err)
	}
	s.metricsLn = ln
	if checkLoopback(s.cfg.MetricsListen) == nil {
		return nil
	}
	cfg, _, _, err := tlsConfig(&s.cfg)
	if err != nil {
		return err
	}
	s.metricsLn, s.metricsTLS = tls.NewListener(ln, cfg), true
	return nil
}

// serveMetrics serves the separate metrics listener, if any, and returns
// the function that stops it. A failure there is logged; it does not stop
// the API.
func (s *Server) serveMetrics() (stop func()) {
	if s.metricsLn == nil {
		return func() {}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics.Handler())
	write := 30 * time.Second
	if s.cfg.Pprof {
		// Profiles are served only here, and only on loopback (checkMetrics).
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		write = 5 * time.Minute // a CPU profile answers after its duration
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: write}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(s.metricsLn); !errors.Is(err, http.ErrServerClosed) {
			s.cfg.Log.Error("metrics listener stopped", "error", err)
		}
	}()
	s.cfg.Log.Info("serving metrics", "addr", s.metricsLn.Addr().String(), "tls", s.metricsTLS)
	return func() { _ = srv.Close(); <-done }
}

// MetricsURL returns the URL /metrics is served at, or "" when the metrics
// are off.
func (s *Server) MetricsURL() string {
	switch {
	case s.metrics == nil:
		return ""
	case s.metricsLn == nil:
		return s.URL() + "/metrics"
	case s.metricsTLS:
		return "https://" + s.metricsLn.Addr().String() + "/metrics"
	}
	return "http://" + s.metricsLn.Addr().String() + "/metrics"
}

// checkMetrics refuses a separate metrics listener that would serve plain
// HTTP off loopback: in development mode there is no certificate for it.
func (c *Config) checkMetrics() error {
	if c.Pprof {
		if c.MetricsOff || c.MetricsListen == "" {
			return errors.New("--pprof needs --metrics-listen on a loopback address")
		}
		if err := checkLoopback(c.MetricsListen); err != nil {
			return fmt.Errorf("--pprof: profiles are served on loopback only: %w", err)
		}
	}
	if c.MetricsOff || c.MetricsListen == "" || !c.Dev {
		return nil
	}
	if err := checkLoopback(c.MetricsListen); err != nil {
		return fmt.Errorf("--metrics-listen: %w", err)
	}
	return nil
}
