package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// stmtCache keeps the statements a pool runs prepared: SQLite compiles a
// statement on every prepare, which cost a quarter of a GetSecretValue's
// CPU before this cache. database/sql prepares a cached statement on each
// connection the first time it runs there, then reuses it.
type stmtCache struct {
	pool   *sql.DB
	mu     sync.Mutex
	m      map[string]*sql.Stmt // nil value: being prepared, or does not prepare
	closed bool
	wg     sync.WaitGroup // prepares in flight
}

// maxCachedStmts bounds the cache: statements built for one call (a list
// with as many placeholders as tags asked for) should not pile up.
const maxCachedStmts = 512

func newStmtCache(pool *sql.DB) *stmtCache {
	return &stmtCache{pool: pool, m: map[string]*sql.Stmt{}}
}

// get returns the prepared statement for q, or nil when it is not
// prepared yet: the caller then runs q directly. A miss prepares q in the
// background, outside the caller's transaction: a pool of one connection
// (the writer) has none free while the caller holds it.
func (c *stmtCache) get(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[q]
	if ok || len(c.m) >= maxCachedStmts {
		return s // nil while being prepared, or when the cache is full
	}
	if c.closed {
		return nil
	}
	c.m[q] = nil // being prepared
	c.wg.Add(1)
	go c.prepare(q)
	return nil
}

func (c *stmtCache) prepare(q string) {
	defer c.wg.Done()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := c.pool.PrepareContext(ctx, q)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil || c.closed {
		if s != nil {
			_ = s.Close()
		}
		if err != nil && !c.closed {
			c.m[q] = nil // does not prepare: run directly from now on
		}
		return
	}
	c.m[q] = s
}

// close releases every statement, once the prepares in flight are done.
func (c *stmtCache) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, s := range c.m {
		if s != nil {
			_ = s.Close()
		}
		delete(c.m, q)
	}
}

// cachedTx is a transaction whose statements come from the cache; its
// methods replace *sql.Tx's for the store's code.
type cachedTx struct {
	*sql.Tx
	cache *stmtCache
	// detach runs statements without the caller's cancellation: in a
	// write transaction a canceled statement interrupts the connection,
	// and SQLite may then roll back the whole transaction, which the
	// group commit shares with other callers.
	detach bool
}

func (c *cachedTx) ctx(ctx context.Context) context.Context {
	if c.detach {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

func (c *cachedTx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	ctx = c.ctx(ctx)
	if s := c.cache.get(q); s != nil {
		return c.Tx.StmtContext(ctx, s).ExecContext(ctx, args...)
	}
	return c.Tx.ExecContext(ctx, q, args...)
}

func (c *cachedTx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	ctx = c.ctx(ctx)
	if s := c.cache.get(q); s != nil {
		return c.Tx.StmtContext(ctx, s).QueryContext(ctx, args...)
	}
	return c.Tx.QueryContext(ctx, q, args...)
}

func (c *cachedTx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	ctx = c.ctx(ctx)
	if s := c.cache.get(q); s != nil {
		return c.Tx.StmtContext(ctx, s).QueryRowContext(ctx, args...)
	}
	return c.Tx.QueryRowContext(ctx, q, args...)
}
