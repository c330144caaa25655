package audit

import (
	"context"

	"github.com/coffer-secrets/coffer/internal/keys"
	"github.com/coffer-secrets/coffer/internal/keys/root"
	"github.com/coffer-secrets/coffer/internal/store"
)

// RewrapKeys moves the sealed audit keys (the HMAC key and the checkpoint
// signing key) in st to the root key to (a root-key rotation): each is left
// as it is when to already opens it, else unwrapped with from and wrapped
// with to. The keys themselves do not change, so redacted values and
// checkpoint signatures stay comparable across the rotation. It returns how
// many sealed keys it found and how many it re-wrapped; on error, the
// failing key's name (never its value), fault.KeyUnavailable when neither
// root key opens it.
func RewrapKeys(ctx context.Context, st store.Store, from, to root.Provider) (found, rewrapped int, err error) {
	for _, name := range []string{metaHMAC, metaSigner, metaWebhook} {
		ok, moved, err := keys.RewrapMeta(ctx, st, name, keys.AAD("coffer/"+name), from, to)
		if err != nil {
			return found, rewrapped, err
		}
		if ok {
			found++
		}
		if moved {
			rewrapped++
		}
	}
	return found, rewrapped, nil
}
