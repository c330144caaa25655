package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/snapshot/snapshottest"
	"github.com/coffer-secrets/coffer/internal/store"
	"github.com/coffer-secrets/coffer/internal/store/postgres"
)

func TestSnapshotter(t *testing.T) {
	database(t) // skip, or fail, once rather than in every case
	snapshottest.Run(t, func(t *testing.T) store.Store {
		return emptyStore(t)
	})
}

// TestSnapshotRefusesDrift stands in for a migration that adds a column
// without adding it to store.SnapshotTables: Dump and Load refuse to run
// rather than leave the column out of snapshots. A generated column is no
// drift: it derives from the others.
func TestSnapshotRefusesDrift(t *testing.T) {
	dsn := freshSchema(t)
	db := MustOpen(t, dsn)
	schema := dsnSchema(dsn)
	_, err := database(t).Exec(t.Context(), `ALTER TABLE `+schema+`.secrets
		ADD COLUMN shout TEXT GENERATED ALWAYS AS (upper(name)) STORED`)
	if err != nil {
		t.Fatal(err)
	}
	snapshottest.DumpAll(t, db)
	_, err = database(t).Exec(t.Context(), `ALTER TABLE `+schema+`.secrets ADD COLUMN colour TEXT NOT NULL DEFAULT ''`)
	if err != nil {
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

var _ store.Snapshotter = (*postgres.DB)(nil)
