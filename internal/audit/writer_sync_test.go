package audit_test

import (
	"context"
	"errors"
	"testing"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store/sqlite"
)

// gatedSync is the embedded store whose Sync waits for the test and may fail.
type gatedSync struct {
	*sqlite.DB
	entered chan struct{}
	release chan error
}

func (g *gatedSync) Sync() error {
	g.entered <- struct{}{}
	if err := <-g.release; err != nil {
		return err
	}
	return g.DB.Sync()
}

// TestWriterAnswersAfterSync: over a store that syncs apart from committing,
// Record returns only after a sync that began after its commit, and fails
// (Unavailable) when that sync fails.
func TestWriterAnswersAfterSync(t *testing.T) {
	f := mustChain(t)
	g := &gatedSync{DB: f.st.(*sqlite.DB), entered: make(chan struct{}), release: make(chan error)}
	w := &audit.Writer{Log: &audit.Log{Store: g, Clock: f.clock.Now}}
	defer func() {
		go func() { // Close drains: let any last sync through
			for range g.entered {
				g.release <- nil
			}
		}()
		w.Close()
		close(g.entered)
	}()

	for _, syncErr := range []error{nil, errors.New("disk gone")} {
		done := make(chan error, 1)
		go func() { done <- w.Record(context.Background(), f.event()) }()
		<-g.entered // committed, now syncing
		select {
		case err := <-done:
			t.Fatalf("Record returned (%v) while its sync was still running", err)
		default:
		}
		g.release <- syncErr
		err := <-done
		switch {
		case syncErr == nil && err != nil:
			t.Fatalf("Record: %v", err)
		case syncErr != nil && fault.KindOf(err) != fault.Unavailable:
			t.Fatalf("Record with a failed sync: %v, want Unavailable", err)
		}
	}
}
