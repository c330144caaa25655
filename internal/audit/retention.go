package audit

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// DefaultRetentionInterval is how often Retention prunes when its Interval is 0.
const DefaultRetentionInterval = time.Hour

// pruneBatch bounds the events one pruning transaction removes, so the
// store's single writer is never held for long.
const pruneBatch = 5000

// Retention removes the events older than Keep from the front of the
// chain. Each removal commits with a signed checkpoint at the last event
// removed, so the events that remain still verify from it.
type Retention struct {
	Log      *Log
	Keys     *Keys
	Keep     time.Duration    // 0 keeps every event
	Interval time.Duration    // DefaultRetentionInterval when 0
	Clock    func() time.Time // time.Now when nil
	Logger   *slog.Logger     // failures are logged here; discarded when nil
	// Hold returns the highest seq that may be removed (events a consumer
	// such as usage metering has not read yet must stay); nil holds nothing.
	Hold func(ctx context.Context, tx store.Tx) (int64, error)
}

// Run prunes at once and then every Interval until ctx is done. It returns
// at once when Keep is 0.
func (r *Retention) Run(ctx context.Context) {
	if r.Keep <= 0 {
		return
	}
	interval := r.Interval
	if interval <= 0 {
		interval = DefaultRetentionInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := r.PruneNow(ctx)
		switch {
		case err != nil && ctx.Err() == nil && r.Logger != nil:
			r.Logger.Error("audit retention", "error", err, "removed", n)
		case n > 0 && r.Logger != nil:
			r.Logger.Info("audit retention", "removed", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// PruneNow removes the events older than Keep that begin the chain (the
// first younger event stops it) and returns how many it removed. It does
// nothing when Keep is 0. It returns an error wrapping ErrChainBroken, and
// removes nothing more, when the events to remove do not verify: signing
// over them would vouch for a forgery.
func (r *Retention) PruneNow(ctx context.Context) (int, error) {
	if r.Keep <= 0 {
		return 0, nil
	}
	t := now(r.Clock)
	cutoff := t.Add(-r.Keep)
	total := 0
	for {
		var n int
		err := r.Log.Store.Update(ctx, func(tx store.Tx) error {
			var err error
			n, err = prune(ctx, tx, r.Keys, cutoff, t, r.Hold)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("audit retention: %w", err)
		}
		total += n
		if n < pruneBatch {
			return total, nil
		}
	}
}

// prune removes up to pruneBatch events older than cutoff from the front
// of the chain, with a checkpoint (signed at t) at the last one.
func prune(ctx context.Context, tx store.Tx, k *Keys, cutoff, t time.Time, hold func(context.Context, store.Tx) (int64, error)) (int, error) {
	evs, err := tx.Events(ctx, store.EventQuery{Limit: pruneBatch})
	if err != nil {
		return 0, err
	}
	limit := int64(math.MaxInt64)
	if hold != nil {
		if limit, err = hold(ctx, tx); err != nil {
			return 0, err
		}
	}
	i := 0
	for i < len(evs) && evs[i].Time.Before(cutoff) && evs[i].Seq <= limit {
		i++
	}
	if i == 0 {
		return 0, nil
	}
	if err := checkRun(ctx, tx, k, evs[:i]); err != nil {
		return 0, err
	}
	last := evs[i-1]
	if err := ensureCheckpoint(ctx, tx, k, last, t); err != nil {
		return 0, err
	}
	return tx.DeleteEventsThrough(ctx, last.Seq)
}

// checkRun verifies evs, the front of the chain, from its start.
func checkRun(ctx context.Context, tx store.Tx, k *Keys, evs []*Event) error {
	c := &chainCheck{pub: k.Public}
	if first := evs[0].Seq; first > 1 {
		cps, err := tx.Checkpoints(ctx, first-1, 1)
		if err != nil {
			return err
		}
		if len(cps) == 1 {
			if p := c.add(Record{Checkpoint: cps[0]}); p != nil {
				return broken("audit.Retention", p)
			}
		}
	}
	for _, e := range evs {
		if p := c.add(Record{Event: e}); p != nil {
			return broken("audit.Retention", p)
		}
	}
	return nil
}

// ensureCheckpoint stores a checkpoint at e unless one is there already.
func ensureCheckpoint(ctx context.Context, tx store.Tx, k *Keys, e *Event, t time.Time) error {
	cps, err := tx.Checkpoints(ctx, e.Seq, 1)
	if err != nil {
		return err
	}
	if len(cps) == 1 && cps[0].Seq == e.Seq {
		if !bytes.Equal(cps[0].Head, e.Hash) {
			return broken("audit.Retention", &Problem{Seq: e.Seq, Kind: BadCheckpoint, Detail: fmt.Sprintf("the checkpoint at seq %d does not match event %d's hash", e.Seq, e.Seq)})
		}
		return nil
	}
	return tx.InsertCheckpoint(ctx, Sign(k, e.Seq, e.Hash, t))
}

// broken returns the error of an operation that stopped at a problem in the chain.
func broken(op string, p *Problem) error {
	return fault.Wrap(op, fault.Internal, "the audit chain does not verify; run coffer audit verify",
		fmt.Errorf("%w: %s", ErrChainBroken, p))
}
