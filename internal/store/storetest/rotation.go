package storetest

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// newRun returns a Running run of secretID in (acctA, regionX) with every
// field set, worked on at minute next.
func newRun(secretID string, next int) *store.RotationRun {
	return &store.RotationRun{
		Account:    acctA,
		Region:     regionX,
		SecretID:   secretID,
		SecretName: "name-" + secretID,
		Kind:       "rotate",
		Rotator:    "postgresql",
		VersionID:  "v-" + secretID,
		Step:       "createSecret",
		State:      store.RunRunning,
		Attempts:   2,
		Error:      "connection refused",
		Detail:     `{"user":"app_a"}`,
		NextAt:     at(next),
		StartedAt:  at(0),
		UpdatedAt:  at(1),
	}
}

func normRun(r *store.RotationRun) store.RotationRun {
	c := *r
	c.NextAt, c.StartedAt, c.UpdatedAt, c.EndedAt = ms(c.NextAt), ms(c.StartedAt), ms(c.UpdatedAt), ms(c.EndedAt)
	return c
}

func wantRun(t tb, what string, got, want *store.RotationRun) {
	t.Helper()
	wantEqual(t, what, normRun(got), normRun(want))
}

// insertRuns stores runs in one transaction, which sets their ids.
func insertRuns(t tb, s store.Store, runs ...*store.RotationRun) {
	t.Helper()
	mustUpdate(t, s, func(tx store.Tx) error {
		for _, r := range runs {
			if err := tx.InsertRotationRun(context.Background(), r); err != nil {
				return err
			}
		}
		return nil
	})
}

func runIDs(runs []*store.RotationRun) []int64 {
	var ids []int64
	for _, r := range runs {
		ids = append(ids, r.ID)
	}
	return ids
}

func secretIDs(secrets []*store.Secret) []string {
	var ids []string
	for _, s := range secrets {
		ids = append(ids, s.ID)
	}
	return ids
}

// testRunRoundTrip checks every field comes back, zero times included, and
// each insert gets a new id above every earlier one, whatever ID it held.
func testRunRoundTrip(t *testing.T, s store.Store) {
	full := newRun("s1", 5)
	bare := &store.RotationRun{SecretID: "s2", State: store.RunSucceeded}
	insertRuns(t, s, full, bare)
	again := *full // a copy still holding full's id
	insertRuns(t, s, &again)
	later := newRun("s1", 6)
	insertRuns(t, s, later)
	if !(full.ID > 0 && bare.ID > full.ID && again.ID > bare.ID && later.ID > again.ID) {
		t.Fatalf("ids: got %v, want increasing from above 0", []int64{full.ID, bare.ID, again.ID, later.ID})
	}
	mustView(t, s, func(tx store.Tx) error {
		for _, want := range []*store.RotationRun{full, bare, &again, later} {
			got, err := tx.RotationRun(t.Context(), want.ID)
			wantOK(t, "RotationRun", err)
			wantRun(t, "RotationRun", got, want)
		}
		_, err := tx.RotationRun(t.Context(), later.ID+1)
		wantKind(t, "RotationRun missing", err, fault.NotFound)
		return nil
	})
}

// testRunUpdate checks every field but ID is replaced, and a missing run
// is NotFound.
func testRunUpdate(t *testing.T, s store.Store) {
	r, other := newRun("s1", 5), newRun("s2", 5)
	insertRuns(t, s, r, other)
	r.Account, r.Region, r.SecretID, r.SecretName = acctB, regionY, "s9", "renamed"
	r.Kind, r.Rotator, r.VersionID, r.Step = "create", "webhook", "v-new", ""
	r.State, r.Attempts, r.Error, r.Detail = store.RunRolledBack, 0, "", `{}`
	r.NextAt, r.StartedAt, r.UpdatedAt, r.EndedAt = time.Time{}, at(2), at(3), at(4)
	mustUpdate(t, s, func(tx store.Tx) error { return tx.UpdateRotationRun(t.Context(), r) })
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.RotationRun(t.Context(), r.ID)
		wantOK(t, "RotationRun", err)
		wantRun(t, "after update", got, r)
		got, err = tx.RotationRun(t.Context(), other.ID)
		wantOK(t, "RotationRun other", err)
		wantRun(t, "other run after update", got, other)
		return nil
	})
	missing := newRun("s1", 5)
	missing.ID = other.ID + 100
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.UpdateRotationRun(t.Context(), missing) })
	wantKind(t, "UpdateRotationRun missing", err, fault.NotFound)
}

