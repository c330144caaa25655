package secrets

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/iam/policy"
	"github.com/coffer-secrets/coffer/internal/store"
)

// Tag adds tags to a secret, replacing the values of keys it has (in place,
// keeping their order) and appending new keys. It returns fault.Limit past
// the most tags a secret may have.
func (s *Service) Tag(ctx context.Context, sc Scope, name string, tags []Tag) (*Secret, error) {
	const op = "secrets.Tag"
	if err := checkTags(op, tags); err != nil {
		return nil, err
	}
	return s.changeActive(ctx, op, sc, name, func(sec *Secret) error {
		merged := slices.Clone(sec.Tags)
		for _, t := range tags {
			if i := slices.IndexFunc(merged, func(m Tag) bool { return m.Key == t.Key }); i >= 0 {
				merged[i].Value = t.Value
			} else {
				merged = append(merged, t)
			}
		}
		if err := checkTags(op, merged); err != nil {
			return err
		}
		sec.Tags, sec.Tagged = merged, true
		return nil
	})
}

// Untag removes tags by key; keys the secret lacks are ignored.
func (s *Service) Untag(ctx context.Context, sc Scope, name string, keys []string) (*Secret, error) {
	const op = "secrets.Untag"
	return s.changeActive(ctx, op, sc, name, func(sec *Secret) error {
		sec.Tags = slices.DeleteFunc(slices.Clone(sec.Tags), func(t Tag) bool { return slices.Contains(keys, t.Key) })
		sec.Tagged = true
		return nil
	})
}

// SetPolicy stores a secret's resource policy document; "" removes it. The
// caller validates the document (iam/policy).
func (s *Service) SetPolicy(ctx context.Context, sc Scope, name, doc string) (*Secret, error) {
	const op = "secrets.SetPolicy"
	if len(doc) > policy.MaxSize {
		return nil, fault.E(op, fault.Invalid, fmt.Sprintf("a resource policy is at most %d bytes", policy.MaxSize))
	}
	return s.changeActive(ctx, op, sc, name, func(sec *Secret) error {
		sec.Policy = doc
		return nil
	})
}

// changeActive changes a secret that is Enabled or Disabled.
func (s *Service) changeActive(ctx context.Context, op string, sc Scope, name string, fn func(sec *Secret) error) (*Secret, error) {
	return s.change(ctx, op, sc, name, func(sec *Secret, _ time.Time) (bool, error) {
		if err := statusError(op, sec, store.StatusEnabled, store.StatusDisabled); err != nil {
			return false, err
		}
		return true, fn(sec)
	})
}

// Update changes a secret's metadata and, when put is set, adds a version,
// in one transaction: AWS UpdateSecret. Errors are those of UpdateMeta and
// PutValue.
func (s *Service) Update(ctx context.Context, sc Scope, name string, p MetaPatch, put *PutInput) (*Secret, *Version, error) {
	const op = "secrets.Update"
	if err := s.checkPatch(op, p); err != nil {
		return nil, nil, err
	}
	if put != nil {
		if err := s.checkPut(op, *put); err != nil {
			return nil, nil, err
		}
	}
	var sec *Secret
	var ver *Version
	err := s.update(ctx, func(tx store.Tx, now time.Time) error {
		var err error
		if sec, err = s.patch(ctx, tx, op, sc, name, p, now); err != nil || put == nil {
			return err
		}
		sec, ver, err = s.put(ctx, tx, op, sc, name, *put, now)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return sec, strip(ver), nil
}
