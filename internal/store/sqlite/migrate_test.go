package sqlite

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/store"
	"github.com/coffer-secrets/coffer/internal/store/storetest"
)

// v1Rows is data as a Coffer with only migration 0001 wrote it: one secret
// with a tag, a version and a stage. Times are unix milliseconds.
const v1Rows = `
INSERT INTO secrets (id, account, region, name, description, type, key_id, status,
	delete_at, created_at, updated_at, accessed_at, created_by, config, product,
	resource_id, rotation_enabled, rotation_days, rotation_begin, rotation_next,
	rotation_last, rotator, revision)
VALUES ('s1', '1', 'r', 'db', 'old', 1, 'k1', 'Enabled', NULL, 1700000000000,
	1700000001000, NULL, '2', '{}', 'Mysql', 'cdb-1', 1, 30, NULL, 1700000002000,
	NULL, 'hook', 4);
INSERT INTO secret_tags (secret_id, position, key, value) VALUES ('s1', 0, 'env', 'prod');
INSERT INTO versions (secret_id, version_id, seq, is_binary, ciphertext, wrapped_key,
	key_id, key_version, token, created_at)
VALUES ('s1', 'v1', 1, 0, x'00ff', x'01', 'k1', 1, '', 1700000000000);
INSERT INTO version_stages (secret_id, stage, version_id) VALUES ('s1', 'AWSCURRENT', 'v1');
UPDATE counters SET value = 1 WHERE name = 'version_seq';
`

// createV1 makes a database at path holding only migration 0001 and v1Rows.
func createV1(t *testing.T, path string) {
	t.Helper()
	createAt(t, path, 1, v1Rows)
}

