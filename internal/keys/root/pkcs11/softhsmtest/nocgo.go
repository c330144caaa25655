//go:build !cgo

package softhsmtest

import "testing"

// NewToken skips tb: PKCS#11 modules are loaded through cgo.
func NewToken(tb testing.TB) Token {
	tb.Helper()
	tb.Skip("SoftHSM2 tokens need cgo (CGO_ENABLED=0)")
	return Token{}
}

// Key skips tb: PKCS#11 modules are loaded through cgo.
func (Token) Key(tb testing.TB, _ string) KeyInfo {
	tb.Helper()
	tb.Skip("SoftHSM2 tokens need cgo (CGO_ENABLED=0)")
	return KeyInfo{}
}
