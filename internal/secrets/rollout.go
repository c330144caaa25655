package secrets

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// StageBeta marks the version a roll-out serves to some callers before it
// becomes current for all.
const StageBeta = "coffer-beta"

// Rollout serves a new version first to the callers a selector matches
// (users, roles, principal tags, or a stable percentage of callers), until
// it is promoted to current or abandoned.
type Rollout struct {
	VersionID string            `json:"VersionId"`
	Users     []string          `json:",omitempty"` // user names or ids; "root" for account roots
	Roles     []string          `json:",omitempty"` // role names (callers with a role's temporary credentials)
	Tags      map[string]string `json:",omitempty"` // principal tags, all of which must match
	Percent   int               `json:",omitempty"` // 0–100: this share of other callers, chosen by a hash of who they are
	Started   time.Time
}

// Caller is who reads a value, for roll-outs. The gate puts it in the context.
type Caller struct {
	ID   string
	Name string
	Kind string // root, user, role
	Tags map[string]string
}

type callerKey struct{}

// WithCaller returns a context carrying the caller of the request.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

func callerOf(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// matches reports whether the roll-out serves its version to c. The
// percentage hashes the secret with the caller, so a caller stays in or out
// of the roll-out for as long as it lasts, and different secrets pick
// different callers.
func (r *Rollout) matches(c Caller, secretID string) bool {
	if c.ID == "" {
		return false
	}
	switch {
	case c.Kind == "role" && slices.Contains(r.Roles, c.Name):
		return true
	case c.Kind != "role" && (slices.Contains(r.Users, c.Name) || slices.Contains(r.Users, c.ID)):
		return true
	}
	if len(r.Tags) > 0 {
		all := true
		for k, v := range r.Tags {
			if c.Tags[k] != v {
				all = false
			}
		}
		if all {
			return true
		}
	}
	if r.Percent <= 0 {
		return false
	}
	sum := sha256.Sum256([]byte(secretID + "\x00" + c.Kind + "\x00" + c.ID))
	return int(binary.BigEndian.Uint64(sum[:8])%100) < r.Percent
}

// RolloutOf returns a secret's roll-out, or nil. It lives among the
// secret's rotation settings (the JSON in Rotation.Rotator), so a rotation
// can start one.
func RolloutOf(sec *Secret) *Rollout {
	// Read on every GetSecretValue of a rotating secret: decode only when
	// a roll-out is there.
	if !strings.Contains(sec.Rotation.Rotator, `"Rollout"`) {
		return nil
	}
	var doc struct{ Rollout *Rollout }
	if json.Unmarshal([]byte(sec.Rotation.Rotator), &doc) != nil {
		return nil
	}
	return doc.Rollout
}

// setRollout stores r (nil to end it) among sec's rotation settings,
// keeping the others.
func setRollout(sec *Secret, r *Rollout) {
	doc := map[string]json.RawMessage{}
	if sec.Rotation.Rotator != "" {
		_ = json.Unmarshal([]byte(sec.Rotation.Rotator), &doc)
	}
	if r == nil {
		delete(doc, "Rollout")
	} else {
		doc["Rollout"], _ = json.Marshal(r)
	}
	if len(doc) == 0 {
		sec.Rotation.Rotator = ""
		return
	}
	b, _ := json.Marshal(doc)
	sec.Rotation.Rotator = string(b)
}

// rolloutVersion returns the version a roll-out serves the caller in ctx
// instead of the current one, or nil.
func rolloutVersion(ctx context.Context, tx store.Tx, sec *Secret) *Version {
	r := RolloutOf(sec)
	if r == nil {
		return nil
	}
	c, ok := callerOf(ctx)
	if !ok || !r.matches(c, sec.ID) {
		return nil
	}
	v, err := tx.Version(ctx, sec.ID, r.VersionID)
	if err != nil {
		return nil // gone: the current version serves everyone
	}
	return v
}

// CheckRollout validates a roll-out.
func CheckRollout(op string, r Rollout) error {
	if err := CheckVersionID(op, r.VersionID); err != nil {
		return err
	}
	if r.Percent < 0 || r.Percent > 100 {
		return fault.E(op, fault.Invalid, "a roll-out's percentage is 0 to 100")
	}
	if len(r.Users)+len(r.Roles)+len(r.Tags) == 0 && r.Percent == 0 {
		return fault.E(op, fault.Invalid, "a roll-out needs users, roles, tags or a percentage to serve")
	}
	if len(r.Users)+len(r.Roles) > 100 || len(r.Tags) > 20 {
		return fault.E(op, fault.Invalid, "a roll-out names at most 100 users and roles and 20 tags")
	}
	return nil
}

// StartRollout serves version r.VersionID first to the callers r selects.
// The version must exist and not be current; it carries StageBeta while
// the roll-out lasts. A roll-out already running is replaced.
func (s *Service) StartRollout(ctx context.Context, sc Scope, name string, r Rollout) (*Secret, error) {
	const op = "secrets.StartRollout"
	if err := CheckRollout(op, r); err != nil {
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
		return s.startRollout(ctx, tx, op, sec, r, now)
	})
	return sec, err
}

