// Package pkcs11 is the root-key provider that keeps the root key inside a
// PKCS#11 token (an HSM, or SoftHSM2 for tests and small installations),
// through github.com/ThalesGroup/crypto11.
//
// The root key is a non-extractable, sensitive AES-256 secret key found in
// the token by its label (CKA_LABEL); Open can generate it inside the token
// when it is absent. Wrap and Unwrap run inside the token as CKM_AES_GCM with
// the caller's aad as GCM's additional data, so the AAD binding and the
// integrity check are the HSM's own. GCM was chosen over CKM_AES_CBC_PAD or
// CKM_AES_KEY_WRAP_PAD plus a second HMAC key: it is one key, one call, and
// an authenticated mode PKCS#11 v2.40 defines and SoftHSM2 (the test token)
// and the common network HSMs implement. A token without CKM_AES_GCM fails
// Open with a clear error rather than falling back to a weaker mode.
//
// The 96-bit GCM nonce is random, drawn on the host and sent to the token;
// a root key seals CMK material only, far below the 2^32 messages that
// random nonces allow under one key.
//
// The package needs cgo (miekg/pkcs11 dlopens the module at run time, so no
// PKCS#11 library is needed to build). Without cgo it still builds and Open
// returns an error saying so.
package pkcs11

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
)

// Config selects a token and the root key in it.
type Config struct {
	Module   string // path of the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so
	Token    string // the token's label
	PIN      string // the user PIN; never logged or printed
	KeyLabel string // CKA_LABEL of the AES-256 root key
	// CreateIfMissing generates the key in the token when no key has
	// KeyLabel. Without it a missing key fails Open.
	CreateIfMissing bool
	// MaxSessions bounds the sessions Coffer opens on the token; 0 means
	// crypto11's default, itself bounded by what the token reports.
	MaxSessions int
}

func (c Config) validate() error {
	switch {
	case c.Module == "":
		return errors.New("pkcs11: no module path")
	case c.Token == "":
		return errors.New("pkcs11: no token label")
	case c.KeyLabel == "":
		return errors.New("pkcs11: no key label")
	case c.PIN == "":
		return errors.New("pkcs11: no PIN for token " + strconv.Quote(c.Token))
	case c.MaxSessions == 1 || c.MaxSessions < 0:
		return fmt.Errorf("pkcs11: MaxSessions %d: want 0 or at least 2", c.MaxSessions)
	}
	return nil
}

// String describes c without the PIN.
func (c Config) String() string {
	return fmt.Sprintf("pkcs11.Config{module=%s token=%q key=%q pin=[redacted] create=%t}",
		c.Module, c.Token, c.KeyLabel, c.CreateIfMissing)
}

// GoString is String, so %#v redacts too.
func (c Config) GoString() string { return c.String() }

// Format prints String for every verb.
func (c Config) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// LogValue is String, for log/slog.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

func describe(c Config) string {
	return fmt.Sprintf("pkcs11 token %q key %q (%s)", c.Token, c.KeyLabel, c.Module)
}
