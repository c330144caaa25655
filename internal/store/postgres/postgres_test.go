package postgres_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
	"github.com/coffer-secrets/coffer/internal/store/postgres"
	"github.com/coffer-secrets/coffer/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	database(t) // skip, or fail, once rather than in every case
	storetest.Run(t, func(t *testing.T) store.Store {
		return emptyStore(t)
	})
}

func TestReopenKeepsData(t *testing.T) {
	dsn := freshSchema(t)
	db := MustOpen(t, dsn)
	err := db.Update(t.Context(), func(tx store.Tx) error { return tx.SetMeta(t.Context(), "k", "v") })
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	db.Close()

	// Reopening runs the migrations again: they must find nothing to do.
	for range 2 {
		db := MustOpen(t, dsn)
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
	wantMigrations(t, dsn)
}

// wantMigrations checks the schema of dsn records each migration once.
func wantMigrations(t *testing.T, dsn string) {
	t.Helper()
	var n, distinct, latest int
	schema := dsnSchema(dsn)
	err := database(t).QueryRow(t.Context(), `SELECT count(*), count(DISTINCT version), max(version)
		FROM `+schema+`.schema_migrations`).Scan(&n, &distinct, &latest)
	if err != nil {
		t.Fatalf("schema_migrations: %v", err)
	}
	if n != distinct || n != latest || n == 0 {
		t.Errorf("schema_migrations: got %d rows, %d versions, latest %d; want each version once", n, distinct, latest)
	}
}

// TestOpenRace opens one empty schema from several goroutines at once, as
// servers starting together do: every Open succeeds and the migrations are
// applied once.
func TestOpenRace(t *testing.T) {
	dsn := freshSchema(t)
	const servers = 4
	var wg sync.WaitGroup
	errs := make(chan error, servers)
	for range servers {
		wg.Go(func() {
			db, err := postgres.Open(t.Context(), dsn, postgres.Options{MaxConns: 2})
			if err != nil {
				errs <- err
				return
			}
			errs <- db.Update(t.Context(), func(tx store.Tx) error { return tx.SetMeta(t.Context(), "k", "v") })
			db.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Open: %v", err)
		}
	}
	wantMigrations(t, dsn)
}

func TestRefuseNewerSchema(t *testing.T) {
	dsn := freshSchema(t)
	MustOpen(t, dsn).Close()
	var known int
	err := database(t).QueryRow(t.Context(), `SELECT max(version) FROM `+dsnSchema(dsn)+`.schema_migrations`).Scan(&known)
	if err != nil {
		t.Fatalf("schema version: %v", err)
	}
	// Stand in for a newer binary: record a migration this one lacks.
	_, err = database(t).Exec(t.Context(), `INSERT INTO `+dsnSchema(dsn)+`.schema_migrations
		(version, name, applied_at) VALUES (999, '0999_future.sql', 0)`)
	if err != nil {
		t.Fatalf("insert: %v", err)
	}
	_, err = postgres.Open(t.Context(), dsn, postgres.Options{})
	if !errors.Is(err, postgres.ErrSchemaNewer) {
		t.Fatalf("Open: got %v, want ErrSchemaNewer", err)
	}
	if got, want := fault.KindOf(err), fault.Unavailable; got != want {
		t.Errorf("kind: got %v, want %v", got, want)
	}
	// The message names both versions, so an operator knows which binary
	// the database needs.
	if msg := fault.Message(err); !strings.Contains(msg, "999") || !strings.Contains(msg, strconv.Itoa(known)) {
		t.Errorf("message: got %q, want both versions", msg)
	}
}

func TestOpenFailures(t *testing.T) {
	database(t) // skip with the others when there is no PostgreSQL
	tests := []struct {
		name string
		dsn  string
		want fault.Kind
	}{
		{"unparsable", "postgres://[::1", fault.Invalid},
		{"nobody listens", "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=5", fault.Unavailable},
		{"no such database", withParams(adminDSN(), map[string]string{"dbname": "coffer_missing_" + randomHex(4)}),
			fault.Unavailable},
		{"no such schema", withParams(adminDSN(), map[string]string{"dbname": testDatabase.name,
			"search_path": "missing_" + randomHex(4)}), fault.Unavailable},
	}
	for _, tt := range tests {
		_, err := postgres.Open(t.Context(), tt.dsn, postgres.Options{})
		if got := fault.KindOf(err); err == nil || got != tt.want {
			t.Errorf("%s: got %v (%v), want kind %v", tt.name, err, got, tt.want)
		}
	}
}

// TestConnectionDropped kills the server process of a transaction midway:
// the next call reports Unavailable, and the store recovers on its own.
func TestConnectionDropped(t *testing.T) {
	app := "coffer_victim_" + randomHex(4)
	db := MustOpen(t, withParams(freshSchema(t), map[string]string{"application_name": app}))
	err := db.Update(t.Context(), func(tx store.Tx) error {
		if err := tx.SetMeta(t.Context(), "k", "v"); err != nil {
			return err
		}
		var killed int
		err := database(t).QueryRow(t.Context(), `SELECT count(pg_terminate_backend(pid))
			FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&killed)
		if err != nil || killed != 1 {
			t.Fatalf("pg_terminate_backend: got %d, %v, want 1 backend", killed, err)
		}
		_, err = tx.Meta(t.Context(), "k")
		return err
	})
	if got, want := fault.KindOf(err), fault.Unavailable; err == nil || got != want {
		t.Fatalf("Update after the kill: got %v (%v), want kind %v", err, got, want)
	}
	err = db.Update(t.Context(), func(tx store.Tx) error { return tx.SetMeta(t.Context(), "k", "again") })
	if err != nil {
		t.Fatalf("Update on a new connection: %v", err)
	}
}

// TestUpdatesQueue checks the write lock: concurrent read-modify-write
// transactions with no revision check of their own, from two stores on one
// schema as from two servers, lose no update and see no conflict, as they
// would on SQLite's single writer.
func TestUpdatesQueue(t *testing.T) {
	dsn := freshSchema(t)
	servers := []*postgres.DB{MustOpen(t, dsn), MustOpen(t, dsn)}
	db := servers[0]
	const writers, rounds = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		db := servers[w%len(servers)]
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

// TestUnstorableText checks that text PostgreSQL refuses (a NUL byte) is
// Invalid, not a store failure, and leaves the transaction usable.
func TestUnstorableText(t *testing.T) {
	db := emptyStore(t)
	err := db.Update(t.Context(), func(tx store.Tx) error {
		err := tx.SetMeta(t.Context(), "k", "a\x00b")
		if got, want := fault.KindOf(err), fault.Invalid; err == nil || got != want {
			t.Errorf("SetMeta: got %v (%v), want kind %v", err, got, want)
		}
		return tx.SetMeta(t.Context(), "k", "ok")
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func TestListUnknownSort(t *testing.T) {
	db := emptyStore(t)
	err := db.View(t.Context(), func(tx store.Tx) error {
		_, _, err := tx.ListSecrets(t.Context(), store.SecretQuery{Account: "1", Region: "r", SortBy: "size"})
		return err
	})
	if got, want := fault.KindOf(err), fault.Invalid; err == nil || got != want {
		t.Fatalf("ListSecrets: got %v (%v), want kind %v", err, got, want)
	}
}
