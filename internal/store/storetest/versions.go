package storetest

import (
	"testing"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

func testVersionRoundTrip(t *testing.T, s store.Store) {
	insertSecrets(t, s, newSecret("s1", "db"))
	full := newVersion("s1", "v1", "AWSCURRENT", "custom")
	bare := &store.Version{SecretID: "s1", ID: "v2", Ciphertext: []byte{}}
	insertVersions(t, s, full, bare)
	if full.Seq == 0 || bare.Seq == 0 {
		t.Fatalf("Seq not set: got %d and %d", full.Seq, bare.Seq)
	}
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.Version(t.Context(), "s1", "v1")
		wantOK(t, "Version", err)
		wantVersion(t, "Version", got, full)
		got, err = tx.VersionByToken(t.Context(), "s1", full.Token)
		wantOK(t, "VersionByToken", err)
		wantVersion(t, "VersionByToken", got, full)
		got, err = tx.Version(t.Context(), "s1", "v2")
		wantOK(t, "Version bare", err)
		wantVersion(t, "Version bare", got, bare)
		return nil
	})
	all := getVersions(t, s, "s1")
	wantEqual(t, "len(Versions)", len(all), 2)
	wantVersion(t, "Versions[0]", all[0], full)
	wantVersion(t, "Versions[1]", all[1], bare)
}

func testVersionSeq(t *testing.T, s store.Store) {
	insertSecrets(t, s, newSecret("s1", "one"), newSecret("s2", "two"))
	// Ids sort against creation order, so Versions must order by Seq.
	vs := []*store.Version{newVersion("s1", "c"), newVersion("s2", "x"), newVersion("s1", "b"), newVersion("s1", "a")}
	insertVersions(t, s, vs...)
	for i := 1; i < len(vs); i++ {
		if vs[i].Seq <= vs[i-1].Seq {
			t.Fatalf("Seq of version %d: got %d, want more than %d", i, vs[i].Seq, vs[i-1].Seq)
		}
	}
	wantEqual(t, "order", versionIDs(getVersions(t, s, "s1")), []string{"c", "b", "a"})

	explicit := newVersion("s2", "explicit")
	explicit.Seq = vs[3].Seq + 1000
	insertVersions(t, s, explicit)
	wantEqual(t, "explicit Seq kept", explicit.Seq, vs[3].Seq+1000)

	// A deleted version's Seq is never handed out again.
	mustUpdate(t, s, func(tx store.Tx) error { return tx.DeleteVersion(t.Context(), "s2", "explicit") })
	next := newVersion("s1", "d")
	insertVersions(t, s, next)
	if next.Seq <= explicit.Seq {
		t.Fatalf("Seq after delete: got %d, want more than %d", next.Seq, explicit.Seq)
	}
	wantEqual(t, "order", versionIDs(getVersions(t, s, "s1")), []string{"c", "b", "a", "d"})
}

func versionIDs(vs []*store.Version) []string {
	out := []string{}
	for _, v := range vs {
		out = append(out, v.ID)
	}
	return out
}

func testVersionExists(t *testing.T, s store.Store) {
	insertSecrets(t, s, newSecret("s1", "one"), newSecret("s2", "two"))
	insertVersions(t, s, newVersion("s1", "v1"), &store.Version{SecretID: "s1", ID: "untokened"})
	withToken := func(secretID, id, token string) *store.Version {
		v := newVersion(secretID, id)
		v.Token = token
		return v
	}
	tests := []struct {
		name    string
		version *store.Version
		exists  bool
	}{
		{"same id", withToken("s1", "v1", "fresh"), true},
		{"same token", withToken("s1", "v2", "token-v1"), true},
		{"second empty token", withToken("s1", "v3", ""), false},
		{"same id other secret", withToken("s2", "v1", "t"), false},
		{"same token other secret", withToken("s2", "v4", "token-v1"), false},
	}
	for _, tt := range tests {
		err := s.Update(t.Context(), func(tx store.Tx) error { return tx.InsertVersion(t.Context(), tt.version) })
		if tt.exists {
			wantKind(t, tt.name, err, fault.Exists)
		} else {
			wantOK(t, tt.name, err)
		}
	}
	wantEqual(t, "versions of s1", versionIDs(getVersions(t, s, "s1")), []string{"v1", "untokened", "v3"})
}

