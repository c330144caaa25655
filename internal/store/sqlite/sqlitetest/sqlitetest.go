// Package sqlitetest gives tests new embedded stores quickly. A new store
// runs every migration, which under the race detector costs about 0.4 s
// (SQLite, compiled from C to Go, is instrumented too); tests that want
// hundreds of new stores get a copy of one migrated once per test binary
// instead, about 30 ms. A copy is the file a migration makes: the
// migrations write no random or per-database value.
package sqlitetest

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/coffer-secrets/coffer/internal/store/sqlite"
)

var template struct {
	once sync.Once
	data []byte
	err  error
}

// migrated returns the bytes of a database that holds every migration
// and nothing else.
func migrated() ([]byte, error) {
	template.once.Do(func() {
		dir, err := os.MkdirTemp("", "coffer-sqlitetest-")
		if err != nil {
			template.err = err
			return
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "coffer.db")
		db, err := sqlite.Open(context.Background(), path)
		if err != nil {
			template.err = err
			return
		}
		// Close checkpoints the log into the file and removes it.
		if err := db.Close(); err != nil {
			template.err = err
			return
		}
		if st, err := os.Stat(path + "-wal"); err == nil && st.Size() > 0 {
			template.err = errors.New("the log was not checkpointed into the file at Close")
			return
		}
		template.data, template.err = os.ReadFile(path)
	})
	return template.data, template.err
}

// Seed puts a new, migrated database at dir/coffer.db (where a server
// with DataDir dir opens its store) unless one is there already.
func Seed(tb testing.TB, dir string) {
	tb.Helper()
	path := filepath.Join(dir, "coffer.db")
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return
	}
	data, err := migrated()
	if err != nil {
		tb.Fatalf("sqlitetest: migrate the template: %v", err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		tb.Fatalf("sqlitetest: %v", err)
	}
}

// Open opens a new, migrated database in a directory of its own, and
// closes it when the test ends.
func Open(tb testing.TB) *sqlite.DB {
	tb.Helper()
	dir := tb.TempDir()
	Seed(tb, dir)
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "coffer.db"))
	if err != nil {
		tb.Fatalf("sqlitetest: Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}
