package server_test

import (
	"context"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/iam"
	"github.com/coffer-secrets/coffer/internal/server"
)

// TestShutdownLeavesNoGoroutines starts and stops a server a few times,
// serving a request each time, and checks the goroutine count returns to
// where it started.
func TestShutdownLeavesNoGoroutines(t *testing.T) {
	baseline := runtime.NumGoroutine()
	for range 3 {
		runOnce(t)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("got %d goroutines after shutdown, want at most %d:\n%s", runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func runOnce(t *testing.T) {
	t.Helper()
	srv, err := server.Open(context.Background(), server.Config{
		Listen: "127.0.0.1:0", DataDir: t.TempDir(), Dev: true, MetricsListen: "127.0.0.1:0",
		Root:   iam.RootInput{AccountID: testAccount, KeyID: testKeyID, Secret: testSecret},
		Limits: server.Limits{Account: 100, Unauthenticated: 10, MaxConnections: 8},
	})
	if err != nil {
		t.Fatalf("open server: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, 5*time.Second) }()
	tr := &http.Transport{}
	c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	for _, u := range []string{srv.URL() + "/healthz", srv.MetricsURL()} {
		resp, err := c.Get(u)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		resp.Body.Close()
	}
	tr.CloseIdleConnections()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}
