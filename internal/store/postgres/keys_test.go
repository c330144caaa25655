package postgres_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// TestKeySweeps covers the CMK sweeper's and the re-wrap job's methods,
// which the conformance suite does not reach yet: KeysDue, AllKeys,
// VersionsByKey paged by keyset, CountVersionsByKey, RewrapVersion.
func TestKeySweeps(t *testing.T) {
	db := emptyStore(t)
	at := func(m int) time.Time { return time.UnixMilli(1.7e12).UTC().Add(time.Duration(m) * time.Minute) }
	key := func(id string, created int) *store.Key {
		return &store.Key{ID: id, Account: "1", Region: "r", State: store.KeyEnabled, CreatedAt: at(created),
			Material: []store.KeyMaterial{{Version: 1, Wrapped: []byte{1}}, {Version: 2, Wrapped: []byte{2}}}}
	}
	deleting, rotating, later, idle := key("k1", 3), key("k2", 1), key("k3", 2), key("k4", 0)
	deleting.State, deleting.DeleteAt = store.KeyPendingDeletion, at(10)
	rotating.Rotation = store.KeyRotation{Enabled: true, Days: 30, Next: at(10), Last: at(5)}
	later.Rotation = store.KeyRotation{Enabled: true, Days: 30, Next: at(20)}
	mustUpdate(t, db, func(tx store.Tx) error {
		for _, k := range []*store.Key{deleting, rotating, later, idle} {
			if err := tx.InsertKey(t.Context(), k); err != nil {
				return err
			}
		}
		if err := tx.InsertSecret(t.Context(), &store.Secret{ID: "s", Account: "1", Region: "r", Name: "s"}); err != nil {
			return err
		}
		for i := range 5 {
			v := &store.Version{SecretID: "s", ID: fmt.Sprintf("v%d", i), KeyID: "k2", KeyVersion: 1 + i%2}
			if err := tx.InsertVersion(t.Context(), v); err != nil {
				return err
			}
		}
		return nil
	})
	mustView(t, db, func(tx store.Tx) error {
		due, err := tx.KeysDue(t.Context(), at(10), 10)
		wantIDs(t, "KeysDue", keyIDs(due), err, "k2", "k1")
		got, err := tx.AllKeys(t.Context())
		wantIDs(t, "AllKeys", keyIDs(got), err, "k4", "k2", "k3", "k1")
		if len(due) > 0 && due[0].Rotation != rotating.Rotation {
			t.Errorf("Rotation: got %+v, want %+v", due[0].Rotation, rotating.Rotation)
		}
		page, err := tx.VersionsByKey(t.Context(), "k2", 2, "", "", 2)
		wantIDs(t, "VersionsByKey", versionIDs(page), err, "v0", "v2")
		page, err = tx.VersionsByKey(t.Context(), "k2", 2, "s", "v2", 2)
		wantIDs(t, "VersionsByKey after v2", versionIDs(page), err, "v4")
		total, below, err := tx.CountVersionsByKey(t.Context(), "k2", 2)
		if err != nil || total != 5 || below != 3 {
			t.Errorf("CountVersionsByKey: got %d, %d, %v, want 5, 3", total, below, err)
		}
		return nil
	})
	testRewrap(t, db)
}

// testRewrap re-wraps version v0 of TestKeySweeps from CMK version 1 to 2.
func testRewrap(t *testing.T, db store.Store) {
	v := &store.Version{SecretID: "s", ID: "v0", WrappedKey: []byte("rewrapped"), KeyVersion: 2}
	mustUpdate(t, db, func(tx store.Tx) error { return tx.RewrapVersion(t.Context(), v, 1) })
	for _, tt := range []struct {
		name string
		v    *store.Version
		want fault.Kind
	}{
		{"again", v, fault.Conflict},
		{"gone", &store.Version{SecretID: "s", ID: "nope", KeyVersion: 2}, fault.NotFound},
	} {
		err := db.Update(t.Context(), func(tx store.Tx) error { return tx.RewrapVersion(t.Context(), tt.v, 1) })
		if got := fault.KindOf(err); err == nil || got != tt.want {
			t.Errorf("RewrapVersion %s: got %v (%v), want kind %v", tt.name, err, got, tt.want)
		}
	}
	mustView(t, db, func(tx store.Tx) error {
		got, err := tx.Version(t.Context(), "s", "v0")
		if err != nil || string(got.WrappedKey) != "rewrapped" || got.KeyVersion != 2 {
			t.Errorf("after RewrapVersion: got %+v, %v", got, err)
		}
		return nil
	})
}

func keyIDs(keys []*store.Key) []string {
	var out []string
	for _, k := range keys {
		out = append(out, k.ID)
	}
	return out
}

func versionIDs(vs []*store.Version) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.ID)
	}
	return out
}

func wantIDs(t *testing.T, what string, got []string, err error, want ...string) {
	t.Helper()
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: got %v, %v, want %v", what, got, err, want)
	}
}

func mustUpdate(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func mustView(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.View(t.Context(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}
