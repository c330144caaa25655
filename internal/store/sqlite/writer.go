package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// Group commit. SQLite has one writer, and a durable commit costs a sync of
// the disk. Update calls therefore go to one goroutine, which takes every
// call waiting at that moment (up to maxGroup) into one transaction: each
// call's fn runs inside a savepoint of its own, so a call that fails is
// rolled back alone, and the group commits — and syncs — once. A call is
// answered only after that commit, so what it was told holds as it did with
// a transaction of its own. What differs is what a call sees: the writes of
// the calls before it in the group, not yet committed, which commit with it
// or fail with it. Calls wait for no one: a group is what queued while the
// last one was written.

// maxGroup bounds the calls committed together.
const maxGroup = 64

// Request states: the writer takes a queued request unless its caller gave
// up on it first.
const (
	reqQueued int32 = iota
	reqTaken
	reqAbandoned
)

type writeReq struct {
	ctx      context.Context
	fn       func(store.Tx) error
	unsynced bool // the caller will Sync (UpdateUnsynced)
	state    atomic.Int32

	// Set by the writer before done is closed.
	ch       changes
	err      error
	panicked any
	done     chan struct{}
}

var errClosed = errors.New("database closed")

// submit hands fn to the writer and waits for its outcome.
func (db *DB) submit(ctx context.Context, fn func(store.Tx) error, unsynced bool, op string) error {
	r := &writeReq{ctx: ctx, fn: fn, unsynced: unsynced, done: make(chan struct{})}
	db.queued.Add(1)
	select {
	case db.writes <- r:
		db.queued.Add(-1)
	case <-ctx.Done():
		db.queued.Add(-1)
		return dbError(op, ctx.Err(), "")
	case <-db.stop:
		db.queued.Add(-1)
		return fault.Wrap(op, fault.Unavailable, "the database is closed", errClosed)
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqQueued, reqAbandoned) {
			return dbError(op, ctx.Err(), "")
		}
		<-r.done // under way: its outcome is the caller's to know
	}
	db.notify(&r.ch)
	if r.panicked != nil {
		panic(r.panicked)
	}
	return r.err
}

// writer commits the Update calls, a group at a time, until the database
// closes.
func (db *DB) writer() {
	defer close(db.writerDone)
	for {
		select {
		case r := <-db.writes:
			db.commitGroup(db.gather(r))
		case <-db.stop:
			return
		}
	}
}

// gather takes r and the calls waiting now, up to maxGroup, dropping those
// whose callers gave up.
func (db *DB) gather(r *writeReq) []*writeReq {
	var group []*writeReq
	take := func(r *writeReq) {
		if r.state.CompareAndSwap(reqQueued, reqTaken) {
			group = append(group, r)
		} else {
			close(r.done)
		}
	}
	take(r)
	for len(group) < maxGroup {
		select {
		case r := <-db.writes:
			take(r)
		default:
			return group
		}
	}
	return group
}

// QueuedWrites returns how many Update calls wait to be taken by the writer.
func (db *DB) QueuedWrites() int { return int(db.queued.Load()) }

// WriteStats returns how many write transactions were committed (or
// attempted) and how many Update calls they held: calls/commits is the
// mean group size.
func (db *DB) WriteStats() (commits, calls int64) {
	return db.commits.Load(), db.calls.Load()
}

// commitGroup runs the group in one transaction and answers every call.
func (db *DB) commitGroup(group []*writeReq) {
	if len(group) == 0 {
		return
	}
	db.commits.Add(1)
	db.calls.Add(int64(len(group)))
	defer func() {
		for _, r := range group {
			close(r.done)
		}
	}()
	const op = "sqlite.Update"
	ctx := context.Background() // calls' own contexts end their wait, not the shared transaction
	conn, err := db.write.Conn(ctx)
	if err != nil {
		for _, r := range group {
			r.err = dbError(op, err, "")
		}
		return
	}
	defer conn.Close()
	unsynced := true
	for _, r := range group {
		unsynced = unsynced && r.unsynced
	}
	if unsynced {
		if _, err := conn.ExecContext(ctx, "PRAGMA synchronous = NORMAL"); err != nil {
			for _, r := range group {
				r.err = dbError(op, err, "")
			}
			return
		}
		defer func() {
			if _, err := conn.ExecContext(ctx, "PRAGMA synchronous = FULL"); err != nil {
				// Never leave the writer committing without syncs: drop the
				// connection; its replacement opens with the DSN's FULL.
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
				for _, r := range group {
					if r.err == nil {
						r.err = dbError(op, err, "")
					}
				}
			}
		}()
	}
	if len(group) == 1 {
		r := group[0]
		r.err, r.panicked = runCall(func() error { return run(ctx, conn, db.writeStmts, nil, &r.ch, op, r.fn) })
		return
	}
	db.runGroup(ctx, conn, group)
}

// runGroup runs each call of the group in a savepoint of one transaction,
// and commits it.
func (db *DB) runGroup(ctx context.Context, conn *sql.Conn, group []*writeReq) {
	const op = "sqlite.Update"
	sqlTx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		for _, r := range group {
			r.err = dbError(op, err, "")
		}
		return
	}
	var kept []*writeReq // calls whose work awaits the commit
	lost := error(nil)   // the transaction itself failed
	for _, r := range group {
		if err := r.ctx.Err(); err != nil {
			r.err = dbError(op, err, "")
			continue
		}
		if _, err := sqlTx.ExecContext(ctx, "SAVEPOINT call"); err != nil {
			lost = err
			break
		}
		t := &tx{tx: &cachedTx{Tx: sqlTx, cache: db.writeStmts, detach: true}, ch: &r.ch}
		r.err, r.panicked = runCall(func() error { return r.fn(t) })
		if r.err != nil || r.panicked != nil {
			// A failed ROLLBACK TO means SQLite rolled back the whole
			// transaction (an I/O error, a full disk): nothing of the
			// group may commit.
			if _, err := sqlTx.ExecContext(ctx, "ROLLBACK TO call"); err != nil {
				lost = err
				break
			}
		}
		if _, err := sqlTx.ExecContext(ctx, "RELEASE call"); err != nil {
			lost = err
			break
		}
		if r.err == nil && r.panicked == nil {
			kept = append(kept, r)
		}
	}
	if lost != nil {
		_ = sqlTx.Rollback()
		for _, r := range group {
			if r.err == nil && r.panicked == nil {
				r.err = fault.Wrap(op, fault.Unavailable, "the transaction was lost", fmt.Errorf("group commit: %w", lost))
			}
		}
		return
	}
	if err := sqlTx.Commit(); err != nil {
		for _, r := range kept {
			r.err = dbError(op, err, "")
		}
	}
}

// runCall runs f, turning a panic into a value for the caller's goroutine to re-panic.
func runCall(f func() error) (err error, panicked any) {
	defer func() {
		if p := recover(); p != nil {
			panicked = p
		}
	}()
	return f(), nil
}
