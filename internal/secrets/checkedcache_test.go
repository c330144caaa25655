package secrets_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/keys"
	"github.com/coffer-secrets/coffer/internal/keys/root/keyfile"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
	"github.com/coffer-secrets/coffer/internal/store/sqlite"
	"github.com/coffer-secrets/coffer/internal/store/sqlite/sqlitetest"
)

// sharedStore is the embedded store standing for one that several servers
// share: it counts read and write transactions.
type sharedStore struct {
	*sqlite.DB
	views, updates, checks atomic.Int64
}

func (s *sharedStore) Revisions(ctx context.Context, secretID, account, region, keyID string) (int64, int64, error) {
	s.checks.Add(1)
	return s.DB.Revisions(ctx, secretID, account, region, keyID)
}

func (s *sharedStore) View(ctx context.Context, fn func(store.Tx) error) error {
	s.views.Add(1)
	return s.DB.View(ctx, fn)
}

func (s *sharedStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	s.updates.Add(1)
	return s.DB.Update(ctx, fn)
}

// newServers returns n services over one store that each takes for shared
// (SharedStore), as servers over one PostgreSQL database do: none hears of
// another's writes. They hold the same root key and keyrings of their own.
func newServers(t *testing.T, n int) ([]*secrets.Service, *sharedStore, *clock) {
	t.Helper()
	st := &sharedStore{DB: sqlitetest.Open(t)}
	root, err := keyfile.Open(filepath.Join(t.TempDir(), "root.key"), true)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
	var out []*secrets.Service
	for range n {
		out = append(out, &secrets.Service{Store: st, Keys: &keys.Keyring{Root: root, NewID: secrets.NewUUID},
			SharedStore: true, Clock: c.now})
	}
	return out, st, c
}

// TestCheckedReadCache: over a shared store, a server answers a read it
// made before without a read transaction, and every write another server
// makes to what the read returns — a new version, a moved label, the
// secret disabled, deleted and created again, its key disabled, its tags —
// is seen by this server's very next read.
func TestCheckedReadCache(t *testing.T) {
	ctx := context.Background()
	srv, st, _ := newServers(t, 3)
	writer, reader, fresh := srv[0], srv[1], srv[2]
	fresh.ReadCacheEntries = -1 // reads the store every time: what a read must return
	sec := mustCreate(t, writer, "app", "one")

	read := func(what, want string) {
		t.Helper()
		if got := mustValue(t, reader, "app", secrets.Selector{}); got != want {
			t.Fatalf("%s: read %q, want %q", what, got, want)
		}
	}
	// cached checks that the read before was answered from the cache, or not.
	cached := func(what string, want bool, read func()) {
		t.Helper()
		before := st.views.Load()
		read()
		if got := st.views.Load() == before; got != want {
			t.Fatalf("%s: answered from the cache %v, want %v", what, got, want)
		}
	}
	cached("first read", false, func() { read("first read", "one") })
	cached("second read", true, func() { read("second read", "one") })

	if _, _, err := writer.PutValue(ctx, sc, "app", secrets.PutInput{VersionID: "v2", Value: secrets.StringValue("two")}); err != nil {
		t.Fatal(err)
	}
	cached("after a put", false, func() { read("after a put", "two") })
	cached("again", true, func() { read("again", "two") })

	if _, err := writer.MoveStage(ctx, sc, "app", secrets.MoveInput{Stage: secrets.StageCurrent, MoveTo: "v1", RemoveFrom: "v2"}); err != nil {
		t.Fatal(err)
	}
	cached("after a label move", false, func() { read("after a label move", "one") })

	// Errors are a fresh read's.
	wantLike := func(what string) {
		t.Helper()
		read(what+" (before)", "one")
		cached(what+" (cached before)", true, func() { read(what+" (cached before)", "one") })
		change := map[string]func(){
			"key disabled": func() { setKeyState(t, st, sec.KeyID, store.KeyDisabled) },
			"secret disabled": func() {
				if _, err := writer.Disable(ctx, sc, "app"); err != nil {
					t.Fatal(err)
				}
			},
		}[what]
		change()
		_, _, _, err := reader.GetValue(ctx, sc, "app", secrets.Selector{})
		_, _, _, want := fresh.GetValue(ctx, sc, "app", secrets.Selector{})
		if err == nil || want == nil || fault.KindOf(err) != fault.KindOf(want) || fault.ReasonOf(err) != fault.ReasonOf(want) {
			t.Fatalf("%s: read %v, want a fresh read's %v", what, err, want)
		}
	}
	wantLike("key disabled")
	setKeyState(t, st, sec.KeyID, store.KeyEnabled)
	wantLike("secret disabled")
	if _, err := writer.Enable(ctx, sc, "app"); err != nil {
		t.Fatal(err)
	}

	if _, err := writer.Delete(ctx, sc, "app", secrets.DeleteInput{}); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, writer, "app", "reborn")
	cached("after delete and create", false, func() { read("after delete and create", "reborn") })

	// The secret alone, as authorization reads it.
	tags := func() []secrets.Tag {
		t.Helper()
		got, err := reader.Meta(ctx, sc, "app")
		if err != nil {
			t.Fatal(err)
		}
		return got.Tags
	}
	tags()
	if _, err := writer.Tag(ctx, sc, "app", []secrets.Tag{{Key: "team", Value: "db"}}); err != nil {
		t.Fatal(err)
	}
	if got := tags(); len(got) != 1 || got[0] != (secrets.Tag{Key: "team", Value: "db"}) {
		t.Fatalf("tags after another server tagged the secret: %v, want team=db", got)
	}
	before := st.views.Load()
	tags()
	if st.views.Load() != before {
		t.Fatal("Meta of a secret read before opened a read transaction")
	}
}

