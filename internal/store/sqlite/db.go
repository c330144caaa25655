// Package sqlite is Coffer's embedded store: store.Store over one SQLite file
// (modernc.org/sqlite, no cgo). It owns the schema, its migrations and the
// mapping of SQLite errors onto fault kinds; it holds no business rules.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// busyTimeoutMS bounds how long a connection waits for a lock held by another
// process (an offline tool, a second daemon by mistake) before giving up.
const busyTimeoutMS = 10000

// DB is a store.Store over a SQLite database file. Writes go through a pool
// of exactly one connection, so concurrent Update calls queue in database/sql
// instead of failing with SQLITE_BUSY; View uses a separate pool of
// query_only connections, which WAL lets read while the writer writes.
type DB struct {
	write *sql.DB
	read  *sql.DB

	writeStmts, readStmts *stmtCache
}

var _ store.Store = (*DB)(nil)

// Open opens the database file at path, creating it with mode 0600 if
// absent, and migrates its schema to the version this binary knows. It
// returns a fault.Unavailable error when the file cannot be created or
// opened, or was migrated by a newer binary (the error then wraps
// ErrSchemaNewer), and a fault.Internal error when a migration fails.
func Open(ctx context.Context, path string) (*DB, error) {
	const op = "sqlite.Open"
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fault.Wrap(op, fault.Unavailable, "cannot open database", err)
	}
	if err := createPrivate(abs); err != nil {
		return nil, fault.Wrap(op, fault.Unavailable, "cannot create database file", err)
	}
	write, err := openPool(dsn(abs, false), 1)
	if err != nil {
		return nil, fault.Wrap(op, fault.Unavailable, "cannot open database", err)
	}
	if err := migrate(ctx, write); err != nil {
		write.Close()
		return nil, err
	}
	read, err := openPool(dsn(abs, true), max(4, runtime.NumCPU()))
	if err != nil {
		write.Close()
		return nil, fault.Wrap(op, fault.Unavailable, "cannot open database", err)
	}
	return &DB{write: write, read: read, writeStmts: newStmtCache(write), readStmts: newStmtCache(read)}, nil
}

// createPrivate creates the database file with mode 0600 unless it exists.
// SQLite gives its -wal and -shm files the database file's mode, so they
// stay private too, whatever the process umask.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// dsn builds the connection string. Pragmas go in the DSN so that every
// connection database/sql opens, now or after a reconnect, gets them.
// synchronous=FULL: an acknowledged write must survive a power cut or a
// SIGKILL; NORMAL can lose the last commits in WAL mode.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(FULL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		// Take the write lock at BEGIN, so a transaction never fails
		// halfway through on a lock upgrade.
		q.Set("_txlock", "immediate")
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: q.Encode()}
	return u.String()
}

func openPool(dsn string, conns int) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	return db, nil
}

// Close closes both pools. It returns a fault.Internal error if either fails
// to close cleanly.
func (db *DB) Close() error {
	db.readStmts.close()
	db.writeStmts.close()
	errRead := db.read.Close()
	errWrite := db.write.Close()
	if err := errors.Join(errRead, errWrite); err != nil {
		return fault.Wrap("sqlite.Close", fault.Internal, "cannot close database", err)
	}
	return nil
}

// Update runs fn in a write transaction and commits if fn returns nil. It
// rolls back when fn returns an error or panics. It returns fn's error as
// is, or a fault error when the transaction cannot begin or commit.
func (db *DB) Update(ctx context.Context, fn func(store.Tx) error) error {
	return run(ctx, db.write, db.writeStmts, nil, "sqlite.Update", fn)
}

// View runs fn in a read-only transaction over a consistent snapshot. A
// write inside fn fails with a fault.Internal error. It returns fn's error
// as is, or a fault error when the transaction cannot begin.
func (db *DB) View(ctx context.Context, fn func(store.Tx) error) error {
	return run(ctx, db.read, db.readStmts, &sql.TxOptions{ReadOnly: true}, "sqlite.View", fn)
}

func run(ctx context.Context, pool *sql.DB, stmts *stmtCache, opts *sql.TxOptions, op string, fn func(store.Tx) error) error {
	sqlTx, err := pool.BeginTx(ctx, opts)
	if err != nil {
		return dbError(op, err, "")
	}
	done := false
	defer func() {
		if !done {
			_ = sqlTx.Rollback() // also on panic; the panic goes on
		}
	}()
	if err := fn(&tx{tx: &cachedTx{Tx: sqlTx, cache: stmts}}); err != nil {
		return err
	}
	done = true
	if err := sqlTx.Commit(); err != nil {
		return dbError(op, err, "")
	}
	return nil
}