// testRunsOfSecret checks a secret's runs come newest first, limited, and
// no other secret's.
func testRunsOfSecret(t *testing.T, s store.Store) {
	r1, r2, elsewhere, r3 := newRun("s1", 0), newRun("s1", 0), newRun("s2", 0), newRun("s1", 0)
	elsewhere.Account = acctB
	insertRuns(t, s, r1, r2, elsewhere)
	insertRuns(t, s, r3)
	tests := []struct {
		name     string
		secretID string
		limit    int
		want     []int64
	}{
		{"all", "s1", 10, []int64{r3.ID, r2.ID, r1.ID}},
		{"limit", "s1", 2, []int64{r3.ID, r2.ID}},
		{"no limit", "s1", 0, []int64{r3.ID, r2.ID, r1.ID}},
		{"other secret", "s2", 10, []int64{elsewhere.ID}},
		{"no runs", "s3", 10, nil},
	}
	mustView(t, s, func(tx store.Tx) error {
		for _, tt := range tests {
			got, err := tx.RotationRuns(t.Context(), tt.secretID, tt.limit)
			wantOK(t, tt.name, err)
			wantEqual(t, tt.name, runIDs(got), tt.want)
		}
		got, err := tx.RotationRuns(t.Context(), "s1", 1)
		wantOK(t, "RotationRuns", err)
		if len(got) == 1 {
			wantRun(t, "RotationRuns record", got[0], r3)
		}
		return nil
	})
}

// testRunsDue checks only Running runs come, of any account, at or after
// their NextAt (a zero NextAt at once), by (NextAt, ID), limited.
func testRunsDue(t *testing.T, s store.Store) {
	run := func(state store.RunState, next int) *store.RotationRun {
		r := newRun("s", next)
		r.State = state
		return r
	}
	late, early, tie, other := run(store.RunRunning, 30), run(store.RunRunning, 10), run(store.RunRunning, 10),
		run(store.RunRunning, 20)
	other.Account, other.Region = acctB, regionY
	now := run(store.RunRunning, 0)
	now.NextAt = time.Time{}
	insertRuns(t, s, late, tie, now, run(store.RunSucceeded, 1), run(store.RunFailed, 1), run(store.RunRolledBack, 1))
	insertRuns(t, s, other, early) // early: a larger id than tie, at the same time
	tests := []struct {
		name   string
		minute int
		limit  int
		want   []int64
	}{
		{"zero NextAt only", 5, 10, []int64{now.ID}},
		{"at NextAt is due", 10, 10, []int64{now.ID, tie.ID, early.ID}},
		{"all due", 100, 10, []int64{now.ID, tie.ID, early.ID, other.ID, late.ID}},
		{"no limit", 100, 0, []int64{now.ID, tie.ID, early.ID, other.ID, late.ID}},
		{"limit", 100, 2, []int64{now.ID, tie.ID}},
	}
	mustView(t, s, func(tx store.Tx) error {
		for _, tt := range tests {
			got, err := tx.RotationRunsDue(t.Context(), at(tt.minute), tt.limit)
			wantOK(t, tt.name, err)
			wantEqual(t, tt.name, runIDs(got), tt.want)
		}
		got, err := tx.RotationRunsDue(t.Context(), at(100), 10)
		wantOK(t, "RotationRunsDue", err)
		if len(got) == 5 {
			wantRun(t, "RotationRunsDue record", got[3], other)
		}
		return nil
	})
}

