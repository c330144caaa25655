package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// testReplicationRoundTrip checks a primary's Replicas and a replica's
// PrimaryRegion come back from every read of a secret: by name, by id, in
// a listing, among the secrets due for deletion.
func testReplicationRoundTrip(t *testing.T, s store.Store) {
	primary := newSecret("p1", "db")
	primary.PrimaryRegion = ""
	// A time in another zone reads back as the same instant, in UTC.
	primary.Replicas[0].SyncedAt = at(6).In(time.FixedZone("UTC+8", 8*3600))
	replica := bareSecret("r1", acctA, regionY, "db")
	replica.PrimaryRegion = regionX
	pending := bareSecret("p2", acctB, regionX, "pending")
	pending.Status, pending.DeleteAt, pending.Replicas = store.StatusPendingDelete, at(10), newReplicas("p2")
	insertSecrets(t, s, primary, replica, pending)

	mustView(t, s, func(tx store.Tx) error {
		for _, want := range []*store.Secret{primary, replica, pending} {
			got, err := tx.Secret(t.Context(), want.Account, want.Region, want.Name)
			wantOK(t, "Secret", err)
			wantSecret(t, "Secret "+want.ID, got, want)
			got, err = tx.SecretByID(t.Context(), want.ID)
			wantOK(t, "SecretByID", err)
			wantSecret(t, "SecretByID "+want.ID, got, want)
			page, _, err := tx.ListSecrets(t.Context(), store.SecretQuery{Account: want.Account, Region: want.Region})
			wantOK(t, "ListSecrets", err)
			wantEqual(t, "ListSecrets "+want.ID, len(page), 1)
			wantSecret(t, "ListSecrets "+want.ID, page[0], want)
		}
		due, err := tx.SecretsDue(t.Context(), at(100), 10)
		wantOK(t, "SecretsDue", err)
		wantEqual(t, "SecretsDue", len(due), 1)
		wantSecret(t, "SecretsDue", due[0], pending)
		return nil
	})
	got := getSecret(t, s, "p1").Replicas
	wantEqual(t, "SyncedAt", got[0].SyncedAt, ms(at(6)))
	wantEqual(t, "SyncedAt location", got[0].SyncedAt.Location(), time.UTC)
	wantEqual(t, "SyncedAt never", got[1].SyncedAt, time.Time{})
}

// testReplicationUpdate walks a primary through the states a replication
// worker records, and a replica promoted to a standalone secret: every
// UpdateSecret stores both fields as given.
func testReplicationUpdate(t *testing.T, s store.Store) {
	primary := bareSecret("p1", acctA, regionX, "db")
	primary.Replicas = []store.Replica{{Region: regionY, Status: "InProgress"}}
	replica := bareSecret("r1", acctA, regionY, "db")
	replica.PrimaryRegion = regionX
	insertSecrets(t, s, primary, replica)

	steps := []struct {
		name     string
		replicas []store.Replica
	}{
		{"synced", []store.Replica{{Region: regionY, KeyID: "key-y", Status: "InSync", Revision: 1, SyncedAt: at(1)}}},
		{"region added", []store.Replica{
			{Region: regionY, KeyID: "key-y", Status: "InSync", Revision: 1, SyncedAt: at(1)},
			{Region: "eu-frankfurt", Status: "InProgress"},
		}},
		{"failed", []store.Replica{
			{Region: regionY, KeyID: "key-y", Status: "InSync", Revision: 2, SyncedAt: at(2)},
			{Region: "eu-frankfurt", Status: "Failed", Message: `key "alias/x" not found`},
		}},
		{"region removed", []store.Replica{{Region: regionY, KeyID: "key-y", Status: "InSync", Revision: 3, SyncedAt: at(3)}}},
	}
	for _, step := range steps {
		primary.Replicas = step.replicas
		mustUpdate(t, s, func(tx store.Tx) error { return tx.UpdateSecret(t.Context(), primary) })
		wantSecret(t, "after "+step.name, getSecret(t, s, "p1"), primary)
	}

	replica.PrimaryRegion = ""
	mustUpdate(t, s, func(tx store.Tx) error { return tx.UpdateSecret(t.Context(), replica) })
	wantEqual(t, "PrimaryRegion after promotion", getSecret(t, s, "r1").PrimaryRegion, "")
	replica.PrimaryRegion = "eu-frankfurt"
	mustUpdate(t, s, func(tx store.Tx) error { return tx.UpdateSecret(t.Context(), replica) })
	wantSecret(t, "after a new primary region", getSecret(t, s, "r1"), replica)
}

