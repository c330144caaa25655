package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

func testSecretRoundTrip(t *testing.T, s store.Store) {
	full := newSecret("s1", "full")
	full.Policy = bigPolicy(20 << 10)
	bare := bareSecret("s2", acctA, regionX, "bare")
	bare.Tags = []store.Tag{} // empty and nil read back alike
	// A time in another zone reads back as the same instant.
	full.AccessedAt = full.AccessedAt.In(time.FixedZone("UTC+8", 8*3600))
	insertSecrets(t, s, full, bare)

	for _, want := range []*store.Secret{full, bare} {
		mustView(t, s, func(tx store.Tx) error {
			got, err := tx.Secret(t.Context(), want.Account, want.Region, want.Name)
			wantOK(t, "Secret", err)
			wantSecret(t, "Secret "+want.Name, got, want)
			got, err = tx.SecretByID(t.Context(), want.ID)
			wantOK(t, "SecretByID", err)
			wantSecret(t, "SecretByID "+want.ID, got, want)
			return nil
		})
	}
	got := getSecret(t, s, bare.ID)
	for name, tm := range map[string]time.Time{
		"DeleteAt": got.DeleteAt, "CreatedAt": got.CreatedAt, "Rotation.Next": got.Rotation.Next,
	} {
		if !tm.IsZero() {
			t.Errorf("%s: got %v, want the zero time", name, tm)
		}
	}
	if got := getSecret(t, s, full.ID).CreatedAt.Location(); got != time.UTC {
		t.Errorf("CreatedAt location: got %v, want UTC", got)
	}
}

func testSecretNotFound(t *testing.T, s store.Store) {
	insertSecrets(t, s, newSecret("s1", "db"))
	tests := []struct {
		name                  string
		account, region, what string
	}{
		{"missing name", acctA, regionX, "nope"},
		{"other account", acctB, regionX, "db"},
		{"other region", acctA, regionY, "db"},
	}
	mustView(t, s, func(tx store.Tx) error {
		for _, tt := range tests {
			_, err := tx.Secret(t.Context(), tt.account, tt.region, tt.what)
			wantKind(t, "Secret "+tt.name, err, fault.NotFound)
		}
		_, err := tx.SecretByID(t.Context(), "nope")
		wantKind(t, "SecretByID", err, fault.NotFound)
		return nil
	})
}

func testSecretExists(t *testing.T, s store.Store) {
	insertSecrets(t, s, newSecret("s1", "db"))
	tests := []struct {
		name   string
		secret *store.Secret
		exists bool
	}{
		{"same id", bareSecret("s1", acctA, regionX, "other"), true},
		{"same name", bareSecret("s2", acctA, regionX, "db"), true},
		{"same name other region", bareSecret("s3", acctA, regionY, "db"), false},
		{"same name other account", bareSecret("s4", acctB, regionX, "db"), false},
		{"name differs in case", bareSecret("s5", acctA, regionX, "DB"), false},
	}
	for _, tt := range tests {
		err := s.Update(t.Context(), func(tx store.Tx) error {
			return tx.InsertSecret(t.Context(), tt.secret)
		})
		if tt.exists {
			wantKind(t, tt.name, err, fault.Exists)
		} else {
			wantOK(t, tt.name, err)
		}
	}
	mustView(t, s, func(tx store.Tx) error {
		n, err := tx.CountSecrets(t.Context(), acctA, regionX)
		wantOK(t, "CountSecrets", err)
		wantEqual(t, "CountSecrets", n, 2)
		return nil
	})
}

// changeSecret sets every mutable field of sec to a new value.
func changeSecret(sec *store.Secret) {
	sec.Name += "-renamed"
	sec.Description = "changed"
	sec.Type = store.TypeRedis
	sec.KeyID = "key-new"
	sec.Status = store.StatusPendingDelete
	sec.DeleteAt = at(500)
	sec.UpdatedAt = at(501)
	sec.AccessedAt = time.Time{} // ignored: only SetAccessed moves it
	sec.Tags = []store.Tag{{Key: "z", Value: "1"}, {Key: "b", Value: "2"}}
	sec.Config = `{}`
	sec.Product = "Redis"
	sec.ResourceID = "crs-1"
	sec.Rotation = store.Rotation{Days: 7, Next: at(502), Rotator: "other"}
	sec.Policy = bigPolicy(20 << 10)
	sec.Tagged = !sec.Tagged
	sec.Replicas = []store.Replica{{Region: "us-east-1", Status: "InProgress", Revision: 8, SyncedAt: at(503)}}
	sec.PrimaryRegion = ""
}

