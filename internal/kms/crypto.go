package kms

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// A ciphertext blob names its key and key version, so Decrypt needs no
// KeyId:  0x01 | uint16 len(keyID) | keyID | uint32 version | AEAD ciphertext.
const blobFormat = 1

func encodeBlob(keyID string, version int, ct []byte) []byte {
	b := make([]byte, 0, 1+2+len(keyID)+4+len(ct))
	b = append(b, blobFormat)
	b = binary.BigEndian.AppendUint16(b, uint16(len(keyID)))
	b = append(b, keyID...)
	b = binary.BigEndian.AppendUint32(b, uint32(version))
	return append(b, ct...)
}

func decodeBlob(op string, b []byte) (keyID string, version int, ct []byte, err error) {
	bad := fault.E(op, fault.Invalid, "CiphertextBlob is not a ciphertext this service produced").Because(BadCiphertext)
	if len(b) < 3 || b[0] != blobFormat {
		return "", 0, nil, bad
	}
	n := int(binary.BigEndian.Uint16(b[1:3]))
	if len(b) < 3+n+4+1 {
		return "", 0, nil, bad
	}
	keyID = string(b[3 : 3+n])
	version = int(binary.BigEndian.Uint32(b[3+n : 3+n+4]))
	return keyID, version, b[3+n+4:], nil
}

// usable returns CMK-state errors in KMS's terms for a key about to be used.
func usable(op string, k *store.Key) error {
	switch k.State {
	case store.KeyEnabled:
		return nil
	case store.KeyDisabled:
		return fault.E(op, fault.WrongState, "key "+k.ID+" is disabled").Because(CmkDisabled)
	case store.KeyPendingDeletion:
		return fault.E(op, fault.WrongState, "key "+k.ID+" is pending deletion").Because(CmkPendingDelete)
	}
	return fault.E(op, fault.WrongState, "key "+k.ID+" is "+string(k.State)).Because(CmkStateNotSupported)
}

func (s *Service) usableKey(ctx context.Context, op string, sc Scope, ref string) (*store.Key, error) {
	var k *store.Key
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		k, err = load(ctx, tx, op, sc, ref)
		return err
	})
	if err != nil {
		return nil, err
	}
	return k, usable(op, k)
}

// Encrypt seals up to 4 KiB under a key, bound to an encryption context.
func (s *Service) Encrypt(ctx context.Context, sc Scope, ref string, plaintext, encContext []byte) (*store.Key, []byte, error) {
	const op = "kms.Encrypt"
	if len(plaintext) == 0 || len(plaintext) > MaxPlaintext {
		return nil, nil, fault.E(op, fault.Invalid, fmt.Sprintf("Plaintext must be 1 to %d bytes", MaxPlaintext))
	}
	k, err := s.usableKey(ctx, op, sc, ref)
	if err != nil {
		return nil, nil, err
	}
	v, ct, err := s.Keys.Encrypt(ctx, k, plaintext, encContext)
	if err != nil {
		return nil, nil, err
	}
	return k, encodeBlob(k.ID, v, ct), nil
}

// Decrypt opens a ciphertext blob of this scope with its encryption context.
func (s *Service) Decrypt(ctx context.Context, sc Scope, blob, encContext []byte) (*store.Key, []byte, error) {
	const op = "kms.Decrypt"
	keyID, version, ct, err := decodeBlob(op, blob)
	if err != nil {
		return nil, nil, err
	}
	k, err := s.usableKey(ctx, op, sc, keyID)
	if err != nil {
		return nil, nil, err
	}
	pt, err := s.Keys.Decrypt(ctx, k, version, ct, encContext)
	if err != nil {
		return nil, nil, fault.Wrap(op, fault.Invalid, "CiphertextBlob does not decrypt under its key with this encryption context", err).Because(BadCiphertext)
	}
	return k, pt, nil
}

// GenerateDataKey returns a fresh data key in the clear and sealed under a key.
func (s *Service) GenerateDataKey(ctx context.Context, sc Scope, ref string, size int, encContext []byte) (*store.Key, []byte, []byte, error) {
	const op = "kms.GenerateDataKey"
	if size < 1 || size > 1024 {
		return nil, nil, nil, fault.E(op, fault.Invalid, "the data key length must be 1 to 1024 bytes")
	}
	dk := make([]byte, size)
	if _, err := rand.Read(dk); err != nil {
		return nil, nil, nil, fault.Wrap(op, fault.Internal, "cannot generate a data key", err)
	}
	k, blob, err := s.Encrypt(ctx, sc, ref, dk, encContext)
	if err != nil {
		return nil, nil, nil, err
	}
	return k, dk, blob, nil
}

// ReEncrypt moves a ciphertext to another key (or the current version of
// the same key) without showing the plaintext to the caller.
func (s *Service) ReEncrypt(ctx context.Context, sc Scope, blob []byte, srcContext []byte, dest string, destContext []byte) (*store.Key, *store.Key, []byte, error) {
	src, pt, err := s.Decrypt(ctx, sc, blob, srcContext)
	if err != nil {
		return nil, nil, nil, err
	}
	defer clear(pt)
	if dest == "" {
		dest = src.ID
	}
	dst, out, err := s.Encrypt(ctx, sc, dest, pt, destContext)
	if err != nil {
		return nil, nil, nil, err
	}
	return src, dst, out, nil
}
