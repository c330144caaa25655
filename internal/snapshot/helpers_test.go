package snapshot_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/iam"
	"github.com/coffer-secrets/coffer/internal/keys"
	"github.com/coffer-secrets/coffer/internal/keys/root"
	"github.com/coffer-secrets/coffer/internal/keys/root/keyfile"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/snapshot"
	"github.com/coffer-secrets/coffer/internal/store"
	"github.com/coffer-secrets/coffer/internal/store/postgres"
	"github.com/coffer-secrets/coffer/internal/store/sqlite"
)

// MustRoot returns a new root key file's provider.
func MustRoot(tb testing.TB) root.Provider {
	tb.Helper()
	rk, err := keyfile.Open(filepath.Join(tb.TempDir(), "root.key"), true)
	if err != nil {
		tb.Fatalf("root key: %v", err)
	}
	return rk
}

// MustSQLite opens a new SQLite store, closed when the test ends.
func MustSQLite(tb testing.TB) store.Store {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "coffer.db"))
	if err != nil {
		tb.Fatalf("open SQLite: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// adminDSN is the PostgreSQL the tests create their databases in:
// $COFFER_TEST_POSTGRES, or trust authentication for user postgres on
// localhost, as on a developer machine or a CI service container.
func adminDSN() string {
	if dsn := os.Getenv("COFFER_TEST_POSTGRES"); dsn != "" {
		return dsn
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// MustPostgres opens a store on a new database with a random name, dropped
// when the test ends. Without a reachable PostgreSQL the test is skipped,
// or fails with CI=true, where a missing database must not pass for green.
func MustPostgres(tb testing.TB) store.Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, adminDSN())
	if err != nil {
		msg := fmt.Sprintf("PostgreSQL unreachable (set COFFER_TEST_POSTGRES to an admin DSN): %v", err)
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	defer admin.Close(ctx)
	name := "coffer_snapshot_" + randomHex(6)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create database: %v", err)
	}
	u, err := url.Parse(adminDSN())
	if err != nil {
		tb.Fatalf("COFFER_TEST_POSTGRES must be a URL: %v", err)
	}
	u.Path = "/" + name
	st, err := postgres.Open(ctx, u.String(), postgres.Options{MaxConns: 4})
	tb.Cleanup(func() {
		if st != nil {
			st.Close()
		}
		dropDatabase(tb, name)
	})
	if err != nil {
		tb.Fatalf("open PostgreSQL: %v", err)
	}
	return st
}

func dropDatabase(tb testing.TB, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, adminDSN())
	if err != nil {
		tb.Errorf("drop database %s: %v", name, err)
		return
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
		tb.Errorf("drop database %s: %v", name, err)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// MustSave saves st and returns the file.
func MustSave(tb testing.TB, st store.Store, rk root.Provider, backend string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	rep, err := snapshot.Save(context.Background(), st, &buf, rk, snapshot.Header{Backend: backend})
	if err != nil {
		tb.Fatalf("Save: %v", err)
	}
	if rep.Bytes != int64(buf.Len()) || rep.Header.Backend != backend {
		tb.Fatalf("Save report: got %d bytes from %q, want %d from %q", rep.Bytes, rep.Header.Backend, buf.Len(), backend)
	}
	return buf.Bytes()
}

// MustRestore restores file into st.
func MustRestore(tb testing.TB, st store.Store, file []byte, rk root.Provider) snapshot.Report {
	tb.Helper()
	rep, err := snapshot.Restore(context.Background(), st, bytes.NewReader(file), rk)
	if err != nil {
		tb.Fatalf("Restore: %v", err)
	}
	return rep
}

var sc = secrets.Scope{Account: "100000000001", Region: "ap-guangzhou"}

// world is what fillServices made through the real services, to be read
// back after a restore.
type world struct {
	values map[string]secrets.Value // secret name → current value
	key    *iam.NewKey              // a sub-user's access key
}

// newServices returns the secrets and IAM services over st.
func newServices(st store.Store, rk root.Provider) (*secrets.Service, *iam.Service, *audit.Log) {
	log := &audit.Log{Store: st}
	sec := &secrets.Service{Store: st, Keys: &keys.Keyring{Root: rk, NewID: secrets.NewUUID}, Audit: log}
	return sec, &iam.Service{Store: st, Root: rk}, log
}

// fillServices stores records through the services: secrets (string and
// binary, big enough for several chunks) with their CMK, audited; the root
// credentials; a user with an access key in a group with a policy; signed
// audit checkpoints.
func fillServices(tb testing.TB, st store.Store, rk root.Provider) world {
	tb.Helper()
	ctx := context.Background()
	svc, ids, log := newServices(st, rk)
	w := world{values: map[string]secrets.Value{}}
	if _, err := ids.Bootstrap(ctx, iam.RootInput{AccountID: sc.Account, KeyID: "AKIDsnapshotTEST0000000000000000000", Secret: "snapshot-root-secret-000000000000000000"}); err != nil {
		tb.Fatalf("Bootstrap: %v", err)
	}
	for i := range 6 {
		name, v := fmt.Sprintf("app/secret-%d", i), secrets.StringValue(fmt.Sprintf("value %d", i))
		if i%2 == 1 {
			b := make([]byte, 60<<10) // incompressible: the file spans several chunks
			_, _ = rand.Read(b)
			v = secrets.BinaryValue(b)
		}
		ev := &audit.Event{Account: sc.Account, PrincipalID: sc.Account, PrincipalKind: "root", Family: "ssm", Action: "CreateSecret", Resource: name, Params: "{}"}
		_, _, err := svc.Create(audit.With(ctx, ev), sc, secrets.CreateInput{Name: name, Value: &v, CreatedBy: sc.Account,
			Tags: []secrets.Tag{{Key: "n", Value: fmt.Sprint(i)}}})
		if err != nil {
			tb.Fatalf("Create %s: %v", name, err)
		}
		w.values[name] = v
	}
	w.key = fillIAM(tb, ids)
	keys, err := audit.LoadKeys(ctx, st, rk)
	if err != nil {
		tb.Fatalf("audit keys: %v", err)
	}
	if cp, err := (&audit.Checkpointer{Log: log, Keys: keys}).CheckpointNow(ctx); err != nil || cp == nil {
		tb.Fatalf("checkpoint: %v, %v", cp, err)
	}
	return w
}

func fillIAM(tb testing.TB, ids *iam.Service) *iam.NewKey {
	tb.Helper()
	ctx := context.Background()
	u, err := ids.AddUser(ctx, sc.Account, iam.AddUserInput{Name: "alice", UseAPI: true})
	if err != nil {
		tb.Fatalf("AddUser: %v", err)
	}
	g, err := ids.CreateGroup(ctx, sc.Account, "readers", "")
	if err != nil {
		tb.Fatalf("CreateGroup: %v", err)
	}
	doc := `{"version":"2.0","statement":[{"effect":"allow","action":["ssm:GetSecretValue"],"resource":"*"}]}`
	p, err := ids.CreatePolicy(ctx, sc.Account, "read-all", "", doc, []store.Tag{{Key: "k", Value: "v"}})
	if err != nil {
		tb.Fatalf("CreatePolicy: %v", err)
	}
	if err := ids.Attach(ctx, sc.Account, p.ID, iam.Entity{Kind: store.EntityGroup, ID: g.ID}); err != nil {
		tb.Fatalf("Attach: %v", err)
	}
	if err := ids.AddToGroups(ctx, sc.Account, []iam.Membership{{GroupID: g.ID, UserUin: u.User.Uin}}); err != nil {
		tb.Fatalf("AddToGroups: %v", err)
	}
	return u.AccessKey
}

// wantWorld reads back through the services what fillServices made.
func wantWorld(tb testing.TB, st store.Store, rk root.Provider, w world) {
	tb.Helper()
	ctx := context.Background()
	svc, ids, _ := newServices(st, rk)
	for name, want := range w.values {
		_, _, got, err := svc.GetValue(ctx, sc, name, secrets.Selector{Stage: secrets.StageCurrent})
		if err != nil || !got.Equal(want) {
			tb.Fatalf("GetValue %s: %v; want the value saved", name, err)
		}
	}
	cred, err := ids.Lookup(ctx, w.key.ID)
	if err != nil || string(cred.Secret()) != w.key.Secret || cred.Principal.Name != "alice" {
		tb.Fatalf("Lookup of alice's key: %v, %v", cred, err)
	}
}
