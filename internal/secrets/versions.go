package secrets

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// Selector picks a version: by id, by stage label, or (both empty) the current one.
type Selector struct {
	VersionID string
	Stage     string
	// OrStage picks the version holding this stage when no version has
	// VersionID (Tencent's SSM_Current names the current version so).
	OrStage string
}

// GetValue returns a version of an Enabled secret and its value. It returns
// fault.NotFound for an unknown secret, version or stage (Reasons
// NoSuchVersion, NoSuchStage), fault.Invalid when the version does not carry
// the stage, and fault.WrongState for a secret that is not Enabled.
func (s *Service) GetValue(ctx context.Context, sc Scope, name string, sel Selector) (*Secret, *Version, Value, error) {
	const op = "secrets.GetValue"
	sec, ver, key, err := s.readVersion(ctx, op, sc, name, sel)
	if err != nil {
		return nil, nil, Value{}, err
	}
	val, err := s.openWith(ctx, op, sec, ver, key)
	if err != nil {
		return nil, nil, Value{}, err
	}
	if err := s.noteAccess(ctx, sec); err != nil {
		return nil, nil, Value{}, err
	}
	s.checkedCache().accessed(sec)
	audit.NoteRead(ctx, sec.Name, ver.ID)
	return sec, strip(ver), val, nil
}

// readVersion returns an Enabled secret, the version sel picks and the CMK
// that seals it: from the read cache when it holds all three, else from a
// read transaction, whose results the cache then keeps. A version picked
// by a roll-out depends on the caller and is never kept.
func (s *Service) readVersion(ctx context.Context, op string, sc Scope, name string, sel Selector) (*Secret, *Version, *store.Key, error) {
	c := s.readCache()
	if sec, ver, key, ok := s.checkedRead(ctx, sc, name, sel); ok {
		return sec, ver, key, nil
	}
	if c != nil {
		sec, err := loadForRead(ctx, sc, name, func() (*Secret, error) { return s.cachedSecret(ctx, op, sc, name) })
		if err != nil {
			return nil, nil, nil, err
		}
		if err := statusError(op, sec, store.StatusEnabled); err != nil {
			return nil, nil, nil, err
		}
		if RolloutOf(sec) == nil {
			if v, ok := c.version(sc, sec.Name, sec.ID, sel); ok {
				if k, ok := c.key(sec.Account, sec.Region, v.KeyID); ok {
					return sec, v, k, nil
				}
			}
		}
	}
	gen := c.start()
	var sec *Secret
	var ver *Version
	var key *store.Key
	err := s.view(ctx, func(tx store.Tx, _ time.Time) error {
		var err error
		fresh := func() (*Secret, error) { return load(ctx, tx, op, sc, name) }
		if c != nil {
			sec, err = fresh() // kept below: read in this transaction
		} else {
			sec, err = loadForRead(ctx, sc, name, fresh)
		}
		if err != nil {
			return err
		}
		if err := statusError(op, sec, store.StatusEnabled); err != nil {
			return err
		}
		if ver, err = pick(ctx, tx, op, sec, sel); err != nil {
			return err
		}
		key, err = s.versionKey(ctx, tx, op, sec, ver)
		return err
	})
	if err != nil {
		return nil, nil, nil, err
	}
	if c != nil && RolloutOf(sec) == nil {
		c.putSecret(gen, sec)
		c.putVersion(gen, sec, sel, ver)
		c.putKey(gen, key)
	}
	s.checkedCache().keepRead(sec, sel, ver, key)
	return sec, ver, key, nil
}

// noteAccess records the day a secret's value was last read (AWS's
// LastAccessedDate has day granularity), so a secret read all day long
// costs one write a day, not one per read.
func (s *Service) noteAccess(ctx context.Context, sec *Secret) error {
	day := s.now().Truncate(24 * time.Hour)
	if !sec.AccessedAt.Before(day) {
		return nil
	}
	err := s.Store.Update(ctx, func(tx store.Tx) error { return tx.SetAccessed(ctx, sec.ID, day) })
	if err != nil && !fault.Is(err, fault.NotFound) { // deleted meanwhile: nothing to note
		return fmt.Errorf("note access: %w", err)
	}
	sec.AccessedAt = day
	return nil
}

