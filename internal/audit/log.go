package audit

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// Log appends events to the chain in the store.
type Log struct {
	Store store.Store
	Clock func() time.Time

	mu      sync.Mutex
	waiters []chan struct{}
}

// Append chains evs after the store's head and stores them in tx. The
// caller commits tx; nothing is appended when it does not.
func (l *Log) Append(ctx context.Context, tx store.Tx, evs ...*Event) error {
	seq, head, err := tx.AuditHead(ctx)
	if err != nil {
		return fmt.Errorf("read audit head: %w", err)
	}
	for _, e := range evs {
		if e.Time.IsZero() {
			e.Time = now(l.Clock)
		}
	}
	seq, head = chain(seq, head, evs)
	if err := tx.InsertEvents(ctx, evs); err != nil {
		return fmt.Errorf("store audit events: %w", err)
	}
	if err := tx.SetAuditHead(ctx, seq, head); err != nil {
		return fmt.Errorf("store audit head: %w", err)
	}
	return nil
}

// AppendCall appends the event of the call in ctx, if any and not yet
// appended, inside tx: the event then commits with the call's state change.
// The caller reports the commit with MarkCommitted.
func (l *Log) AppendCall(ctx context.Context, tx store.Tx) error {
	p := from(ctx)
	if l == nil || p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.committed {
		return nil
	}
	if err := l.Append(ctx, tx, p.ev); err != nil {
		return fault.Wrap("audit.AppendCall", fault.Unavailable, "the change could not be audited, so it was not made", err)
	}
	return nil
}

// MarkCommitted records that the transaction holding the call's event committed.
func (l *Log) MarkCommitted(ctx context.Context) {
	if p := from(ctx); l != nil && p != nil {
		p.mu.Lock()
		p.committed = true
		p.mu.Unlock()
		l.Notify()
	}
}

// Notify wakes those waiting for new events (the exporter).
func (l *Log) Notify() {
	l.mu.Lock()
	ws := l.waiters
	l.waiters = nil
	l.mu.Unlock()
	for _, w := range ws {
		close(w)
	}
}

// Changed returns a channel closed at the next append.
func (l *Log) Changed() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := make(chan struct{})
	l.waiters = append(l.waiters, w)
	return w
}

// ConflictRetries bounds how often Update runs a transaction again after
// it lost an optimistic race.
const ConflictRetries = 5

// Update runs fn in a write transaction of st that also appends the audit
// event of the call in ctx, so a state change and its record commit
// together or not at all; a transaction that lost an optimistic race
// (fault.Conflict) is run again, at most ConflictRetries times. now gives
// each attempt its time. A nil Log records nothing.
func (l *Log) Update(ctx context.Context, st store.Store, now func() time.Time, fn func(tx store.Tx, now time.Time) error) error {
	var err error
	for range ConflictRetries {
		t := now()
		err = st.Update(ctx, func(tx store.Tx) error {
			if err := fn(tx, t); err != nil {
				return err
			}
			return l.AppendCall(ctx, tx)
		})
		if err == nil {
			l.MarkCommitted(ctx)
		}
		if !fault.Is(err, fault.Conflict) {
			return err
		}
	}
	return err
}
