// Package cluster lets several Coffer servers share one database: a leader
// lease so that background jobs that must run once (deletion sweeps, key
// rotation and re-wrap, audit checkpoints, retention, export, usage roll-up)
// run on exactly one server at a time and move to another when their
// holder dies; and change notifications so that a change made through one
// server drops the caches of every other at once.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// NewHolderID returns a random id for this process's claim on leases.
func NewHolderID() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// Lease is a named claim on a job, kept in the store's meta table as
// "HOLDER UNTIL-UNIX-MS". Claims are read and written in one write
// transaction, and every backend serializes write transactions (SQLite has
// one writer; the PostgreSQL backend takes a cluster-wide lock), so two
// servers never both hold a live lease.
type Lease struct {
	Store  store.Store
	Name   string
	Holder string
	TTL    time.Duration
	Clock  func() time.Time
}

func (l *Lease) now() time.Time {
	if l.Clock != nil {
		return l.Clock()
	}
	return time.Now()
}

func (l *Lease) key() string { return "lease/" + l.Name }

// Acquire takes or renews the lease: it succeeds when the lease is free,
// expired, or already this holder's, and then holds it for TTL.
func (l *Lease) Acquire(ctx context.Context) (bool, error) {
	got := false
	err := l.Store.Update(ctx, func(tx store.Tx) error {
		got = false
		now := l.now()
		v, err := tx.Meta(ctx, l.key())
		switch {
		case fault.Is(err, fault.NotFound):
		case err != nil:
			return err
		default:
			holder, until := parseLease(v)
			if holder != l.Holder && now.Before(until) {
				return nil
			}
		}
		got = true
		return tx.SetMeta(ctx, l.key(), l.Holder+" "+strconv.FormatInt(now.Add(l.TTL).UnixMilli(), 10))
	})
	return got, err
}

// Release gives the lease up at once, if this holder has it.
func (l *Lease) Release(ctx context.Context) error {
	return l.Store.Update(ctx, func(tx store.Tx) error {
		v, err := tx.Meta(ctx, l.key())
		if err != nil {
			return nil
		}
		if holder, _ := parseLease(v); holder == l.Holder {
			return tx.SetMeta(ctx, l.key(), "none 0")
		}
		return nil
	})
}

// HolderNow returns who holds the lease now, "" when nobody does.
func (l *Lease) HolderNow(ctx context.Context) (string, error) {
	var holder string
	err := l.Store.View(ctx, func(tx store.Tx) error {
		v, err := tx.Meta(ctx, l.key())
		if fault.Is(err, fault.NotFound) {
			return nil
		} else if err != nil {
			return err
		}
		h, until := parseLease(v)
		if l.now().Before(until) {
			holder = h
		}
		return nil
	})
	return holder, err
}

func parseLease(v string) (string, time.Time) {
	holder, ms, _ := strings.Cut(v, " ")
	n, _ := strconv.ParseInt(ms, 10, 64)
	return holder, time.UnixMilli(n)
}

// Leader runs jobs on one server of a cluster at a time. Each server runs
// a Leader with the same lease name; the holder of the lease runs every
// job until it loses the lease (it could not renew it in time) or ctx
// ends, and then stops them before anyone else can start them: a holder
// renews every TTL/3 and gives up its jobs if a renewal has not succeeded
// within TTL/2, well before the lease expires for the others.
type Leader struct {
	Lease Lease
	Jobs  []func(ctx context.Context)
	Log   *slog.Logger
	// OnChange, when set, is told when this server becomes or stops
	// being the leader.
	OnChange func(leading bool)
}

// Run campaigns for the lease and runs the jobs while holding it, until
// ctx ends; then it releases the lease.
func (l *Leader) Run(ctx context.Context) {
	every := l.Lease.TTL / 3
	for ctx.Err() == nil {
		ok, err := l.Lease.Acquire(ctx)
		if err != nil && ctx.Err() == nil && l.Log != nil {
			l.Log.Warn("leader lease", "lease", l.Lease.Name, "error", err.Error())
		}
		if ok {
			l.lead(ctx, every)
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(every):
		}
	}
	rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = l.Lease.Release(rctx)
}

// lead runs the jobs and renews the lease until it is lost or ctx ends.
func (l *Leader) lead(ctx context.Context, every time.Duration) {
	if l.OnChange != nil {
		l.OnChange(true)
		defer l.OnChange(false)
	}
	if l.Log != nil {
		l.Log.Info("leading", "lease", l.Lease.Name, "holder", l.Lease.Holder)
	}
	jobCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, job := range l.Jobs {
		wg.Add(1)
		go func() { defer wg.Done(); job(jobCtx) }()
	}
	defer func() { stop(); wg.Wait() }()
	renewed := time.Now()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, every)
		ok, err := l.Lease.Acquire(rctx)
		cancel()
		if ok {
			renewed = time.Now()
			continue
		}
		if err == nil || time.Since(renewed) > l.Lease.TTL/2 {
			if l.Log != nil {
				l.Log.Warn("lost the leader lease", "lease", l.Lease.Name, "error", fmt.Sprint(err))
			}
			return
		}
	}
}