// testReplicationEmpty checks an empty Replicas slice is stored as none:
// it reads back nil, exactly as nil does, on insert and on update.
func testReplicationEmpty(t *testing.T, s store.Store) {
	empty := bareSecret("e1", acctA, regionX, "empty")
	empty.Replicas = []store.Replica{}
	insertSecrets(t, s, empty, bareSecret("n1", acctA, regionX, "nil"))
	for _, id := range []string{"e1", "n1"} {
		if got := getSecret(t, s, id).Replicas; got != nil {
			t.Fatalf("Replicas of %s: got %#v, want nil", id, got)
		}
	}

	sec := newSecret("s1", "db")
	insertSecrets(t, s, sec)
	for _, replicas := range [][]store.Replica{{}, newReplicas("s1"), nil} {
		sec.Replicas = replicas
		mustUpdate(t, s, func(tx store.Tx) error { return tx.UpdateSecret(t.Context(), sec) })
		got := getSecret(t, s, "s1")
		wantSecret(t, "after update", got, sec)
		if len(replicas) == 0 && got.Replicas != nil {
			t.Fatalf("Replicas after update to %#v: got %#v, want nil", replicas, got.Replicas)
		}
	}
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.ReplicatedSecrets(t.Context(), "", 0)
		wantOK(t, "ReplicatedSecrets", err)
		wantEqual(t, "ReplicatedSecrets", secretIDs(got), nil)
		return nil
	})
}

// testReplicationSyncedAtRange checks a SyncedAt the stored form cannot
// hold is refused as Invalid, on insert and on update, and leaves the
// secret as it was.
func testReplicationSyncedAtRange(t *testing.T, s store.Store) {
	far := []store.Replica{{Region: regionY, Status: "InSync", SyncedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}
	sec := newSecret("s1", "db")
	bad := newSecret("s2", "far")
	bad.Replicas = far
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.InsertSecret(t.Context(), bad) })
	wantKind(t, "InsertSecret", err, fault.Invalid)

	insertSecrets(t, s, sec)
	changed := *sec
	changed.Description, changed.Replicas = "changed", far
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.UpdateSecret(t.Context(), &changed) })
	wantKind(t, "UpdateSecret", err, fault.Invalid)
	wantSecret(t, "after a refused update", getSecret(t, s, "s1"), sec)
}

// testReplicatedSecrets checks ReplicatedSecrets returns the secrets with
// replicas of every account and region, whatever their status, and only
// those, in byte order of their ids, paged by afterID and limit.
func testReplicatedSecrets(t *testing.T, s store.Store) {
	sec := func(id, account, region string, replicas []store.Replica) *store.Secret {
		c := bareSecret(id, account, region, "name-"+id)
		c.Replicas = replicas
		return c
	}
	one := []store.Replica{{Region: regionY, Status: "InSync", Revision: 1, SyncedAt: at(1)}}
	full := newSecret("a-1", "full") // with tags and every field
	full.Status = store.StatusPendingDelete
	replica := sec("a-0", acctA, regionY, nil)
	replica.PrimaryRegion = regionX
	// "B" and "Z" sort before "a" byte by byte, after it in most locales.
	insertSecrets(t, s,
		sec("c-3", acctA, regionX, one),
		sec("b-4", acctA, regionX, nil),
		full,
		sec("Z-9", acctB, regionY, newReplicas("Z-9")),
		replica,
		sec("d-6", acctB, regionX, []store.Replica{}),
		sec("B-2", acctB, regionX, one),
	)
	all := []string{"B-2", "Z-9", "a-1", "c-3"}
	tests := []struct {
		name    string
		afterID string
		limit   int
		want    []string
	}{
		{"all", "", 10, all},
		{"no limit", "", 0, all},
		{"limit", "", 2, all[:2]},
		{"after an id", "B-2", 2, all[1:3]},
		{"after an id of no secret", "b", 10, all[3:]},
		{"after an id without replicas", "a-0", 10, all[2:]},
		{"after the last", "c-3", 10, nil},
	}
	mustView(t, s, func(tx store.Tx) error {
		for _, tt := range tests {
			got, err := tx.ReplicatedSecrets(t.Context(), tt.afterID, tt.limit)
			wantOK(t, tt.name, err)
			wantEqual(t, tt.name, secretIDs(got), tt.want)
		}
		got, err := tx.ReplicatedSecrets(t.Context(), "Z-9", 1)
		wantOK(t, "ReplicatedSecrets", err)
		if len(got) == 1 {
			wantSecret(t, "ReplicatedSecrets record", got[0], full)
		}
		return nil
	})

	var paged []string
	for after := ""; ; {
		var page []*store.Secret
		mustView(t, s, func(tx store.Tx) error {
			var err error
			page, err = tx.ReplicatedSecrets(t.Context(), after, 1)
			return err
		})
		if len(page) == 0 {
			break
		}
		paged = append(paged, secretIDs(page)...)
		after = page[len(page)-1].ID
	}
	wantEqual(t, "paged one by one", paged, all)
}

