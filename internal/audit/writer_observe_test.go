package audit_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/audit"
)

// TestWriterObserve: every group commit is reported once, with its events.
func TestWriterObserve(t *testing.T) {
	f := mustChain(t)
	var mu sync.Mutex
	var events, commits int
	w := &audit.Writer{Log: f.log, Observe: func(n int, d time.Duration, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil || d < 0 {
			t.Errorf("Observe(%d, %v, %v)", n, d, err)
		}
		events += n
		commits++
	}}
	defer w.Close()
	for range 5 {
		if err := w.Record(context.Background(), f.event()); err != nil {
			t.Fatal(err)
		}
	}
	if got := w.Queued(); got != 0 {
		t.Errorf("Queued = %d after every Record returned, want 0", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if events != 5 || commits < 1 || commits > 5 {
		t.Errorf("observed %d events in %d commits, want 5 in 1 to 5", events, commits)
	}
}
