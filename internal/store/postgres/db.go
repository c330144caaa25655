// Package postgres is Coffer's clustered store: store.Store over PostgreSQL
// (jackc/pgx, pgxpool), for several servers sharing one database. It owns
// the PostgreSQL schema, its migrations and the mapping of PostgreSQL errors
// onto fault kinds; it holds no business rules.
//
// Open takes a libpq-style DSN, as a URL or as key=value pairs:
//
//	postgres://coffer:secret@db.internal:5432/coffer?sslmode=verify-full
//	host=db.internal port=5432 user=coffer dbname=coffer sslmode=verify-full
//
// Any PGHOST, PGUSER, PGPASSWORD… environment variable or ~/.pgpass entry
// fills what the DSN leaves out. pgxpool's pool_max_conns and friends work
// in the DSN too; Options, when set, override them. Run-time parameters go
// in the DSN as well: search_path=coffer puts the tables in schema coffer
// (which must exist). The role needs CREATE on that schema the first time,
// and after every upgrade, to migrate it.
//
// Times are stored as BIGINT unix milliseconds (see migrations/0001_init.sql).
package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// Options tunes Open. The zero value keeps what the DSN says, and pgxpool's
// defaults for what it does not.
type Options struct {
	// MaxConns bounds the pool; 0 keeps the DSN's pool_max_conns, or
	// pgxpool's default of max(4, GOMAXPROCS).
	MaxConns int32
	// IdleInTxTimeout makes the server end a session that holds a
	// transaction open without sending anything for this long, so a client
	// that hangs inside Update (frozen, partitioned) releases the write lock
	// that every other server waits on. 0 means one minute; a negative value
	// leaves the server's setting. A DSN that sets
	// idle_in_transaction_session_timeout wins.
	IdleInTxTimeout time.Duration
}

const defaultIdleInTxTimeout = time.Minute

// DB is a store.Store over a PostgreSQL database, safe for concurrent use.
//
// Update serializes writers across every server on the database: it takes
// a transaction-scoped advisory lock, then runs at READ COMMITTED, so each
// statement sees every earlier commit and the transactions execute one
// after another, as SQLite's single writer runs them. Almost every write
// appends to the audit chain, whose single head row would serialize writers
// anyway; queueing on a lock costs less than running them in parallel under
// SERIALIZABLE and retrying all but one. Within a process, writers queue
// for a slot before they take a connection, so they never hold the pool's
// connections while they wait. Readers take no lock: View runs at
// REPEATABLE READ, READ ONLY, over one snapshot.
type DB struct {
	pool *pgxpool.Pool
	// writer holds the process's one write slot.
	writer chan struct{}
	// beginWrite opens a write transaction and takes the write lock, in
	// one round trip.
	beginWrite string
}

var (
	_ store.Store      = (*DB)(nil)
	_ store.Revisioner = (*DB)(nil)
)

// Open connects to the database that dsn names and migrates its schema to
// the version this binary knows; several servers may open one database at
// once. It returns a fault.Invalid error when dsn cannot be parsed, a
// fault.Unavailable error when the database cannot be reached or was
// migrated by a newer binary (the error then wraps ErrSchemaNewer), and a
// fault.Internal error when a migration fails.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	const op = "postgres.Open"
	cfg, err := poolConfig(dsn, opts)
	if err != nil {
		return nil, fault.Wrap(op, fault.Invalid, "invalid database address", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fault.Wrap(op, fault.Unavailable, "cannot open database", err)
	}
	schema, err := migrate(ctx, pool)
	if err != nil {
		pool.Close()
		return nil, err
	}
	begin := fmt.Sprintf("BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE; SELECT pg_advisory_xact_lock(%d)",
		lockKey("write", schema))
	return &DB{pool: pool, writer: make(chan struct{}, 1), beginWrite: begin}, nil
}

func poolConfig(dsn string, opts Options) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	params := cfg.ConnConfig.RuntimeParams
	if _, ok := params["application_name"]; !ok {
		params["application_name"] = "coffer"
	}
	idle := opts.IdleInTxTimeout
	if idle == 0 {
		idle = defaultIdleInTxTimeout
	}
	if _, ok := params["idle_in_transaction_session_timeout"]; !ok && idle > 0 {
		params["idle_in_transaction_session_timeout"] = fmt.Sprint(idle.Milliseconds())
	}
	return cfg, nil
}

// lockKey returns the advisory lock key of purpose in schema. Advisory
// locks are per database; the schema in the key keeps two deployments that
// share a database in separate schemas from queueing on each other.
func lockKey(purpose, schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("coffer/" + purpose + "/" + schema))
	return int64(h.Sum64())
}

// Close waits for the connections in use to be released and closes the
// pool. It always returns nil.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Update runs fn in a write transaction, holding the write lock, and
// commits if fn returns nil. It rolls back when fn returns an error or
// panics. It returns fn's error as is, or a fault error when the
// transaction cannot begin or commit: Unavailable when the database cannot
// be reached (after a failed commit the outcome is unknown), Conflict on a
// serialization failure or a deadlock.
func (db *DB) Update(ctx context.Context, fn func(store.Tx) error) error {
	const op = "postgres.Update"
	select {
	case db.writer <- struct{}{}:
		defer func() { <-db.writer }()
	case <-ctx.Done():
		return dbError(op, ctx.Err(), "")
	}
	return db.run(ctx, op, db.beginWrite, "COMMIT", fn)
}

// View runs fn in a read-only transaction over one snapshot. A write inside
// fn fails with a fault.Internal error and leaves the transaction usable.
// It returns fn's error as is, or a fault error when the transaction cannot
// begin. A read-only transaction has nothing to commit: View rolls it back.
func (db *DB) View(ctx context.Context, fn func(store.Tx) error) error {
	return db.run(ctx, "postgres.View", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "ROLLBACK", fn)
}

func (db *DB) run(ctx context.Context, op, begin, end string, fn func(store.Tx) error) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		if ctx.Err() == nil {
			// No connection to be had, whatever the server said (it may
			// refuse sessions while it restarts): unavailable.
			return fault.Wrap(op, fault.Unavailable, "store unavailable", err)
		}
		return dbError(op, err, "")
	}
	// Release destroys a connection still in a transaction (a failed
	// rollback), so a broken one never returns to the pool.
	defer conn.Release()
	if _, err := conn.Exec(ctx, begin); err != nil {
		return dbError(op, err, "")
	}
	done := false
	defer func() {
		if !done {
			rollback(ctx, conn.Conn()) // also on panic; the panic goes on
		}
	}()
	if err := fn(&tx{conn: conn.Conn()}); err != nil {
		return err
	}
	done = true
	return finish(ctx, op, conn.Conn(), end)
}

// finish ends a transaction with end, COMMIT or ROLLBACK.
func finish(ctx context.Context, op string, conn *pgx.Conn, end string) error {
	tag, err := conn.Exec(ctx, end)
	if end == "ROLLBACK" {
		return nil // fn has read what it read; a broken connection is not reused
	}
	if err != nil {
		return dbError(op, err, "")
	}
	// COMMIT of a transaction that an error aborted rolls back instead: fn
	// ignored a failed read, and nothing it wrote may be kept.
	if tag.String() != "COMMIT" {
		return fault.E(op, fault.Internal, "transaction aborted by an earlier failure")
	}
	return nil
}

// rollbackTimeout bounds a rollback, which must run even when ctx is what
// failed the transaction.
const rollbackTimeout = 5 * time.Second

func rollback(ctx context.Context, conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	_, _ = conn.Exec(ctx, "ROLLBACK")
}