func pick(ctx context.Context, tx store.Tx, op string, sec *Secret, sel Selector) (*Version, error) {
	if sel.OrStage != "" && sel.Stage == "" && sec.Rotation.Rotator != "" {
		// A secret that rotates: Tencent's SSM_Current is the version its
		// rotations made current, not the first version that bears the name.
		sel = Selector{Stage: sel.OrStage}
	}
	if sel.VersionID == "" && (sel.Stage == "" || sel.Stage == StageCurrent) {
		if v := rolloutVersion(ctx, tx, sec); v != nil {
			return v, nil
		}
	}
	if sel.VersionID == "" {
		stage := sel.Stage
		if stage == "" {
			stage = StageCurrent
		}
		return byStage(ctx, tx, op, sec, stage)
	}
	v, err := tx.Version(ctx, sec.ID, sel.VersionID)
	if fault.Is(err, fault.NotFound) && sel.OrStage == StageCurrent {
		if v := rolloutVersion(ctx, tx, sec); v != nil {
			return v, nil
		}
	}
	if fault.Is(err, fault.NotFound) && sel.OrStage != "" {
		return byStage(ctx, tx, op, sec, sel.OrStage)
	}
	if fault.Is(err, fault.NotFound) {
		return nil, fault.E(op, fault.NotFound, "secret "+sec.Name+" has no version "+sel.VersionID).Because(fault.NoSuchVersion)
	} else if err != nil {
		return nil, err
	}
	if sel.Stage != "" && !slices.Contains(v.Stages, sel.Stage) {
		return nil, fault.E(op, fault.Invalid, "version "+sel.VersionID+" does not carry stage "+sel.Stage).Because(fault.StageMismatch)
	}
	return v, nil
}

func byStage(ctx context.Context, tx store.Tx, op string, sec *Secret, stage string) (*Version, error) {
	v, err := tx.VersionByStage(ctx, sec.ID, stage)
	if fault.Is(err, fault.NotFound) {
		return nil, fault.E(op, fault.NotFound, "secret "+sec.Name+" has no version with stage "+stage).Because(fault.NoSuchStage)
	}
	return v, err
}

// PutInput describes a new version.
type PutInput struct {
	VersionID string // "" for a generated id
	Value     Value
	Stages    []string // nil for [current]
	Token     string   // idempotency token

	// MaxVersions overrides Limits.MaxVersions for this call (an API
	// family's own limit); 0 keeps the service's.
	MaxVersions int
	// PruneDeprecated makes room by deleting versions without stage labels,
	// oldest first, never one younger than a day (the AWS rule), before
	// the version limit applies.
	PruneDeprecated bool
	// PruneYoung lets PruneDeprecated delete versions younger than a day
	// too (a rotation's own history).
	PruneYoung bool
}

