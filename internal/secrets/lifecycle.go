package secrets

import (
	"context"
	"fmt"
	"time"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// change loads a secret, lets fn change it, and stores it when fn reports a change.
func (s *Service) change(ctx context.Context, op string, sc Scope, name string, fn func(sec *Secret, now time.Time) (bool, error)) (*Secret, error) {
	var sec *Secret
	err := s.update(ctx, func(tx store.Tx, now time.Time) error {
		var err error
		if sec, err = loadWritable(ctx, tx, op, sc, name); err != nil {
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
		if sec, err = loadWritable(ctx, tx, op, sc, name); err != nil {
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
	case len(sec.Replicas) > 0:
		// As AWS: replicas go first, so none is left orphaned.
		return fault.E(op, fault.WrongState, "secret "+sec.Name+" is replicated to other regions; remove them from replication (RemoveRegionsFromReplication) before deleting it").Because(fault.HasReplicas)
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
	if err := s.checkPatch(op, p); err != nil {
		return nil, err
	}
	var sec *Secret
	err := s.update(ctx, func(tx store.Tx, now time.Time) error {
		var err error
		sec, err = s.patch(ctx, tx, op, sc, name, p, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return sec, nil
}

func (s *Service) checkPatch(op string, p MetaPatch) error {
	if p.Description != nil {
		return checkDescription(op, *p.Description)
	}
	return nil
}

// patch applies p to the named secret in tx.
func (s *Service) patch(ctx context.Context, tx store.Tx, op string, sc Scope, name string, p MetaPatch, now time.Time) (*Secret, error) {
	sec, err := loadWritable(ctx, tx, op, sc, name)
	if err != nil {
		return nil, err
	}
	if err := statusError(op, sec, store.StatusEnabled, store.StatusDisabled); err != nil {
		return nil, err
	}
	if p.Description == nil && p.KeyID == nil {
		return sec, nil
	}
	if p.Description != nil {
		sec.Description = *p.Description
	}
	if p.KeyID != nil {
		key, err := s.keyFor(ctx, tx, op, sc, *p.KeyID, now)
		if err != nil {
			return nil, err
		}
		sec.KeyID = key.ID
	}
	return sec, s.touch(ctx, tx, sec, now)
}

// Sweep purges up to limit secrets whose deletion time has come and returns
// how many it purged. Each purge is audited as the system's PurgeSecret.
func (s *Service) Sweep(ctx context.Context, limit int) (int, error) {
	var n int
	// Look first in a read transaction: an empty write transaction would
	// still count as a write for the caches that expire on writes.
	var due bool
	if err := s.view(ctx, func(tx store.Tx, now time.Time) error {
		secs, err := tx.SecretsDue(ctx, now, 1)
		due = len(secs) > 0
		return err
	}); err != nil || !due {
		return 0, err
	}
	err := s.update(ctx, func(tx store.Tx, now time.Time) error {
		due, err := tx.SecretsDue(ctx, now, limit)
		if err != nil {
			return fmt.Errorf("find secrets due: %w", err)
		}
		var evs []*audit.Event
		for _, sec := range due {
			if err := tx.DeleteSecret(ctx, sec.ID); err != nil {
				return fmt.Errorf("purge secret %s: %w", sec.ID, err)
			}
			evs = append(evs, purgeEvent(sec, now))
		}
		n = len(due)
		if s.Audit == nil || len(evs) == 0 {
			return nil
		}
		return s.Audit.Append(ctx, tx, evs...)
	})
	if n > 0 && err == nil && s.Audit != nil {
		s.Audit.Notify()
	}
	return n, err
}

func purgeEvent(sec *Secret, now time.Time) *audit.Event {
	return &audit.Event{
		Time: now, Account: sec.Account, PrincipalID: "coffer", PrincipalName: "coffer",
		PrincipalKind: "system", Region: sec.Region, Family: "coffer", Action: "PurgeSecret",
		Resource: sec.Name, RequestID: NewRequestID(),
	}
}