// bigPolicy returns a resource policy document of about size bytes, with
// the quotes, backslashes and non-ASCII text a JSON document may hold.
func bigPolicy(size int) string {
	const stmt = `{"Sid":"s\"é","Effect":"Deny","Principal":"*","Action":"secretsmanager:*","Resource":"*"}`
	var b strings.Builder
	b.WriteString(`{"Version":"2012-10-17","Statement":[`)
	for b.Len() < size {
		b.WriteString(stmt + ",")
	}
	b.WriteString(stmt + `]}`)
	return b.String()
}

func testSecretUpdate(t *testing.T, s store.Store) {
	sec := newSecret("s1", "db")
	insertSecrets(t, s, sec)
	accessed := sec.AccessedAt
	changeSecret(sec)
	mustUpdate(t, s, func(tx store.Tx) error { return tx.UpdateSecret(t.Context(), sec) })
	wantEqual(t, "Revision after update", sec.Revision, int64(8))
	sec.AccessedAt = accessed // UpdateSecret leaves AccessedAt to SetAccessed
	wantSecret(t, "after update", getSecret(t, s, "s1"), sec)

	sec.Tags, sec.Policy = nil, ""
	mustUpdate(t, s, func(tx store.Tx) error { return tx.UpdateSecret(t.Context(), sec) })
	got := getSecret(t, s, "s1")
	wantEqual(t, "Revision after second update", got.Revision, int64(9))
	wantEqual(t, "Tags after clearing", len(got.Tags), 0)
	wantEqual(t, "Policy after clearing", got.Policy, "")
	mustView(t, s, func(tx store.Tx) error {
		_, err := tx.Secret(t.Context(), acctA, regionX, "db")
		wantKind(t, "Secret by old name", err, fault.NotFound)
		return nil
	})
}

func testSecretUpdateConflict(t *testing.T, s store.Store) {
	insertSecrets(t, s, newSecret("s1", "db"), newSecret("s2", "taken"))
	stale := getSecret(t, s, "s1")
	fresh := getSecret(t, s, "s1")
	mustUpdate(t, s, func(tx store.Tx) error { return tx.UpdateSecret(t.Context(), fresh) })

	stale.Description = "lost update"
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.UpdateSecret(t.Context(), stale) })
	wantKind(t, "UpdateSecret stale", err, fault.Conflict)
	wantEqual(t, "stale Revision unchanged", stale.Revision, int64(7))

	missing := bareSecret("nope", acctA, regionX, "nope")
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.UpdateSecret(t.Context(), missing) })
	wantKind(t, "UpdateSecret missing", err, fault.NotFound)

	fresh.Name = "taken"
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.UpdateSecret(t.Context(), fresh) })
	wantKind(t, "UpdateSecret to a taken name", err, fault.Exists)
	got := getSecret(t, s, "s1")
	wantEqual(t, "Name", got.Name, "db")
	wantEqual(t, "Revision", got.Revision, int64(8))
}

// testSecretTouch: TouchSecret stores UpdatedAt and raises the revision,
// and leaves every other field as stored, even one the caller changed;
// a stale revision is a Conflict and an unknown secret NotFound.
func testSecretTouch(t *testing.T, s store.Store) {
	insertSecrets(t, s, newSecret("s1", "db"))
	sec := getSecret(t, s, "s1")
	stale := getSecret(t, s, "s1")
	want := getSecret(t, s, "s1")
	sec.UpdatedAt, sec.Description = at(90), "not stored by a touch"
	mustUpdate(t, s, func(tx store.Tx) error { return tx.TouchSecret(t.Context(), sec) })
	wantEqual(t, "caller's Revision", sec.Revision, want.Revision+1)
	want.UpdatedAt, want.Revision = at(90), want.Revision+1
	touched := getSecret(t, s, "s1")
	wantSecret(t, "after TouchSecret", touched, want)

	stale.UpdatedAt = at(95)
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.TouchSecret(t.Context(), stale) })
	wantKind(t, "TouchSecret stale", err, fault.Conflict)
	wantSecret(t, "after a stale TouchSecret", getSecret(t, s, "s1"), touched)

	missing := bareSecret("nope", acctA, regionX, "nope")
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.TouchSecret(t.Context(), missing) })
	wantKind(t, "TouchSecret missing", err, fault.NotFound)
}

