package secrets

import (
	"context"
	"time"

	"github.com/coffer-secrets/coffer/internal/store"
)

// The methods below let the rotation service (internal/rotation) change a
// secret inside its own transaction, so a rotation step, the version it
// writes and its audit record commit together. They skip the rule that
// managed secrets (database credentials, SSH keys) are not edited by hand:
// the rotation service is the hand that may.

// InTx runs fn in a write transaction that also appends the audit event
// of the call in ctx, retried on optimistic conflicts (audit.Log.Update).
func (s *Service) InTx(ctx context.Context, fn func(tx store.Tx, now time.Time) error) error {
	return s.update(ctx, fn)
}

// Now returns the service's clock at the precision it stores.
func (s *Service) Now() time.Time { return s.now() }

// LoadTx returns the named secret in scope, any status; fault.NotFound when absent.
func (s *Service) LoadTx(ctx context.Context, tx store.Tx, sc Scope, name string) (*Secret, error) {
	return load(ctx, tx, "secrets.Load", sc, name)
}

// CreateTx stores a new secret (of any type) and its first version, as Create does.
func (s *Service) CreateTx(ctx context.Context, tx store.Tx, sc Scope, in CreateInput, now time.Time) (*Secret, *Version, error) {
	const op = "secrets.Create"
	if err := s.checkCreate(op, in); err != nil {
		return nil, nil, err
	}
	return s.create(ctx, tx, op, sc, in, now)
}

// PutManagedTx adds a version to sec (any status but PendingDelete) and
// moves in.Stages to it, as PutValue does, managed or not. At the version
// limit it deletes the oldest versions without stage labels, however
// young: a secret rotating often keeps its newest versions.
func (s *Service) PutManagedTx(ctx context.Context, tx store.Tx, sec *Secret, in PutInput, now time.Time) (*Version, error) {
	const op = "secrets.PutValue"
	if err := s.checkPut(op, in); err != nil {
		return nil, err
	}
	if err := statusError(op, sec, store.StatusEnabled, store.StatusDisabled, store.StatusCreating); err != nil {
		return nil, err
	}
	id := versionID(in.VersionID)
	if old, err := s.existing(ctx, tx, op, sec, id, in); old != nil || err != nil {
		return old, err
	}
	vs, err := s.roomFor(ctx, tx, op, sec, PutInput{PruneDeprecated: true, PruneYoung: true, MaxVersions: in.MaxVersions}, now)
	if err != nil {
		return nil, err
	}
	key, err := s.secretKey(ctx, tx, op, sec)
	if err != nil {
		return nil, err
	}
	ver, err := s.seal(ctx, key, sec, id, in.Value, now)
	if err != nil {
		return nil, err
	}
	ver.Token = in.Token
	if err := s.relabel(ctx, tx, vs, ver, stagesOrCurrent(in.Stages), true); err != nil {
		return nil, err
	}
	return strip(ver), s.touch(ctx, tx, sec, now)
}

// ValueTx opens a version of sec, chosen by sel, in any status: a rotation
// reads the current value of a secret it is about to change. It records no
// access: the rotation's own audit events say what it did.
func (s *Service) ValueTx(ctx context.Context, tx store.Tx, sec *Secret, sel Selector) (*Version, Value, error) {
	const op = "secrets.Value"
	ver, err := pick(ctx, tx, op, sec, sel)
	if err != nil {
		return nil, Value{}, err
	}
	val, err := s.open(ctx, tx, op, sec, ver)
	if err != nil {
		return nil, Value{}, err
	}
	return strip(ver), val, nil
}

// MoveStageTx moves a stage label between versions of sec, as MoveStage does.
func (s *Service) MoveStageTx(ctx context.Context, tx store.Tx, sec *Secret, in MoveInput, now time.Time) error {
	const op = "secrets.MoveStage"
	if err := checkStages(op, []string{in.Stage}); err != nil {
		return err
	}
	if err := s.moveStage(ctx, tx, op, sec, in); err != nil {
		return err
	}
	return s.touch(ctx, tx, sec, now)
}

// DeleteVersionTx removes a version of sec, managed or not.
func (s *Service) DeleteVersionTx(ctx context.Context, tx store.Tx, sec *Secret, versionID string, now time.Time) error {
	return s.deleteVersion(ctx, tx, "secrets.DeleteVersion", sec, versionID, now)
}

// SaveTx stores sec's metadata (its rotation settings, its status) as
// changed now.
func (s *Service) SaveTx(ctx context.Context, tx store.Tx, sec *Secret, now time.Time) error {
	return s.touch(ctx, tx, sec, now)
}