// testSecretsRotationDue checks only Enabled secrets with rotation enabled
// and a Rotation.Next come, of any account, by (Rotation.Next, ID), limited,
// as full records.
func testSecretsRotationDue(t *testing.T, s store.Store) {
	sec := func(id, account string, status store.SecretStatus, enabled bool, next int) *store.Secret {
		c := newSecret(id, "name-"+id)
		c.Account, c.Status = account, status
		c.Rotation.Enabled, c.Rotation.Next = enabled, at(next)
		return c
	}
	never := sec("r-never", acctA, store.StatusEnabled, true, 0)
	never.Rotation.Next = time.Time{}
	other := sec("r-b", acctB, store.StatusEnabled, true, 20)
	other.Region = regionY
	insertSecrets(t, s,
		sec("r-late", acctA, store.StatusEnabled, true, 30),
		sec("r-tie2", acctA, store.StatusEnabled, true, 10),
		sec("r-tie1", acctA, store.StatusEnabled, true, 10),
		other, never,
		sec("r-off", acctA, store.StatusEnabled, false, 1),
		sec("r-disabled", acctA, store.StatusDisabled, true, 1),
		sec("r-pending", acctA, store.StatusPendingDelete, true, 1),
		sec("r-creating", acctA, store.StatusCreating, true, 1),
	)
	tests := []struct {
		name   string
		minute int
		limit  int
		want   []string
	}{
		{"none due", 5, 10, nil},
		{"at Next is due", 10, 10, []string{"r-tie1", "r-tie2"}},
		{"all due", 100, 10, []string{"r-tie1", "r-tie2", "r-b", "r-late"}},
		{"no limit", 100, 0, []string{"r-tie1", "r-tie2", "r-b", "r-late"}},
		{"limit", 100, 3, []string{"r-tie1", "r-tie2", "r-b"}},
	}
	mustView(t, s, func(tx store.Tx) error {
		for _, tt := range tests {
			got, err := tx.SecretsRotationDue(t.Context(), at(tt.minute), tt.limit)
			wantOK(t, tt.name, err)
			wantEqual(t, tt.name, secretIDs(got), tt.want)
		}
		got, err := tx.SecretsRotationDue(t.Context(), at(20), 10)
		wantOK(t, "SecretsRotationDue", err)
		if len(got) == 3 {
			wantSecret(t, "SecretsRotationDue record", got[2], other)
		}
		return nil
	})
}

// newDatabase returns a database in (acctA, regionX) with every field set.
func newDatabase(id string) *store.Database {
	return &store.Database{ID: id, Account: acctA, Region: regionX, Engine: "postgresql",
		Host: "db-" + id + ".internal", Port: 5432, AdminSecret: "admin/" + id,
		Options: `{"database":"app","sslmode":"verify-full"}`, Description: "the " + id + " database",
		CreatedAt: at(0)}
}

func normDatabase(d *store.Database) store.Database {
	c := *d
	c.CreatedAt = ms(c.CreatedAt)
	return c
}

func insertDatabases(t tb, s store.Store, dbs ...*store.Database) {
	t.Helper()
	mustUpdate(t, s, func(tx store.Tx) error {
		for _, d := range dbs {
			if err := tx.InsertDatabase(context.Background(), d); err != nil {
				return err
			}
		}
		return nil
	})
}

func databaseIDs(dbs []*store.Database) []string {
	var ids []string
	for _, d := range dbs {
		ids = append(ids, d.ID)
	}
	return ids
}

// testDatabaseRoundTrip checks every field comes back, a taken key is
// Exists, and a database is found only in its own account and region.
func testDatabaseRoundTrip(t *testing.T, s store.Store) {
	full := newDatabase("db1")
	bare := &store.Database{ID: "db2", Account: acctA, Region: regionX}
	otherAccount, otherRegion := newDatabase("db1"), newDatabase("db1")
	otherAccount.Account, otherRegion.Region = acctB, regionY
	insertDatabases(t, s, full, bare, otherAccount, otherRegion)
	again := newDatabase("db1")
	again.Host = "elsewhere"
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.InsertDatabase(t.Context(), again) })
	wantKind(t, "InsertDatabase taken", err, fault.Exists)
	mustView(t, s, func(tx store.Tx) error {
		for _, want := range []*store.Database{full, bare, otherAccount, otherRegion} {
			got, err := tx.Database(t.Context(), want.Account, want.Region, want.ID)
			wantOK(t, "Database", err)
			wantEqual(t, "Database", normDatabase(got), normDatabase(want))
		}
		_, err := tx.Database(t.Context(), acctA, regionX, "db3")
		wantKind(t, "Database missing", err, fault.NotFound)
		_, err = tx.Database(t.Context(), acctB, regionX, "db2")
		wantKind(t, "Database of another account", err, fault.NotFound)
		return nil
	})
}