// TestCheckedReadCacheNotesAccessOnce: a secret read all day from the
// checked cache stores its access day once, not at every read.
func TestCheckedReadCacheNotesAccessOnce(t *testing.T) {
	srv, st, c := newServers(t, 2)
	mustCreate(t, srv[0], "app", "one")
	mustValue(t, srv[1], "app", secrets.Selector{})
	for day := range 2 {
		c.add(24 * time.Hour)
		before := st.updates.Load()
		for range 3 {
			mustValue(t, srv[1], "app", secrets.Selector{})
		}
		if got := st.updates.Load() - before; got != 1 {
			t.Errorf("day %d: %d writes for three reads, want 1 (the access day)", day+1, got)
		}
	}
}

// TestCheckedReadCacheOneCheckACall: a call that authorizes (Meta) and then
// reads the value asks the store for the revisions once, and relies on
// that check only within the call: a key disabled or a value changed
// between calls is what the next call sees.
func TestCheckedReadCacheOneCheckACall(t *testing.T) {
	srv, st, _ := newServers(t, 2)
	writer, reader := srv[0], srv[1]
	sec := mustCreate(t, writer, "app", "one")
	mustValue(t, reader, "app", secrets.Selector{}) // cached
	call := func() (string, error) {
		t.Helper()
		ctx := reader.WithChecks(context.Background())
		if _, err := reader.Meta(ctx, sc, "app"); err != nil {
			return "", err
		}
		_, _, v, err := reader.GetValue(ctx, sc, "app", secrets.Selector{})
		return v.Text(), err
	}
	before := st.checks.Load()
	if v, err := call(); err != nil || v != "one" {
		t.Fatalf("call: %q, %v; want one", v, err)
	}
	if got := st.checks.Load() - before; got != 1 {
		t.Errorf("a call that authorizes and reads asked for revisions %d times, want 1", got)
	}

	setKeyState(t, st, sec.KeyID, store.KeyDisabled)
	if _, err := call(); err == nil {
		t.Fatal("a call after the key was disabled read the value")
	}
	setKeyState(t, st, sec.KeyID, store.KeyEnabled)
	if _, _, err := writer.PutValue(context.Background(), sc, "app", secrets.PutInput{VersionID: "v2", Value: secrets.StringValue("two")}); err != nil {
		t.Fatal(err)
	}
	if v, err := call(); err != nil || v != "two" {
		t.Fatalf("a call after a put: %q, %v; want two", v, err)
	}
}

