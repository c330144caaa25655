package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// blockWriter runs an Update that holds the writer until the returned
// function is called, and returns once it holds it.
func blockWriter(t *testing.T, db store.Store) (release func()) {
	t.Helper()
	holding, hold := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- db.Update(context.Background(), func(tx store.Tx) error {
			close(holding)
			<-hold
			return tx.SetMeta(context.Background(), "blocker", "done")
		})
	}()
	<-holding
	return func() {
		close(hold)
		if err := <-done; err != nil {
			t.Errorf("blocking update: %v", err)
		}
	}
}

// TestGroupCommit: calls queued behind a busy writer commit together, and
// each keeps its own outcome: a call that fails or panics is rolled back
// alone, the others' writes are all there.
func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t, filepath.Join(t.TempDir(), "coffer.db"))
	release := blockWriter(t, db)
	const n = 30
	refused := errors.New("refused")
	errs := make([]error, n)
	panics := make([]any, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { panics[i] = recover() }()
			errs[i] = db.Update(ctx, func(tx store.Tx) error {
				if err := tx.SetMeta(ctx, fmt.Sprint("k", i), "v"); err != nil {
					return err
				}
				switch i % 10 {
				case 3:
					return refused
				case 7:
					panic("boom")
				}
				return nil
			})
		}()
	}
	// The calls queue behind the blocked writer; let them in.
	waitQueued(t, db, n)
	release()
	wg.Wait()
	for i := range n {
		var want error
		wantPanic := i%10 == 7
		if i%10 == 3 {
			want = refused
		}
		if !errors.Is(errs[i], want) || (panics[i] != nil) != wantPanic {
			t.Errorf("call %d: err %v, panic %v; want %v, panic %v", i, errs[i], panics[i], want, wantPanic)
		}
		err := db.View(ctx, func(tx store.Tx) error { _, err := tx.Meta(ctx, fmt.Sprint("k", i)); return err })
		stored := err == nil
		if stored != (want == nil && !wantPanic) {
			t.Errorf("call %d: stored %v (%v)", i, stored, err)
		}
	}
	commits, calls := db.WriteStats()
	if calls != n+1 || commits >= calls {
		t.Errorf("WriteStats = %d commits, %d calls: want %d calls in fewer commits", commits, calls, n+1)
	}
}

// waitQueued waits until n calls wait for the writer (QueuedWrites).
func waitQueued(t *testing.T, db interface{ QueuedWrites() int }, n int) {
	t.Helper()
	for db.QueuedWrites() < n {
		runtime.Gosched()
	}
}

// TestGroupCommitCanceledWhileQueued: a call whose context ends while it
// waits for the writer returns Unavailable, and its fn never runs.
func TestGroupCommitCanceledWhileQueued(t *testing.T) {
	db := MustOpen(t, filepath.Join(t.TempDir(), "coffer.db"))
	release := blockWriter(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- db.Update(ctx, func(tx store.Tx) error { ran <- struct{}{}; return nil })
	}()
	waitQueued(t, db, 1)
	cancel()
	err := <-done
	release()
	if fault.KindOf(err) != fault.Unavailable {
		t.Fatalf("canceled call: %v, want Unavailable", err)
	}
	// One more call through the writer: had the canceled fn been taken,
	// it would have run before this one.
	if err := db.Update(context.Background(), func(tx store.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ran:
		t.Fatal("the canceled call's fn ran")
	default:
	}
}
