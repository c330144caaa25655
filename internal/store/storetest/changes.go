package storetest

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/coffer-secrets/coffer/internal/store"
)

// testChanges: a store that reports its changes (store.ChangeNotifier)
// reports every write to a secret, its versions or a key, so the caches
// built on the reports never serve what a write replaced; and says when
// what listings hold changed (a secret created or deleted, its status or
// type changed), and only then; and tells the changes to a secret's
// versions, labels and times alone from every other (Changes.Authz),
// which authorization caches rely on. Each write method
// is run alone in a transaction and must name what it changed; reads and
// writes of other records report nothing.
func testChanges(t *testing.T, s store.Store) {
	n, ok := s.(store.ChangeNotifier)
	if !ok {
		return // a shared store: nothing is cached over it
	}
	var mu sync.Mutex
	var got []store.Changes
	n.OnChange(func(c store.Changes) {
		mu.Lock()
		got = append(got, c)
		mu.Unlock()
	})
	ctx := context.Background()
	run := func(name string, want store.Changes, fn func(tx store.Tx) error) {
		t.Helper()
		mu.Lock()
		got = nil
		mu.Unlock()
		mustUpdate(t, s, fn)
		mu.Lock()
		defer mu.Unlock()
		var c store.Changes
		for _, g := range got {
			c.Secrets = append(c.Secrets, g.Secrets...)
			c.Authz = append(c.Authz, g.Authz...)
			c.Keys = c.Keys || g.Keys
			c.Listed = c.Listed || g.Listed
		}
		slices.Sort(c.Secrets)
		slices.Sort(c.Authz)
		if !slices.Equal(c.Secrets, want.Secrets) || !slices.Equal(c.Authz, want.Authz) || c.Keys != want.Keys || c.Listed != want.Listed {
			t.Errorf("%s: reported %+v, want %+v", name, c, want)
		}
	}
	sec := func(ids ...string) store.Changes { return store.Changes{Secrets: ids, Authz: ids} }
	vers := func(ids ...string) store.Changes { return store.Changes{Secrets: ids} } // versions, labels, times
	listed := func(ids ...string) store.Changes { return store.Changes{Secrets: ids, Authz: ids, Listed: true} }
	keys := store.Changes{Keys: true}

	a, b := newSecret("ch-a", "changes-a"), newSecret("ch-b", "changes-b")
	run("InsertSecret", listed("ch-a", "ch-b"), func(tx store.Tx) error {
		if err := tx.InsertSecret(ctx, a); err != nil {
			return err
		}
		return tx.InsertSecret(ctx, b)
	})
	run("UpdateSecret", sec("ch-a"), func(tx store.Tx) error {
		a.Description = "changed"
		return tx.UpdateSecret(ctx, a)
	})
	run("UpdateSecret of the status", listed("ch-a"), func(tx store.Tx) error {
		a.Status = store.StatusDisabled
		return tx.UpdateSecret(ctx, a)
	})
	run("TouchSecret", vers("ch-a"), func(tx store.Tx) error {
		a.UpdatedAt = at(99)
		return tx.TouchSecret(ctx, a)
	})
	run("SetAccessed", vers("ch-b"), func(tx store.Tx) error { return tx.SetAccessed(ctx, "ch-b", at(100)) })
	run("SetReplicas", sec("ch-a"), func(tx store.Tx) error { return tx.SetReplicas(ctx, "ch-a", nil) })
	v := newVersion("ch-a", "v1", "SSM_Current")
	run("InsertVersion", vers("ch-a"), func(tx store.Tx) error { return tx.InsertVersion(ctx, v) })
	run("UpdateVersion", vers("ch-a"), func(tx store.Tx) error {
		v.Stages = []string{"SSM_Previous"}
		return tx.UpdateVersion(ctx, v)
	})
	run("SetStages", vers("ch-a"), func(tx store.Tx) error {
		return tx.SetStages(ctx, "ch-a", "v1", []string{"SSM_Current"})
	})
	run("RewrapVersion", vers("ch-a"), func(tx store.Tx) error {
		w := *v
		w.WrappedKey, w.KeyVersion = []byte("rewrapped"), v.KeyVersion+1
		return tx.RewrapVersion(ctx, &w, v.KeyVersion)
	})
	run("DeleteVersion", vers("ch-a"), func(tx store.Tx) error { return tx.DeleteVersion(ctx, "ch-a", "v1") })
	run("DeleteSecret", listed("ch-b"), func(tx store.Tx) error { return tx.DeleteSecret(ctx, "ch-b") })
	k := newKey("ch-key", "alias/changes")
	run("InsertKey", keys, func(tx store.Tx) error { return tx.InsertKey(ctx, k) })
	run("UpdateKey", keys, func(tx store.Tx) error {
		k.State = store.KeyDisabled
		return tx.UpdateKey(ctx, k)
	})
	run("reads and other records", store.Changes{}, func(tx store.Tx) error {
		if _, err := tx.Secret(ctx, acctA, regionX, "changes-a"); err != nil {
			return err
		}
		if _, err := tx.Versions(ctx, "ch-a"); err != nil {
			return err
		}
		if _, err := tx.VersionList(ctx, "ch-a"); err != nil {
			return err
		}
		if _, _, err := tx.StageHolders(ctx, "ch-a"); err != nil {
			return err
		}
		if _, err := tx.Key(ctx, acctA, regionX, "ch-key"); err != nil {
			return err
		}
		return tx.SetMeta(ctx, "changes", "x")
	})
}
