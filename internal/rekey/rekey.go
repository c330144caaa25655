// Package rekey rotates the root key: it moves everything the root key
// protects in a store (CMK material, access keys' secret halves, the audit
// keys and the key-check value) from an old root key to a new one, while
// servers keep serving with both keys (root.Chain).
package rekey

import (
	"bytes"
	"context"
	"fmt"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/iam"
	"github.com/coffer-secrets/coffer/internal/keys"
	"github.com/coffer-secrets/coffer/internal/keys/root"
	"github.com/coffer-secrets/coffer/internal/server"
	"github.com/coffer-secrets/coffer/internal/store"
)

// Report counts what a run walked. Every sealed value is either AlreadyNew
// or Rewrapped; a second run over the same store re-wraps nothing. It holds
// counts and the providers' descriptions, never key material.
type Report struct {
	From string `json:"from"` // the old root key's description
	To   string `json:"to"`   // the new root key's description

	Keys             int `json:"keys"`              // CMKs walked (deleted ones hold no material)
	MaterialVersions int `json:"material_versions"` // CMK material versions
	AccessKeys       int `json:"access_keys"`       // access keys' secret halves
	AuditKeys        int `json:"audit_keys"`        // sealed audit keys (HMAC, signing)
	CheckValues      int `json:"check_values"`      // the root key-check value: 1, or 0 before a first start

	AlreadyNew int `json:"already_new"` // sealed values the new root key already opened
	Rewrapped  int `json:"rewrapped"`   // sealed values moved to the new root key
}

// Sealed returns how many sealed values the run walked.
func (r Report) Sealed() int { return r.AlreadyNew + r.Rewrapped }

// attempts bounds the retries of one record after concurrent changes.
const attempts = 20

// Run re-wraps every sealed value in st from the root key from to the root
// key to, one record per transaction, so servers running with
// root.Chain{Current: to, Previous: from} keep serving meanwhile. What to
// already opens is left alone, so Run is idempotent and an interrupted run
// can be run again. The key-check value moves last: a server given only the
// new key starts once a run has finished, not before.
//
// progress, when set, is called with the counts so far after each record.
// Run returns the counts so far and an error: fault.Invalid when from and
// to are the same key, an error naming the record when neither key opens it
// (fault.KeyUnavailable: from is not this store's root key), the
// providers' and the store's errors, or ctx's.
func Run(ctx context.Context, st store.Store, from, to root.Provider, progress func(Report)) (Report, error) {
	r := &run{st: st, from: from, to: to, progress: progress}
	r.rep = Report{From: from.Describe(), To: to.Describe()}
	if err := r.preflight(ctx); err != nil {
		return r.rep, err
	}
	for _, step := range []func(context.Context) error{r.keys, r.accessKeys, r.auditKeys, r.checkValue} {
		if err := step(ctx); err != nil {
			return r.rep, err
		}
	}
	return r.rep, nil
}

type run struct {
	st       store.Store
	from, to root.Provider
	progress func(Report)
	rep      Report
}

// count adds n sealed values, moved of them re-wrapped, and reports progress.
func (r *run) count(n, moved int) {
	r.rep.AlreadyNew += n - moved
	r.rep.Rewrapped += moved
	if r.progress != nil {
		r.progress(r.rep)
	}
}

// preflight refuses two handles on one key (nothing would move, and the
// operator would retire the only key), and a from that is not this store's
// root key, before anything is written.
func (r *run) preflight(ctx context.Context) error {
	const op = "rekey.Run"
	aad := keys.AAD("coffer/rekey-probe")
	probe, err := r.to.Wrap(ctx, []byte("coffer"), aad)
	if err != nil {
		return fmt.Errorf("new root key: %w", err)
	}
	if pt, err := r.from.Unwrap(ctx, probe, aad); err == nil {
		clear(pt)
		return fault.E(op, fault.Invalid, "the old and the new root key are the same key")
	} else if !fault.Is(err, fault.KeyUnavailable) {
		return fmt.Errorf("old root key: %w", err)
	}
	return server.VerifyRootKey(ctx, r.st, &root.Chain{Current: r.to, Previous: r.from})
}

func (r *run) keys(ctx context.Context) error {
	var ks []*store.Key
	if err := r.st.View(ctx, func(tx store.Tx) error {
		var err error
		ks, err = tx.AllKeys(ctx)
		return err
	}); err != nil {
		return fmt.Errorf("list keys: %w", err)
	}
	for _, k := range ks {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, moved, err := r.key(ctx, k)
		if err != nil {
			return err
		}
		r.rep.Keys++
		r.rep.MaterialVersions += n
		r.count(n, moved)
	}
	return nil
}