// testDatabaseList checks Databases lists one account's region by id,
// byte by byte.
func testDatabaseList(t *testing.T, s store.Store) {
	otherAccount, otherRegion := newDatabase("c"), newDatabase("d")
	otherAccount.Account, otherRegion.Region = acctB, regionY
	insertDatabases(t, s, newDatabase("b"), newDatabase("a2"), otherAccount, newDatabase("B"), newDatabase("a"), otherRegion)
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.Databases(t.Context(), acctA, regionX)
		wantOK(t, "Databases", err)
		wantEqual(t, "Databases", databaseIDs(got), []string{"B", "a", "a2", "b"})
		if len(got) == 4 {
			wantEqual(t, "Databases record", normDatabase(got[1]), normDatabase(newDatabase("a")))
		}
		got, err = tx.Databases(t.Context(), acctB, regionX)
		wantOK(t, "Databases of another account", err)
		wantEqual(t, "Databases of another account", databaseIDs(got), []string{"c"})
		got, err = tx.Databases(t.Context(), acctB, regionY)
		wantOK(t, "Databases empty", err)
		wantEqual(t, "Databases empty", len(got), 0)
		return nil
	})
}

// testDatabaseUpdateDelete checks an update replaces every field of its
// database alone, a delete removes it alone, and either is NotFound for a
// database absent from its account and region.
func testDatabaseUpdateDelete(t *testing.T, s store.Store) {
	d, other := newDatabase("db1"), newDatabase("db1")
	other.Account = acctB
	insertDatabases(t, s, d, other)
	d.Engine, d.Host, d.Port, d.AdminSecret = "mysql", "mysql.internal", 3306, "admin/mysql"
	d.Options, d.Description, d.CreatedAt = `{}`, "", at(9)
	mustUpdate(t, s, func(tx store.Tx) error { return tx.UpdateDatabase(t.Context(), d) })
	mustView(t, s, func(tx store.Tx) error {
		for _, want := range []*store.Database{d, other} {
			got, err := tx.Database(t.Context(), want.Account, want.Region, want.ID)
			wantOK(t, "Database", err)
			wantEqual(t, "after update", normDatabase(got), normDatabase(want))
		}
		return nil
	})
	missing := newDatabase("db1")
	missing.Region = regionY
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.UpdateDatabase(t.Context(), missing) })
	wantKind(t, "UpdateDatabase missing", err, fault.NotFound)

	mustUpdate(t, s, func(tx store.Tx) error { return tx.DeleteDatabase(t.Context(), acctA, regionX, "db1") })
	mustView(t, s, func(tx store.Tx) error {
		_, err := tx.Database(t.Context(), acctA, regionX, "db1")
		wantKind(t, "Database deleted", err, fault.NotFound)
		_, err = tx.Database(t.Context(), acctB, regionX, "db1")
		wantOK(t, "Database of another account", err)
		return nil
	})
	for _, key := range [][3]string{{acctA, regionX, "db1"}, {acctA, regionY, "db1"}, {acctA, regionX, "nope"}} {
		err := s.Update(t.Context(), func(tx store.Tx) error { return tx.DeleteDatabase(t.Context(), key[0], key[1], key[2]) })
		wantKind(t, "DeleteDatabase missing", err, fault.NotFound)
	}
}

// testRunIDsAfterLoad checks a store restored from a snapshot goes on
// from the snapshot's flow ids, so none is handed out twice. It needs the
// optional store.Snapshotter.
func testRunIDsAfterLoad(t *testing.T, s store.Store) {
	snap, ok := s.(store.Snapshotter)
	if !ok {
		t.Skip("the store does not implement store.Snapshotter")
	}
	rows := []store.Row{
		{Table: "counters", Columns: []string{"name", "value"}, Values: []any{"rotation_run_id", int64(41)}},
		{Table: "rotation_runs", Columns: []string{"id", "account", "region", "secret_id", "secret_name", "kind",
			"rotator", "version_id", "step", "state", "attempts", "error", "detail"},
			Values: []any{int64(41), acctA, regionX, "s1", "name", "rotate", "random", "v1", "", "Succeeded",
				int64(0), "", "{}"}},
	}
	err := snap.Load(t.Context(), func() (store.Row, error) {
		if len(rows) == 0 {
			return store.Row{}, io.EOF
		}
		r := rows[0]
		rows = rows[1:]
		return r, nil
	})
	wantOK(t, "Load", err)
	r := newRun("s1", 0)
	insertRuns(t, s, r)
	wantEqual(t, "flow id after Load", r.ID, int64(42))
}
