package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

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

// migrate brings the schema up to date in one transaction, so a failed
// migration leaves the database as it was, and returns the schema the
// tables live in. The transaction holds an advisory lock, so servers that
// start together migrate in turn: the first applies the migrations, the
// others then find nothing to do. It runs at READ COMMITTED whatever the
// server's default, so a server that waited for the lock sees what the one
// before it committed.
func migrate(ctx context.Context, pool *pgxpool.Pool) (string, error) {
	const op = "postgres.Open"
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		return "", fault.Wrap(op, fault.Internal, "invalid embedded migrations", err)
	}
	var schema string
	err = pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		var err error
		if schema, err = lockSchema(ctx, tx); err != nil {
			return err
		}
		return applyMigrations(ctx, tx, schema, ms)
	})
	var fe *fault.Error
	if err == nil || errors.As(err, &fe) {
		return schema, err
	}
	if mapped := dbError(op, err, ""); fault.Is(mapped, fault.Unavailable) {
		return "", mapped
	}
	return "", fault.Wrap(op, fault.Internal, "cannot migrate database", err)
}

// lockSchema returns the schema that new tables go in (the first of the
// search_path that exists) and takes its migration lock.
func lockSchema(ctx context.Context, tx pgx.Tx) (string, error) {
	const op = "postgres.Open"
	var schema *string
	if err := tx.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return "", err
	}
	if schema == nil {
		return "", fault.E(op, fault.Unavailable, "no schema of the search_path exists")
	}
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey("migrate", *schema))
	return *schema, err
}

func applyMigrations(ctx context.Context, tx pgx.Tx, schema string, ms []migration) error {
	const op = "postgres.Open"
	current, err := schemaVersion(ctx, tx, schema)
	if err != nil {
		return err
	}
	latest := len(ms)
	if current > latest {
		err := fmt.Errorf("%w: database is at version %d, this binary knows up to %d",
			ErrSchemaNewer, current, latest)
		return fault.Wrap(op, fault.Unavailable, fmt.Sprintf(
			"database schema version %d is newer than this binary's %d", current, latest), err)
	}
	for _, m := range ms[current:] {
		// No arguments: pgx sends the file by the simple protocol, which
		// runs several statements.
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return fault.Wrap(op, fault.Internal, "cannot migrate database", fmt.Errorf("%s: %w", m.name, err))
		}
		_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
			m.version, m.name, time.Now().UnixMilli())
		if err != nil {
			return err
		}
	}
	return nil
}

// schemaVersion returns the highest applied migration, 0 for a new schema.
// It creates schema_migrations only when absent: CREATE … IF NOT EXISTS
// would need the CREATE privilege even then.
func schemaVersion(ctx context.Context, tx pgx.Tx, schema string) (int, error) {
	var exists bool
	err := tx.QueryRow(ctx, `SELECT to_regclass(format('%I.schema_migrations', $1::text)) IS NOT NULL`,
		schema).Scan(&exists)
	if err != nil {
		return 0, err
	}
	if !exists {
		_, err = tx.Exec(ctx, `CREATE TABLE schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at BIGINT NOT NULL
		)`)
		return 0, err
	}
	var v int
	err = tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}
