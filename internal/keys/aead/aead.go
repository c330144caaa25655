// Package aead seals and opens bytes with AES-256-GCM, the one cipher Coffer
// uses for values, data keys and key material.
package aead

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// KeySize is the size of every symmetric key Coffer generates: AES-256.
const KeySize = 32

// errOpen is the cause of every failed authentication: it says nothing of
// the key or the data.
var errOpen = errors.New("message authentication failed")

// NewKey returns KeySize random bytes.
func NewKey() ([]byte, error) {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("read random key: %w", err)
	}
	return k, nil
}

// Seal encrypts plaintext under key with AES-256-GCM bound to aad and
// returns nonce||ciphertext||tag.
func Seal(key, plaintext, aad []byte) ([]byte, error) {
	g, err := gcm(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, g.NonceSize(), g.NonceSize()+len(plaintext)+g.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("read nonce: %w", err)
	}
	return g.Seal(out, out, plaintext, aad), nil
}

// Open decrypts what Seal produced. It fails when the key, the aad or a
// single byte of the sealed text differs.
func Open(key, sealed, aad []byte) ([]byte, error) {
	g, err := gcm(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < g.NonceSize()+g.Overhead() {
		return nil, errOpen
	}
	n := g.NonceSize()
	pt, err := g.Open(nil, sealed[:n], sealed[n:], aad)
	if err != nil {
		return nil, errOpen
	}
	return pt, nil
}

func gcm(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("key is %d bytes, want %d", len(key), KeySize)
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	return cipher.NewGCM(b)
}
