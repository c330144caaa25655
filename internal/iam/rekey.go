package iam

import (
	"context"
	"fmt"

	"github.com/coffer-secrets/coffer/internal/keys"
	"github.com/coffer-secrets/coffer/internal/keys/root"
	"github.com/coffer-secrets/coffer/internal/store"
)

// RewrapAccessKey moves k's sealed secret half to the root key to (a
// root-key rotation): left as it is when to already opens it, else
// unwrapped with from and wrapped with to. It changes k in memory only (the
// caller stores k.Sealed) and reports whether it changed. On error k is
// left as it was; the error names the key (never its secret) and is
// fault.KeyUnavailable when neither root key opens it.
func RewrapAccessKey(ctx context.Context, k *store.AccessKey, from, to root.Provider) (changed bool, err error) {
	out, changed, err := keys.RewrapSealed(ctx, k.Sealed, accessKeyAAD(k.Account, k.ID), from, to)
	if err != nil {
		return false, fmt.Errorf("access key %s: %w", k.ID, err)
	}
	k.Sealed = out
	return changed, nil
}
