package rekey_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/iam"
	"github.com/coffer-secrets/coffer/internal/keys"
	"github.com/coffer-secrets/coffer/internal/keys/root"
	"github.com/coffer-secrets/coffer/internal/keys/root/keyfile"
	"github.com/coffer-secrets/coffer/internal/kms"
	"github.com/coffer-secrets/coffer/internal/rekey"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/server"
	"github.com/coffer-secrets/coffer/internal/store"
	"github.com/coffer-secrets/coffer/internal/store/sqlite"
)

const region = "ap-guangzhou"

// The root credentials of the fixture's first account.
const (
	rootKeyID  = "AKIDcofferREKEY000000000000000000000"
	rootSecret = "cofferRekeySecret00000000000000000000000"
)

// fixture is a data directory written under the root key a, with a second
// root key b to rotate to.
type fixture struct {
	st      store.Store
	a, b    *keyfile.File
	aPath   string
	account string
	values  map[string]string // secret name/version → value
	creds   map[string]string // access key id → secret half
	audit   *audit.Keys
}

// newFixture starts a server once on a fresh directory (the key-check
// value, the audit keys and the root access key), then writes CMKs,
// rotated CMKs, secrets with several versions, another account and a
// sub-user with an access key, all under a.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	aPath := filepath.Join(dir, "a.key")
	srv, err := server.Open(ctx, server.Config{Listen: "127.0.0.1:0", DataDir: dir, Dev: true, RootKey: "file:" + aPath,
		Root: iam.RootInput{AccountID: "100000000001", KeyID: rootKeyID, Secret: rootSecret}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	f := &fixture{account: "100000000001", values: map[string]string{}, creds: map[string]string{
		rootKeyID: rootSecret}}
	f.st = mustOpen(t, filepath.Join(dir, "coffer.db"))
	f.a, f.aPath = mustKeyfile(t, aPath, false), aPath
	f.b = mustKeyfile(t, filepath.Join(dir, "b.key"), true)
	if f.audit, err = audit.LoadKeys(ctx, f.st, f.a); err != nil {
		t.Fatal(err)
	}
	f.writeSecrets(t)
	f.writeAccessKeys(t)
	return f
}

func mustOpen(t *testing.T, path string) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func mustKeyfile(t *testing.T, path string, create bool) *keyfile.File {
	t.Helper()
	k, err := keyfile.Open(path, create)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (f *fixture) writeSecrets(t *testing.T) {
	ctx := context.Background()
	ring := &keys.Keyring{Root: f.a, NewID: secrets.NewUUID}
	ks := &kms.Service{Store: f.st, Keys: ring}
	svc := &secrets.Service{Store: f.st, Keys: ring}
	sc := secrets.Scope{Account: f.account, Region: region}
	for i := range 4 {
		k, err := ks.Create(ctx, kms.Scope{Account: f.account, Region: region}, kms.CreateInput{Alias: fmt.Sprintf("cmk-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		for range i % 3 { // versions 1, 2, 3 of material
			if _, err := ks.Rotate(ctx, kms.Scope{Account: f.account, Region: region}, k.ID); err != nil {
				t.Fatal(err)
			}
		}
		keyRef := k.ID
		if i == 3 {
			keyRef = "" // the account's default CMK
		}
		name := fmt.Sprintf("secret-%d", i)
		v := secrets.StringValue(name + "/v1")
		if _, _, err := svc.Create(ctx, sc, secrets.CreateInput{Name: name, KeyID: keyRef, Value: &v, VersionID: "v1"}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.PutValue(ctx, sc, name, secrets.PutInput{VersionID: "v2", Value: secrets.StringValue(name + "/v2")}); err != nil {
			t.Fatal(err)
		}
		f.values[name+"/v1"], f.values[name+"/v2"] = name+"/v1", name+"/v2"
	}
	if _, err := ks.Disable(ctx, kms.Scope{Account: f.account, Region: region}, "cmk-3"); err != nil {
		t.Fatal(err) // holds no secret; its material moves too: it may be enabled again
	}
}

func (f *fixture) writeAccessKeys(t *testing.T) {
	ctx := context.Background()
	svc := &iam.Service{Store: f.st, Root: f.a}
	other, err := svc.CreateAccount(ctx, "tenant-b")
	if err != nil {
		t.Fatal(err)
	}
	f.creds[other.KeyID] = other.Secret
	u, err := svc.AddUser(ctx, f.account, iam.AddUserInput{Name: "app", UseAPI: true})
	if err != nil {
		t.Fatal(err)
	}
	f.creds[u.AccessKey.ID] = u.AccessKey.Secret
}

// sealedCount is how many sealed values the fixture holds.
func (f *fixture) sealedCount(t *testing.T) (material, all int) {
	t.Helper()
	err := f.st.View(context.Background(), func(tx store.Tx) error {
		ks, err := tx.AllKeys(context.Background())
		for _, k := range ks {
			material += len(k.Material)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return material, material + len(f.creds) + 3 + 1 // audit and webhook keys, check value
}

// wantOpensOnly checks that every sealed value opens with good alone, and
// none with bad alone: through the services where there is one (secret
// values, access keys, audit keys, the server's start check), and through
// the re-wrap hooks (a pass from a key to itself opens every value, or
// fails) for the material of every CMK, the disabled one included.
func (f *fixture) wantOpensOnly(t *testing.T, good, bad root.Provider) {
	t.Helper()
	ctx := context.Background()
	svc := &secrets.Service{Store: f.st, Keys: &keys.Keyring{Root: good, NewID: secrets.NewUUID}}
	for nv, want := range f.values {
		name, version, _ := strings.Cut(nv, "/")
		_, _, got, err := svc.GetValue(ctx, secrets.Scope{Account: f.account, Region: region}, name, secrets.Selector{VersionID: version})
		if err != nil || got.Text() != want {
			t.Errorf("GetValue(%s, %s) = %q, %v; want %q", name, version, got.Text(), err, want)
		}
	}
	for id, secret := range f.creds {
		c, err := (&iam.Service{Store: f.st, Root: good}).Lookup(ctx, id)
		if err != nil || string(c.Secret()) != secret {
			t.Errorf("Lookup(%s) with the new key: %v", id, err)
		}
		if _, err := (&iam.Service{Store: f.st, Root: bad}).Lookup(ctx, id); !fault.Is(err, fault.KeyUnavailable) {
			t.Errorf("Lookup(%s) with the old key: %v, want KeyUnavailable", id, err)
		}
	}
	f.wantAuditKeys(t, good, bad)
	if err := server.VerifyRootKey(ctx, f.st, good); err != nil {
		t.Errorf("key-check value with the new key: %v", err)
	}
	if err := server.VerifyRootKey(ctx, f.st, bad); err == nil {
		t.Error("the key-check value opens with the old key")
	}
	f.wantMaterial(t, good, bad)
}

func (f *fixture) wantAuditKeys(t *testing.T, good, bad root.Provider) {
	t.Helper()
	ctx := context.Background()
	got, err := audit.LoadKeys(ctx, f.st, good)
	if err != nil || got.KeyID != f.audit.KeyID || string(got.HMAC) != string(f.audit.HMAC) {
		t.Errorf("audit keys with the new key: %v (want the same keys as before)", err)
	}
	if _, err := audit.LoadKeys(ctx, f.st, bad); err == nil {
		t.Error("the audit keys open with the old key")
	}
}

func (f *fixture) wantMaterial(t *testing.T, good, bad root.Provider) {
	t.Helper()
	ctx := context.Background()
	var ks []*store.Key
	if err := f.st.View(ctx, func(tx store.Tx) error {
		var err error
		ks, err = tx.AllKeys(ctx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for _, k := range ks {
		if _, err := keys.RewrapMaterial(ctx, k, good, good); err != nil {
			t.Errorf("key %s (%s) with the new key: %v", k.ID, k.State, err)
		}
		if _, err := keys.RewrapMaterial(ctx, k, bad, bad); !fault.Is(err, fault.KeyUnavailable) {
			t.Errorf("key %s (%s) with the old key: %v, want KeyUnavailable", k.ID, k.State, err)
		}
	}
}

func TestRunMovesEverythingOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	material, total := f.sealedCount(t)
	var calls int
	rep, err := rekey.Run(ctx, f.st, f.a, f.b, func(rekey.Report) { calls++ })
	if err != nil {
		t.Fatal(err)
	}
	want := rekey.Report{From: f.a.Describe(), To: f.b.Describe(), Keys: 5, MaterialVersions: material,
		AccessKeys: len(f.creds), AuditKeys: 3, CheckValues: 1, Rewrapped: total}
	if rep != want {
		t.Fatalf("first run:\n got %+v\nwant %+v", rep, want)
	}
	if calls < rep.Keys+rep.AccessKeys {
		t.Errorf("progress called %d times, want at least once per record", calls)
	}
	f.wantOpensOnly(t, f.b, f.a)

	again, err := rekey.Run(ctx, f.st, f.a, f.b, nil)
	want.Rewrapped, want.AlreadyNew = 0, total
	if err != nil || again != want {
		t.Fatalf("second run:\n got %+v, %v\nwant %+v", again, err, want)
	}
	f.wantOpensOnly(t, f.b, f.a)
}

// TestRunInterrupted: a run stopped half way leaves every value readable
// by a server holding both keys; running again finishes the job.
func TestRunInterrupted(t *testing.T) {
	f := newFixture(t)
	_, total := f.sealedCount(t)
	ctx, cancel := context.WithCancel(context.Background())
	first, err := rekey.Run(ctx, f.st, f.a, f.b, func(r rekey.Report) {
		if r.Keys == 2 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || first.Rewrapped == 0 || first.Rewrapped >= total || first.CheckValues != 0 {
		t.Fatalf("interrupted run = %+v, %v; want part of the values moved and context.Canceled", first, err)
	}
	f.wantOpensOnly(t, &root.Chain{Current: f.b, Previous: f.a}, f.stranger(t))
	if err := server.VerifyRootKey(context.Background(), f.st, f.b); err == nil {
		t.Error("the key-check value moved before the run finished: a server with only the new key would start")
	}

	second, err := rekey.Run(context.Background(), f.st, f.a, f.b, nil)
	if err != nil || second.Rewrapped != total-first.Rewrapped || second.AlreadyNew != first.Rewrapped {
		t.Fatalf("rerun = %+v, %v; want the %d values the first run left", second, err, total-first.Rewrapped)
	}
	f.wantOpensOnly(t, f.b, f.a)
}

// stranger is a root key that never sealed anything in the fixture.
func (f *fixture) stranger(t *testing.T) root.Provider {
	t.Helper()
	return mustKeyfile(t, filepath.Join(t.TempDir(), "stranger.key"), true)
}

// TestRunRefuses: the same key on both sides, or an old key that is not the
// store's, stops the run before it writes anything.
func TestRunRefuses(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tests := []struct {
		name     string
		from, to root.Provider
		want     fault.Kind
	}{
		{"same key", f.a, mustKeyfile(t, f.aPath, false), fault.Invalid},
		{"wrong old key", f.stranger(t), f.b, fault.KeyUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := rekey.Run(ctx, f.st, tt.from, tt.to, nil)
			if !fault.Is(err, tt.want) || rep.Sealed() != 0 {
				t.Fatalf("Run = %+v, %v; want nothing done and a %v error", rep, err, tt.want)
			}
		})
	}
	f.wantOpensOnly(t, f.a, f.b)
}

// TestRunRetriesConcurrentRotation: a server rotates a CMK between the
// run's read of it and its write; the run reads it again and moves the
// new version's neighbours too.
func TestRunRetriesConcurrentRotation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	during := &keys.Keyring{Root: &root.Chain{Current: f.b, Previous: f.a}, NewID: secrets.NewUUID}
	ks := &kms.Service{Store: f.st, Keys: during}
	var rotated atomic.Bool
	st := &hookStore{Store: f.st, before: func() {
		if rotated.CompareAndSwap(false, true) {
			if _, err := ks.Rotate(ctx, kms.Scope{Account: f.account, Region: region}, "cmk-0"); err != nil {
				t.Error(err)
			}
		}
	}}
	material, total := f.sealedCount(t)
	rep, err := rekey.Run(ctx, st, f.a, f.b, nil)
	if err != nil || !rotated.Load() {
		t.Fatalf("Run: %v (rotated: %v)", err, rotated.Load())
	}
	// The rotation's version was sealed under the new key: already there.
	if rep.MaterialVersions != material+1 || rep.Rewrapped != total || rep.AlreadyNew != 1 {
		t.Fatalf("Run = %+v; want %d material versions, %d re-wrapped, 1 already under the new key", rep, material+1, total)
	}
	f.wantOpensOnly(t, f.b, f.a)
}

// hookStore calls before ahead of every write transaction.
type hookStore struct {
	store.Store
	before func()
}

func (h *hookStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	h.before()
	return h.Store.Update(ctx, fn)
}