func testVersionNotFound(t *testing.T, s store.Store) {
	insertSecrets(t, s, newSecret("s1", "one"))
	insertVersions(t, s, &store.Version{SecretID: "s1", ID: "v1"})
	err := s.Update(t.Context(), func(tx store.Tx) error {
		return tx.InsertVersion(t.Context(), newVersion("nope", "v1"))
	})
	wantKind(t, "InsertVersion into a missing secret", err, fault.NotFound)
	mustView(t, s, func(tx store.Tx) error {
		_, err := tx.Version(t.Context(), "s1", "nope")
		wantKind(t, "Version", err, fault.NotFound)
		_, err = tx.Version(t.Context(), "nope", "v1")
		wantKind(t, "Version of a missing secret", err, fault.NotFound)
		_, err = tx.VersionByToken(t.Context(), "s1", "nope")
		wantKind(t, "VersionByToken", err, fault.NotFound)
		_, err = tx.VersionByToken(t.Context(), "s1", "")
		wantKind(t, "VersionByToken with no token", err, fault.NotFound)
		return nil
	})
	for name, fn := range map[string]func(tx store.Tx) error{
		"UpdateVersion": func(tx store.Tx) error { return tx.UpdateVersion(t.Context(), newVersion("s1", "nope")) },
		"DeleteVersion": func(tx store.Tx) error { return tx.DeleteVersion(t.Context(), "s1", "nope") },
	} {
		wantKind(t, name, s.Update(t.Context(), fn), fault.NotFound)
	}
}

// testVersionStages checks that a label sits on at most one version of a
// secret, and that moving one works when the loser is updated first.
func testVersionStages(t *testing.T, s store.Store) {
	insertSecrets(t, s, newSecret("s1", "one"), newSecret("s2", "two"))
	v1 := newVersion("s1", "v1", "AWSCURRENT")
	v2 := newVersion("s1", "v2", "AWSPENDING")
	insertVersions(t, s, v1, v2, newVersion("s2", "v1", "AWSCURRENT"))

	err := s.Update(t.Context(), func(tx store.Tx) error {
		return tx.InsertVersion(t.Context(), newVersion("s1", "v3", "AWSCURRENT"))
	})
	wantKind(t, "InsertVersion with a taken stage", err, fault.Exists)

	v2.Stages = []string{"AWSCURRENT"}
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.UpdateVersion(t.Context(), v2) })
	wantKind(t, "UpdateVersion with a taken stage", err, fault.Exists)

	v1.Stages = []string{"AWSPREVIOUS"}
	mustUpdate(t, s, func(tx store.Tx) error {
		if err := tx.UpdateVersion(t.Context(), v1); err != nil {
			return err
		}
		return tx.UpdateVersion(t.Context(), v2)
	})
	got := getVersions(t, s, "s1")
	wantEqual(t, "stages of v1", stageSet(got[0].Stages), []string{"AWSPREVIOUS"})
	wantEqual(t, "stages of v2", stageSet(got[1].Stages), []string{"AWSCURRENT"})
	wantEqual(t, "versions", len(got), 2)

	// VersionByStage finds the holder, in its own secret only.
	err = s.View(t.Context(), func(tx store.Tx) error {
		for _, c := range []struct{ secret, stage, want string }{
			{"s1", "AWSCURRENT", "v2"}, {"s1", "AWSPREVIOUS", "v1"}, {"s2", "AWSCURRENT", "v1"},
		} {
			v, err := tx.VersionByStage(t.Context(), c.secret, c.stage)
			if err != nil {
				return err
			}
			wantEqual(t, "VersionByStage("+c.secret+", "+c.stage+")", v.ID, c.want)
			wantEqual(t, "its secret", v.SecretID, c.secret)
		}
		_, err := tx.VersionByStage(t.Context(), "s1", "AWSPENDING")
		wantKind(t, "VersionByStage of a label nobody holds", err, fault.NotFound)
		_, err = tx.VersionByStage(t.Context(), "s2", "AWSPREVIOUS")
		wantKind(t, "VersionByStage of another secret's label", err, fault.NotFound)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testVersionUpdate(t *testing.T, s store.Store) {
	insertSecrets(t, s, newSecret("s1", "one"))
	v := newVersion("s1", "v1", "AWSCURRENT", "b")
	insertVersions(t, s, v)
	want := *v
	// The sealed value is replaced (a string may become binary); stages
	// change; the rest stays.
	change := *v
	change.Binary = !v.Binary
	change.Ciphertext, change.WrappedKey = []byte("new ciphertext"), []byte("new wrapped key")
	change.KeyID, change.KeyVersion = "key-2", 9
	change.Stages = []string{"c", "AWSCURRENT"}
	mustUpdate(t, s, func(tx store.Tx) error { return tx.UpdateVersion(t.Context(), &change) })
	want.Binary, want.Ciphertext, want.WrappedKey = change.Binary, change.Ciphertext, change.WrappedKey
	want.KeyID, want.KeyVersion, want.Stages = change.KeyID, change.KeyVersion, change.Stages
	wantVersion(t, "after update", getVersions(t, s, "s1")[0], &want)

	change.Stages = nil
	mustUpdate(t, s, func(tx store.Tx) error { return tx.UpdateVersion(t.Context(), &change) })
	wantEqual(t, "stages after clearing", len(getVersions(t, s, "s1")[0].Stages), 0)
}

func testVersionDelete(t *testing.T, s store.Store) {
	insertSecrets(t, s, newSecret("s1", "one"))
	insertVersions(t, s, newVersion("s1", "v1", "AWSPREVIOUS"), newVersion("s1", "v2", "AWSCURRENT"))
	mustUpdate(t, s, func(tx store.Tx) error { return tx.DeleteVersion(t.Context(), "s1", "v1") })
	wantEqual(t, "versions", versionIDs(getVersions(t, s, "s1")), []string{"v2"})
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.DeleteVersion(t.Context(), "s1", "v1") })
	wantKind(t, "DeleteVersion again", err, fault.NotFound)
	// The deleted version's stage and token are free again.
	insertVersions(t, s, newVersion("s1", "v3", "AWSPREVIOUS"), newVersion("s1", "v1"))
	wantEqual(t, "versions", versionIDs(getVersions(t, s, "s1")), []string{"v2", "v3", "v1"})
}

