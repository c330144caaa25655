package secrets

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// MoveInput moves one stage label between versions.
type MoveInput struct {
	Stage      string
	MoveTo     string // the version to attach the label to; "" to only detach
	RemoveFrom string // the version that holds it now; required when one does
}

// MoveStage attaches a stage label to one version and removes it from
// another, as AWS UpdateSecretVersionStage does: moving current makes its
// old holder previous. It returns fault.Invalid when RemoveFrom does not
// name the label's holder or a named version does not exist, and
// fault.WrongState for a secret pending deletion.
func (s *Service) MoveStage(ctx context.Context, sc Scope, name string, in MoveInput) (*Secret, error) {
	const op = "secrets.MoveStage"
	if err := checkStages(op, []string{in.Stage}); err != nil {
		return nil, err
	}
	var sec *Secret
	err := s.update(ctx, func(tx store.Tx, now time.Time) error {
		var err error
		if sec, err = loadWritable(ctx, tx, op, sc, name); err != nil {
			return err
		}
		if err := statusError(op, sec, store.StatusEnabled, store.StatusDisabled); err != nil {
			return err
		}
		if err := s.moveStage(ctx, tx, op, sec, in); err != nil {
			return err
		}
		return s.touch(ctx, tx, sec, now)
	})
	if err != nil {
		return nil, err
	}
	return sec, nil
}

func (s *Service) moveStage(ctx context.Context, tx store.Tx, op string, sec *Secret, in MoveInput) error {
	vs, err := tx.VersionList(ctx, sec.ID) // labels only: relabel stores nothing else
	if err != nil {
		return fmt.Errorf("list versions: %w", err)
	}
	find := func(id string) (*Version, error) {
		if i := slices.IndexFunc(vs, func(v *Version) bool { return v.ID == id }); i >= 0 {
			return vs[i], nil
		}
		return nil, fault.E(op, fault.Invalid, "secret "+sec.Name+" has no version "+id)
	}
	h := holder(vs, in.Stage)
	if h != nil && h.ID != in.MoveTo && h.ID != in.RemoveFrom {
		if in.RemoveFrom == "" {
			return fault.E(op, fault.Invalid, fmt.Sprintf("stage %s is attached to version %s; name it in RemoveFromVersionId to move the stage", in.Stage, h.ID))
		}
		return fault.E(op, fault.Invalid, fmt.Sprintf("stage %s is attached to version %s, not %s", in.Stage, h.ID, in.RemoveFrom))
	}
	if in.RemoveFrom != "" {
		if _, err := find(in.RemoveFrom); err != nil {
			return err
		}
	}
	if in.MoveTo == "" {
		for _, v := range detachOnly(h, in.Stage) {
			if err := tx.SetStages(ctx, v.SecretID, v.ID, v.Stages); err != nil {
				return fmt.Errorf("update version %s: %w", v.ID, err)
			}
		}
		return nil
	}
	target, err := find(in.MoveTo)
	if err != nil {
		return err
	}
	return s.relabel(ctx, tx, vs, target, []string{in.Stage}, false)
}
