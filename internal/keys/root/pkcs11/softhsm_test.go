//go:build cgo

package pkcs11

import (
	"testing"

	"github.com/coffer-secrets/coffer/internal/keys/root/pkcs11/softhsmtest"
)

// config returns a Config for key in a fresh SoftHSM2 token, or skips t
// when SoftHSM2 is unavailable (fails it when CI=true).
func config(t *testing.T, key string) Config {
	t.Helper()
	return configIn(softhsmtest.NewToken(t), key)
}

// configIn returns a Config for key in tok.
func configIn(tok softhsmtest.Token, key string) Config {
	return Config{Module: tok.Module, Token: tok.Label, PIN: tok.PIN, KeyLabel: key, CreateIfMissing: true}
}

// mustOpen opens cfg and closes it when t ends.
func mustOpen(t *testing.T, cfg Config) *HSM {
	t.Helper()
	h, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open(%v): %v", cfg, err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}