// testVersionList: VersionList is Versions, in the same order, with every
// field but the sealed value.
func testVersionList(t *testing.T, s store.Store) {
	insertSecrets(t, s, newSecret("s1", "one"), newSecret("s2", "two"))
	insertVersions(t, s, newVersion("s1", "b", "AWSCURRENT"), newVersion("s1", "a", "AWSPENDING", "beta"),
		newVersion("s1", "c"), newVersion("s2", "x", "AWSCURRENT"))
	full := getVersions(t, s, "s1")
	var list []*store.Version
	mustView(t, s, func(tx store.Tx) error {
		var err error
		list, err = tx.VersionList(t.Context(), "s1")
		return err
	})
	wantEqual(t, "versions listed", len(list), len(full))
	for i, v := range full {
		want := normVersion(v)
		want.Ciphertext, want.WrappedKey = nil, nil
		wantEqual(t, "VersionList["+v.ID+"]", normVersion(list[i]), want)
	}
	mustView(t, s, func(tx store.Tx) error {
		vs, err := tx.VersionList(t.Context(), "no-such-secret")
		wantEqual(t, "versions of no secret", len(vs), 0)
		return err
	})
}

// testStageHolders: StageHolders names the versions VersionList shows
// with labels, by version id, with those labels, and counts every version,
// whether or not any carries a label.
func testStageHolders(t *testing.T, s store.Store) {
	insertSecrets(t, s, newSecret("s1", "one"), newSecret("s2", "two"), newSecret("s3", "three"))
	insertVersions(t, s, newVersion("s1", "b", "AWSCURRENT"), newVersion("s1", "a", "beta", "AWSPENDING", "AWSPREVIOUS"),
		newVersion("s1", "c"), newVersion("s1", "d"), newVersion("s2", "x", "AWSCURRENT"), newVersion("s3", "y"), newVersion("s3", "z"))
	holders := func(id string) (map[string][]string, int) {
		var vs []*store.Version
		var n int
		mustView(t, s, func(tx store.Tx) error {
			var err error
			vs, n, err = tx.StageHolders(t.Context(), id)
			return err
		})
		got := map[string][]string{}
		for i, v := range vs {
			if i > 0 && vs[i-1].ID >= v.ID {
				t.Errorf("StageHolders(%s): %s after %s, want them by version id", id, v.ID, vs[i-1].ID)
			}
			wantEqual(t, "holder's secret", v.SecretID, id)
			got[v.ID] = v.Stages
		}
		return got, n
	}
	got, n := holders("s1")
	wantEqual(t, "versions of s1", n, 4)
	wantEqual(t, "holders in s1", got, map[string][]string{"a": {"AWSPENDING", "AWSPREVIOUS", "beta"}, "b": {"AWSCURRENT"}})
	got, n = holders("s3")
	wantEqual(t, "versions of s3, none labeled", n, 2)
	wantEqual(t, "holders in s3", got, map[string][]string{})
	got, n = holders("no-such-secret")
	wantEqual(t, "versions of no secret", n, 0)
	wantEqual(t, "holders in no secret", got, map[string][]string{})
}

