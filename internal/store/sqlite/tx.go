package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/coffer-secrets/coffer/internal/store"
)

// tx implements store.Tx over one database/sql transaction. Its methods are
// the unexported verbs of the store; Update and View are the boundaries.
type tx struct {
	tx *cachedTx
	ch *changes // what a write transaction changed; nil in a read
}

// changes collects a write transaction's store.Changes. Methods note what
// they touch before they run, so a method that fails notes too much at
// worst, never too little.
type changes struct {
	store.Changes
	seen   map[string]bool
	authz  map[string]bool
	events bool // audit events were stored, for the indexer
}

func (c *changes) any() bool { return len(c.Secrets) > 0 || c.Keys || c.Listed }

// touch notes that the secret with this id changed, in more than its
// versions (store.Changes.Authz).
func (t *tx) touch(id string) {
	if t.ch != nil {
		noteOnce(&t.ch.seen, &t.ch.Secrets, id)
		noteOnce(&t.ch.authz, &t.ch.Authz, id)
	}
}

// touchVersions notes that the secret with this id changed in its
// versions, stage labels or times only.
func (t *tx) touchVersions(id string) {
	if t.ch != nil {
		noteOnce(&t.ch.seen, &t.ch.Secrets, id)
	}
}

// noteOnce appends id to list the first time seen meets it.
func noteOnce(seen *map[string]bool, list *[]string, id string) {
	if (*seen)[id] {
		return
	}
	if *seen == nil {
		*seen = map[string]bool{}
	}
	(*seen)[id] = true
	*list = append(*list, id)
}

// touchListed notes that what listings hold changed (store.Changes.Listed).
func (t *tx) touchListed() {
	if t.ch != nil {
		t.ch.Listed = true
	}
}

// touchKeys notes that a key changed.
func (t *tx) touchKeys() {
	if t.ch != nil {
		t.ch.Keys = true
	}
}

var _ store.Tx = (*tx)(nil)

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// atomic runs fn inside a savepoint, so a method that fails after some of
// its statements ran leaves the transaction as it found it: the caller may
// handle the error and go on, or commit.
func (t *tx) atomic(ctx context.Context, fn func() error) error {
	if _, err := t.tx.ExecContext(ctx, "SAVEPOINT method"); err != nil {
		return err
	}
	if err := fn(); err != nil {
		// The rollback must run even when ctx is what failed fn.
		ctx := context.WithoutCancel(ctx)
		_, _ = t.tx.ExecContext(ctx, "ROLLBACK TO method")
		_, _ = t.tx.ExecContext(ctx, "RELEASE method")
		return err
	}
	_, err := t.tx.ExecContext(ctx, "RELEASE method")
	return err
}

// affected returns how many rows an Exec changed, or err.
func affected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// millis stores a time as unix milliseconds, the zero time as NULL.
func millis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// timeCol scans unix milliseconds (or NULL, the zero time) into a UTC time.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*c.t = time.Time{}
	case int64:
		*c.t = time.UnixMilli(v).UTC()
	default:
		return fmt.Errorf("time column holds %T", v)
	}
	return nil
}

// blob keeps nil slices out of NOT NULL blob columns.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// placeholders returns "?, ?, …" with n marks.
func placeholders(n int) string {
	if n == 0 {
		return ""
	}
	b := make([]byte, 0, 3*n)
	for i := range n {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, '?')
	}
	return string(b)
}

// Meta returns the value stored under key; NotFound when unset.
func (t *tx) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := t.tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if err != nil {
		return "", dbError("sqlite.Meta", err, "setting")
	}
	return v, nil
}

// SetMeta stores value under key, replacing any earlier value.
func (t *tx) SetMeta(ctx context.Context, key, value string) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return dbError("sqlite.SetMeta", err, "setting")
}
