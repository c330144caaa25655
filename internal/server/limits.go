package server

import (
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coffer-secrets/coffer/internal/ratelimit"
)

// Limits bounds what clients can make the server hold or do
// (docs/operations.md, "Limits and throttling"). The zero value limits no
// rates and connections and uses the default timeouts.
type Limits struct {
	Account         float64 // requests a second per account (burst the same); 0 off
	Action          float64 // requests a second per account and action; 0 off
	SSMDefaults     bool    // Tencent's documented per-action SSM limits (ratelimit.SSMDefaults)
	Unauthenticated float64 // failed authentications a second per source address; 0 off
	MaxConnections  int     // connections open at once on the API listener; 0 unlimited

	// http.Server timeouts; 0 for the defaults (10 s, 30 s, 30 s, 2 min).
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
}

// limiter returns the gate's rate limiter, or nil when no rate is limited.
func (l Limits) limiter(clock func() time.Time) *ratelimit.Limiter {
	cfg := ratelimit.Config{
		Account:         ratelimit.PerSecond(l.Account),
		Action:          ratelimit.PerSecond(l.Action),
		Unauthenticated: ratelimit.PerSecond(l.Unauthenticated),
		Clock:           clock,
	}
	if l.SSMDefaults {
		cfg.Actions = ratelimit.SSMDefaults()
	}
	if cfg.Account.Off() && cfg.Action.Off() && cfg.Actions == nil && cfg.Unauthenticated.Off() {
		return nil
	}
	return ratelimit.New(cfg)
}

// httpServer returns the API's http.Server with l's timeouts.
func (l Limits) httpServer(h http.Handler) *http.Server {
	or := func(d, def time.Duration) time.Duration {
		if d > 0 {
			return d
		}
		return def
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: or(l.ReadHeaderTimeout, 10*time.Second),
		ReadTimeout:       or(l.ReadTimeout, 30*time.Second),
		WriteTimeout:      or(l.WriteTimeout, 30*time.Second),
		IdleTimeout:       or(l.IdleTimeout, 2*time.Minute),
		MaxHeaderBytes:    64 << 10,
	}
}

// limitListener accepts at most cap(sem) connections at once; Accept waits
// for one to close when that many are open.
type limitListener struct {
	net.Listener
	sem       chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func limitConnections(ln net.Listener, n int) net.Listener {
	if n <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, sem: make(chan struct{}, n), done: make(chan struct{})}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// limitConn gives its slot back once, however often it is closed.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
