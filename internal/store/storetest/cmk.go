package storetest

import (
	"context"
	"testing"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

func testKeyRotationFields(t *testing.T, s store.Store) {
	k := newKey("k1", "a")
	insertKeys(t, s, k)
	mustUpdate(t, s, func(tx store.Tx) error {
		got, err := tx.Key(t.Context(), acctA, regionX, "k1")
		wantOK(t, "Key", err)
		wantKey(t, "Key", got, k)
		got.Rotation = store.KeyRotation{Enabled: false, Days: 7, Next: at(200), Last: at(150)}
		got.State = store.KeyDeleted
		got.Material = nil
		wantOK(t, "UpdateKey", tx.UpdateKey(t.Context(), got))
		again, err := tx.Key(t.Context(), acctA, regionX, "k1")
		wantOK(t, "Key again", err)
		wantKey(t, "Key after update", again, got)
		return nil
	})
}

func testKeysDue(t *testing.T, s store.Store) {
	deleting := newKey("k-del", "")
	deleting.Rotation = store.KeyRotation{}
	deleting.State, deleting.DeleteAt = store.KeyPendingDeletion, at(50)
	later := newKey("k-later", "")
	later.Rotation = store.KeyRotation{}
	later.State, later.DeleteAt = store.KeyPendingDeletion, at(500)
	rotating := newKey("k-rot", "")
	rotating.Account, rotating.CreatedAt = acctB, at(1)
	rotating.Rotation = store.KeyRotation{Enabled: true, Days: 1, Next: at(60)}
	off := newKey("k-off", "")
	off.Rotation = store.KeyRotation{Enabled: false, Days: 1, Next: at(10)}
	disabledAtDate := newKey("k-dis", "")
	disabledAtDate.Rotation = store.KeyRotation{}
	disabledAtDate.State, disabledAtDate.DeleteAt = store.KeyDisabled, at(10)
	insertKeys(t, s, deleting, later, rotating, off, disabledAtDate)
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.KeysDue(t.Context(), at(100), 10)
		wantOK(t, "KeysDue", err)
		wantEqual(t, "KeysDue", keyIDs(got), []string{"k-del", "k-rot"})
		got, err = tx.KeysDue(t.Context(), at(100), 1)
		wantOK(t, "KeysDue limit", err)
		wantEqual(t, "KeysDue limit", keyIDs(got), []string{"k-del"})
		got, err = tx.KeysDue(t.Context(), at(55), 10)
		wantOK(t, "KeysDue early", err)
		wantEqual(t, "KeysDue early", keyIDs(got), []string{"k-del"})
		if len(got) == 1 {
			wantKey(t, "KeysDue key", got[0], deleting)
		}
		return nil
	})
}

func testAllKeys(t *testing.T, s store.Store) {
	a := newKey("k-a", "")
	b := newKey("k-b", "")
	b.Account, b.Region, b.CreatedAt = acctB, regionY, at(5)
	insertKeys(t, s, b, a)
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.AllKeys(t.Context())
		wantOK(t, "AllKeys", err)
		wantEqual(t, "AllKeys", keyIDs(got), []string{"k-a", "k-b"})
		if len(got) == 2 {
			wantKey(t, "AllKeys material", got[1], b)
		}
		return nil
	})
}

