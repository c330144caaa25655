package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/coffer-secrets/coffer/internal/store"
)

// tx implements store.Tx over one connection inside a transaction that
// DB.run began. Its methods are the unexported verbs of the store; Update
// and View are the boundaries.
type tx struct {
	conn *pgx.Conn
}

var _ store.Tx = (*tx)(nil)

// savepoint returns a batch that opens the savepoint atomic closes.
func savepoint() *pgx.Batch {
	b := &pgx.Batch{}
	b.Queue("SAVEPOINT method")
	return b
}

// atomic sends the statements queued in b (from savepoint) and releases the
// savepoint, all in one round trip, and runs the callbacks queued with
// them. PostgreSQL aborts a whole transaction on a failed statement; the
// savepoint keeps the failure to the method, which leaves the transaction
// as it found it: the caller may handle the error and go on, or commit.
// Every write goes through here, so a write refused in a read-only View
// leaves the View usable too.
func (t *tx) atomic(ctx context.Context, b *pgx.Batch) error {
	b.Queue("RELEASE SAVEPOINT method")
	err := t.conn.SendBatch(ctx, b).Close()
	if err != nil {
		// The rollback must run even when ctx is what failed the batch.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		defer cancel()
		_, _ = t.conn.Exec(ctx, "ROLLBACK TO SAVEPOINT method; RELEASE SAVEPOINT method")
	}
	return err
}

// exec runs one write statement atomically and returns how many rows it
// changed.
func (t *tx) exec(ctx context.Context, sql string, args ...any) (int64, error) {
	var n int64
	b := savepoint()
	b.Queue(sql, args...).Exec(rowsAffected(&n))
	err := t.atomic(ctx, b)
	return n, err
}

// rowsAffected is a batch callback that stores a statement's count in n.
func rowsAffected(n *int64) func(pgconn.CommandTag) error {
	return func(tag pgconn.CommandTag) error {
		*n = tag.RowsAffected()
		return nil
	}
}

// queryAll runs a query and scans every row with scan; nil when no row
// matches.
func queryAll[T any](ctx context.Context, t *tx, scan func(pgx.Row) (T, error), sql string, args ...any) ([]T, error) {
	rows, err := t.conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// millis stores a time as unix milliseconds, the zero time as NULL.
func millis(t time.Time) pgtype.Int8 {
	if t.IsZero() {
		return pgtype.Int8{}
	}
	return pgtype.Int8{Int64: t.UnixMilli(), Valid: true}
}

// timeCol scans unix milliseconds (or NULL, the zero time) into a UTC time.
type timeCol struct{ t *time.Time }

// ScanInt64 implements pgtype.Int64Scanner.
func (c timeCol) ScanInt64(v pgtype.Int8) error {
	*c.t = fromMillis(v)
	return nil
}

func fromMillis(v pgtype.Int8) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}

// blob keeps nil slices, which pgx sends as NULL, out of NOT NULL columns.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// tagArrays splits tags into keys and values, never nil: pgx sends a nil
// slice as NULL, whose cardinality is NULL, not 0.
func tagArrays(tags []store.Tag) (keys, values []string) {
	keys, values = make([]string, 0, len(tags)), make([]string, 0, len(tags))
	for _, tag := range tags {
		keys, values = append(keys, tag.Key), append(values, tag.Value)
	}
	return keys, values
}

// zipTags joins the keys and values a query aggregated; nil when none.
func zipTags(keys, values []string) []store.Tag {
	if len(keys) == 0 {
		return nil
	}
	tags := make([]store.Tag, len(keys))
	for i := range keys {
		tags[i] = store.Tag{Key: keys[i], Value: values[i]}
	}
	return tags
}

// Meta returns the value stored under key; NotFound when unset.
func (t *tx) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := t.conn.QueryRow(ctx, `SELECT value FROM meta WHERE key = $1`, key).Scan(&v)
	if err != nil {
		return "", dbError("postgres.Meta", err, "setting")
	}
	return v, nil
}

// SetMeta stores value under key, replacing any earlier value.
func (t *tx) SetMeta(ctx context.Context, key, value string) error {
	_, err := t.exec(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return dbError("postgres.SetMeta", err, "setting")
}
