package secrets_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
	"github.com/coffer-secrets/coffer/internal/store/sqlite"
)

// countingStore counts read transactions: a read the cache answers opens none.
type countingStore struct {
	*sqlite.DB
	views atomic.Int64
}

func (c *countingStore) View(ctx context.Context, fn func(store.Tx) error) error {
	c.views.Add(1)
	return c.DB.View(ctx, fn)
}

func newCountedService(t *testing.T) (*secrets.Service, *countingStore) {
	t.Helper()
	var st *countingStore
	s := newServiceOver(t, func(db *sqlite.DB) store.Store { st = &countingStore{DB: db}; return st })
	return s, st
}

// setKeyState changes a CMK's state in the store, as the KMS service does.
func setKeyState(t *testing.T, st store.Store, keyID string, state store.KeyState) {
	t.Helper()
	err := st.Update(context.Background(), func(tx store.Tx) error {
		k, err := tx.Key(context.Background(), sc.Account, sc.Region, keyID)
		if err != nil {
			return err
		}
		k.State = state
		return tx.UpdateKey(context.Background(), k)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestReadCache: a value read before is served without a read
// transaction, and every write that changes what a read returns — a new
// version, a value overwritten in place, the secret disabled or deleted,
// its key disabled — is seen by the very next read.
func TestReadCache(t *testing.T) {
	ctx := context.Background()
	s, st := newCountedService(t)
	sec := mustCreate(t, s, "cached", "one")
	cur := secrets.Selector{Stage: secrets.StageCurrent}

	// The first read also notes the day of access (a write, once a day),
	// which drops the entry: the second read fills it again.
	for range 2 {
		if got := mustValue(t, s, "cached", cur); got != "one" {
			t.Fatalf("first reads: %q", got)
		}
	}
	before := st.views.Load()
	for range 3 {
		if got := mustValue(t, s, "cached", cur); got != "one" {
			t.Fatalf("cached read: %q", got)
		}
		if _, err := s.Meta(ctx, sc, "cached"); err != nil {
			t.Fatal(err)
		}
	}
	if n := st.views.Load() - before; n != 0 {
		t.Fatalf("reads of a cached secret opened %d read transactions, want 0", n)
	}

	if _, err := s.Overwrite(ctx, sc, "cached", "v1", secrets.StringValue("two")); err != nil {
		t.Fatal(err)
	}
	if got := mustValue(t, s, "cached", cur); got != "two" {
		t.Fatalf("after an overwrite: %q, want two", got)
	}
	if _, _, err := s.PutValue(ctx, sc, "cached", secrets.PutInput{VersionID: "v2", Value: secrets.StringValue("three")}); err != nil {
		t.Fatal(err)
	}
	if got := mustValue(t, s, "cached", cur); got != "three" {
		t.Fatalf("after a put: %q, want three", got)
	}
	if got := mustValue(t, s, "cached", secrets.Selector{VersionID: "v1"}); got != "two" {
		t.Fatalf("version v1: %q, want two", got)
	}

	if _, err := s.Disable(ctx, sc, "cached"); err != nil {
		t.Fatal(err)
	}
	_, _, _, err := s.GetValue(ctx, sc, "cached", cur)
	if fault.KindOf(err) != fault.WrongState {
		t.Fatalf("read of a disabled secret: %v, want WrongState", err)
	}
	if _, err := s.Enable(ctx, sc, "cached"); err != nil {
		t.Fatal(err)
	}
	mustValue(t, s, "cached", cur)

	setKeyState(t, st, sec.KeyID, store.KeyDisabled)
	_, _, _, err = s.GetValue(ctx, sc, "cached", cur)
	if fault.KindOf(err) != fault.KeyUnavailable {
		t.Fatalf("read under a disabled key: %v, want KeyUnavailable", err)
	}
	setKeyState(t, st, sec.KeyID, store.KeyEnabled)
	mustValue(t, s, "cached", cur)

	if _, err := s.Delete(ctx, sc, "cached", secrets.DeleteInput{RecoveryDays: 7}); err != nil {
		t.Fatal(err)
	}
	_, _, _, err = s.GetValue(ctx, sc, "cached", cur)
	if fault.KindOf(err) != fault.WrongState {
		t.Fatalf("read of a deleted secret: %v, want WrongState", err)
	}
}

// TestReadCacheNeverStale: readers racing a writer never see a version
// older than the newest one whose put had returned when their read began.
func TestReadCacheNeverStale(t *testing.T) {
	ctx := context.Background()
	s, _ := newCountedService(t)
	mustCreate(t, s, "racing", "0")
	var latest atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 8)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				floor := latest.Load()
				_, _, v, err := s.GetValue(ctx, sc, "racing", secrets.Selector{Stage: secrets.StageCurrent})
				if err != nil {
					errs <- err
					return
				}
				n, _ := strconv.ParseInt(v.Text(), 10, 64)
				if n < floor {
					errs <- fault.E("test", fault.Internal, "read version "+v.Text()+" after put "+strconv.FormatInt(floor, 10)+" returned")
					return
				}
			}
		}()
	}
	for i := int64(1); i <= 200; i++ {
		id := "v" + strconv.FormatInt(i+1, 10)
		_, _, err := s.PutValue(ctx, sc, "racing", secrets.PutInput{VersionID: id, Value: secrets.StringValue(strconv.FormatInt(i, 10)),
			MaxVersions: 1000})
		if err != nil {
			t.Fatal(err)
		}
		latest.Store(i)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// listSpy records, for each listing, whether the store was asked to count.
type listSpy struct {
	store.Tx
	counted *[]bool
}

func (t listSpy) ListSecrets(ctx context.Context, q store.SecretQuery) ([]*store.Secret, int, error) {
	*t.counted = append(*t.counted, !q.NoTotal)
	return t.Tx.ListSecrets(ctx, q)
}

type spyStore struct {
	*sqlite.DB
	counted []bool
}

func (s *spyStore) View(ctx context.Context, fn func(store.Tx) error) error {
	return s.DB.View(ctx, func(tx store.Tx) error { return fn(listSpy{tx, &s.counted}) })
}

// TestListingTotalOutlivesPuts: a listing's total is counted again when a
// secret is created, deleted or changes status, and not after a put, which
// changes no listing's members (at a million secrets a count is tens of
// milliseconds).
func TestListingTotalOutlivesPuts(t *testing.T) {
	ctx := context.Background()
	var st *spyStore
	s := newServiceOver(t, func(db *sqlite.DB) store.Store { st = &spyStore{DB: db}; return st })
	mustCreate(t, s, "a", "1")
	mustCreate(t, s, "b", "1")
	list := func(step string, wantCounted bool, wantTotal int) {
		t.Helper()
		st.counted = nil
		_, total, err := s.List(ctx, sc, secrets.ListInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(st.counted) != 1 || st.counted[0] != wantCounted || total != wantTotal {
			t.Fatalf("%s: counted %v, total %d; want counted %v, total %d", step, st.counted, total, wantCounted, wantTotal)
		}
	}
	list("first listing", true, 2)
	list("second listing", false, 2)
	if _, _, err := s.PutValue(ctx, sc, "a", secrets.PutInput{VersionID: "v2", Value: secrets.StringValue("2")}); err != nil {
		t.Fatal(err)
	}
	list("after a put", false, 2)
	mustCreate(t, s, "c", "1")
	list("after a create", true, 3)
	if _, err := s.Disable(ctx, sc, "b"); err != nil {
		t.Fatal(err)
	}
	list("after a disable", true, 3)
	list("then", false, 3)
}

// TestAuthzOutlivesPuts: what authorization reads of a secret stays cached
// through puts and version changes, which do not change it, and is read
// again after any change that may: tags, deletion, a new secret of the
// same name.
func TestAuthzOutlivesPuts(t *testing.T) {
	ctx := context.Background()
	s, st := newCountedService(t)
	first := mustCreate(t, s, "authz", "one")
	authz := func(what string) (*secrets.Secret, bool) {
		t.Helper()
		sec, fresh, err := s.Authz(ctx, sc, "authz")
		if err != nil {
			t.Fatalf("%s: Authz: %v", what, err)
		}
		return sec, fresh
	}
	if _, fresh := authz("first"); !fresh { // read now, and kept in both caches
		t.Fatal("the first look came from a cache")
	}
	for i := range 3 {
		if _, _, err := s.PutValue(ctx, sc, "authz", secrets.PutInput{VersionID: "p" + strconv.Itoa(i), Value: secrets.StringValue("v")}); err != nil {
			t.Fatal(err)
		}
		before := st.views.Load()
		sec, fresh := authz("between puts")
		if n := st.views.Load() - before; n != 0 || fresh {
			t.Fatalf("after put %d: %d read transactions, fresh %v; want the authorization cache", i, n, fresh)
		}
		if sec.ID != first.ID {
			t.Fatalf("after put %d: id %s, want %s", i, sec.ID, first.ID)
		}
	}

	if _, err := s.Tag(ctx, sc, "authz", []secrets.Tag{{Key: "team", Value: "red"}}); err != nil {
		t.Fatal(err)
	}
	if sec, fresh := authz("after tagging"); !fresh || len(sec.Tags) != 1 || sec.Tags[0].Value != "red" {
		t.Fatalf("after tagging: fresh %v, tags %v", fresh, sec.Tags)
	}
	if _, _, err := s.PutValue(ctx, sc, "authz", secrets.PutInput{VersionID: "p9", Value: secrets.StringValue("v")}); err != nil {
		t.Fatal(err)
	}
	if sec, _ := authz("a put after tagging"); len(sec.Tags) != 1 || sec.Tags[0].Value != "red" {
		t.Fatalf("a put after tagging: tags %v", sec.Tags)
	}

	if _, err := s.Delete(ctx, sc, "authz", secrets.DeleteInput{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Authz(ctx, sc, "authz"); !fault.Is(err, fault.NotFound) {
		t.Fatalf("after the delete: %v, want NotFound", err)
	}
	second := mustCreate(t, s, "authz", "again")
	if sec, _ := authz("the new secret"); sec.ID != second.ID || sec.ID == first.ID {
		t.Fatalf("the new secret: id %s, want %s", sec.ID, second.ID)
	}
	// A name pinned to the first secret's id finds nothing, cached or not.
	if _, _, err := s.Authz(ctx, sc, secrets.Pin("authz", first.ID)); !fault.Is(err, fault.NotFound) {
		t.Fatalf("pinned to the deleted secret: %v, want NotFound", err)
	}
}