// createAt makes a database at path holding the first n migrations and rows.
func createAt(t *testing.T, path string, n int, rows string) {
	t.Helper()
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatalf("loadMigrations: %v", err)
	}
	if err := createPrivate(path); err != nil {
		t.Fatalf("create: %v", err)
	}
	pool, err := openPool(dsn(path, false), 1)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer pool.Close()
	tx, err := pool.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	defer tx.Rollback()
	if err := applyMigrations(t.Context(), tx, ms[:n]); err != nil {
		t.Fatalf("migrations up to %d: %v", n, err)
	}
	if _, err := tx.ExecContext(t.Context(), rows); err != nil {
		t.Fatalf("rows of schema %d: %v", n, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

// TestUpgradeFrom0001 opens a database of schema 0001: Open must migrate it
// in place, keep its data, and give the new fields their empty values.
func TestUpgradeFrom0001(t *testing.T) {
	path := filepath.Join(t.TempDir(), "coffer.db")
	createV1(t, path)
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()

	ms := func(n int64) time.Time { return time.UnixMilli(n).UTC() }
	want := &store.Secret{ID: "s1", Account: "1", Region: "r", Name: "db", Description: "old",
		Type: store.TypeDatabase, KeyID: "k1", Status: store.StatusEnabled,
		CreatedAt: ms(1700000000000), UpdatedAt: ms(1700000001000), CreatedBy: "2",
		Tags: []store.Tag{{Key: "env", Value: "prod"}}, Config: "{}", Product: "Mysql",
		ResourceID: "cdb-1", Rotation: store.Rotation{Enabled: true, Days: 30,
			Next: ms(1700000002000), Rotator: "hook"}, Revision: 4}
	var got *store.Secret
	var version *store.Version
	err = db.View(t.Context(), func(tx store.Tx) error {
		var err error
		if got, err = tx.SecretByID(t.Context(), "s1"); err != nil {
			return err
		}
		version, err = tx.VersionByStage(t.Context(), "s1", "AWSCURRENT")
		return err
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("secret after upgrade:\ngot  %+v\nwant %+v", got, want)
	}
	if version.ID != "v1" || string(version.Ciphertext) != "\x00\xff" {
		t.Errorf("version after upgrade: got %+v", version)
	}
	wantUpgradedSchema(t, db)
	// Migration 0010 indexed the names that were there for search.
	checkSearchIndex(t, db)
	var indexed int
	if err := db.read.QueryRowContext(t.Context(), `SELECT count(*) FROM secret_search WHERE name GLOB 'db'`).
		Scan(&indexed); err != nil || indexed != 1 {
		t.Errorf("secret_search after upgrade: %d rows hold \"db\", %v; want 1", indexed, err)
	}

	// The upgraded row takes the new fields and lists in every order.
	got.Policy, got.Tagged = `{"Version":"2012-10-17"}`, true
	err = db.Update(t.Context(), func(tx store.Tx) error {
		if err := tx.UpdateSecret(t.Context(), got); err != nil {
			return err
		}
		return tx.SetAccessed(t.Context(), "s1", ms(1700000003000))
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	for _, sort := range []store.SortKey{store.SortCreated, store.SortName, store.SortChanged, store.SortAccessed} {
		var page []*store.Secret
		err := db.View(t.Context(), func(tx store.Tx) error {
			var err error
			page, _, err = tx.ListSecrets(t.Context(), store.SecretQuery{Account: "1", Region: "r", SortBy: sort})
			return err
		})
		if err != nil || len(page) != 1 || page[0].Policy != got.Policy || !page[0].Tagged {
			t.Errorf("ListSecrets by %q: got %v, %v, want the updated secret", sort, page, err)
		}
	}
}

// TestUpgradeIndexesAudit opens a database of schema 0010 holding audit
// events: migration 0011 must leave them indexed, with the index mark
// past them, so that look-ups read them through the indexes at once.
func TestUpgradeIndexesAudit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "coffer.db")
	createAt(t, path, 10, `
INSERT INTO audit_events (seq, time, account, principal_id, principal_name, principal_kind,
	session, access_key_id, source_ip, user_agent, region, family, action, read_only,
	resource, version_id, request_id, error_code, params, prev_hash, hash)
VALUES (1, 1700000000000, '1', 'p', 'alice', 'user', '', 'K1', '::1', 'ua', 'r', 'ssm',
	'GetSecretValue', 1, 'db', '', 'req-1', '', '{}', x'00', x'01'),
	(2, 1700000001000, '1', 'p', 'alice', 'user', '', 'K1', '::1', 'ua', 'r', 'ssm',
	'PutSecretValue', 0, 'db', 'v2', 'req-2', '', '{}', x'01', x'02');`)
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()
	var unindexed, mark int64
	if err := db.read.QueryRowContext(t.Context(), `SELECT (SELECT count(*) FROM audit_events WHERE indexed = 0),
		(SELECT seq FROM audit_index_mark)`).Scan(&unindexed, &mark); err != nil {
		t.Fatalf("read the index state: %v", err)
	}
	if unindexed != 0 || mark != 2 {
		t.Errorf("after the upgrade: %d events unindexed, mark %d; want 0 and 2", unindexed, mark)
	}
	var got []*store.Event
	err = db.View(t.Context(), func(tx store.Tx) (err error) {
		got, err = tx.Events(t.Context(), store.EventQuery{Account: "1", Resource: "db", Desc: true})
		return err
	})
	if err != nil || len(got) != 2 || got[0].Seq != 2 || got[1].Seq != 1 {
		t.Errorf("Events after the upgrade: %v, %v; want seqs 2 and 1", storetest.Seqs(got), err)
	}
}

// wantUpgradedSchema checks the database records every migration and holds
// the indexes of migrations 0002 and 0003.
func wantUpgradedSchema(t *testing.T, db *DB) {
	t.Helper()
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatalf("loadMigrations: %v", err)
	}
	var version, indexes int
	err = db.read.QueryRowContext(t.Context(), `SELECT MAX(version) FROM schema_migrations`).Scan(&version)
	if err != nil || version != len(ms) {
		t.Errorf("schema version: got %d, %v, want %d", version, err, len(ms))
	}
	err = db.read.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM sqlite_schema WHERE type = 'index'
		AND name IN ('secrets_created', 'secrets_updated', 'secrets_accessed')`).Scan(&indexes)
	if err != nil || indexes != 3 {
		t.Errorf("listing indexes: got %d, %v, want 3", indexes, err)
	}
	err = db.read.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM sqlite_schema WHERE type = 'index'
		AND tbl_name = 'audit_events' AND name LIKE 'audit_events_%'`).Scan(&indexes)
	if err != nil || indexes != 6 {
		t.Errorf("audit indexes: got %d, %v, want 6", indexes, err)
	}
}