// StartRolloutTx starts a roll-out inside tx (a rotation that finishes into
// a roll-out rather than into current).
func (s *Service) StartRolloutTx(ctx context.Context, tx store.Tx, sec *Secret, r Rollout, now time.Time) error {
	const op = "secrets.StartRollout"
	if err := CheckRollout(op, r); err != nil {
		return err
	}
	return s.startRollout(ctx, tx, op, sec, r, now)
}

func (s *Service) startRollout(ctx context.Context, tx store.Tx, op string, sec *Secret, r Rollout, now time.Time) error {
	vs, err := tx.VersionList(ctx, sec.ID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(vs, func(v *Version) bool { return v.ID == r.VersionID })
	if i < 0 {
		return fault.E(op, fault.NotFound, "secret "+sec.Name+" has no version "+r.VersionID).Because(fault.NoSuchVersion)
	}
	if slices.Contains(vs[i].Stages, StageCurrent) {
		return fault.E(op, fault.Invalid, "version "+r.VersionID+" is already current")
	}
	if err := s.relabel(ctx, tx, vs, vs[i], []string{StageBeta}, false); err != nil {
		return err
	}
	r.Started = now
	setRollout(sec, &r)
	return s.touch(ctx, tx, sec, now)
}

// EndRollout ends a secret's roll-out: promote makes its version current
// for everyone; otherwise it is abandoned and the current version serves
// everyone again. It returns fault.WrongState when no roll-out runs.
func (s *Service) EndRollout(ctx context.Context, sc Scope, name string, promote bool) (*Secret, error) {
	const op = "secrets.EndRollout"
	var sec *Secret
	err := s.update(ctx, func(tx store.Tx, now time.Time) error {
		var err error
		if sec, err = loadWritable(ctx, tx, op, sc, name); err != nil {
			return err
		}
		r := RolloutOf(sec)
		if r == nil {
			return fault.E(op, fault.WrongState, "secret "+sec.Name+" has no roll-out")
		}
		vs, err := tx.VersionList(ctx, sec.ID)
		if err != nil {
			return err
		}
		beta := holder(vs, StageBeta)
		if beta != nil {
			if err := s.moveStage(ctx, tx, op, sec, MoveInput{Stage: StageBeta, RemoveFrom: beta.ID}); err != nil {
				return err
			}
		}
		if promote {
			if beta == nil || beta.ID != r.VersionID {
				return fault.E(op, fault.NotFound, "the roll-out's version "+r.VersionID+" is gone").Because(fault.NoSuchVersion)
			}
			from := ""
			if cur := holder(vs, StageCurrent); cur != nil {
				from = cur.ID
			}
			if err := s.moveStage(ctx, tx, op, sec, MoveInput{Stage: StageCurrent, MoveTo: r.VersionID, RemoveFrom: from}); err != nil {
				return err
			}
			audit.NoteVersion(ctx, r.VersionID)
		}
		setRollout(sec, nil)
		return s.touch(ctx, tx, sec, now)
	})
	return sec, err
}
