package secrets

import (
	"context"
	"fmt"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/keys"
	"github.com/coffer-secrets/coffer/internal/store"
)

// seal returns a new version of sec holding v, sealed under its own data key.
func (s *Service) seal(ctx context.Context, key *store.Key, sec *Secret, id string, v Value, now time.Time) (*Version, error) {
	sealed, err := s.Keys.Seal(ctx, key, v.Bytes(), valueAAD(sec, id))
	if err != nil {
		return nil, fmt.Errorf("seal version %s: %w", id, err)
	}
	return &Version{
		SecretID: sec.ID, ID: id, Binary: v.IsBinary(), CreatedAt: now,
		Ciphertext: sealed.Ciphertext, WrappedKey: sealed.WrappedKey,
		KeyID: sealed.KeyID, KeyVersion: sealed.KeyVersion,
	}, nil
}

// reseal replaces ver's value with v under a fresh data key.
func (s *Service) reseal(ctx context.Context, tx store.Tx, op string, sec *Secret, ver *Version, v Value) error {
	key, err := s.secretKey(ctx, tx, op, sec)
	if err != nil {
		return err
	}
	sealed, err := s.Keys.Seal(ctx, key, v.Bytes(), valueAAD(sec, ver.ID))
	if err != nil {
		return fmt.Errorf("seal version %s: %w", ver.ID, err)
	}
	ver.Binary, ver.Ciphertext, ver.WrappedKey = v.IsBinary(), sealed.Ciphertext, sealed.WrappedKey
	ver.KeyID, ver.KeyVersion = sealed.KeyID, sealed.KeyVersion
	return nil
}

// open returns the value of ver.
func (s *Service) open(ctx context.Context, tx store.Tx, op string, sec *Secret, ver *Version) (Value, error) {
	key, err := s.versionKey(ctx, tx, op, sec, ver)
	if err != nil {
		return Value{}, err
	}
	return s.openWith(ctx, op, sec, ver, key)
}

// versionKey returns the CMK that seals ver.
func (s *Service) versionKey(ctx context.Context, tx store.Tx, op string, sec *Secret, ver *Version) (*store.Key, error) {
	if ver.Ciphertext == nil {
		return nil, fault.E(op, fault.NotFound, "version "+ver.ID+" has no value").Because(fault.NoSuchVersion)
	}
	key, err := tx.Key(ctx, sec.Account, sec.Region, ver.KeyID)
	if fault.Is(err, fault.NotFound) {
		return nil, fault.E(op, fault.KeyUnavailable, "the key that protects secret "+sec.Name+" no longer exists")
	}
	return key, err
}

// openWith decrypts ver, sealed by key.
func (s *Service) openWith(ctx context.Context, op string, sec *Secret, ver *Version, key *store.Key) (Value, error) {
	sealed := keys.Sealed{Ciphertext: ver.Ciphertext, WrappedKey: ver.WrappedKey, KeyID: ver.KeyID, KeyVersion: ver.KeyVersion}
	b, err := s.Keys.Open(ctx, key, sealed, valueAAD(sec, ver.ID))
	if err != nil {
		return Value{}, fmt.Errorf("open version %s of %s: %w", ver.ID, sec.Name, err)
	}
	if ver.Binary {
		return Value{b: b, binary: true}, nil
	}
	return Value{b: b}, nil
}

// secretKey returns the CMK that seals sec's new versions.
func (s *Service) secretKey(ctx context.Context, tx store.Tx, op string, sec *Secret) (*store.Key, error) {
	key, err := tx.Key(ctx, sec.Account, sec.Region, sec.KeyID)
	if fault.Is(err, fault.NotFound) {
		return nil, fault.E(op, fault.KeyUnavailable, "the key that protects secret "+sec.Name+" no longer exists")
	}
	return key, err
}

// sameValue returns nil when ver holds v, and the token-reuse error otherwise.
func (s *Service) sameValue(ctx context.Context, tx store.Tx, op string, sec *Secret, ver *Version, v Value) error {
	got, err := s.open(ctx, tx, op, sec, ver)
	if err != nil {
		return err
	}
	if !got.Equal(v) {
		return fault.E(op, fault.Exists, "idempotency token "+ver.Token+" is already used by version "+ver.ID+" with a different value").Because(fault.TokenReused)
	}
	return nil
}
