package secrets

import (
	"context"
	"fmt"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// change loads a secret, lets fn change it, and stores it when fn reports a change.
func (s *Service) change(ctx context.Context, op string, sc Scope, name string, fn func(sec *Secret, now time.Time) (bool, error)) (*Secret, error) {
	var sec *Secret
	err := s.update(ctx, func(tx store.Tx, now time.Time) error {
		var err error
		if sec, err = load(ctx, tx, op, sc, name); err != nil {
			return err
		}
		changed, err := fn(sec, now)
		if err != nil || !changed {
			return err
		}
		return s.touch(ctx, tx, sec, now)
	})
	if err != nil {
		return nil, err
	}
	return sec, nil
}

// Disable stops a secret's values from being read. Disabling a Disabled
// secret changes nothing; other statuses give fault.WrongState.
func (s *Service) Disable(ctx context.Context, sc Scope, name string) (*Secret, error) {
	const op = "secrets.Disable"
	return s.change(ctx, op, sc, name, func(sec *Secret, _ time.Time) (bool, error) {
		if err := statusError(op, sec, store.StatusEnabled, store.StatusDisabled); err != nil {
			return false, err
		}
		changed := sec.Status != store.StatusDisabled
		sec.Status = store.StatusDisabled
		return changed, nil
	})
}

// Enable lets a Disabled secret's values be read again. Enabling an Enabled
// secret changes nothing; other statuses give fault.WrongState.
func (s *Service) Enable(ctx context.Context, sc Scope, name string) (*Secret, error) {
	const op = "secrets.Enable"
	return s.change(ctx, op, sc, name, func(sec *Secret, _ time.Time) (bool, error) {
		if err := statusError(op, sec, store.StatusEnabled, store.StatusDisabled); err != nil {
			return false, err
		}
		changed := sec.Status != store.StatusEnabled
		sec.Status = store.StatusEnabled
		return changed, nil
	})
}

// DeleteInput says how to delete a secret.
type DeleteInput struct {
	RecoveryDays    int  // 0 purges now; 1..MaxRecoveryDays schedules the purge
	RequireDisabled bool // refuse an Enabled secret (the Tencent rule)
}

// Delete purges a secret now (RecoveryDays 0) or schedules its purge. A
// secret already pending deletion may be purged now but not rescheduled.
// It returns the secret as it was left: its DeleteAt is the purge time.
// Errors: fault.Invalid for a window out of range, fault.WrongState with
// Reason SecretEnabled when RequireDisabled refuses, SecretPendingDeletion
// for a second schedule, SecretCreating while the secret is being created.
func (s *Service) Delete(ctx context.Context, sc Scope, name string, in DeleteInput) (*Secret, error) {
	const op = "secrets.Delete"
	if in.RecoveryDays < 0 || in.RecoveryDays > s.limits().MaxRecoveryDays {
		return nil, fault.E(op, fault.Invalid, fmt.Sprintf("the recovery window is 0 to %d days", s.limits().MaxRecoveryDays))
	}
	var sec *Secret
	err := s.update(ctx, func(tx store.Tx, now time.Time) error {
		var err error
		if sec, err = load(ctx, tx, op, sc, name); err != nil {
			return err
		}
		if err := checkDeletable(op, sec, in); err != nil {
			return err
		}
		if in.RecoveryDays == 0 {
			sec.Status, sec.DeleteAt = store.StatusPendingDelete, now
			return tx.DeleteSecret(ctx, sec.ID)
		}
		sec.Status = store.StatusPendingDelete
		sec.DeleteAt = now.Add(time.Duration(in.RecoveryDays) * 24 * time.Hour)
		return s.touch(ctx, tx, sec, now)
	})
	if err != nil {
		return nil, err
	}
	return sec, nil
}

func checkDeletable(op string, sec *Secret, in DeleteInput) error {
	switch {
	case sec.Status == store.StatusPendingDelete && in.RecoveryDays > 0:
		return statusError(op, sec)
	case sec.Status == store.StatusEnabled && in.RequireDisabled:
		return fault.E(op, fault.WrongState, "secret "+sec.Name+" must be disabled before it is deleted").Because(fault.SecretEnabled)
	case sec.Status == store.StatusCreating:
		return statusError(op, sec)
	}
	return nil
}

// Restore cancels a scheduled deletion. The secret becomes Disabled, or
// Enabled when enable is set. A secret not pending deletion gives
// fault.WrongState with Reason SecretNotPending.
func (s *Service) Restore(ctx context.Context, sc Scope, name string, enable bool) (*Secret, error) {
	const op = "secrets.Restore"
	return s.change(ctx, op, sc, name, func(sec *Secret, _ time.Time) (bool, error) {
		if sec.Status != store.StatusPendingDelete {
			return false, fault.E(op, fault.WrongState, "secret "+sec.Name+" is not scheduled for deletion").Because(fault.SecretNotPending)
		}
		sec.Status, sec.DeleteAt = store.StatusDisabled, time.Time{}
		if enable {
			sec.Status = store.StatusEnabled
		}
		return true, nil
	})
}

// MetaPatch changes a secret's metadata; nil fields stay.
type MetaPatch struct {
	Description *string
	KeyID       *string // CMK id or alias for new versions; "" for the default key
}

// UpdateMeta changes the metadata of an Enabled or Disabled secret.
func (s *Service) UpdateMeta(ctx context.Context, sc Scope, name string, p MetaPatch) (*Secret, error) {
	const op = "secrets.UpdateMeta"
	if p.Description != nil {
		if err := checkDescription(op, *p.Description); err != nil {
			return nil, err
		}
	}
	var sec *Secret
	err := s.update(ctx, func(tx store.Tx, now time.Time) error {
		var err error
		if sec, err = load(ctx, tx, op, sc, name); err != nil {
			return err
		}
		if err := statusError(op, sec, store.StatusEnabled, store.StatusDisabled); err != nil {
			return err
		}
		if p.Description != nil {
			sec.Description = *p.Description
		}
		if p.KeyID != nil {
			key, err := s.keyFor(ctx, tx, op, sc, *p.KeyID, now)
			if err != nil {
				return err
			}
			sec.KeyID = key.ID
		}
		return s.touch(ctx, tx, sec, now)
	})
	if err != nil {
		return nil, err
	}
	return sec, nil
}

// ListInput selects secrets.
type ListInput struct {
	Status Status // "" for any
	Types  []Type
	Search string
	Tags   []store.TagFilter
	Asc    bool
	Offset int
	Limit  int // 0 for 20
}

// List returns a page of the secrets in scope and the number that match.
func (s *Service) List(ctx context.Context, sc Scope, in ListInput) ([]*Secret, int, error) {
	const op = "secrets.List"
	if in.Limit == 0 {
		in.Limit = 20
	}
	if in.Limit < 0 || in.Limit > s.limits().MaxListLimit || in.Offset < 0 {
		return nil, 0, fault.E(op, fault.Invalid, fmt.Sprintf("Limit is 1 to %d and Offset is not negative", s.limits().MaxListLimit))
	}
	q := store.SecretQuery{
		Account: sc.Account, Region: sc.Region, Status: in.Status, Types: in.Types,
		Search: in.Search, Tags: in.Tags, Asc: in.Asc, Offset: in.Offset, Limit: in.Limit,
	}
	var out []*Secret
	var total int
	err := s.view(ctx, func(tx store.Tx, _ time.Time) error {
		var err error
		out, total, err = tx.ListSecrets(ctx, q)
		return err
	})
	return out, total, err
}

// Count returns how many secrets the account holds in the region.
func (s *Service) Count(ctx context.Context, sc Scope) (int, error) {
	var n int
	err := s.view(ctx, func(tx store.Tx, _ time.Time) error {
		var err error
		n, err = tx.CountSecrets(ctx, sc.Account, sc.Region)
		return err
	})
	return n, err
}

// Sweep purges up to limit secrets whose deletion time has come and returns
// how many it purged.
func (s *Service) Sweep(ctx context.Context, limit int) (int, error) {
	var n int
	err := s.update(ctx, func(tx store.Tx, now time.Time) error {
		due, err := tx.SecretsDue(ctx, now, limit)
		if err != nil {
			return fmt.Errorf("find secrets due: %w", err)
		}
		for _, sec := range due {
			if err := tx.DeleteSecret(ctx, sec.ID); err != nil {
				return fmt.Errorf("purge secret %s: %w", sec.ID, err)
			}
		}
		n = len(due)
		return nil
	})
	return n, err
}