// key re-wraps one CMK and stores it, reading it again when a server
// changed it meanwhile (a rotation adds a version). It returns how many
// material versions it walked and re-wrapped; a key deleted meanwhile
// counts as none.
func (r *run) key(ctx context.Context, k *store.Key) (int, int, error) {
	for range attempts {
		before := k.Material
		changed, err := keys.RewrapMaterial(ctx, k, r.from, r.to)
		if err != nil || !changed {
			return len(k.Material), 0, err
		}
		err = r.st.Update(ctx, func(tx store.Tx) error { return tx.UpdateKey(ctx, k) })
		if err == nil {
			return len(k.Material), countMoved(before, k.Material), nil
		}
		if !fault.Is(err, fault.Conflict) {
			return 0, 0, fmt.Errorf("store key %s: %w", k.ID, err)
		}
		if k, err = r.reload(ctx, k); k == nil || err != nil {
			return 0, 0, err
		}
	}
	return 0, 0, fault.E("rekey.Run", fault.Conflict, "key "+k.ID+" kept changing; run again")
}

// reload reads k again; nil when it is gone.
func (r *run) reload(ctx context.Context, k *store.Key) (*store.Key, error) {
	var cur *store.Key
	err := r.st.View(ctx, func(tx store.Tx) error {
		var err error
		cur, err = tx.Key(ctx, k.Account, k.Region, k.ID)
		return err
	})
	if fault.Is(err, fault.NotFound) {
		return nil, nil
	}
	return cur, err
}

func countMoved(before, after []store.KeyMaterial) int {
	n := 0
	for i := range after {
		if !bytes.Equal(before[i].Wrapped, after[i].Wrapped) {
			n++
		}
	}
	return n
}

func (r *run) accessKeys(ctx context.Context) error {
	var ks []*store.AccessKey
	if err := r.st.View(ctx, func(tx store.Tx) error {
		var err error
		ks, err = tx.AllAccessKeys(ctx)
		return err
	}); err != nil {
		return fmt.Errorf("list access keys: %w", err)
	}
	for _, k := range ks {
		if err := ctx.Err(); err != nil {
			return err
		}
		found, moved, err := r.accessKey(ctx, k)
		if err != nil {
			return err
		}
		if found {
			r.rep.AccessKeys++
			r.count(1, moved)
		}
	}
	return nil
}

// accessKey re-wraps one access key and stores it unless its sealed half
// changed meanwhile. It reports whether the key still exists and how many
// values (0 or 1) it re-wrapped.
func (r *run) accessKey(ctx context.Context, k *store.AccessKey) (found bool, moved int, err error) {
	old := k.Sealed
	changed, err := iam.RewrapAccessKey(ctx, k, r.from, r.to)
	if err != nil || !changed {
		return true, 0, err
	}
	stored := false
	err = retry(ctx, r.st, func(tx store.Tx) error {
		stored = false
		cur, err := tx.AccessKey(ctx, k.ID)
		if err != nil || !bytes.Equal(cur.Sealed, old) {
			return err // changed meanwhile: not by a server, which never reseals
		}
		stored = true
		return tx.SetAccessKeySealed(ctx, k.ID, k.Sealed)
	})
	if fault.Is(err, fault.NotFound) {
		return false, 0, nil // deleted meanwhile
	} else if err != nil {
		return false, 0, fmt.Errorf("store access key %s: %w", k.ID, err)
	} else if !stored {
		return false, 0, fault.E("rekey.Run", fault.Conflict, "access key "+k.ID+" was resealed meanwhile; run again")
	}
	return true, 1, nil
}

func (r *run) auditKeys(ctx context.Context) error {
	found, moved, err := audit.RewrapKeys(ctx, r.st, r.from, r.to)
	if err != nil {
		return fmt.Errorf("audit keys: %w", err)
	}
	r.rep.AuditKeys += found
	r.count(found, moved)
	return nil
}

func (r *run) checkValue(ctx context.Context) error {
	found, moved, err := server.RekeyCheckValue(ctx, r.st, r.from, r.to)
	if err != nil {
		return fmt.Errorf("root key check value: %w", err)
	}
	if found {
		r.rep.CheckValues++
		r.count(1, b2i(moved))
	}
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// retry runs fn in a write transaction, again after a serialization
// failure (fault.Conflict), up to attempts times.
func retry(ctx context.Context, st store.Store, fn func(store.Tx) error) error {
	var err error
	for range attempts {
		if err = st.Update(ctx, fn); !fault.Is(err, fault.Conflict) {
			return err
		}
	}
	return err
}
