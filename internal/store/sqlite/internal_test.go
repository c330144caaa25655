package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/coffer-secrets/coffer/internal/store"
)

func TestLoadMigrations(t *testing.T) {
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatalf("embedded migrations: %v", err)
	}
	if len(ms) == 0 || ms[0].version != 1 {
		t.Fatalf("embedded migrations: got %d, want 0001 first", len(ms))
	}
	tests := []struct {
		name  string
		files []string
	}{
		{"gap", []string{"0001_a.sql", "0003_c.sql"}},
		{"no number", []string{"0001_a.sql", "init.sql"}},
		{"not from 1", []string{"0002_b.sql"}},
		{"repeated", []string{"0001_a.sql", "01_a.sql"}},
	}
	for _, tt := range tests {
		fsys := fstest.MapFS{}
		for _, f := range tt.files {
			fsys["migrations/"+f] = &fstest.MapFile{Data: []byte("SELECT 1;")}
		}
		if _, err := loadMigrations(fsys); err == nil {
			t.Errorf("%s: got nil error, want one", tt.name)
		}
	}
}

// TestDSNPragmas checks every pooled connection, not only the first, gets
// the pragmas: they come from the DSN.
func TestDSNPragmas(t *testing.T) {
	db := openTest(t)
	tests := []struct {
		pool   *sql.DB
		pragma string
		want   int
	}{
		{db.write, "synchronous", 2}, // FULL
		{db.write, "foreign_keys", 1},
		{db.write, "busy_timeout", busyTimeoutMS},
		{db.read, "synchronous", 2},
		{db.read, "foreign_keys", 1},
		{db.read, "query_only", 1},
		{db.write, "query_only", 0},
	}
	for _, tt := range tests {
		n := 3 // hold several at once, so the pool opens new ones
		if tt.pool == db.write {
			n = 1 // all it has
		}
		var conns []*sql.Conn
		for range n {
			c, err := tt.pool.Conn(t.Context())
			if err != nil {
				t.Fatalf("Conn: %v", err)
			}
			conns = append(conns, c)
			var got int
			if err := c.QueryRowContext(t.Context(), "PRAGMA "+tt.pragma).Scan(&got); err != nil || got != tt.want {
				t.Errorf("%s: got %d, %v, want %d", tt.pragma, got, err, tt.want)
			}
		}
		for _, c := range conns {
			c.Close()
		}
	}
}

func openTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "coffer.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestUpdateUnsyncedRestoresFull: a commit without a sync leaves the writer
// committing with syncs again, after success and after failure, and its
// write is there (and Sync succeeds) afterwards.
func TestUpdateUnsyncedRestoresFull(t *testing.T) {
	ctx := t.Context()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "coffer.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	failed := errors.New("refused")
	for _, fnErr := range []error{nil, failed} {
		err := db.UpdateUnsynced(ctx, func(tx store.Tx) error {
			if err := tx.SetMeta(ctx, "unsynced", "yes"); err != nil {
				return err
			}
			return fnErr
		})
		if !errors.Is(err, fnErr) {
			t.Fatalf("UpdateUnsynced: %v, want %v", err, fnErr)
		}
		var sync int
		if err := db.write.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
			t.Fatal(err)
		}
		if sync != 2 { // FULL
			t.Fatalf("after UpdateUnsynced (fn error %v): synchronous = %d, want 2 (FULL)", fnErr, sync)
		}
	}
	if err := db.Sync(); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	err = db.View(ctx, func(tx store.Tx) error {
		v, err := tx.Meta(ctx, "unsynced")
		if err == nil && v != "yes" {
			err = fmt.Errorf("meta = %q", v)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
