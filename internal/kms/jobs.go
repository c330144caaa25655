package kms

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/keys"
	"github.com/coffer-secrets/coffer/internal/store"
)

// Sweep does the key work that is due: it destroys the material of keys
// whose deletion window has passed (crypto-shredding every value sealed
// under them) and rotates keys whose rotation date has come. It returns
// how many keys it changed.
func (s *Service) Sweep(ctx context.Context, limit int) (int, error) {
	var due []*store.Key
	now := s.now()
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		due, err = tx.KeysDue(ctx, now, limit)
		return err
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, k := range due {
		if err := s.sweepOne(ctx, k.ID, k.Account, k.Region); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func (s *Service) sweepOne(ctx context.Context, id, account, region string) error {
	shredded := false
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		k, err := tx.Key(ctx, account, region, id)
		if err != nil {
			return err
		}
		now := s.now()
		switch {
		case k.State == store.KeyPendingDeletion && !k.DeleteAt.After(now):
			k.State, k.Material, k.Rotation = store.KeyDeleted, nil, store.KeyRotation{}
			shredded = true
		case k.State == store.KeyEnabled && k.Rotation.Enabled && !k.Rotation.Next.IsZero() && !k.Rotation.Next.After(now):
			if err := s.rotate(ctx, k, now); err != nil {
				return err
			}
		case k.Rotation.Enabled && !k.Rotation.Next.After(now):
			// Not enabled: try again a rotation period later.
			k.Rotation.Next = now.Add(time.Duration(max(k.Rotation.Days, 1)) * 24 * time.Hour)
		default:
			return nil
		}
		return tx.UpdateKey(ctx, k)
	})
	if err == nil && shredded {
		s.Keys.Forget(id)
	}
	return err
}

// Rewrap moves the data keys of up to limit secret versions wrapped by an
// older version of a CMK to its current version, batch by batch, each
// batch in one transaction, so reads and writes go on meanwhile: a version
// being re-wrapped is readable before and after. It returns how many
// versions it moved.
func (s *Service) Rewrap(ctx context.Context, limit int) (int, error) {
	var ks []*store.Key
	if err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		ks, err = tx.AllKeys(ctx)
		return err
	}); err != nil {
		return 0, err
	}
	moved := 0
	for _, k := range ks {
		if k.State != store.KeyEnabled || len(k.Material) < 2 {
			continue
		}
		n, err := s.rewrapKey(ctx, k, limit-moved)
		moved += n
		if err != nil || moved >= limit {
			return moved, err
		}
	}
	return moved, nil
}

// rewrapBatch is how many versions one transaction re-wraps.
const rewrapBatch = 50

func (s *Service) rewrapKey(ctx context.Context, k *store.Key, limit int) (int, error) {
	moved := 0
	afterSecret, afterVersion := "", ""
	for moved < limit {
		n, last := 0, (*store.Version)(nil)
		err := s.Store.Update(ctx, func(tx store.Tx) error {
			n, last = 0, nil
			cur, err := tx.Key(ctx, k.Account, k.Region, k.ID)
			if err != nil {
				return err
			}
			if cur.State != store.KeyEnabled {
				return nil
			}
			vs, err := tx.VersionsByKey(ctx, cur.ID, len(cur.Material), afterSecret, afterVersion, min(rewrapBatch, limit-moved))
			if err != nil {
				return err
			}
			for _, v := range vs {
				last = v
				sealed, err := s.Keys.Rewrap(ctx, cur, keys.Sealed{Ciphertext: v.Ciphertext, WrappedKey: v.WrappedKey, KeyID: v.KeyID, KeyVersion: v.KeyVersion})
				if err != nil {
					return fmt.Errorf("re-wrap version %s of secret %s: %w", v.ID, v.SecretID, err)
				}
				from := v.KeyVersion
				v.WrappedKey, v.KeyVersion = sealed.WrappedKey, sealed.KeyVersion
				if err := tx.RewrapVersion(ctx, v, from); fault.Is(err, fault.NotFound) {
					continue // deleted meanwhile
				} else if err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if fault.Is(err, fault.Conflict) {
			continue // a concurrent write won; the batch is read again
		}
		if err != nil {
			return moved, err
		}
		moved += n
		if last == nil {
			return moved, nil
		}
		afterSecret, afterVersion = last.SecretID, last.ID
	}
	return moved, nil
}

// Run sweeps and re-wraps every interval until ctx ends.
func (s *Service) Run(ctx context.Context, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.Sweep(ctx, 100); err != nil && ctx.Err() == nil && log != nil {
			log.Error("key sweep", "error", err.Error())
		}
		if _, err := s.Rewrap(ctx, 1000); err != nil && ctx.Err() == nil && log != nil {
			log.Error("key re-wrap", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
