// Package root defines root-key providers: what protects the material of
// every customer master key. The root key never touches the database.
//
// Providers live in sub-packages, one per dependency: keyfile (a local key
// file, the embedded default), and later pkcs11 (an HSM) and cloud KMSs.
package root

import "context"

// Provider wraps and unwraps CMK material under the root key.
// Implementations are safe for concurrent use.
type Provider interface {
	// Wrap seals plaintext bound to aad. It returns a fault.Unavailable
	// error when the key holder cannot be reached.
	Wrap(ctx context.Context, plaintext, aad []byte) ([]byte, error)
	// Unwrap opens what Wrap sealed with the same aad. It returns a
	// fault.KeyUnavailable error when the ciphertext or aad does not match
	// (a wrong root key, or tampered data) and fault.Unavailable when the
	// key holder cannot be reached.
	Unwrap(ctx context.Context, ciphertext, aad []byte) ([]byte, error)
	// Describe names the provider for operators, e.g. "file /var/lib/coffer/root.key".
	Describe() string
}
