package keys

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/keys/root"
	"github.com/coffer-secrets/coffer/internal/store"
)

// The hooks of a root-key rotation (`coffer operator rekey`, package
// rekey). Each moves what one root key sealed to another without changing
// the plaintext, and leaves alone what the new key already opens, so a
// rotation can be run again after an interruption.

// RewrapSealed moves sealed (bound to aad) from the root key from to the
// root key to. It returns sealed itself and false when to already opens it,
// or the new blob and true. The plaintext is wiped before it returns. It
// returns fault.KeyUnavailable when neither key opens sealed, and the
// providers' errors otherwise (fault.Unavailable when a key holder cannot
// be reached).
func RewrapSealed(ctx context.Context, sealed, aad []byte, from, to root.Provider) ([]byte, bool, error) {
	const op = "keys.RewrapSealed"
	pt, err := to.Unwrap(ctx, sealed, aad)
	if err == nil {
		clear(pt)
		return sealed, false, nil
	}
	if !fault.Is(err, fault.KeyUnavailable) {
		return nil, false, fmt.Errorf("new root key: %w", err)
	}
	pt, err = from.Unwrap(ctx, sealed, aad)
	if fault.Is(err, fault.KeyUnavailable) {
		return nil, false, fault.Wrap(op, fault.KeyUnavailable, "neither the new nor the old root key opens it", err)
	} else if err != nil {
		return nil, false, fmt.Errorf("old root key: %w", err)
	}
	defer clear(pt)
	out, err := to.Wrap(ctx, pt, aad)
	if err != nil {
		return nil, false, fmt.Errorf("new root key: %w", err)
	}
	return out, true, nil
}

// RewrapMaterial moves every material version of k to the root key to:
// a version that to already opens is left as it is, any other is unwrapped
// with from and wrapped with to under the same aad. It changes k in memory
// only (the caller stores it) and reports whether any version changed. On
// error k is left as it was; the error names the key and version, and is
// fault.KeyUnavailable when neither root key opens a version.
func RewrapMaterial(ctx context.Context, k *store.Key, from, to root.Provider) (changed bool, err error) {
	out := slices.Clone(k.Material)
	for i, m := range out {
		w, moved, err := RewrapSealed(ctx, m.Wrapped, materialAAD(k, m.Version), from, to)
		if err != nil {
			return false, fmt.Errorf("key %s version %d: %w", k.ID, m.Version, err)
		}
		out[i].Wrapped = w
		changed = changed || moved
	}
	if changed {
		k.Material = out
	}
	return changed, nil
}

// metaAttempts bounds how often RewrapMeta retries after a concurrent change.
const metaAttempts = 10

// RewrapMeta moves the sealed value (base64) kept in st's meta under name
// to the root key to, as RewrapSealed does with aad. It reports whether the
// value exists and whether it was re-wrapped. The write is a compare and
// set: a value changed meanwhile is read again. It returns fault.Internal
// when the stored value is not base64, RewrapSealed's errors, and the
// store's.
func RewrapMeta(ctx context.Context, st store.Store, name string, aad []byte, from, to root.Provider) (found, changed bool, err error) {
	const op = "keys.RewrapMeta"
	for range metaAttempts {
		var v string
		err := st.View(ctx, func(tx store.Tx) error {
			var err error
			v, err = tx.Meta(ctx, name)
			return err
		})
		if fault.Is(err, fault.NotFound) {
			return false, false, nil
		} else if err != nil {
			return false, false, err
		}
		sealed, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return true, false, fault.Wrap(op, fault.Internal, name+" is corrupt", err)
		}
		out, moved, err := RewrapSealed(ctx, sealed, aad, from, to)
		if err != nil || !moved {
			return true, false, wrapName(name, err)
		}
		err = st.Update(ctx, func(tx store.Tx) error {
			cur, err := tx.Meta(ctx, name)
			if err != nil {
				return err
			}
			if cur != v {
				return fault.E(op, fault.Conflict, name+" changed meanwhile")
			}
			return tx.SetMeta(ctx, name, base64.StdEncoding.EncodeToString(out))
		})
		if fault.Is(err, fault.NotFound) {
			return false, false, nil // removed meanwhile
		}
		if !fault.Is(err, fault.Conflict) {
			return true, err == nil, wrapName(name, err)
		}
	}
	return true, false, fault.E(op, fault.Conflict, name+" kept changing; run again")
}

func wrapName(name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", name, err)
}
