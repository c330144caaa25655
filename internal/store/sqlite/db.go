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
	"sync"
	"sync/atomic"
	"time"

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
	// readSlots admits read transactions first come, first served, one per
	// connection of the read pool: database/sql hands a freed connection
	// to a random waiter, which under load starved some readers for
	// hundreds of milliseconds while others went through.
	readSlots chan struct{}
	ckpt      *sql.DB // one connection that copies the log into the database file

	stop, stopped chan struct{} // the checkpointer's; stop also stops the writer and the indexer
	auditNew      chan struct{} // a write stored audit events: wakes the indexer
	indexerDone   chan struct{}

	writes         chan *writeReq // Update calls for the writer (writer.go)
	writerDone     chan struct{}
	commits, calls atomic.Int64 // WriteStats
	queued         atomic.Int64 // QueuedWrites

	writeStmts, readStmts *stmtCache

	closeOnce sync.Once
	walPath   string
	walMu     sync.Mutex
	wal       *os.File // the write-ahead log, opened by the first Sync

	mu       sync.Mutex
	onChange []func(store.Changes)
}

// OnChange registers f to be told what each write transaction changed
// (store.ChangeNotifier).
func (db *DB) OnChange(f func(store.Changes)) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.onChange = append(db.onChange, f)
}

var _ store.ChangeNotifier = (*DB)(nil)

var (
	_ store.Store      = (*DB)(nil)
	_ store.Revisioner = (*DB)(nil)
)

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
	readers := max(4, runtime.NumCPU())
	read, err := openPool(dsn(abs, true), readers)
	if err != nil {
		write.Close()
		return nil, fault.Wrap(op, fault.Unavailable, "cannot open database", err)
	}
	ckpt, err := openPool(dsn(abs, false), 1)
	if err != nil {
		write.Close()
		read.Close()
		return nil, fault.Wrap(op, fault.Unavailable, "cannot open database", err)
	}
	db := &DB{write: write, read: read, ckpt: ckpt, readSlots: make(chan struct{}, readers), writeStmts: newStmtCache(write), readStmts: newStmtCache(read),
		walPath: abs + "-wal", stop: make(chan struct{}), stopped: make(chan struct{}),
		writes: make(chan *writeReq), writerDone: make(chan struct{}),
		auditNew: make(chan struct{}, 1), indexerDone: make(chan struct{})}
	go db.checkpoints()
	go db.writer()
	go db.auditIndexer()
	return db, nil
}

// auditIndexEvery paces the audit indexer: it indexes what waits at most
// this often, so that a batch holds the writer for a millisecond or two
// rather than many milliseconds now and then.
const auditIndexEvery = 20 * time.Millisecond

// auditIndexer indexes new audit events in the background
// (migrations/0011_audit_index.sql), a batch at a time through the writer,
// until the database closes. It runs when a write stored audit events, and
// at start when an earlier process left some unindexed; an idle server
// does nothing. A failed batch is tried again at the next pace; look-ups
// are right meanwhile, only slower.
func (db *DB) auditIndexer() {
	defer close(db.indexerDone)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-db.stop
		cancel()
	}()
	// The events an earlier process left unindexed; a failure to look
	// leaves them to the next write's kick.
	if n, err := db.UnindexedEvents(ctx); err == nil && n > 0 {
		db.kickIndexer()
	}
	pace := time.NewTicker(auditIndexEvery)
	defer pace.Stop()
	for {
		select {
		case <-db.stop:
			return
		case <-db.auditNew:
		}
		for n := auditIndexBatch; n == auditIndexBatch; {
			var err error
			if n, err = db.indexAuditBatch(ctx); err != nil {
				db.kickIndexer()
			}
		}
		select {
		case <-db.stop:
			return
		case <-pace.C:
		}
	}
}

// kickIndexer tells the audit indexer that events may wait.
func (db *DB) kickIndexer() {
	select {
	case db.auditNew <- struct{}{}:
	default:
	}
}

// UnindexedEvents returns how many audit events wait for the background
// indexer: those above its mark. A look-up reads them by a scan.
func (db *DB) UnindexedEvents(ctx context.Context) (int, error) {
	var n int
	err := db.View(ctx, func(stx store.Tx) error {
		return stx.(*tx).tx.QueryRowContext(ctx, `SELECT count(*) FROM audit_events
			WHERE seq > `+indexMark).Scan(&n)
	})
	if err != nil {
		return 0, dbError("sqlite.UnindexedEvents", err, "audit event")
	}
	return n, nil
}

// indexAuditBatch indexes one batch of the audit events that wait for the
// background indexer, returning how many it passed over (the batch's size
// when more may wait).
func (db *DB) indexAuditBatch(ctx context.Context) (int, error) {
	var n int
	err := db.UpdateUnsynced(ctx, func(stx store.Tx) (err error) {
		n, err = stx.(*tx).indexAudit(ctx, auditIndexBatch)
		return err
	})
	return n, err
}

// checkpointEvery is how often the checkpointer copies the log into the
// database file.
const checkpointEvery = 50 * time.Millisecond

// checkpoints copies committed transactions from the write-ahead log into
// the database file from a connection of its own (a passive checkpoint:
// it waits for no reader and no writer), so that the writer's commits do
// not pay for it. The writer still checkpoints by itself when the log passes
// walAutoCheckpoint pages: if this one falls behind, the log stays bounded.
func (db *DB) checkpoints() {
	defer close(db.stopped)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-db.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, _ = db.ckpt.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)") // a failure is retried at the next tick
		cancel()
	}
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

