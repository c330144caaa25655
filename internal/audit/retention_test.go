package audit_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/audit"
)

func mustPrune(tb testing.TB, f *chainFixture, keep time.Duration, want int) {
	tb.Helper()
	got, err := (&audit.Retention{Log: f.log, Keys: f.keys, Keep: keep, Clock: f.clock.Now}).PruneNow(context.Background())
	if err != nil {
		tb.Fatalf("PruneNow: %v", err)
	}
	if got != want {
		tb.Fatalf("PruneNow removed %d events, want %d", got, want)
	}
}

func TestRetentionKeepsTheRestVerifiable(t *testing.T) {
	f := mustChain(t)
	f.mustBuild(t) // events 1..20 at minutes 1..20, checkpoints at 5, 12, 20
	tests := []struct {
		at      time.Duration // the clock, after chainT0
		removed int
		first   int64
	}{
		{at: time.Hour, removed: 0, first: 1},
		{at: time.Hour + 3*time.Minute, removed: 2, first: 3},
		{at: time.Hour + 3*time.Minute, removed: 0, first: 3},
		{at: time.Hour + 12*time.Minute + time.Second, removed: 10, first: 13},
		{at: time.Hour + 20*time.Minute, removed: 7, first: 20},
	}
	for _, tt := range tests {
		f.clock.Set(chainT0.Add(tt.at))
		mustPrune(t, f, time.Hour, tt.removed)
		wantIntact(t, mustVerify(t, audit.StoreSource(f.st), f), int(20-tt.first+1), tt.first, 20)
		if tt.first > 1 {
			cps := mustCheckpoints(t, f)
			if !hasCheckpoint(cps, tt.first-1) {
				t.Fatalf("no checkpoint at %d after pruning", tt.first-1)
			}
		}
	}
	// And the chain goes on from there.
	f.mustAppend(t, 3)
	wantIntact(t, mustVerify(t, audit.StoreSource(f.st), f), 4, 20, 23)
}

func hasCheckpoint(cps []*audit.Checkpoint, seq int64) bool {
	for _, c := range cps {
		if c.Seq == seq {
			return true
		}
	}
	return false
}

func TestRetentionRemovesEverything(t *testing.T) {
	f := mustChain(t)
	f.mustAppend(t, 6)
	f.clock.Set(chainT0.Add(48 * time.Hour))
	mustPrune(t, f, time.Hour, 6)
	wantIntact(t, mustVerify(t, audit.StoreSource(f.st), f), 0, 0, 0)
	f.mustAppend(t, 2)
	wantIntact(t, mustVerify(t, audit.StoreSource(f.st), f), 2, 7, 8)
}

func TestRetentionReusesACheckpoint(t *testing.T) {
	f := mustChain(t)
	f.mustAppend(t, 5)
	cp := f.mustCheckpoint(t)
	f.mustAppend(t, 5)
	f.clock.Set(chainT0.Add(time.Hour + 5*time.Minute + time.Second))
	mustPrune(t, f, time.Hour, 5)
	cps := mustCheckpoints(t, f)
	if len(cps) != 1 || !bytes.Equal(cps[0].Signature, cp.Signature) {
		t.Fatalf("got %d checkpoints, want the one at 5 only", len(cps))
	}
	wantIntact(t, mustVerify(t, audit.StoreSource(f.st), f), 5, 6, 10)
}

func TestRetentionRefusesABrokenChain(t *testing.T) {
	f := mustChain(t)
	f.mustAppend(t, 10)
	f.mustExec(t, `UPDATE audit_events SET resource = 'forged' WHERE seq = 3`)
	f.clock.Set(chainT0.Add(48 * time.Hour))
	n, err := (&audit.Retention{Log: f.log, Keys: f.keys, Keep: time.Hour, Clock: f.clock.Now}).PruneNow(context.Background())
	if !errors.Is(err, audit.ErrChainBroken) || n != 0 {
		t.Fatalf("got %d, %v; want 0 and ErrChainBroken", n, err)
	}
	wantProblem(t, mustVerify(t, audit.StoreSource(f.st), f), audit.Altered, 3, 0)
	if cps := mustCheckpoints(t, f); len(cps) != 0 {
		t.Fatalf("got %d checkpoints, want none signed over a forgery", len(cps))
	}
}

func TestRetentionOff(t *testing.T) {
	f := mustChain(t)
	f.mustAppend(t, 3)
	f.clock.Set(chainT0.Add(48 * time.Hour))
	mustPrune(t, f, 0, 0)
	(&audit.Retention{Log: f.log, Keys: f.keys}).Run(context.Background()) // returns at once
	wantIntact(t, mustVerify(t, audit.StoreSource(f.st), f), 3, 1, 3)
}

func TestRetentionRun(t *testing.T) {
	f := mustChain(t)
	f.mustAppend(t, 8)
	f.clock.Set(chainT0.Add(time.Hour + 4*time.Minute + time.Second))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		(&audit.Retention{Log: f.log, Keys: f.keys, Keep: time.Hour, Interval: 5 * time.Millisecond, Clock: f.clock.Now}).Run(ctx)
	}()
	waitFor(t, func() bool { return hasCheckpoint(mustCheckpoints(t, f), 4) })
	f.clock.Set(chainT0.Add(time.Hour + 6*time.Minute + time.Second))
	waitFor(t, func() bool { return hasCheckpoint(mustCheckpoints(t, f), 6) })
	cancel()
	<-done
	wantIntact(t, mustVerify(t, audit.StoreSource(f.st), f), 2, 7, 8)
}
