package iam

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// NewKey is a new access key with its secret half, shown only once.
type NewKey struct {
	store.AccessKey
	Secret string
}

// String hides the secret half.
func (k *NewKey) String() string { return "iam.NewKey{" + k.ID + " [redacted]}" }

var keyDescription = regexp.MustCompile(`^[\w+=,.@:/-]*$`)

// newKey creates an access key for principal (a user's uin or the
// account id for the root) inside tx.
func (s *Service) newKey(ctx context.Context, tx store.Tx, account, principal, description string, now time.Time) (*NewKey, error) {
	const op = "iam.CreateAccessKey"
	ks, err := tx.AccessKeys(ctx, account, principal)
	if err != nil {
		return nil, err
	}
	if len(ks) >= MaxKeysPerUser {
		return nil, fault.E(op, fault.Limit, fmt.Sprintf("a user holds at most %d access keys", MaxKeysPerUser)).Because(AccessKeyOverLimit)
	}
	id, secret := NewAccessKeyID(), NewSecretKey()
	sealed, err := s.Root.Wrap(ctx, []byte(secret), accessKeyAAD(account, id))
	if err != nil {
		return nil, fmt.Errorf("seal access key: %w", err)
	}
	k := store.AccessKey{ID: id, Account: account, Principal: principal, Sealed: sealed, Status: store.AccessKeyActive,
		Description: description, CreatedAt: now}
	if err := tx.InsertAccessKey(ctx, &k); err != nil {
		return nil, err
	}
	return &NewKey{AccessKey: k, Secret: secret}, nil
}

// keyOwner checks that target (a user's uin, or the account id for the
// root) exists in account.
func keyOwner(ctx context.Context, tx store.Tx, op, account, target string) error {
	if target == account {
		return nil
	}
	_, err := userByUin(ctx, tx, op, account, target)
	return err
}

// CreateAccessKey creates an access key for target: a user's uin, or the
// account id for the root.
func (s *Service) CreateAccessKey(ctx context.Context, account, target, description string) (*NewKey, error) {
	const op = "iam.CreateAccessKey"
	if len(description) > 1024 || !keyDescription.MatchString(description) {
		return nil, fault.E(op, fault.Invalid, "the description must be at most 1024 characters of letters, digits and +=,.@:/_-")
	}
	var out *NewKey
	err := s.write(ctx, func(tx store.Tx) error {
		if err := keyOwner(ctx, tx, op, account, target); err != nil {
			return err
		}
		var err error
		out, err = s.newKey(ctx, tx, account, target, description, s.now())
		return err
	})
	return out, err
}

// AccessKeys lists target's access keys (without their secret halves).
func (s *Service) AccessKeys(ctx context.Context, account, target string) ([]*store.AccessKey, error) {
	const op = "iam.ListAccessKeys"
	var out []*store.AccessKey
	err := s.view(ctx, func(tx store.Tx) error {
		if err := keyOwner(ctx, tx, op, account, target); err != nil {
			return err
		}
		var err error
		out, err = tx.AccessKeys(ctx, account, target)
		return err
	})
	for _, k := range out {
		k.Sealed = nil
		if t, ok := s.lastUsed.Load(k.ID); ok && t.(time.Time).After(k.LastUsedAt) {
			k.LastUsedAt = t.(time.Time)
		}
	}
	return out, err
}

// AccessKey returns one access key of account, without its secret half.
func (s *Service) AccessKey(ctx context.Context, account, id string) (*store.AccessKey, error) {
	const op = "iam.AccessKey"
	var k *store.AccessKey
	err := s.view(ctx, func(tx store.Tx) error {
		var err error
		k, err = accessKeyOf(ctx, tx, op, account, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	k.Sealed = nil
	if t, ok := s.lastUsed.Load(k.ID); ok && t.(time.Time).After(k.LastUsedAt) {
		k.LastUsedAt = t.(time.Time)
	}
	return k, nil
}

func accessKeyOf(ctx context.Context, tx store.Tx, op, account, id string) (*store.AccessKey, error) {
	k, err := tx.AccessKey(ctx, id)
	if fault.Is(err, fault.NotFound) || (err == nil && k.Account != account) {
		return nil, fault.E(op, fault.NotFound, "access key "+id+" does not exist").Because(AccessKeyNotExist)
	}
	return k, err
}

// SetAccessKeyStatus activates or deactivates an access key of target. A
// deactivated key stops working at once.
func (s *Service) SetAccessKeyStatus(ctx context.Context, account, target, id string, status store.AccessKeyStatus) error {
	const op = "iam.UpdateAccessKey"
	if status != store.AccessKeyActive && status != store.AccessKeyInactive {
		return fault.E(op, fault.Invalid, "Status must be Active or Inactive")
	}
	return s.write(ctx, func(tx store.Tx) error {
		k, err := accessKeyOf(ctx, tx, op, account, id)
		if err != nil {
			return err
		}
		if k.Principal != target {
			return fault.E(op, fault.Denied, "access key "+id+" does not belong to "+target).Because(UinNotMatch)
		}
		k.Status = status
		return tx.UpdateAccessKey(ctx, k)
	})
}

// DeleteAccessKey deletes an access key of target for good.
func (s *Service) DeleteAccessKey(ctx context.Context, account, target, id string) error {
	const op = "iam.DeleteAccessKey"
	return s.write(ctx, func(tx store.Tx) error {
		k, err := accessKeyOf(ctx, tx, op, account, id)
		if err != nil {
			return err
		}
		if k.Principal != target {
			return fault.E(op, fault.Denied, "access key "+id+" does not belong to "+target).Because(UinNotMatch)
		}
		if meta, err := tx.Meta(ctx, metaRootKey); err == nil && meta == id {
			return fault.E(op, fault.WrongState, "access key "+id+" is the bootstrap root key; create another root key and restart with it first")
		}
		return tx.DeleteAccessKey(ctx, id)
	})
}

// lastUsedEvery is how stale a key's stored last-used time may get.
const lastUsedEvery = time.Minute

// Used notes that an access key signed a request at t. The time is kept in
// memory and written to the store at most once a minute per key, in the
// background, so a busy key costs no write per request.
func (s *Service) Used(id string, t time.Time) {
	s.lastUsed.Store(id, t)
	if w, ok := s.lastWritten.Load(id); ok && t.Sub(w.(time.Time)) < lastUsedEvery {
		return
	}
	s.lastWritten.Store(id, t)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Store.Update(ctx, func(tx store.Tx) error {
			k, err := tx.AccessKey(ctx, id)
			if err != nil {
				return err
			}
			if !t.After(k.LastUsedAt) {
				return nil
			}
			k.LastUsedAt = t.UTC().Truncate(time.Millisecond)
			return tx.UpdateAccessKey(ctx, k)
		})
	}()
}
