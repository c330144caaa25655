package server

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/keys"
	"github.com/coffer-secrets/coffer/internal/keys/root"
	"github.com/coffer-secrets/coffer/internal/store"
)

// rootCheckAAD is the aad of the key-check value (as checkRootKey seals it).
func rootCheckAAD() []byte { return keys.AAD("coffer/root-check") }

// RekeyCheckValue moves the root key-check value to the root key to (a
// root-key rotation): left as it is when to already opens it, else
// unwrapped with from and wrapped with to. Once it has moved, a server
// given only the new root key starts, and one given only the old key
// refuses to. It reports whether the store holds a check value and whether
// it was re-wrapped; it returns fault.KeyUnavailable when neither root key
// opens it, and the providers' or the store's errors otherwise.
func RekeyCheckValue(ctx context.Context, st store.Store, from, to root.Provider) (found, changed bool, err error) {
	return keys.RewrapMeta(ctx, st, metaRootCheck, rootCheckAAD(), from, to)
}

// VerifyRootKey checks that r opens the store's key-check value, as a
// server does at start, without writing anything. It returns nil when r
// opens it or when the store has none yet (a server never started on it),
// and an error that names r (never the key) otherwise.
func VerifyRootKey(ctx context.Context, st store.Store, r root.Provider) error {
	var v string
	err := st.View(ctx, func(tx store.Tx) error {
		var err error
		v, err = tx.Meta(ctx, metaRootCheck)
		return err
	})
	if fault.Is(err, fault.NotFound) {
		return nil
	} else if err != nil {
		return err
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return fmt.Errorf("root key check value is corrupt: %w", err)
	}
	pt, err := r.Unwrap(ctx, b, rootCheckAAD())
	if err != nil {
		return fmt.Errorf("the root key (%s) is not the one this database was created with: %w", r.Describe(), err)
	}
	clear(pt)
	return nil
}
