package storetest

import (
	"context"
	"testing"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

func insertKeys(t tb, s store.Store, keys ...*store.Key) {
	t.Helper()
	mustUpdate(t, s, func(tx store.Tx) error {
		for _, k := range keys {
			if err := tx.InsertKey(context.Background(), k); err != nil {
				return err
			}
		}
		return nil
	})
}

func testKeyRoundTrip(t *testing.T, s store.Store) {
	full := newKey("k1", "alias/app")
	bare := &store.Key{ID: "k2", Account: acctA, Region: regionX, State: store.KeyDisabled}
	insertKeys(t, s, full, bare)
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.Key(t.Context(), acctA, regionX, "k1")
		wantOK(t, "Key", err)
		wantKey(t, "Key", got, full)
		got, err = tx.KeyByAlias(t.Context(), acctA, regionX, "alias/app")
		wantOK(t, "KeyByAlias", err)
		wantKey(t, "KeyByAlias", got, full)
		got, err = tx.Key(t.Context(), acctA, regionX, "k2")
		wantOK(t, "Key bare", err)
		wantKey(t, "Key bare", got, bare)
		return nil
	})
	tests := []struct {
		name string
		fn   func(tx store.Tx) (*store.Key, error)
	}{
		{"Key missing", func(tx store.Tx) (*store.Key, error) { return tx.Key(t.Context(), acctA, regionX, "nope") }},
		{"Key other account", func(tx store.Tx) (*store.Key, error) { return tx.Key(t.Context(), acctB, regionX, "k1") }},
		{"Key other region", func(tx store.Tx) (*store.Key, error) { return tx.Key(t.Context(), acctA, regionY, "k1") }},
		{"KeyByAlias missing", func(tx store.Tx) (*store.Key, error) { return tx.KeyByAlias(t.Context(), acctA, regionX, "nope") }},
		{"KeyByAlias other account", func(tx store.Tx) (*store.Key, error) {
			return tx.KeyByAlias(t.Context(), acctB, regionX, "alias/app")
		}},
		{"KeyByAlias empty", func(tx store.Tx) (*store.Key, error) { return tx.KeyByAlias(t.Context(), acctA, regionX, "") }},
	}
	mustView(t, s, func(tx store.Tx) error {
		for _, tt := range tests {
			_, err := tt.fn(tx)
			wantKind(t, tt.name, err, fault.NotFound)
		}
		return nil
	})
}

func testKeyExists(t *testing.T, s store.Store) {
	insertKeys(t, s, newKey("k1", "alias/app"), newKey("k2", ""))
	otherAccount := newKey("k1", "alias/other")
	otherAccount.Account = acctB
	otherRegion := newKey("k4", "alias/app")
	otherRegion.Region = regionY
	tests := []struct {
		name   string
		key    *store.Key
		exists bool
	}{
		{"same id", newKey("k1", "alias/new"), true},
		{"same id other account", otherAccount, true},
		{"same alias", newKey("k3", "alias/app"), true},
		{"same alias other region", otherRegion, false},
		{"second empty alias", newKey("k5", ""), false},
	}
	for _, tt := range tests {
		err := s.Update(t.Context(), func(tx store.Tx) error { return tx.InsertKey(t.Context(), tt.key) })
		if tt.exists {
			wantKind(t, tt.name, err, fault.Exists)
		} else {
			wantOK(t, tt.name, err)
		}
	}
}

func testKeyUpdate(t *testing.T, s store.Store) {
	k := newKey("k1", "alias/app")
	insertKeys(t, s, k, newKey("k2", "alias/taken"))
	stale := *k
	k.Alias, k.Description, k.State, k.Default = "alias/renamed", "changed", store.KeyPendingDeletion, false
	k.DeleteAt = at(1000)
	k.Material = append(k.Material, store.KeyMaterial{Version: 3, Wrapped: []byte{3}, CreatedAt: at(60)})
	mustUpdate(t, s, func(tx store.Tx) error { return tx.UpdateKey(t.Context(), k) })
	wantEqual(t, "Revision", k.Revision, int64(2))
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.Key(t.Context(), acctA, regionX, "k1")
		wantOK(t, "Key", err)
		wantKey(t, "after update", got, k)
		_, err = tx.KeyByAlias(t.Context(), acctA, regionX, "alias/app")
		wantKind(t, "KeyByAlias old alias", err, fault.NotFound)
		return nil
	})

	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.UpdateKey(t.Context(), &stale) })
	wantKind(t, "UpdateKey stale", err, fault.Conflict)
	missing := newKey("nope", "")
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.UpdateKey(t.Context(), missing) })
	wantKind(t, "UpdateKey missing", err, fault.NotFound)
	k.Alias = "alias/taken"
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.UpdateKey(t.Context(), k) })
	wantKind(t, "UpdateKey to a taken alias", err, fault.Exists)
	wantEqual(t, "Revision after failed update", k.Revision, int64(2))
}

func testKeyList(t *testing.T, s store.Store) {
	older, newer, oldest := newKey("k1", ""), newKey("k2", "b"), newKey("k3", "c")
	older.CreatedAt, newer.CreatedAt, oldest.CreatedAt = at(1), at(2), at(0)
	elsewhere := newKey("k4", "")
	elsewhere.Region = regionY
	insertKeys(t, s, older, newer, oldest, elsewhere)
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.Keys(t.Context(), acctA, regionX)
		wantOK(t, "Keys", err)
		wantEqual(t, "len(Keys)", len(got), 3)
		for i, want := range []*store.Key{oldest, older, newer} {
			wantKey(t, "Keys", got[i], want)
		}
		got, err = tx.Keys(t.Context(), acctB, regionX)
		wantOK(t, "Keys", err)
		wantEqual(t, "keys of another account", len(got), 0)
		return nil
	})
}
