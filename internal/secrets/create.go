package secrets

import (
	"context"
	"fmt"
	"time"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// CreateInput describes a new secret.
type CreateInput struct {
	Name        string
	Description string
	Type        Type
	KeyID       string // CMK id or alias; "" for the account's default key
	Tags        []Tag
	Config      string // type-specific configuration (JSON)
	Product     string
	ResourceID  string // "" for the secret's own id
	Status      Status // "" for Enabled; Creating for asynchronous creation
	CreatedBy   string
	Replicas    []ReplicaInput // regions to replicate the secret to

	Value     *Value   // the first value; nil for a secret with no version yet
	VersionID string   // the first version's id; "" for a generated one
	Stages    []string // the first version's labels; nil for [current]
	Token     string   // idempotency token
}

// Create stores a new secret and, when in.Value is set, its first version.
// It returns fault.Exists when the name is taken (Reason
// SecretPendingDeletion while the holder awaits deletion), unless in.Token
// names the existing secret's version with the same value: then it returns
// that secret and version unchanged.
func (s *Service) Create(ctx context.Context, sc Scope, in CreateInput) (*Secret, *Version, error) {
	const op = "secrets.Create"
	if err := s.checkCreate(op, in); err != nil {
		return nil, nil, err
	}
	var sec *Secret
	var ver *Version
	err := s.update(ctx, func(tx store.Tx, now time.Time) error {
		var err error
		sec, ver, err = s.create(ctx, tx, op, sc, in, now)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return sec, ver, nil
}

func (s *Service) checkCreate(op string, in CreateInput) error {
	if err := CheckName(op, in.Name); err != nil {
		return err
	}
	if err := checkDescription(op, in.Description); err != nil {
		return err
	}
	if err := checkTags(op, in.Tags); err != nil {
		return err
	}
	if len(in.Config) > maxConfigLen {
		return fault.E(op, fault.Invalid, fmt.Sprintf("additional configuration is longer than %d bytes", maxConfigLen))
	}
	if in.Value == nil {
		return nil
	}
	if in.VersionID != "" {
		if err := CheckVersionID(op, in.VersionID); err != nil {
			return err
		}
	}
	if err := checkStages(op, in.Stages); err != nil {
		return err
	}
	return s.checkValue(op, *in.Value)
}

func (s *Service) create(ctx context.Context, tx store.Tx, op string, sc Scope, in CreateInput, now time.Time) (*Secret, *Version, error) {
	if old, err := tx.Secret(ctx, sc.Account, sc.Region, in.Name); err == nil {
		return s.createAgain(ctx, tx, op, old, in)
	} else if !fault.Is(err, fault.NotFound) {
		return nil, nil, err
	}
	if err := s.checkQuota(ctx, tx, op, sc); err != nil {
		return nil, nil, err
	}
	key, err := s.keyFor(ctx, tx, op, sc, in.KeyID, now)
	if err != nil {
		return nil, nil, err
	}
	sec := newSecret(sc, in, key.ID, now)
	if err := tx.InsertSecret(ctx, sec); err != nil {
		return nil, nil, fmt.Errorf("insert secret: %w", err)
	}
	if in.Value == nil {
		return sec, nil, nil
	}
	ver, err := s.seal(ctx, key, sec, versionID(in.VersionID), *in.Value, now)
	if err != nil {
		return nil, nil, err
	}
	ver.Token = in.Token
	attach(nil, ver, stagesOrCurrent(in.Stages))
	if err := tx.InsertVersion(ctx, ver); err != nil {
		return nil, nil, fmt.Errorf("insert version: %w", err)
	}
	audit.NoteVersion(ctx, ver.ID)
	return sec, ver, nil
}

func newSecret(sc Scope, in CreateInput, keyID string, now time.Time) *Secret {
	sec := &Secret{
		ID: NewID(22), Account: sc.Account, Region: sc.Region, Name: in.Name,
		Description: in.Description, Type: in.Type, KeyID: keyID, Status: in.Status,
		CreatedAt: now, UpdatedAt: now, CreatedBy: in.CreatedBy, Tags: in.Tags,
		Config: in.Config, Product: in.Product, ResourceID: in.ResourceID,
	}
	if sec.Status == "" {
		sec.Status = store.StatusEnabled
	}
	if sec.ResourceID == "" {
		sec.ResourceID = sec.ID
	}
	for _, r := range in.Replicas {
		sec.Replicas = append(sec.Replicas, store.Replica{Region: r.Region, KeyID: r.KeyID, Status: ReplicaInProgress})
	}
	return sec
}

// createAgain answers a create whose name is taken: a retry with the same
// token and value succeeds, anything else is Exists.
func (s *Service) createAgain(ctx context.Context, tx store.Tx, op string, old *Secret, in CreateInput) (*Secret, *Version, error) {
	exists := fault.E(op, fault.Exists, "secret "+in.Name+" already exists")
	if old.Status == store.StatusPendingDelete {
		return nil, nil, exists.Because(fault.SecretPendingDeletion)
	}
	if in.Token == "" || in.Value == nil {
		return nil, nil, exists
	}
	v, err := tx.VersionByToken(ctx, old.ID, in.Token)
	if fault.Is(err, fault.NotFound) {
		return nil, nil, exists
	} else if err != nil {
		return nil, nil, err
	}
	if err := s.sameValue(ctx, tx, op, old, v, *in.Value); err != nil {
		return nil, nil, err
	}
	return old, v, nil
}

func (s *Service) checkQuota(ctx context.Context, tx store.Tx, op string, sc Scope) error {
	n, err := tx.CountSecrets(ctx, sc.Account, sc.Region)
	if err != nil {
		return fmt.Errorf("count secrets: %w", err)
	}
	if n >= s.limits().MaxSecrets {
		return fault.E(op, fault.Limit, fmt.Sprintf("the account holds %d secrets in this region, the limit", n))
	}
	return nil
}

// keyFor resolves a CMK id or alias, or the default key when ref is "".
func (s *Service) keyFor(ctx context.Context, tx store.Tx, op string, sc Scope, ref string, now time.Time) (*store.Key, error) {
	if ref == "" {
		return s.Keys.DefaultKey(ctx, tx, sc.Account, sc.Region, now)
	}
	k, err := tx.Key(ctx, sc.Account, sc.Region, ref)
	if fault.Is(err, fault.NotFound) {
		k, err = tx.KeyByAlias(ctx, sc.Account, sc.Region, ref)
	}
	if fault.Is(err, fault.NotFound) {
		return nil, fault.E(op, fault.Invalid, "KMS key "+ref+" does not exist in this region")
	}
	return k, err
}

func versionID(id string) string {
	if id == "" {
		return NewUUID()
	}
	return id
}

func stagesOrCurrent(stages []string) []string {
	if stages == nil {
		return []string{StageCurrent}
	}
	return stages
}
