package client_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/client"
	"github.com/coffer-secrets/coffer/internal/iam"
	"github.com/coffer-secrets/coffer/internal/server"
)

// Root credentials of the test servers.
const (
	testAccount = "100000000009"
	testKeyID   = "AKIDcofferCLIENT000000000000000000000"
	testSecret  = "cofferClientSecretKey0000000000000000000"
)

// serverLimits are a test server's rate limits and timeouts.
type serverLimits = server.Limits

// waitLimit bounds every wait for a condition; none should come near it.
const waitLimit = 10 * time.Second

// fastRotation makes the rotation worker quick enough for tests: short
// intervals and back-off, two attempts per step, a short grace.
var fastRotation = server.RotationConfig{
	Interval: 50 * time.Millisecond, Grace: 100 * time.Millisecond, RetryBase: 10 * time.Millisecond, MaxAttempts: 2,
}

// testServer is a real Coffer server running in this process.
type testServer struct {
	t      testing.TB
	srv    *server.Server
	url    string
	cancel context.CancelFunc
	done   chan error
}

// startServer starts a development server on a loopback port, on dir (a
// fresh one when ""), with extra limits.
func startServer(t testing.TB, dir string, limits server.Limits) *testServer {
	t.Helper()
	return startServerOn(t, dir, "127.0.0.1:0", limits)
}

// startServerAt starts a server on dir listening on addr.
func startServerAt(t testing.TB, dir, addr string) *testServer {
	t.Helper()
	return startServerOn(t, dir, addr, server.Limits{})
}

func startServerOn(t testing.TB, dir, addr string, limits server.Limits) *testServer {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	cfg := server.Config{
		Listen: addr, DataDir: dir, Dev: true, MetricsOff: true, Limits: limits,
		Root:     iam.RootInput{AccountID: testAccount, KeyID: testKeyID, Secret: testSecret},
		Rotation: fastRotation,
	}
	srv, err := server.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open server: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{t: t, srv: srv, url: srv.URL(), cancel: cancel, done: make(chan error, 1)}
	go func() { ts.done <- srv.Serve(ctx, 5*time.Second) }()
	t.Cleanup(ts.stop)
	return ts
}

// stop shuts the server down; it may be called more than once.
func (s *testServer) stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	if err := <-s.done; err != nil {
		s.t.Errorf("serve: %v", err)
	}
	if err := s.srv.Close(); err != nil {
		s.t.Errorf("close: %v", err)
	}
}

// counter is a RoundTripper that counts requests by action.
type counter struct {
	next http.RoundTripper
	mu   sync.Mutex
	n    map[string]int
}

func newCounter() *counter {
	return &counter{next: http.DefaultTransport.(*http.Transport).Clone(), n: map[string]int{}}
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.n[r.Header.Get("X-TC-Action")]++
	c.mu.Unlock()
	return c.next.RoundTrip(r)
}

// CloseIdleConnections lets Client.CloseIdleConnections reach the transport.
func (c *counter) CloseIdleConnections() {
	c.next.(interface{ CloseIdleConnections() }).CloseIdleConnections()
}

func (c *counter) count(action string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[action]
}

func (c *counter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.n {
		n += v
	}
	return n
}

// fastRetry keeps tests that meet failures quick.
var fastRetry = client.RetryPolicy{BaseDelay: 2 * time.Millisecond, MaxDelay: 10 * time.Millisecond}

// mustClient returns a client of url signed by the root key, sending
// through rt when it is not nil.
func mustClient(t testing.TB, url string, rt http.RoundTripper) *client.Client {
	t.Helper()
	opts := client.Options{
		Endpoint: url, Credentials: client.StaticCredentials(testKeyID, testSecret),
		Retry: fastRetry, Timeout: 5 * time.Second,
	}
	if rt != nil {
		opts.HTTPClient = &http.Client{Transport: rt}
	}
	c, err := client.New(opts)
	if err != nil {
		t.Fatalf("client.New: %v", err)
	}
	// Before the server stops (cleanups run last first): a connection
	// dialled for a call cancelled meanwhile (a cache closing its long
	// polls) sits open and unused, and net/http's Shutdown waits 5 s for
	// such a connection's first request.
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// await polls cond until it holds, failing after waitLimit.
func await(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v", what, waitLimit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// mustCreate creates a text secret.
func mustCreate(t testing.TB, c *client.Client, name, value string) {
	t.Helper()
	if _, err := c.CreateSecret(context.Background(), client.CreateSecretInput{Name: name, Value: client.Text(value)}); err != nil {
		t.Fatalf("CreateSecret %s: %v", name, err)
	}
}

// mustPut adds a version with a text value and returns its id.
func mustPut(t testing.TB, c *client.Client, name, value string) string {
	t.Helper()
	ref, err := c.PutSecretValue(context.Background(), client.PutSecretValueInput{Name: name, Value: client.Text(value)})
	if err != nil {
		t.Fatalf("PutSecretValue %s: %v", name, err)
	}
	return ref.VersionID
}
