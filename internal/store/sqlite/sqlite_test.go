package sqlite_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
	"github.com/coffer-secrets/coffer/internal/store/sqlite"
	"github.com/coffer-secrets/coffer/internal/store/sqlite/sqlitetest"
	"github.com/coffer-secrets/coffer/internal/store/storetest"
)

// MustOpen opens a database at path and closes it when the test ends.
func MustOpen(tb testing.TB, path string) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return sqlitetest.Open(t) })
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "coffer.db")
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	err = db.Update(t.Context(), func(tx store.Tx) error { return tx.SetMeta(t.Context(), "k", "v") })
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// Reopening runs the migrations again: they must find nothing to do.
	for range 2 {
		db := MustOpen(t, path)
		var got string
		err := db.View(t.Context(), func(tx store.Tx) error {
			var err error
			got, err = tx.Meta(t.Context(), "k")
			return err
		})
		if err != nil || got != "v" {
			t.Fatalf("Meta after reopen: got %q, %v, want %q", got, err, "v")
		}
		db.Close()
	}
}

func TestRefuseNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "coffer.db")
	db := MustOpen(t, path)
	// Stand in for a newer binary: record a migration this one lacks.
	raw := openRaw(t, path)
	if _, err := raw.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '0999_future.sql', 0)`); err != nil {
		t.Fatalf("insert: %v", err)
	}
	raw.Close()
	db.Close()

	_, err := sqlite.Open(t.Context(), path)
	if !errors.Is(err, sqlite.ErrSchemaNewer) {
		t.Fatalf("Open: got %v, want ErrSchemaNewer", err)
	}
	if got, want := fault.KindOf(err), fault.Unavailable; got != want {
		t.Errorf("kind: got %v, want %v", got, want)
	}
}

func TestFileModes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "coffer.db")
	db := MustOpen(t, path)
	// A write creates the -wal file (the -shm exists from the first read).
	err := db.Update(t.Context(), func(tx store.Tx) error { return tx.SetMeta(t.Context(), "k", "v") })
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatalf("Stat: %v", err)
		}
		if got, want := fi.Mode().Perm(), os.FileMode(0o600); got != want {
			t.Errorf("%s: got mode %v, want %v", filepath.Base(name), got, want)
		}
	}
}

func TestPragmas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "coffer.db")
	MustOpen(t, path)
	raw := openRaw(t, path)
	defer raw.Close()
	var mode string
	if err := raw.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode: got %q, %v, want wal", mode, err)
	}
}

// TestConcurrentUpdatesNeverBusy checks the single-writer design: Update
// calls queue for the writer, so none fails with a busy or conflict error
// even without the retries the conformance suite allows.
func TestConcurrentUpdatesNeverBusy(t *testing.T) {
	db := MustOpen(t, filepath.Join(t.TempDir(), "coffer.db"))
	const writers, rounds = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Go(func() {
			for range rounds {
				if err := db.Update(t.Context(), incrementMeta); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Update: %v", err)
	}
	var got string
	err := db.View(t.Context(), func(tx store.Tx) error {
		var err error
		got, err = tx.Meta(t.Context(), "n")
		return err
	})
	if want := strconv.Itoa(writers * rounds); err != nil || got != want {
		t.Fatalf("counter: got %q, %v, want %s", got, err, want)
	}
}

// incrementMeta reads, then writes, the counter under meta key "n".
func incrementMeta(tx store.Tx) error {
	ctx := context.Background()
	v, err := tx.Meta(ctx, "n")
	if fault.Is(err, fault.NotFound) {
		v, err = "0", nil
	}
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return err
	}
	return tx.SetMeta(ctx, "n", strconv.Itoa(n+1))
}

// TestOddPath checks that the path reaches SQLite intact through the URI.
func TestOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dir with space")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "a b?c#d%20e&f=g.db")
	db := MustOpen(t, path)
	err := db.Update(t.Context(), func(tx store.Tx) error { return tx.SetMeta(t.Context(), "k", "v") })
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("Stat: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if name := e.Name(); name != filepath.Base(path) && name != filepath.Base(path)+"-wal" && name != filepath.Base(path)+"-shm" {
			t.Errorf("stray file %q", name)
		}
	}
}

// TestListUnknownSort checks that a sort key the store does not know is
// refused, not read as the default order.
func TestListUnknownSort(t *testing.T) {
	db := MustOpen(t, filepath.Join(t.TempDir(), "coffer.db"))
	err := db.View(t.Context(), func(tx store.Tx) error {
		_, _, err := tx.ListSecrets(t.Context(), store.SecretQuery{Account: "1", Region: "r", SortBy: "size"})
		return err
	})
	if got, want := fault.KindOf(err), fault.Invalid; err == nil || got != want {
		t.Fatalf("ListSecrets: got %v (%v), want kind %v", err, got, want)
	}
}
