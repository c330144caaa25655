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
// in.KeyID and in.Secret set it stores that pair on first start; otherwise
// it generates a pair and returns it with Generated set. On later starts it
// returns the stored pair (without its secret), and an error when in names
// another key, secret or account than the stored ones.
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
	stored, err := tx.Meta(ctx, metaRootKey)
	switch {
	case err == nil:
		return s.storedRoot(ctx, tx, stored, in)
	case !fault.Is(err, fault.NotFound):
		return RootCredentials{}, err
	}
	generated := in.KeyID == ""
	if generated {
		in.KeyID, in.Secret = NewAccessKeyID(), NewSecretKey()
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

// storedRoot answers a start on a data directory that has root credentials:
// the environment, when it names any, must name the same ones.
func (s *Service) storedRoot(ctx context.Context, tx store.Tx, id string, in RootInput) (RootCredentials, error) {
	k, err := tx.AccessKey(ctx, id)
	if err != nil {
		return RootCredentials{}, fmt.Errorf("load root access key: %w", err)
	}
	out := RootCredentials{AccountID: k.Account, KeyID: k.ID}
	if in.KeyID == "" {
		if in.AccountID != "" && in.AccountID != k.Account {
			return out, fmt.Errorf("the root account of this data directory is %s, not %s", k.Account, in.AccountID)
		}
		return out, nil
	}
	if in.KeyID != k.ID {
		return out, fmt.Errorf("this data directory's root access key is %s; COFFER_ROOT_SECRET_ID names %s", k.ID, in.KeyID)
	}
	return out, s.checkSame(ctx, k, in)
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

// CreateAccount creates a new account (tenant) with a root access key and
// returns the key, its secret half shown this once. Accounts share
// nothing: no name, key or policy of one is visible to another.
func (s *Service) CreateAccount(ctx context.Context, name string) (RootCredentials, error) {
	const op = "iam.CreateAccount"
	if name == "" || len(name) > 64 {
		return RootCredentials{}, fault.E(op, fault.Invalid, "the account name must be 1 to 64 characters")
	}
	in := RootInput{AccountID: NewAccountID(), KeyID: NewAccessKeyID(), Secret: NewSecretKey()}
	err := s.write(ctx, func(tx store.Tx) error {
		now := s.now()
		if err := tx.InsertAccount(ctx, &store.Account{ID: in.AccountID, Name: name, CreatedAt: now}); err != nil {
			return fmt.Errorf("create account: %w", err)
		}
		sealed, err := s.Root.Wrap(ctx, []byte(in.Secret), accessKeyAAD(in.AccountID, in.KeyID))
		if err != nil {
			return fmt.Errorf("seal root access key: %w", err)
		}
		return tx.InsertAccessKey(ctx, &store.AccessKey{ID: in.KeyID, Account: in.AccountID, Principal: in.AccountID,
			Sealed: sealed, Status: store.AccessKeyActive, Description: "root key", CreatedAt: now})
	})
	if err != nil {
		return RootCredentials{}, err
	}
	return RootCredentials{AccountID: in.AccountID, KeyID: in.KeyID, Secret: in.Secret, Generated: true}, nil
}

// Accounts lists every account, oldest first.
func (s *Service) Accounts(ctx context.Context) ([]*store.Account, error) {
	var out []*store.Account
	err := s.view(ctx, func(tx store.Tx) error {
		var err error
		out, err = tx.Accounts(ctx)
		return err
	})
	return out, err
}