// testReplicatedSecretsFollowChanges checks ReplicatedSecrets follows
// writes: a secret joins when an update gives it replicas and leaves when
// one takes them away or deletes it.
func testReplicatedSecretsFollowChanges(t *testing.T, s store.Store) {
	keep := bareSecret("k1", acctA, regionX, "keep")
	keep.Replicas = newReplicas("k1")
	sec := bareSecret("s1", acctA, regionX, "db")
	insertSecrets(t, s, keep, sec)
	replicated := func(what string, want ...string) {
		t.Helper()
		mustView(t, s, func(tx store.Tx) error {
			got, err := tx.ReplicatedSecrets(t.Context(), "", 0)
			wantOK(t, what, err)
			wantEqual(t, what, secretIDs(got), want)
			return nil
		})
	}
	replicated("before", "k1")
	sec.Replicas = []store.Replica{{Region: regionY, Status: "InProgress"}}
	mustUpdate(t, s, func(tx store.Tx) error { return tx.UpdateSecret(t.Context(), sec) })
	replicated("after replicas were added", "k1", "s1")
	sec.Replicas = nil
	mustUpdate(t, s, func(tx store.Tx) error { return tx.UpdateSecret(t.Context(), sec) })
	replicated("after replicas were removed", "k1")
	mustUpdate(t, s, func(tx store.Tx) error { return tx.DeleteSecret(t.Context(), "k1") })
	replicated("after a delete")
}

// testSetReplicas checks SetReplicas changes the replicas and nothing
// else: not the revision, not the update time.
func testSetReplicas(t *testing.T, s store.Store) {
	sec := newSecret("s1", "db")
	sec.Replicas = nil
	insertSecrets(t, s, sec)
	before := getSecret(t, s, "s1")
	rs := newReplicas("s1")
	mustUpdate(t, s, func(tx store.Tx) error { return tx.SetReplicas(t.Context(), "s1", rs) })
	got := getSecret(t, s, "s1")
	if got.Revision != before.Revision || !got.UpdatedAt.Equal(before.UpdatedAt) {
		t.Fatalf("SetReplicas moved revision %d→%d or update time", before.Revision, got.Revision)
	}
	want := slices.Clone(rs)
	for i := range want {
		want[i].SyncedAt = want[i].SyncedAt.Truncate(time.Millisecond)
	}
	wantEqual(t, "replicas", got.Replicas, want)
	mustView(t, s, func(tx store.Tx) error {
		out, err := tx.ReplicatedSecrets(t.Context(), "", 0)
		wantOK(t, "ReplicatedSecrets", err)
		wantEqual(t, "ReplicatedSecrets", secretIDs(out), []string{"s1"})
		return nil
	})
	mustUpdate(t, s, func(tx store.Tx) error { return tx.SetReplicas(t.Context(), "s1", nil) })
	if got := getSecret(t, s, "s1"); got.Replicas != nil {
		t.Fatalf("SetReplicas(nil): %#v", got.Replicas)
	}
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.SetReplicas(t.Context(), "absent", rs) })
	if !fault.Is(err, fault.NotFound) {
		t.Fatalf("SetReplicas of an absent secret: %v", err)
	}
}