// walAutoCheckpoint is the log's size in pages past which a writer
// checkpoints by itself (SQLite's default is 1,000): the checkpointer
// usually keeps the log well under it.
const walAutoCheckpoint = 4000

// Page caches, per connection, in KiB (SQLite's default is 2 MiB): the
// writer reads what it updates (a secret's versions, the indexes it
// inserts into) and a cache that holds them saves a read from the OS for
// each page. Fixed sizes: memory does not grow with the data.
const (
	writeCacheKiB = 32 << 10
	readCacheKiB  = 8 << 10
)

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
		q.Add("_pragma", fmt.Sprintf("cache_size(%d)", -readCacheKiB))
	} else {
		q.Add("_pragma", fmt.Sprintf("cache_size(%d)", -writeCacheKiB))
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", walAutoCheckpoint))
		// Savepoint journals in memory: group commit gives every call a
		// savepoint, and SQLite otherwise spills a savepoint's journal
		// past 64 KiB to a temporary file, created and deleted each time.
		// A journal holds the pages one group changes, which is bounded.
		q.Add("_pragma", "temp_store(MEMORY)")
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
	db.closeOnce.Do(func() { close(db.stop) })
	<-db.stopped
	<-db.writerDone
	<-db.indexerDone
	errCkpt := db.ckpt.Close()
	db.walMu.Lock()
	if db.wal != nil {
		_ = db.wal.Close()
		db.wal = nil
	}
	db.walMu.Unlock()
	db.readStmts.close()
	db.writeStmts.close()
	errRead := db.read.Close()
	errWrite := db.write.Close()
	if err := errors.Join(errRead, errWrite, errCkpt); err != nil {
		return fault.Wrap("sqlite.Close", fault.Internal, "cannot close database", err)
	}
	return nil
}

// Update runs fn in a write transaction and commits if fn returns nil. It
// rolls back when fn returns an error or panics (the panic goes on in the
// caller). It returns fn's error as is, or a fault error when the
// transaction cannot begin or commit. Concurrent calls are committed
// together (group commit, writer.go): one sync of the disk for many.
func (db *DB) Update(ctx context.Context, fn func(store.Tx) error) error {
	return db.submit(ctx, fn, false, "sqlite.Update")
}

// notify tells the OnChange functions what a write transaction changed.
func (db *DB) notify(ch *changes) {
	if ch.events {
		db.kickIndexer()
	}
	if !ch.any() {
		return
	}
	db.mu.Lock()
	fs := db.onChange
	db.mu.Unlock()
	for _, f := range fs {
		f(ch.Changes)
	}
}

// UpdateUnsynced is Update for a transaction that may be visible before it
// is durable (store.Syncer): it commits without waiting for the disk
// (synchronous=NORMAL for its commit, unless it shares the commit with an
// Update), and is durable once a Sync that began after it returned.
// Whatever it writes is visible to readers at once.
func (db *DB) UpdateUnsynced(ctx context.Context, fn func(store.Tx) error) error {
	return db.submit(ctx, fn, true, "sqlite.UpdateUnsynced")
}

// Sync makes every transaction committed so far durable: it flushes the
// write-ahead log to the disk. Transactions committed by Update are durable
// already; Sync is for UpdateUnsynced's.
func (db *DB) Sync() error {
	db.walMu.Lock()
	defer db.walMu.Unlock()
	if db.wal != nil {
		// SQLite deletes the log when its last connection closes and then
		// starts a new file: sync the one that is there now.
		a, errA := db.wal.Stat()
		b, errB := os.Stat(db.walPath)
		if errA != nil || errB != nil || !os.SameFile(a, b) {
			_ = db.wal.Close()
			db.wal = nil
		}
	}
	if db.wal == nil {
		f, err := os.Open(db.walPath)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // no log: everything is in the database file, synced by its checkpoint
		}
		if err != nil {
			return fault.Wrap("sqlite.Sync", fault.Unavailable, "cannot open the write-ahead log", err)
		}
		db.wal = f
	}
	if err := db.wal.Sync(); err != nil {
		return fault.Wrap("sqlite.Sync", fault.Unavailable, "cannot sync the write-ahead log", err)
	}
	return nil
}

// View runs fn in a read-only transaction over a consistent snapshot. A
// write inside fn fails with a fault.Internal error. It returns fn's error
// as is, or a fault error when the transaction cannot begin.
func (db *DB) View(ctx context.Context, fn func(store.Tx) error) error {
	select {
	case db.readSlots <- struct{}{}: // blocked senders are served in order
	case <-ctx.Done():
		return dbError("sqlite.View", ctx.Err(), "")
	}
	defer func() { <-db.readSlots }()
	return run(ctx, db.read, db.readStmts, &sql.TxOptions{ReadOnly: true}, nil, "sqlite.View", fn)
}

// beginner is a pool (*sql.DB) or one connection of it (*sql.Conn).
type beginner interface {
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// run runs fn in a transaction of pool; a write transaction notes what it
// changes in ch (nil for a read).
func run(ctx context.Context, pool beginner, stmts *stmtCache, opts *sql.TxOptions, ch *changes, op string, fn func(store.Tx) error) error {
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
	if err := fn(&tx{tx: &cachedTx{Tx: sqlTx, cache: stmts, detach: ch != nil}, ch: ch}); err != nil {
		return err
	}
	done = true
	if err := sqlTx.Commit(); err != nil {
		return dbError(op, err, "")
	}
	return nil
}
