package cluster_test

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/cluster"
	"github.com/coffer-secrets/coffer/internal/store/sqlite"
)

// TestLeaderRunsJobsOnOneServerAtATime: three servers campaign for one
// lease; the job never runs on two at once, and when the leader stops,
// another takes over.
func TestLeaderRunsJobsOnOneServerAtATime(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var running, maxRunning, runs atomic.Int64
	job := func(ctx context.Context) {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			if m := maxRunning.Load(); n <= m || maxRunning.CompareAndSwap(m, n) {
				break
			}
		}
		runs.Add(1)
		<-ctx.Done()
	}
	var mu sync.Mutex
	leading := map[int]bool{}
	cancels := make([]context.CancelFunc, 3)
	var wg sync.WaitGroup
	for i := range 3 {
		ctx, cancel := context.WithCancel(context.Background())
		cancels[i] = cancel
		l := &cluster.Leader{
			Lease: cluster.Lease{Store: st, Name: "jobs", Holder: cluster.NewHolderID(), TTL: 300 * time.Millisecond},
			Jobs:  []func(context.Context){job},
			OnChange: func(on bool) {
				mu.Lock()
				leading[i] = on
				mu.Unlock()
			},
		}
		wg.Add(1)
		go func() { defer wg.Done(); l.Run(ctx) }()
	}
	defer func() {
		for _, c := range cancels {
			c()
		}
		wg.Wait()
	}()
	leader := func() int {
		mu.Lock()
		defer mu.Unlock()
		at := -1
		for i, on := range leading {
			if on {
				at = i
			}
		}
		return at
	}
	waitFor := func(what string, cond func() bool) {
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 5 s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor("a leader", func() bool { return leader() >= 0 })
	first := leader()
	cancels[first]() // the leader stops (releasing its lease)
	waitFor("another leader", func() bool { l := leader(); return l >= 0 && l != first })
	second := leader()
	// And the second: the third takes over.
	cancels[second]()
	waitFor("the last leader", func() bool { l := leader(); return l >= 0 && l != first && l != second })
	// A leader is told it leads before its jobs start: wait for the third
	// run rather than read the count at once.
	waitFor("the third leader's job", func() bool { return runs.Load() >= 3 })
	if m := maxRunning.Load(); m != 1 {
		t.Fatalf("the job ran on %d servers at once", m)
	}
	if runs.Load() != 3 {
		t.Fatalf("the job started %d times, want 3 (one per leader)", runs.Load())
	}
}

func TestLeaseExclusive(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	a := &cluster.Lease{Store: st, Name: "x", Holder: "a", TTL: time.Minute, Clock: clock}
	b := &cluster.Lease{Store: st, Name: "x", Holder: "b", TTL: time.Minute, Clock: clock}
	for _, c := range []struct {
		l    *cluster.Lease
		want bool
		at   time.Duration
	}{{a, true, 0}, {b, false, 0}, {a, true, 30 * time.Second}, {b, false, 89 * time.Second}, {b, true, 91 * time.Second}, {a, false, 92 * time.Second}} {
		now = time.Unix(1000, 0).Add(c.at)
		got, err := c.l.Acquire(t.Context())
		if err != nil || got != c.want {
			t.Fatalf("%s at %v: %v %v, want %v", c.l.Holder, c.at, got, err, c.want)
		}
	}
	if err := b.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.Acquire(t.Context()); !got {
		t.Fatal("a released lease is not free")
	}
}
