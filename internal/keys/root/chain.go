package root

import (
	"context"
	"errors"

	"github.com/coffer-secrets/coffer/internal/fault"
)

// Chain is the provider during a root-key rotation: it wraps with Current
// and unwraps with Current, falling back to Previous for what the old key
// still protects. Servers run with a Chain while `coffer operator rekey`
// re-wraps every stored blob, so nothing becomes unreadable meanwhile.
type Chain struct {
	Current, Previous Provider
}

// Wrap seals with the current key.
func (c *Chain) Wrap(ctx context.Context, plaintext, aad []byte) ([]byte, error) {
	return c.Current.Wrap(ctx, plaintext, aad)
}

// Unwrap opens with the current key, or the previous one when the current
// key does not open the ciphertext.
func (c *Chain) Unwrap(ctx context.Context, ciphertext, aad []byte) ([]byte, error) {
	b, err := c.Current.Unwrap(ctx, ciphertext, aad)
	if err == nil || c.Previous == nil || !fault.Is(err, fault.KeyUnavailable) {
		return b, err
	}
	b, perr := c.Previous.Unwrap(ctx, ciphertext, aad)
	if perr != nil {
		return nil, errors.Join(err, perr)
	}
	return b, nil
}

// Describe names both keys.
func (c *Chain) Describe() string {
	if c.Previous == nil {
		return c.Current.Describe()
	}
	return c.Current.Describe() + " (previous: " + c.Previous.Describe() + ")"
}
