package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
)

// The schema's history, one file per version: NNNN_what.sql, applied in
// order. A released file never changes; a change is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations returns the embedded migrations in version order and
// checks they are numbered 1, 2, 3… without gaps.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, name := range names {
		base := path.Base(name)
		prefix, _, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(prefix)
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number", base)
		}
		text, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(text)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: want version %d", m.name, i+1)
		}
	}
	return ms, nil
}

// migrate brings the schema up to date in one transaction: a failed
// migration leaves the database as it was. The write pool begins with
// BEGIN IMMEDIATE, so two processes opening one file migrate in turn.
func migrate(ctx context.Context, db *sql.DB) error {
	const op = "sqlite.Open"
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		return fault.Wrap(op, fault.Internal, "invalid embedded migrations", err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fault.Wrap(op, fault.Unavailable, "cannot open database", err)
	}
	defer tx.Rollback()
	if err := applyMigrations(ctx, tx, ms); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fault.Wrap(op, fault.Unavailable, "cannot migrate database", err)
	}
	return nil
}

func applyMigrations(ctx context.Context, tx *sql.Tx, ms []migration) error {
	const op = "sqlite.Open"
	current, err := schemaVersion(ctx, tx)
	if err != nil {
		return fault.Wrap(op, fault.Unavailable, "cannot read schema version", err)
	}
	latest := len(ms)
	if current > latest {
		err := fmt.Errorf("%w: database is at version %d, this binary knows up to %d",
			ErrSchemaNewer, current, latest)
		return fault.Wrap(op, fault.Unavailable, "database schema is newer than this binary", err)
	}
	for _, m := range ms[current:] {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fault.Wrap(op, fault.Internal, "cannot migrate database", fmt.Errorf("%s: %w", m.name, err))
		}
		_, err := tx.ExecContext(ctx,
			`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.version, m.name, time.Now().UnixMilli())
		if err != nil {
			return fault.Wrap(op, fault.Internal, "cannot migrate database", err)
		}
	}
	return nil
}

// schemaVersion returns the highest applied migration, 0 for a new file.
func schemaVersion(ctx context.Context, tx *sql.Tx) (int, error) {
	_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`)
	if err != nil {
		return 0, err
	}
	var v int
	err = tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}
