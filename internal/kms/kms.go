// Package kms manages customer master keys (CMKs): their life cycle
// (enable, disable, scheduled deletion, crypto-shredding), their rotation
// (a new key version, and a background re-wrap of existing data keys), and
// direct cryptographic use (Encrypt, Decrypt, GenerateDataKey, ReEncrypt),
// in Tencent KMS's terms. Secrets name their CMK; a key's state decides
// whether the secrets under it can be read.
package kms

import (
	"context"
	"crypto/rand"
	"fmt"
	"regexp"
	"time"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/keys"
	"github.com/coffer-secrets/coffer/internal/store"
)

// Reasons refine fault kinds where KMS names cases apart.
const (
	CmkNotFound          fault.Reason = "cmk not found"
	CmkDisabled          fault.Reason = "cmk disabled"
	CmkPendingDelete     fault.Reason = "cmk pending deletion"
	CmkShouldBeDisabled  fault.Reason = "cmk must be disabled first"
	CmkNotPendingDelete  fault.Reason = "cmk not pending deletion"
	CmkStateNotSupported fault.Reason = "cmk state does not allow this"
	AliasExists          fault.Reason = "alias exists"
	BadAlias             fault.Reason = "bad alias"
	BadCiphertext        fault.Reason = "bad ciphertext"
	DefaultKeyFixed      fault.Reason = "the default key cannot change state"
)

// Limits.
const (
	MaxKeysPerRegion = 1000
	MaxPlaintext     = 4096
	MinDeleteDays    = 7
	MaxDeleteDays    = 30
	DefaultRotation  = 365 // days
)