// testSetStages: SetStages moves labels and changes nothing else of the
// version; a label held by another version is Exists, a missing version
// NotFound, and a refused call leaves the labels as they were.
func testSetStages(t *testing.T, s store.Store) {
	insertSecrets(t, s, newSecret("s1", "one"), newSecret("s2", "two"))
	v1, v2 := newVersion("s1", "v1", "AWSCURRENT"), newVersion("s1", "v2", "AWSPENDING")
	insertVersions(t, s, v1, v2, newVersion("s2", "v1", "AWSCURRENT"))
	before := getVersions(t, s, "s1")

	err := s.Update(t.Context(), func(tx store.Tx) error {
		return tx.SetStages(t.Context(), "s1", "v2", []string{"AWSCURRENT", "AWSPENDING"})
	})
	wantKind(t, "SetStages with a label another version holds", err, fault.Exists)
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.SetStages(t.Context(), "s1", "v9", []string{"x"}) })
	wantKind(t, "SetStages of a missing version", err, fault.NotFound)
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.SetStages(t.Context(), "s1", "v9", nil) })
	wantKind(t, "SetStages of a missing version, no labels", err, fault.NotFound)
	wantEqual(t, "after refused calls", normVersions(getVersions(t, s, "s1")), normVersions(before))

	mustUpdate(t, s, func(tx store.Tx) error {
		if err := tx.SetStages(t.Context(), "s1", "v1", []string{"AWSPREVIOUS"}); err != nil {
			return err
		}
		return tx.SetStages(t.Context(), "s1", "v2", []string{"AWSCURRENT", "AWSCURRENT"})
	})
	got := getVersions(t, s, "s1")
	for i, want := range before {
		want.Stages = [][]string{{"AWSPREVIOUS"}, {"AWSCURRENT"}}[i]
		wantEqual(t, "version "+want.ID+" after SetStages", normVersion(got[i]), normVersion(want))
	}
	wantEqual(t, "the other secret's labels", stageSet(getVersions(t, s, "s2")[0].Stages), []string{"AWSCURRENT"})
}

func normVersions(vs []*store.Version) []store.Version {
	out := make([]store.Version, len(vs))
	for i, v := range vs {
		out[i] = normVersion(v)
	}
	return out
}

// testRevisions: a store.Revisioner reads the revisions UpdateSecret,
// TouchSecret and UpdateKey raise, and -1 for a secret or key that is not
// there: a missing id, or a key of another account or region.
func testRevisions(t *testing.T, s store.Store) {
	r, ok := s.(store.Revisioner)
	if !ok {
		t.Skip("the store reads no revisions outside a transaction")
	}
	sec, k := newSecret("s1", "one"), newKey("k1", "")
	insertSecrets(t, s, sec)
	insertKeys(t, s, k)
	check := func(what string, secretID, account, region, keyID string, wantSecret, wantKey int64) {
		t.Helper()
		gotSecret, gotKey, err := r.Revisions(t.Context(), secretID, account, region, keyID)
		if err != nil || gotSecret != wantSecret || gotKey != wantKey {
			t.Errorf("Revisions %s: got (%d, %d, %v), want (%d, %d)", what, gotSecret, gotKey, err, wantSecret, wantKey)
		}
	}
	check("as inserted", "s1", acctA, regionX, "k1", sec.Revision, k.Revision)
	mustUpdate(t, s, func(tx store.Tx) error {
		if err := tx.TouchSecret(t.Context(), sec); err != nil {
			return err
		}
		return tx.UpdateKey(t.Context(), k)
	})
	check("after TouchSecret and UpdateKey", "s1", acctA, regionX, "k1", sec.Revision, k.Revision)
	before := sec.Revision
	sec.Description = "changed"
	mustUpdate(t, s, func(tx store.Tx) error { return tx.UpdateSecret(t.Context(), sec) })
	if sec.Revision != before+1 {
		t.Fatalf("UpdateSecret: Revision %d, want %d", sec.Revision, before+1)
	}
	check("after UpdateSecret", "s1", acctA, regionX, "k1", sec.Revision, k.Revision)
	check("missing secret", "nope", acctA, regionX, "k1", -1, k.Revision)
	check("missing key", "s1", acctA, regionX, "nope", sec.Revision, -1)
	check("key of another account", "s1", acctB, regionX, "k1", sec.Revision, -1)
	check("key of another region", "s1", acctA, regionY, "k1", sec.Revision, -1)
}
