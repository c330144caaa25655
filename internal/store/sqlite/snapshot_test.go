package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/snapshot/snapshottest"
	"github.com/coffer-secrets/coffer/internal/store"
	"github.com/coffer-secrets/coffer/internal/store/sqlite"
)

func TestSnapshotter(t *testing.T) {
	snapshottest.Run(t, func(t *testing.T) store.Store {
		return MustOpen(t, filepath.Join(t.TempDir(), "coffer.db"))
	})
}

// TestSnapshotRefusesDrift stands in for a migration that adds a column
// without adding it to store.SnapshotTables: Dump and Load refuse to run
// rather than leave the column out of snapshots.
func TestSnapshotRefusesDrift(t *testing.T) {
	path := filepath.Join(t.TempDir(), "coffer.db")
	db := MustOpen(t, path)
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`ALTER TABLE secrets ADD COLUMN colour TEXT NOT NULL DEFAULT ''`); err != nil {
		t.Fatal(err)
	}
	var snap store.Snapshotter = db
	err = snap.Dump(context.Background(), func(map[string]int64) error { return nil }, func(store.Row) error { return nil })
	if got, want := fault.KindOf(err), fault.Internal; err == nil || got != want || !strings.Contains(err.Error(), "secrets.colour") {
		t.Fatalf("Dump: got %v (%v), want kind %v naming secrets.colour", err, got, want)
	}
	err = snapshottest.Load(db, nil)
	if got, want := fault.KindOf(err), fault.Internal; err == nil || got != want {
		t.Fatalf("Load: got %v (%v), want kind %v", err, got, want)
	}
}

var _ store.Snapshotter = (*sqlite.DB)(nil)