// PutValue adds a version to an Enabled or Disabled secret and moves its
// stage labels to it. A retry whose token and value match an existing
// version returns that version unchanged. It returns fault.Exists for a
// taken version id (Reason VersionExists) or a token reused with another
// value (TokenReused), fault.Limit when the secret holds the most versions
// allowed, and fault.WrongState for other statuses or rotated secrets.
func (s *Service) PutValue(ctx context.Context, sc Scope, name string, in PutInput) (*Secret, *Version, error) {
	const op = "secrets.PutValue"
	if err := s.checkPut(op, in); err != nil {
		return nil, nil, err
	}
	var sec *Secret
	var ver *Version
	err := s.update(ctx, func(tx store.Tx, now time.Time) error {
		var err error
		sec, ver, err = s.put(ctx, tx, op, sc, name, in, now)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return sec, strip(ver), nil
}

func (s *Service) checkPut(op string, in PutInput) error {
	if in.VersionID != "" {
		if err := CheckVersionID(op, in.VersionID); err != nil {
			return err
		}
	}
	if err := checkStages(op, in.Stages); err != nil {
		return err
	}
	return s.checkValue(op, in.Value)
}

func (s *Service) put(ctx context.Context, tx store.Tx, op string, sc Scope, name string, in PutInput, now time.Time) (*Secret, *Version, error) {
	sec, err := s.writable(ctx, tx, op, sc, name)
	if err != nil {
		return nil, nil, err
	}
	id := versionID(in.VersionID)
	if old, err := s.existing(ctx, tx, op, sec, id, in); old != nil || err != nil {
		return sec, old, err
	}
	vs, err := s.roomFor(ctx, tx, op, sec, in, now)
	if err != nil {
		return nil, nil, err
	}
	key, err := s.secretKey(ctx, tx, op, sec)
	if err != nil {
		return nil, nil, err
	}
	ver, err := s.seal(ctx, key, sec, id, in.Value, now)
	if err != nil {
		return nil, nil, err
	}
	ver.Token = in.Token
	if err := s.relabel(ctx, tx, vs, ver, stagesOrCurrent(in.Stages), true); err != nil {
		return nil, nil, err
	}
	audit.NoteVersion(ctx, ver.ID)
	return sec, ver, s.touchVersions(ctx, tx, sec, now)
}

// roomFor returns the versions of sec that carry labels after making room
// for one more: pruning deprecated versions when asked, then refusing at
// the limit. Below the limit it reads only the labels and the count
// (store.StageHolders: versions with ids and labels only); at the limit it
// reads the version list (without sealed values) to choose what to prune.
func (s *Service) roomFor(ctx context.Context, tx store.Tx, op string, sec *Secret, in PutInput, now time.Time) ([]*Version, error) {
	holders, n, err := tx.StageHolders(ctx, sec.ID)
	if err != nil {
		return nil, fmt.Errorf("read version labels: %w", err)
	}
	limit := in.MaxVersions
	if limit == 0 {
		limit = s.limits().MaxVersions
	}
	if n < limit {
		return holders, nil
	}
	if !in.PruneDeprecated {
		return nil, errVersionLimit(op, sec, n)
	}
	vs, err := tx.VersionList(ctx, sec.ID)
	if err != nil {
		return nil, fmt.Errorf("list versions: %w", err)
	}
	for i := 0; len(vs) >= limit && i < len(vs); {
		if v := vs[i]; len(v.Stages) == 0 && (in.PruneYoung || now.Sub(v.CreatedAt) >= 24*time.Hour) {
			if err := tx.DeleteVersion(ctx, sec.ID, v.ID); err != nil {
				return nil, fmt.Errorf("prune version %s: %w", v.ID, err)
			}
			vs = slices.Delete(vs, i, i+1)
			continue
		}
		i++
	}
	if len(vs) >= limit {
		return nil, errVersionLimit(op, sec, len(vs))
	}
	return vs, nil
}

func errVersionLimit(op string, sec *Secret, n int) error {
	return fault.E(op, fault.Limit, fmt.Sprintf("secret %s holds %d versions, the limit", sec.Name, n))
}

// existing answers a put whose version id or token is already used: the
// same token and value is an idempotent retry, anything else is Exists.
func (s *Service) existing(ctx context.Context, tx store.Tx, op string, sec *Secret, id string, in PutInput) (*Version, error) {
	old, err := tx.Version(ctx, sec.ID, id)
	if fault.Is(err, fault.NotFound) && in.Token != "" {
		old, err = tx.VersionByToken(ctx, sec.ID, in.Token)
	}
	if fault.Is(err, fault.NotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if in.Token == "" || old.Token != in.Token {
		return nil, fault.E(op, fault.Exists, "secret "+sec.Name+" already has version "+id).Because(fault.VersionExists)
	}
	if err := s.sameValue(ctx, tx, op, sec, old, in.Value); err != nil {
		return nil, err
	}
	return old, nil
}

// relabel attaches labels to ver (inserting it when isNew) and stores the
// labels of every version whose labels moved (only the labels: vs may come
// without sealed values). No label is ever on two versions, even in
// between (writeLabels).
func (s *Service) relabel(ctx context.Context, tx store.Tx, vs []*Version, ver *Version, labels []string, isNew bool) error {
	stored := make(map[*Version][]string, len(vs)+1)
	for _, v := range vs {
		stored[v] = slices.Clone(v.Stages)
	}
	targetBefore := slices.Clone(ver.Stages)
	changed := attach(vs, ver, labels)
	if n := labelCount(vs, ver); n > maxLabels {
		return fault.E("secrets.relabel", fault.Limit, fmt.Sprintf("a secret carries at most %d stage labels across its versions; this would make %d", maxLabels, n))
	}
	pending := slices.Clone(changed)
	if !isNew {
		stored[ver] = targetBefore
		pending = append(pending, ver) // the target may lose labels too (previous, in a swap)
	}
	if err := writeLabels(ctx, tx, stored, pending); err != nil {
		return err
	}
	if isNew {
		return tx.InsertVersion(ctx, ver) // every label it takes is free by now
	}
	return nil
}

// writeLabels stores the final labels (v.Stages) of the versions in
// pending, whose stored labels stored holds, with one write a version
// where it can. A version is written once no other version still stores a
// label it gains: a put writes the old previous version (it loses its
// label), then the old current one (it becomes previous). Versions that
// wait on one another (two swapping labels) first drop the labels they
// lose, and then take the new ones.
func writeLabels(ctx context.Context, tx store.Tx, stored map[*Version][]string, pending []*Version) error {
	set := func(v *Version, labels []string) error {
		if err := tx.SetStages(ctx, v.SecretID, v.ID, labels); err != nil {
			return fmt.Errorf("update version %s: %w", v.ID, err)
		}
		stored[v] = labels
		return nil
	}
	// taken reports whether a version other than v stores a label v gains.
	taken := func(v *Version) bool {
		for _, l := range v.Stages {
			if slices.Contains(stored[v], l) {
				continue
			}
			for o, ls := range stored {
				if o != v && slices.Contains(ls, l) {
					return true
				}
			}
		}
		return false
	}
	dropped := false
	for len(pending) > 0 {
		var waiting []*Version
		for _, v := range pending {
			switch {
			case sameLabels(stored[v], v.Stages):
			case taken(v):
				waiting = append(waiting, v)
			default:
				if err := set(v, slices.Clone(v.Stages)); err != nil {
					return err
				}
			}
		}
		if len(waiting) == len(pending) {
			if dropped { // cannot happen: attach took every label it moves off its holder
				return fault.E("secrets.relabel", fault.Internal, "stage labels could not be placed")
			}
			for _, v := range waiting {
				if kept := intersect(stored[v], v.Stages); len(kept) < len(stored[v]) {
					if err := set(v, kept); err != nil {
						return err
					}
				}
			}
			dropped = true
		} else {
			dropped = false
		}
		pending = waiting
	}
	return nil
}

// sameLabels reports whether a and b hold the same labels, in any order.
func sameLabels(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, l := range a {
		if !slices.Contains(b, l) {
			return false
		}
	}
	return true
}

// maxLabels bounds the stage labels of one secret, across its versions (AWS's quota).
const maxLabels = 20

// labelCount returns how many labels vs and ver carry together.
func labelCount(vs []*Version, ver *Version) int {
	n := len(ver.Stages)
	for _, v := range vs {
		if v != ver {
			n += len(v.Stages)
		}
	}
	return n
}

func intersect(a, b []string) []string {
	var out []string
	for _, s := range a {
		if slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// writable loads a secret whose values may be changed by hand.
func (s *Service) writable(ctx context.Context, tx store.Tx, op string, sc Scope, name string) (*Secret, error) {
	sec, err := loadWritable(ctx, tx, op, sc, name)
	if err != nil {
		return nil, err
	}
	if err := statusError(op, sec, store.StatusEnabled, store.StatusDisabled); err != nil {
		return nil, err
	}
	return sec, denyManaged(op, sec)
}

// touch records that sec changed now.
func (s *Service) touch(ctx context.Context, tx store.Tx, sec *Secret, now time.Time) error {
	sec.UpdatedAt = now
	if err := tx.UpdateSecret(ctx, sec); err != nil {
		return fmt.Errorf("update secret: %w", err)
	}
	return nil
}

// touchVersions is touch for a write that changed only sec's versions:
// it stores UpdatedAt and nothing else of sec (a statement, where touch
// rewrites the row and its tags). A caller that changed a field of sec
// must call touch.
func (s *Service) touchVersions(ctx context.Context, tx store.Tx, sec *Secret, now time.Time) error {
	sec.UpdatedAt = now
	if err := tx.TouchSecret(ctx, sec); err != nil {
		return fmt.Errorf("touch secret: %w", err)
	}
	return nil
}

// Overwrite replaces the value of an existing version in place, sealing it
// under a fresh data key; its stage labels stay. It returns fault.NotFound
// for an unknown version and fault.WrongState as PutValue does.
func (s *Service) Overwrite(ctx context.Context, sc Scope, name, versionID string, v Value) (*Version, error) {
	const op = "secrets.Overwrite"
	if err := CheckVersionID(op, versionID); err != nil {
		return nil, err
	}
	if err := s.checkValue(op, v); err != nil {
		return nil, err
	}
	var ver *Version
	err := s.update(ctx, func(tx store.Tx, now time.Time) error {
		sec, err := s.writable(ctx, tx, op, sc, name)
		if err != nil {
			return err
		}
		if ver, err = pick(ctx, tx, op, sec, Selector{VersionID: versionID}); err != nil {
			return err
		}
		if err := s.reseal(ctx, tx, op, sec, ver, v); err != nil {
			return err
		}
		audit.NoteVersion(ctx, ver.ID)
		if err := tx.UpdateVersion(ctx, ver); err != nil {
			return fmt.Errorf("update version: %w", err)
		}
		return s.touchVersions(ctx, tx, sec, now)
	})
	return strip(ver), err
}

// DeleteVersion removes one version of a secret in any status but
// Creating. When it held current, the newest remaining version becomes
// current. It returns fault.NotFound for an unknown version.
func (s *Service) DeleteVersion(ctx context.Context, sc Scope, name, versionID string) error {
	const op = "secrets.DeleteVersion"
	if err := CheckVersionID(op, versionID); err != nil {
		return err
	}
	return s.update(ctx, func(tx store.Tx, now time.Time) error {
		sec, err := loadWritable(ctx, tx, op, sc, name)
		if err != nil {
			return err
		}
		if err := statusError(op, sec, store.StatusEnabled, store.StatusDisabled, store.StatusPendingDelete); err != nil {
			return err
		}
		if err := denyManaged(op, sec); err != nil {
			return err
		}
		return s.deleteVersion(ctx, tx, op, sec, versionID, now)
	})
}

func (s *Service) deleteVersion(ctx context.Context, tx store.Tx, op string, sec *Secret, versionID string, now time.Time) error {
	vs, _, err := tx.StageHolders(ctx, sec.ID)
	if err != nil {
		return fmt.Errorf("read version labels: %w", err)
	}
	if h := holder(vs, StageCurrent); h != nil && h.ID == versionID {
		// The newest remaining version takes current (afterDelete): that
		// needs them all, in order.
		if vs, err = tx.VersionList(ctx, sec.ID); err != nil {
			return fmt.Errorf("list versions: %w", err)
		}
	}
	if err := tx.DeleteVersion(ctx, sec.ID, versionID); fault.Is(err, fault.NotFound) {
		return fault.E(op, fault.NotFound, "secret "+sec.Name+" has no version "+versionID).Because(fault.NoSuchVersion)
	} else if err != nil {
		return fmt.Errorf("delete version: %w", err)
	}
	audit.NoteVersion(ctx, versionID)
	if i := slices.IndexFunc(vs, func(v *Version) bool { return v.ID == versionID }); i >= 0 {
		for _, v := range afterDelete(slices.Delete(slices.Clone(vs), i, i+1), vs[i]) {
			if err := tx.SetStages(ctx, v.SecretID, v.ID, v.Stages); err != nil {
				return fmt.Errorf("update version %s: %w", v.ID, err)
			}
		}
	}
	return s.touchVersions(ctx, tx, sec, now)
}

// Describe returns a secret in any status and its versions (without values).
func (s *Service) Describe(ctx context.Context, sc Scope, name string) (*Secret, []*Version, error) {
	const op = "secrets.Describe"
	var sec *Secret
	var vs []*Version
	err := s.view(ctx, func(tx store.Tx, _ time.Time) error {
		var err error
		// Read afresh, not the gate's copy: the metadata (rotation dates)
		// and the versions (stages) must be of one moment.
		sec, err = load(ctx, tx, op, sc, name)
		if err != nil {
			return err
		}
		vs, err = tx.VersionList(ctx, sec.ID) // without values, as strip would leave them
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return sec, vs, nil
}

// strip returns ver without its sealed value, for callers outside the core.
func strip(ver *Version) *Version {
	if ver == nil {
		return nil
	}
	c := *ver
	c.Ciphertext, c.WrappedKey = nil, nil
	return &c
}

// Meta returns a secret's metadata (tags, resource policy, creator) without
// its versions: what authorization needs to know about it.
func (s *Service) Meta(ctx context.Context, sc Scope, name string) (*Secret, error) {
	const op = "secrets.Meta"
	if s.readCache() != nil {
		return s.cachedSecret(ctx, op, sc, name)
	}
	if sec, ok, err := s.checkedSecret(ctx, op, sc, name); ok {
		return sec, err
	}
	var sec *Secret
	err := s.view(ctx, func(tx store.Tx, _ time.Time) error {
		var err error
		sec, err = load(ctx, tx, op, sc, name)
		return err
	})
	if err == nil {
		s.checkedCache().keepMeta(sec)
	}
	return sec, err
}

// Key returns a CMK of the scope by id, with its state: what a secret's
// description shows of its key (DEFAULT or CUSTOMER, crypto-shredded).
func (s *Service) Key(ctx context.Context, sc Scope, keyID string) (*store.Key, error) {
	var k *store.Key
	err := s.view(ctx, func(tx store.Tx, _ time.Time) error {
		var err error
		k, err = tx.Key(ctx, sc.Account, sc.Region, keyID)
		return err
	})
	return k, err
}