var alias = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,59}$`)

// Scope is one account in one region: keys are regional.
type Scope struct {
	Account, Region string
}

// Service manages CMKs.
type Service struct {
	Store store.Store
	Keys  *keys.Keyring
	Audit *audit.Log // nil: changes are not audited (unit tests)
	Clock func() time.Time
}

func (s *Service) now() time.Time {
	if s.Clock != nil {
		return s.Clock().UTC().Truncate(time.Millisecond)
	}
	return time.Now().UTC().Truncate(time.Millisecond)
}

// update runs fn in a write transaction with the call's audit event, as
// the secrets core does (audit.Log.Update).
func (s *Service) update(ctx context.Context, fn func(tx store.Tx, now time.Time) error) error {
	return s.Audit.Update(ctx, s.Store, s.now, fn)
}

// load returns a key of the scope by id or alias. A deleted key, or one of
// another account or region, is NotFound with reason CmkNotFound.
func load(ctx context.Context, tx store.Tx, op string, sc Scope, ref string) (*store.Key, error) {
	k, err := tx.Key(ctx, sc.Account, sc.Region, ref)
	if fault.Is(err, fault.NotFound) {
		k, err = tx.KeyByAlias(ctx, sc.Account, sc.Region, ref)
	}
	if err == nil && k.State == store.KeyDeleted {
		err = fault.E(op, fault.NotFound, "")
	}
	if fault.Is(err, fault.NotFound) {
		return nil, fault.E(op, fault.NotFound, "key "+ref+" does not exist in this region").Because(CmkNotFound)
	}
	return k, err
}

// NewKeyID returns a CMK id shaped like Tencent's: a UUID.
func NewKeyID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// CreateInput creates a CMK.
type CreateInput struct {
	Alias       string
	Description string
	CreatedBy   string
}

// Create creates an enabled CMK with one version of fresh material.
func (s *Service) Create(ctx context.Context, sc Scope, in CreateInput) (*store.Key, error) {
	const op = "kms.CreateKey"
	if !alias.MatchString(in.Alias) {
		return nil, fault.E(op, fault.Invalid, "Alias must be 1 to 60 characters of letters, digits, _ and -, starting with a letter or digit").Because(BadAlias)
	}
	if len(in.Description) > 1024 {
		return nil, fault.E(op, fault.Invalid, "Description is at most 1024 bytes")
	}
	var k *store.Key
	err := s.update(ctx, func(tx store.Tx, now time.Time) error {
		ks, err := tx.Keys(ctx, sc.Account, sc.Region)
		if err != nil {
			return err
		}
		if len(ks) >= MaxKeysPerRegion {
			return fault.E(op, fault.Limit, fmt.Sprintf("an account holds at most %d keys in a region", MaxKeysPerRegion))
		}
		k = &store.Key{ID: NewKeyID(), Account: sc.Account, Region: sc.Region, Alias: in.Alias, Description: in.Description,
			State: store.KeyEnabled, CreatedAt: now}
		if err := s.Keys.AddVersion(ctx, k, now); err != nil {
			return err
		}
		if err := tx.InsertKey(ctx, k); fault.Is(err, fault.Exists) {
			return fault.E(op, fault.Exists, "a key with alias "+in.Alias+" already exists").Because(AliasExists)
		} else if err != nil {
			return err
		}
		return nil
	})
	return k, err
}

// Describe returns a key by id or alias.
func (s *Service) Describe(ctx context.Context, sc Scope, ref string) (*store.Key, error) {
	var k *store.Key
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		k, err = load(ctx, tx, "kms.DescribeKey", sc, ref)
		return err
	})
	return k, err
}

// List returns the scope's keys that still exist, oldest first: the keys
// users created (service false) or the default keys services created (true).
func (s *Service) List(ctx context.Context, sc Scope, service bool) ([]*store.Key, error) {
	var out []*store.Key
	err := s.Store.View(ctx, func(tx store.Tx) error {
		ks, err := tx.Keys(ctx, sc.Account, sc.Region)
		for _, k := range ks {
			if k.State != store.KeyDeleted && k.Default == service {
				out = append(out, k)
			}
		}
		return err
	})
	return out, err
}

// change loads a key, applies fn and stores it.
func (s *Service) change(ctx context.Context, op string, sc Scope, ref string, fn func(k *store.Key, now time.Time) error) (*store.Key, error) {
	var out *store.Key
	err := s.update(ctx, func(tx store.Tx, now time.Time) error {
		k, err := load(ctx, tx, op, sc, ref)
		if err != nil {
			return err
		}
		if err := fn(k, now); err != nil {
			return err
		}
		if err := tx.UpdateKey(ctx, k); fault.Is(err, fault.Exists) {
			return fault.E(op, fault.Exists, "a key with alias "+k.Alias+" already exists").Because(AliasExists)
		} else if err != nil {
			return err
		}
		out = k
		return nil
	})
	return out, err
}

func notPendingDelete(op string, k *store.Key) error {
	if k.State == store.KeyPendingDeletion {
		return fault.E(op, fault.WrongState, "key "+k.ID+" is pending deletion").Because(CmkStateNotSupported)
	}
	return nil
}

// UpdateAlias renames a key.
func (s *Service) UpdateAlias(ctx context.Context, sc Scope, ref, newAlias string) (*store.Key, error) {
	const op = "kms.UpdateAlias"
	if !alias.MatchString(newAlias) {
		return nil, fault.E(op, fault.Invalid, "Alias must be 1 to 60 characters of letters, digits, _ and -, starting with a letter or digit").Because(BadAlias)
	}
	return s.change(ctx, op, sc, ref, func(k *store.Key, _ time.Time) error {
		if k.Default {
			return fault.E(op, fault.WrongState, "the default key keeps its alias").Because(DefaultKeyFixed)
		}
		if err := notPendingDelete(op, k); err != nil {
			return err
		}
		k.Alias = newAlias
		return nil
	})
}

// UpdateDescription changes a key's description.
func (s *Service) UpdateDescription(ctx context.Context, sc Scope, ref, description string) (*store.Key, error) {
	const op = "kms.UpdateKeyDescription"
	if len(description) > 1024 {
		return nil, fault.E(op, fault.Invalid, "Description is at most 1024 bytes")
	}
	return s.change(ctx, op, sc, ref, func(k *store.Key, _ time.Time) error {
		if err := notPendingDelete(op, k); err != nil {
			return err
		}
		k.Description = description
		return nil
	})
}

// Enable enables a disabled key: the secrets under it can be read again.
func (s *Service) Enable(ctx context.Context, sc Scope, ref string) (*store.Key, error) {
	const op = "kms.EnableKey"
	return s.change(ctx, op, sc, ref, func(k *store.Key, _ time.Time) error {
		switch k.State {
		case store.KeyEnabled:
			return nil
		case store.KeyDisabled:
			k.State = store.KeyEnabled
			return nil
		}
		return fault.E(op, fault.WrongState, "key "+k.ID+" is "+string(k.State)).Because(CmkStateNotSupported)
	})
}

// Disable disables a key: nothing under it can be sealed or opened until
// it is enabled again.
func (s *Service) Disable(ctx context.Context, sc Scope, ref string) (*store.Key, error) {
	const op = "kms.DisableKey"
	return s.change(ctx, op, sc, ref, func(k *store.Key, _ time.Time) error {
		switch k.State {
		case store.KeyDisabled:
			return nil
		case store.KeyEnabled:
			if k.Default {
				return fault.E(op, fault.WrongState, "the default key of an account cannot be disabled").Because(DefaultKeyFixed)
			}
			k.State = store.KeyDisabled
			return nil
		}
		return fault.E(op, fault.WrongState, "key "+k.ID+" is "+string(k.State)).Because(CmkStateNotSupported)
	})
}

// ScheduleDeletion puts a disabled key in PendingDelete for days (7–30);
// when the window passes, the sweeper destroys its material.
func (s *Service) ScheduleDeletion(ctx context.Context, sc Scope, ref string, days int) (*store.Key, error) {
	const op = "kms.ScheduleKeyDeletion"
	if days < MinDeleteDays || days > MaxDeleteDays {
		return nil, fault.E(op, fault.Invalid, fmt.Sprintf("PendingWindowInDays must be %d to %d", MinDeleteDays, MaxDeleteDays))
	}
	return s.change(ctx, op, sc, ref, func(k *store.Key, now time.Time) error {
		if k.State != store.KeyDisabled {
			return fault.E(op, fault.WrongState, "disable key "+k.ID+" before scheduling its deletion").Because(CmkShouldBeDisabled)
		}
		k.State, k.DeleteAt = store.KeyPendingDeletion, now.Add(time.Duration(days)*24*time.Hour)
		return nil
	})
}

// CancelDeletion takes a key out of PendingDelete, back to Disabled.
func (s *Service) CancelDeletion(ctx context.Context, sc Scope, ref string) (*store.Key, error) {
	const op = "kms.CancelKeyDeletion"
	return s.change(ctx, op, sc, ref, func(k *store.Key, _ time.Time) error {
		if k.State != store.KeyPendingDeletion {
			return fault.E(op, fault.WrongState, "key "+k.ID+" is not pending deletion").Because(CmkNotPendingDelete)
		}
		k.State, k.DeleteAt = store.KeyDisabled, time.Time{}
		return nil
	})
}

// SetRotation turns scheduled rotation on (every days days; 0 means 365)
// or off.
func (s *Service) SetRotation(ctx context.Context, sc Scope, ref string, enabled bool, days int) (*store.Key, error) {
	const op = "kms.EnableKeyRotation"
	if days == 0 {
		days = DefaultRotation
	}
	if enabled && (days < 7 || days > 365) {
		return nil, fault.E(op, fault.Invalid, "RotateDays must be 7 to 365")
	}
	return s.change(ctx, op, sc, ref, func(k *store.Key, now time.Time) error {
		if k.State != store.KeyEnabled {
			return fault.E(op, fault.WrongState, "key "+k.ID+" is "+string(k.State)).Because(CmkStateNotSupported)
		}
		k.Rotation.Enabled = enabled
		if enabled {
			k.Rotation.Days = days
			k.Rotation.Next = now.Add(time.Duration(days) * 24 * time.Hour)
		} else {
			k.Rotation.Next = time.Time{}
		}
		return nil
	})
}

// Rotate gives a key a new version now: new data keys are wrapped by it;
// the re-wrap job moves existing ones forward.
func (s *Service) Rotate(ctx context.Context, sc Scope, ref string) (*store.Key, error) {
	const op = "kms.RotateKeyOnDemand"
	return s.change(ctx, op, sc, ref, func(k *store.Key, now time.Time) error {
		if k.State != store.KeyEnabled {
			return fault.E(op, fault.WrongState, "key "+k.ID+" is "+string(k.State)).Because(CmkStateNotSupported)
		}
		return s.rotate(ctx, k, now)
	})
}

func (s *Service) rotate(ctx context.Context, k *store.Key, now time.Time) error {
	if err := s.Keys.AddVersion(ctx, k, now); err != nil {
		return err
	}
	k.Rotation.Last = now
	if k.Rotation.Enabled {
		k.Rotation.Next = now.Add(time.Duration(k.Rotation.Days) * 24 * time.Hour)
	}
	return nil
}

// RewrapStatus says how far the re-wrap of a key's data keys has come.
type RewrapStatus struct {
	Versions int // secret versions whose data key this CMK wraps
	Pending  int // of those, wrapped by an older CMK version
}

// Status returns a key's re-wrap progress.
func (s *Service) Status(ctx context.Context, sc Scope, ref string) (*store.Key, RewrapStatus, error) {
	var k *store.Key
	var st RewrapStatus
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		if k, err = load(ctx, tx, "kms.GetKeyRotationStatus", sc, ref); err != nil {
			return err
		}
		st.Versions, st.Pending, err = tx.CountVersionsByKey(ctx, k.ID, len(k.Material))
		return err
	})
	return k, st, err
}
