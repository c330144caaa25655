package iam

import (
	"context"
	"crypto/subtle"
	"fmt"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// RootInput names the root credentials to use; empty fields are generated.
type RootInput struct {
	AccountID string
	KeyID     string
	Secret    string
}

// RootCredentials are the root account's credentials. Secret is set only
// when Bootstrap generated them, for the operator to see once.
type RootCredentials struct {
	AccountID string
	KeyID     string
	Secret    string
	Generated bool
}

// String hides the secret half.
func (r RootCredentials) String() string {
	return fmt.Sprintf("RootCredentials{%s %s [redacted]}", r.AccountID, r.KeyID)
}

const metaRootKey = "root-access-key"

// Bootstrap makes sure the root account and its access key exist. With
// in.KeyID and in.Secret set it stores that pair (or checks a stored one
// matches); otherwise it generates a pair on first start and returns it with
// Created set. It returns an error when a stored key differs from in.
func (s *Service) Bootstrap(ctx context.Context, in RootInput) (RootCredentials, error) {
	var out RootCredentials
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		var err error
		out, err = s.bootstrap(ctx, tx, in)
		return err
	})
	return out, err
}

func (s *Service) bootstrap(ctx context.Context, tx store.Tx, in RootInput) (RootCredentials, error) {
	generated := false
	if in.KeyID == "" {
		id, err := tx.Meta(ctx, metaRootKey)
		if err == nil {
			k, err := tx.AccessKey(ctx, id)
			if err != nil {
				return RootCredentials{}, fmt.Errorf("load root access key: %w", err)
			}
			return RootCredentials{AccountID: k.Account, KeyID: k.ID}, nil
		} else if !fault.Is(err, fault.NotFound) {
			return RootCredentials{}, err
		}
		in.KeyID, in.Secret = NewAccessKeyID(), NewSecretKey()
		generated = true
	}
	if k, err := tx.AccessKey(ctx, in.KeyID); err == nil {
		return RootCredentials{AccountID: k.Account, KeyID: k.ID}, s.checkSame(ctx, k, in)
	} else if !fault.Is(err, fault.NotFound) {
		return RootCredentials{}, err
	}
	if in.AccountID == "" {
		in.AccountID = NewAccountID()
	}
	if err := s.createRoot(ctx, tx, in); err != nil {
		return RootCredentials{}, err
	}
	out := RootCredentials{AccountID: in.AccountID, KeyID: in.KeyID, Generated: generated}
	if generated {
		out.Secret = in.Secret
	}
	return out, nil
}

func (s *Service) checkSame(ctx context.Context, k *store.AccessKey, in RootInput) error {
	if in.AccountID != "" && in.AccountID != k.Account {
		return fmt.Errorf("access key %s belongs to account %s, not %s", k.ID, k.Account, in.AccountID)
	}
	secret, err := s.Root.Unwrap(ctx, k.Sealed, accessKeyAAD(k.Account, k.ID))
	if err != nil {
		return fmt.Errorf("unseal root access key: %w", err)
	}
	if subtle.ConstantTimeCompare(secret, []byte(in.Secret)) != 1 {
		return fmt.Errorf("access key %s is stored with a different secret; remove it or use the stored one", k.ID)
	}
	return nil
}

func (s *Service) createRoot(ctx context.Context, tx store.Tx, in RootInput) error {
	now := s.now()
	if _, err := tx.Account(ctx, in.AccountID); fault.Is(err, fault.NotFound) {
		if err := tx.InsertAccount(ctx, &store.Account{ID: in.AccountID, Name: "root", CreatedAt: now}); err != nil {
			return fmt.Errorf("create root account: %w", err)
		}
	} else if err != nil {
		return err
	}
	sealed, err := s.Root.Wrap(ctx, []byte(in.Secret), accessKeyAAD(in.AccountID, in.KeyID))
	if err != nil {
		return fmt.Errorf("seal root access key: %w", err)
	}
	k := &store.AccessKey{ID: in.KeyID, Account: in.AccountID, Principal: in.AccountID, Sealed: sealed, Status: store.AccessKeyActive, CreatedAt: now}
	if err := tx.InsertAccessKey(ctx, k); err != nil {
		return fmt.Errorf("store root access key: %w", err)
	}
	return tx.SetMeta(ctx, metaRootKey, in.KeyID)
}
