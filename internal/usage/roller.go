// Package usage meters what each account uses: API calls by action and
// result, and secrets held per hour, rolled up from the audit log, for
// charge-back and capacity planning.
//
// Every counted call is an audited call: the Roller reads audit events in
// sequence order and adds each to its hour's count in the same transaction
// that records how far it has read, so a crash never counts an event twice
// or skips one. docs/usage.md describes what is metered and how.
package usage

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// MetaRolledSeq is the store meta key holding the sequence number of the
// last audit event the Roller counted.
const MetaRolledSeq = "usage-rolled-seq"

// DefaultInterval is how often a Roller rolls up when its Interval is 0.
const DefaultInterval = 5 * time.Minute

// rollBatch bounds the events one roll-up transaction reads, so the
// store's single writer is never held for long.
const rollBatch = 2000

// ResultOK is the Result of a call that succeeded; a failed call's Result
// is the error code its caller got.
const ResultOK = "ok"

// Roller rolls the audit log up into hourly usage, and samples the secrets
// each account holds. Events of calls refused before authentication carry
// no account: they are counted under the account "", which no account's
// report includes, so they show in capacity figures but bill no one.
//
// Retention may delete events the Roller has not read yet; they are then
// never counted. Retention should delete only events at or below
// RolledSeq (see docs/usage.md).
type Roller struct {
	Store    store.Store
	Clock    func() time.Time // time.Now when nil
	Interval time.Duration    // DefaultInterval when 0
	Logger   *slog.Logger     // failures are logged here; discarded when nil
}

// Run rolls up at once, then every Interval until ctx is done, and once
// more then.
func (r *Roller) Run(ctx context.Context) {
	interval := r.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		r.roll(ctx)
		select {
		case <-ctx.Done():
			// Once more at shutdown, so a stopped server's report is current.
			r.roll(context.WithoutCancel(ctx))
			return
		case <-t.C:
		}
	}
}

func (r *Roller) roll(ctx context.Context) {
	if err := r.RollNow(ctx); err != nil && ctx.Err() == nil && r.Logger != nil {
		r.Logger.Error("usage roll-up", "error", err)
	}
}

// RollNow counts every audit event not counted yet (RollCalls), then
// samples the secrets held in the current hour (Sample). It returns the
// store's fault errors.
func (r *Roller) RollNow(ctx context.Context) error {
	if err := r.RollCalls(ctx); err != nil {
		return err
	}
	return r.Sample(ctx)
}

// RollCalls counts every audit event not counted yet, a batch per
// transaction. It returns the store's fault errors; the batches committed
// before a failure stay counted, exactly once.
func (r *Roller) RollCalls(ctx context.Context) error {
	for {
		n, err := r.rollBatch(ctx)
		if err != nil {
			return fmt.Errorf("usage roll-up: %w", err)
		}
		if n < rollBatch {
			return nil
		}
	}
}

// Sample records the secrets each account holds now as the sample of the
// current hour, replacing an earlier sample of the hour. It returns the
// store's fault errors.
func (r *Roller) Sample(ctx context.Context) error {
	if err := r.Store.Update(ctx, func(tx store.Tx) error { return sample(ctx, tx, r.now()) }); err != nil {
		return fmt.Errorf("usage sample: %w", err)
	}
	return nil
}

// rollBatch counts up to rollBatch events after the rolled seq and moves
// the seq past them, in one transaction. It returns how many it read.
func (r *Roller) rollBatch(ctx context.Context) (int, error) {
	var n int
	err := r.Store.Update(ctx, func(tx store.Tx) error {
		seq, err := RolledSeq(ctx, tx)
		if err != nil {
			return err
		}
		evs, err := tx.Events(ctx, store.EventQuery{AfterSeq: seq, Limit: rollBatch})
		if err != nil || len(evs) == 0 {
			return err
		}
		n = len(evs)
		if err := tx.AddCalls(ctx, Tally(evs)); err != nil {
			return err
		}
		return tx.SetMeta(ctx, MetaRolledSeq, strconv.FormatInt(evs[n-1].Seq, 10))
	})
	return n, err
}

// RolledSeq returns the sequence number of the last audit event counted,
// 0 when none was. It returns the store's fault errors, and fault.Internal
// when the stored value is not a number.
func RolledSeq(ctx context.Context, tx store.Tx) (int64, error) {
	v, err := tx.Meta(ctx, MetaRolledSeq)
	if fault.Is(err, fault.NotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	seq, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fault.Wrap("usage.RolledSeq", fault.Internal, "the rolled usage position is corrupt", err)
	}
	return seq, nil
}

// Tally groups events by the hour of their Time (UTC), account, region,
// family, action and result, in the order each group first appears.
func Tally(evs []*store.Event) []store.CallCount {
	var out []store.CallCount
	index := map[store.CallCount]int{}
	for _, e := range evs {
		key := store.CallCount{Hour: Hour(e.Time), Account: e.Account, Region: e.Region,
			Family: e.Family, Action: e.Action, Result: Result(e.ErrorCode)}
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			out = append(out, key)
		}
		out[i].Calls++
	}
	return out
}

// Hour returns the start of t's hour in UTC.
func Hour(t time.Time) time.Time { return t.UTC().Truncate(time.Hour) }

// Result returns the Result a call with errorCode is counted under.
func Result(errorCode string) string {
	if errorCode == "" {
		return ResultOK
	}
	return errorCode
}

// sample records the secrets each account holds now as the sample of
// now's hour. An account and region sampled earlier in the hour that holds
// none now gets 0, so the hour's last sample always wins.
func sample(ctx context.Context, tx store.Tx, now time.Time) error {
	h := Hour(now)
	counts, err := tx.SecretCounts(ctx)
	if err != nil {
		return err
	}
	earlier, err := tx.SecretHoursIn(ctx, store.UsageQuery{From: h, To: h.Add(time.Hour)})
	if err != nil {
		return err
	}
	held := map[[2]string]bool{}
	rows := make([]store.SecretHours, 0, len(counts)+len(earlier))
	for _, c := range counts {
		held[[2]string{c.Account, c.Region}] = true
		rows = append(rows, store.SecretHours{Hour: h, Account: c.Account, Region: c.Region, Secrets: c.Secrets})
	}
	for _, e := range earlier {
		if !held[[2]string{e.Account, e.Region}] {
			rows = append(rows, store.SecretHours{Hour: h, Account: e.Account, Region: e.Region})
		}
	}
	return tx.SetSecretHours(ctx, rows)
}

func (r *Roller) now() time.Time {
	if r.Clock != nil {
		return r.Clock()
	}
	return time.Now()
}