func testSecretDelete(t *testing.T, s store.Store) {
	insertSecrets(t, s, newSecret("s1", "db"), newSecret("s2", "keep"))
	insertVersions(t, s, newVersion("s1", "v1", "AWSCURRENT"), newVersion("s1", "v2"),
		newVersion("s2", "v1", "AWSCURRENT"))
	mustUpdate(t, s, func(tx store.Tx) error { return tx.DeleteSecret(t.Context(), "s1") })

	mustView(t, s, func(tx store.Tx) error {
		_, err := tx.SecretByID(t.Context(), "s1")
		wantKind(t, "SecretByID", err, fault.NotFound)
		_, err = tx.Version(t.Context(), "s1", "v1")
		wantKind(t, "Version", err, fault.NotFound)
		_, err = tx.VersionByToken(t.Context(), "s1", "token-v2")
		wantKind(t, "VersionByToken", err, fault.NotFound)
		vs, err := tx.Versions(t.Context(), "s1")
		wantOK(t, "Versions", err)
		wantEqual(t, "versions left", len(vs), 0)
		vs, err = tx.Versions(t.Context(), "s2")
		wantOK(t, "Versions", err)
		wantEqual(t, "other secret's versions", len(vs), 1)
		return nil
	})
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.DeleteSecret(t.Context(), "s1") })
	wantKind(t, "DeleteSecret again", err, fault.NotFound)

	// The id and the name are free again, and nothing of the old secret
	// (tags, versions, stages) comes back with them.
	again := bareSecret("s1", acctA, regionX, "db")
	insertSecrets(t, s, again)
	wantSecret(t, "reinserted", getSecret(t, s, "s1"), again)
	insertVersions(t, s, newVersion("s1", "v1", "AWSCURRENT"))
}

// testSecretSetAccessed checks that SetAccessed only ever raises
// AccessedAt, and touches nothing else: not UpdatedAt, not the Revision, so
// a writer holding the secret from before the read still succeeds.
func testSecretSetAccessed(t *testing.T, s store.Store) {
	sec := newSecret("s1", "db") // AccessedAt at(2)
	never := bareSecret("s2", acctA, regionX, "never-read")
	insertSecrets(t, s, sec, never)
	setAccessed := func(id string, tm time.Time) error {
		return s.Update(t.Context(), func(tx store.Tx) error { return tx.SetAccessed(t.Context(), id, tm) })
	}
	tests := []struct {
		name string
		id   string
		at   time.Time
		want time.Time
	}{
		{"later", "s1", at(10), at(10)},
		{"earlier", "s1", at(5), at(10)},
		{"same", "s1", at(10), at(10)},
		{"zero", "s1", time.Time{}, at(10)},
		{"never read, zero", "s2", time.Time{}, time.Time{}},
		{"never read", "s2", at(-10), at(-10)},
		{"later in another zone", "s2", at(-5).In(time.FixedZone("UTC-5", -5*3600)), at(-5)},
	}
	for _, tt := range tests {
		wantOK(t, "SetAccessed "+tt.name, setAccessed(tt.id, tt.at))
		got := getSecret(t, s, tt.id)
		wantEqual(t, "AccessedAt "+tt.name, got.AccessedAt, ms(tt.want))
		wantEqual(t, "AccessedAt location "+tt.name, got.AccessedAt.Location(), time.UTC)
	}
	// Everything but AccessedAt is as inserted, Revision included.
	want := *sec
	want.AccessedAt = at(10)
	wantSecret(t, "after SetAccessed", getSecret(t, s, "s1"), &want)

	sec.Description = "changed by a writer that read before SetAccessed"
	mustUpdate(t, s, func(tx store.Tx) error { return tx.UpdateSecret(t.Context(), sec) })
	wantEqual(t, "Revision", getSecret(t, s, "s1").Revision, int64(8))

	wantKind(t, "SetAccessed missing", setAccessed("nope", at(1)), fault.NotFound)
	wantKind(t, "SetAccessed missing, zero", setAccessed("nope", time.Time{}), fault.NotFound)
	mustUpdate(t, s, func(tx store.Tx) error { return tx.DeleteSecret(t.Context(), "s2") })
	wantKind(t, "SetAccessed deleted", setAccessed("s2", at(1)), fault.NotFound)
}