// TestEveryWriteMovesTheRevision: the checked read cache serves an entry
// only while the secret's revision stands still, so every write that
// changes what a read of the secret or its values returns must move it.
// A new write method belongs in this table.
func TestEveryWriteMovesTheRevision(t *testing.T) {
	ctx := context.Background()
	str := secrets.StringValue
	tests := []struct {
		name  string
		setup func(s *secrets.Service) error
		write func(s *secrets.Service) error
	}{
		{"PutValue", nil, func(s *secrets.Service) error {
			_, _, err := s.PutValue(ctx, sc, "app", secrets.PutInput{VersionID: "v3", Value: str("three")})
			return err
		}},
		{"Overwrite", nil, func(s *secrets.Service) error { _, err := s.Overwrite(ctx, sc, "app", "v2", str("new")); return err }},
		{"DeleteVersion", nil, func(s *secrets.Service) error { return s.DeleteVersion(ctx, sc, "app", "v1") }},
		{"MoveStage", nil, func(s *secrets.Service) error {
			_, err := s.MoveStage(ctx, sc, "app", secrets.MoveInput{Stage: secrets.StageCurrent, MoveTo: "v1", RemoveFrom: "v2"})
			return err
		}},
		{"Disable", nil, func(s *secrets.Service) error { _, err := s.Disable(ctx, sc, "app"); return err }},
		{"Enable", func(s *secrets.Service) error { _, err := s.Disable(ctx, sc, "app"); return err },
			func(s *secrets.Service) error { _, err := s.Enable(ctx, sc, "app"); return err }},
		{"Delete", nil, func(s *secrets.Service) error {
			_, err := s.Delete(ctx, sc, "app", secrets.DeleteInput{RecoveryDays: 7})
			return err
		}},
		{"Restore", func(s *secrets.Service) error {
			_, err := s.Delete(ctx, sc, "app", secrets.DeleteInput{RecoveryDays: 7})
			return err
		}, func(s *secrets.Service) error { _, err := s.Restore(ctx, sc, "app", true); return err }},
		{"UpdateMeta", nil, func(s *secrets.Service) error {
			_, err := s.UpdateMeta(ctx, sc, "app", secrets.MetaPatch{Description: ptr("changed")})
			return err
		}},
		{"Update", nil, func(s *secrets.Service) error {
			_, _, err := s.Update(ctx, sc, "app", secrets.MetaPatch{}, &secrets.PutInput{VersionID: "v3", Value: str("three")})
			return err
		}},
		{"Tag", nil, func(s *secrets.Service) error {
			_, err := s.Tag(ctx, sc, "app", []secrets.Tag{{Key: "k", Value: "v"}})
			return err
		}},
		{"Untag", func(s *secrets.Service) error {
			_, err := s.Tag(ctx, sc, "app", []secrets.Tag{{Key: "k", Value: "v"}})
			return err
		}, func(s *secrets.Service) error { _, err := s.Untag(ctx, sc, "app", []string{"k"}); return err }},
		{"SetPolicy", nil, func(s *secrets.Service) error {
			_, err := s.SetPolicy(ctx, sc, "app", `{"Version":"2012-10-17","Statement":[]}`)
			return err
		}},
		{"StartRollout", nil, func(s *secrets.Service) error {
			_, err := s.StartRollout(ctx, sc, "app", secrets.Rollout{VersionID: "v1", Percent: 10})
			return err
		}},
		{"EndRollout", func(s *secrets.Service) error {
			_, err := s.StartRollout(ctx, sc, "app", secrets.Rollout{VersionID: "v1", Percent: 10})
			return err
		}, func(s *secrets.Service) error { _, err := s.EndRollout(ctx, sc, "app", true); return err }},
		// What rotation does, inside its own transactions.
		{"PutManagedTx", nil, inTx(func(s *secrets.Service, tx store.Tx, sec *secrets.Secret, now time.Time) error {
			_, err := s.PutManagedTx(ctx, tx, sec, secrets.PutInput{VersionID: "v3", Value: str("three"), Stages: []string{"AWSPENDING"}}, now)
			return err
		})},
		{"MoveStageTx", nil, inTx(func(s *secrets.Service, tx store.Tx, sec *secrets.Secret, now time.Time) error {
			return s.MoveStageTx(ctx, tx, sec, secrets.MoveInput{Stage: secrets.StageCurrent, MoveTo: "v1", RemoveFrom: "v2"}, now)
		})},
		{"DeleteVersionTx", nil, inTx(func(s *secrets.Service, tx store.Tx, sec *secrets.Secret, now time.Time) error {
			return s.DeleteVersionTx(ctx, tx, sec, "v1", now)
		})},
		{"SaveTx", nil, inTx(func(s *secrets.Service, tx store.Tx, sec *secrets.Secret, now time.Time) error {
			sec.Description = "saved"
			return s.SaveTx(ctx, tx, sec, now)
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, st, _ := newServers(t, 1)
			s := srv[0]
			sec := mustCreate(t, s, "app", "one")
			if _, _, err := s.PutValue(ctx, sc, "app", secrets.PutInput{VersionID: "v2", Value: str("two")}); err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				if err := tt.setup(s); err != nil {
					t.Fatalf("setup: %v", err)
				}
			}
			revision := func() int64 {
				t.Helper()
				rev, _, err := st.Revisions(ctx, sec.ID, sc.Account, sc.Region, "")
				if err != nil {
					t.Fatal(err)
				}
				return rev
			}
			before := revision()
			if err := tt.write(s); err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if after := revision(); after <= before {
				t.Errorf("%s left the secret's revision at %d (was %d)", tt.name, after, before)
			}
		})
	}
}

// inTx runs fn on the secret app inside one write transaction of s.
func inTx(fn func(s *secrets.Service, tx store.Tx, sec *secrets.Secret, now time.Time) error) func(s *secrets.Service) error {
	return func(s *secrets.Service) error {
		return s.InTx(context.Background(), func(tx store.Tx, now time.Time) error {
			sec, err := s.LoadTx(context.Background(), tx, sc, "app")
			if err != nil {
				return err
			}
			return fn(s, tx, sec, now)
		})
	}
}