func testVersionsByKey(t *testing.T, s store.Store) {
	insertSecrets(t, s, bareSecret("s1", acctA, regionX, "one"), bareSecret("s2", acctA, regionX, "two"))
	mk := func(secret, id, key string, version int, stages ...string) *store.Version {
		v := newVersion(secret, id, stages...)
		v.KeyID, v.KeyVersion, v.Token = key, version, ""
		return v
	}
	insertVersions(t, s,
		mk("s1", "v1", "K", 1, "previous"), mk("s1", "v2", "K", 2, "current"),
		mk("s2", "a", "K", 1, "current"), mk("s2", "b", "other", 1),
	)
	mustView(t, s, func(tx store.Tx) error {
		ctx := context.Background()
		got, err := tx.VersionsByKey(ctx, "K", 2, "", "", 10)
		wantOK(t, "VersionsByKey", err)
		wantEqual(t, "VersionsByKey", versionKeys(got), []string{"s1/v1", "s2/a"})
		if len(got) == 2 {
			wantEqual(t, "VersionsByKey stages", got[0].Stages, []string{"previous"})
			wantEqual(t, "VersionsByKey value", got[1].WrappedKey, []byte("wrapped:a"))
		}
		got, err = tx.VersionsByKey(ctx, "K", 2, "s1", "v1", 10)
		wantOK(t, "VersionsByKey after", err)
		wantEqual(t, "VersionsByKey after", versionKeys(got), []string{"s2/a"})
		got, err = tx.VersionsByKey(ctx, "K", 3, "", "", 2)
		wantOK(t, "VersionsByKey limit", err)
		wantEqual(t, "VersionsByKey limit", versionKeys(got), []string{"s1/v1", "s1/v2"})
		total, below, err := tx.CountVersionsByKey(ctx, "K", 2)
		wantOK(t, "CountVersionsByKey", err)
		wantEqual(t, "CountVersionsByKey", []int{total, below}, []int{3, 2})
		total, below, err = tx.CountVersionsByKey(ctx, "none", 2)
		wantOK(t, "CountVersionsByKey none", err)
		wantEqual(t, "CountVersionsByKey none", []int{total, below}, []int{0, 0})
		return nil
	})
	mustUpdate(t, s, func(tx store.Tx) error {
		ctx := context.Background()
		v := mk("s1", "v1", "K", 2, "previous")
		v.WrappedKey = []byte("rewrapped")
		wantOK(t, "RewrapVersion", tx.RewrapVersion(ctx, v, 1))
		got, err := tx.Version(ctx, "s1", "v1")
		wantOK(t, "Version", err)
		wantEqual(t, "rewrapped key", []any{got.WrappedKey, got.KeyVersion, got.Stages, got.Ciphertext}, []any{[]byte("rewrapped"), 2, []string{"previous"}, v.Ciphertext})
		wantKind(t, "RewrapVersion stale", tx.RewrapVersion(ctx, v, 1), fault.Conflict)
		v.ID = "gone"
		wantKind(t, "RewrapVersion gone", tx.RewrapVersion(ctx, v, 1), fault.NotFound)
		return nil
	})
}

func keyIDs(keys []*store.Key) []string {
	out := []string{}
	for _, k := range keys {
		out = append(out, k.ID)
	}
	return out
}

func versionKeys(vs []*store.Version) []string {
	out := []string{}
	for _, v := range vs {
		out = append(out, v.SecretID+"/"+v.ID)
	}
	return out
}

func testAccessKeysRekey(t *testing.T, s store.Store) {
	insertAccessKeys(t, s, newAccessKey("AKID2", acctB, acctB, 1), newAccessKey("AKID1", acctA, acctA, 2))
	mustUpdate(t, s, func(tx store.Tx) error {
		ctx := context.Background()
		all, err := tx.AllAccessKeys(ctx)
		wantOK(t, "AllAccessKeys", err)
		ids := []string{}
		for _, k := range all {
			ids = append(ids, k.ID)
		}
		wantEqual(t, "AllAccessKeys", ids, []string{"AKID1", "AKID2"})
		wantOK(t, "SetAccessKeySealed", tx.SetAccessKeySealed(ctx, "AKID1", []byte("resealed")))
		k, err := tx.AccessKey(ctx, "AKID1")
		wantOK(t, "AccessKey", err)
		wantEqual(t, "sealed", k.Sealed, []byte("resealed"))
		wantKind(t, "SetAccessKeySealed missing", tx.SetAccessKeySealed(ctx, "nope", []byte("x")), fault.NotFound)
		return nil
	})
}
