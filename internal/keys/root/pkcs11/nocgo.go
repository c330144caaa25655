//go:build !cgo

package pkcs11

import (
	"context"
	"errors"

	"github.com/coffer-secrets/coffer/internal/fault"
)

// errNoCgo is what Open returns in a build without cgo.
var errNoCgo = errors.New("pkcs11: this coffer binary was built without cgo (CGO_ENABLED=0); rebuild it with cgo to use a PKCS#11 HSM")

// HSM is a root key held in a PKCS#11 token. In a build without cgo it
// cannot be opened.
type HSM struct{}

// Open returns an error: PKCS#11 needs cgo.
func Open(cfg Config) (*HSM, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return nil, errNoCgo
}

// Wrap returns fault.Unsupported.
func (*HSM) Wrap(context.Context, []byte, []byte) ([]byte, error) {
	return nil, fault.Wrap("pkcs11.Wrap", fault.Unsupported, "PKCS#11 not built in", errNoCgo)
}

// Unwrap returns fault.Unsupported.
func (*HSM) Unwrap(context.Context, []byte, []byte) ([]byte, error) {
	return nil, fault.Wrap("pkcs11.Unwrap", fault.Unsupported, "PKCS#11 not built in", errNoCgo)
}

// Close does nothing.
func (*HSM) Close() error { return nil }

// Describe names the provider.
func (*HSM) Describe() string { return "pkcs11 (not built in)" }
