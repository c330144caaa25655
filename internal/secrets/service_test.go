package secrets_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
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

var sc = secrets.Scope{Account: "100000000001", Region: "ap-guangzhou"}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newService(t *testing.T) (*secrets.Service, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
	s := newServiceOver(t, func(db *sqlite.DB) store.Store { return db })
	s.Clock = c.now
	return s, c
}

// newServiceOver returns a service over a fresh embedded store, as wrap
// returns it.
func newServiceOver(t *testing.T, wrap func(*sqlite.DB) store.Store) *secrets.Service {
	t.Helper()
	st := sqlitetest.Open(t)
	root, err := keyfile.Open(filepath.Join(t.TempDir(), "root.key"), true)
	if err != nil {
		t.Fatal(err)
	}
	return &secrets.Service{Store: wrap(st), Keys: &keys.Keyring{Root: root, NewID: secrets.NewUUID}}
}

func ptr[T any](v T) *T { return &v }

func mustCreate(t *testing.T, s *secrets.Service, name, value string) *secrets.Secret {
	t.Helper()
	sec, _, err := s.Create(context.Background(), sc, secrets.CreateInput{Name: name, Value: ptr(secrets.StringValue(value)), VersionID: "v1"})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return sec
}

func mustValue(t *testing.T, s *secrets.Service, name string, sel secrets.Selector) string {
	t.Helper()
	_, _, v, err := s.GetValue(context.Background(), sc, name, sel)
	if err != nil {
		t.Fatalf("get %s %+v: %v", name, sel, err)
	}
	return v.Text()
}

// mustLabels returns the stage labels of each version of the secret name.
func mustLabels(t *testing.T, s *secrets.Service, name string) map[string][]string {
	t.Helper()
	_, vs, err := s.Describe(context.Background(), sc, name)
	if err != nil {
		t.Fatalf("describe %s: %v", name, err)
	}
	got := map[string][]string{}
	for _, v := range vs {
		got[v.ID] = v.Stages
	}
	return got
}

func wantFault(t *testing.T, err error, kind fault.Kind, reason fault.Reason) {
	t.Helper()
	if got := fault.KindOf(err); err == nil || got != kind || fault.ReasonOf(err) != reason {
		t.Fatalf("got %v (kind %v, reason %q), want kind %v reason %q", err, got, fault.ReasonOf(err), kind, reason)
	}
}

func TestValueIsRedacted(t *testing.T) {
	v := secrets.StringValue("hunter2")
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "v", v)
	for _, s := range []string{fmt.Sprint(v), fmt.Sprintf("%v %+v %#v %s %q %x", v, v, v, v, v, v), buf.String(), fmt.Sprintf("%v", struct{ V secrets.Value }{v})} {
		if bytes.Contains([]byte(s), []byte("hunter2")) || bytes.Contains([]byte(s), []byte("68756e74657232")) {
			t.Fatalf("value printed: %s", s)
		}
	}
}

func TestPutMovesStages(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	mustCreate(t, s, "app", "one")
	for i, id := range []string{"v2", "v3"} {
		if _, _, err := s.PutValue(ctx, sc, "app", secrets.PutInput{VersionID: id, Value: secrets.StringValue(fmt.Sprint(i + 2))}); err != nil {
			t.Fatal(err)
		}
	}
	got := mustLabels(t, s, "app")
	want := map[string][]string{"v1": nil, "v2": {secrets.StagePrevious}, "v3": {secrets.StageCurrent}}
	for id, w := range want {
		if len(w) != len(got[id]) || !slices.Equal(w, got[id]) && len(w) > 0 {
			t.Errorf("%s: stages %v, want %v", id, got[id], w)
		}
	}
	if v := mustValue(t, s, "app", secrets.Selector{}); v != "3" {
		t.Errorf("current = %q, want 3", v)
	}
	if v := mustValue(t, s, "app", secrets.Selector{Stage: secrets.StagePrevious}); v != "2" {
		t.Errorf("previous = %q, want 2", v)
	}
	_, _, _, err := s.GetValue(ctx, sc, "app", secrets.Selector{VersionID: "v1", Stage: secrets.StageCurrent})
	wantFault(t, err, fault.Invalid, fault.StageMismatch)
	_, _, _, err = s.GetValue(ctx, sc, "app", secrets.Selector{Stage: "nope"})
	wantFault(t, err, fault.NotFound, fault.NoSuchStage)
}

func TestPendingLabelLeavesCurrent(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	mustCreate(t, s, "app", "one")
	if _, _, err := s.PutValue(ctx, sc, "app", secrets.PutInput{VersionID: "v2", Value: secrets.StringValue("two"), Stages: []string{secrets.StagePending}}); err != nil {
		t.Fatal(err)
	}
	if v := mustValue(t, s, "app", secrets.Selector{}); v != "one" {
		t.Fatalf("current = %q, want one", v)
	}
	if v := mustValue(t, s, "app", secrets.Selector{Stage: secrets.StagePending}); v != "two" {
		t.Fatalf("pending = %q, want two", v)
	}
}

func TestIdempotentWrites(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	in := secrets.CreateInput{Name: "app", Value: ptr(secrets.StringValue("one")), Token: "tok-1", VersionID: "tok-1"}
	_, v1, err := s.Create(ctx, sc, in)
	if err != nil {
		t.Fatal(err)
	}
	_, again, err := s.Create(ctx, sc, in)
	if err != nil || again.ID != v1.ID {
		t.Fatalf("retried create = %v, %v; want version %s", again, err, v1.ID)
	}
	in.Value = ptr(secrets.StringValue("other"))
	_, _, err = s.Create(ctx, sc, in)
	wantFault(t, err, fault.Exists, fault.TokenReused)
	in.Value = ptr(secrets.BinaryValue([]byte("one"))) // binary "one" is not string "one"
	_, _, err = s.Create(ctx, sc, in)
	wantFault(t, err, fault.Exists, fault.TokenReused)

	put := secrets.PutInput{VersionID: "tok-2", Token: "tok-2", Value: secrets.StringValue("two")}
	_, first, err := s.PutValue(ctx, sc, "app", put)
	if err != nil {
		t.Fatal(err)
	}
	_, second, err := s.PutValue(ctx, sc, "app", put)
	if err != nil || second.ID != first.ID {
		t.Fatalf("retried put = %v, %v", second, err)
	}
	_, vs, _ := s.Describe(ctx, sc, "app")
	if len(vs) != 2 {
		t.Fatalf("%d versions after a retried put, want 2", len(vs))
	}
	_, _, err = s.PutValue(ctx, sc, "app", secrets.PutInput{VersionID: "tok-2", Value: secrets.StringValue("two")})
	wantFault(t, err, fault.Exists, fault.VersionExists)
}

func TestDeleteCurrentVersionPromotesNewest(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	mustCreate(t, s, "app", "one")
	for _, id := range []string{"v2", "v3"} {
		if _, _, err := s.PutValue(ctx, sc, "app", secrets.PutInput{VersionID: id, Value: secrets.StringValue(id)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteVersion(ctx, sc, "app", "v3"); err != nil {
		t.Fatal(err)
	}
	if v := mustValue(t, s, "app", secrets.Selector{}); v != "v2" {
		t.Fatalf("current after deleting v3 = %q, want v2", v)
	}
	wantFault(t, s.DeleteVersion(ctx, sc, "app", "v3"), fault.NotFound, fault.NoSuchVersion)
}

// TestDeleteCurrentVersionPromotesNewestBySeq: the version that takes
// current is the newest remaining one, whatever the order of the ids and
// whatever labels it carries.
func TestDeleteCurrentVersionPromotesNewestBySeq(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	sec, _, err := s.Create(ctx, sc, secrets.CreateInput{Name: "app", Value: ptr(secrets.StringValue("c1")), VersionID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []secrets.PutInput{
		{VersionID: "b2", Value: secrets.StringValue("b2")},
		{VersionID: "a3", Value: secrets.StringValue("a3"), Stages: []string{"AWSPENDING"}},
	} {
		if _, _, err := s.PutValue(ctx, sc, sec.Name, in); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteVersion(ctx, sc, "app", "b2"); err != nil {
		t.Fatal(err)
	}
	if v := mustValue(t, s, "app", secrets.Selector{}); v != "a3" {
		t.Fatalf("current after deleting b2 = %q, want a3, the newest remaining", v)
	}
	got := mustLabels(t, s, "app")
	want := map[string][]string{"a3": {"AWSPENDING", secrets.StageCurrent}, "c1": {secrets.StagePrevious}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("labels after deleting b2 = %v, want %v", got, want)
	}
}

func TestLifecycle(t *testing.T) {
	s, c := newService(t)
	ctx := context.Background()
	mustCreate(t, s, "app", "one")
	_, err := s.Delete(ctx, sc, "app", secrets.DeleteInput{RecoveryDays: 7, RequireDisabled: true})
	wantFault(t, err, fault.WrongState, fault.SecretEnabled)
	if _, err := s.Disable(ctx, sc, "app"); err != nil {
		t.Fatal(err)
	}
	_, _, _, err = s.GetValue(ctx, sc, "app", secrets.Selector{})
	wantFault(t, err, fault.WrongState, fault.SecretDisabled)
	sec, err := s.Delete(ctx, sc, "app", secrets.DeleteInput{RecoveryDays: 7, RequireDisabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := c.now().Add(7 * 24 * time.Hour); !sec.DeleteAt.Equal(want) {
		t.Fatalf("DeleteAt %v, want %v", sec.DeleteAt, want)
	}
	_, err = s.Enable(ctx, sc, "app")
	wantFault(t, err, fault.WrongState, fault.SecretPendingDeletion)
	_, _, err = s.Create(ctx, sc, secrets.CreateInput{Name: "app", Value: ptr(secrets.StringValue("x"))})
	wantFault(t, err, fault.Exists, fault.SecretPendingDeletion)

	c.add(7*24*time.Hour - time.Second)
	if n, err := s.Sweep(ctx, 10); err != nil || n != 0 {
		t.Fatalf("sweep before the window = %d, %v; want 0", n, err)
	}
	if _, err := s.Restore(ctx, sc, "app", false); err != nil {
		t.Fatal(err)
	}
	if sec, _, _ := s.Describe(ctx, sc, "app"); sec.Status != store.StatusDisabled || !sec.DeleteAt.IsZero() {
		t.Fatalf("after restore: %s, %v; want Disabled, zero", sec.Status, sec.DeleteAt)
	}
	if _, err := s.Delete(ctx, sc, "app", secrets.DeleteInput{RecoveryDays: 1}); err != nil {
		t.Fatal(err)
	}
	c.add(24 * time.Hour)
	if n, err := s.Sweep(ctx, 10); err != nil || n != 1 {
		t.Fatalf("sweep after the window = %d, %v; want 1", n, err)
	}
	_, _, err = s.Describe(ctx, sc, "app")
	wantFault(t, err, fault.NotFound, "")
}

func TestVersionLimit(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	mustCreate(t, s, "app", "one")
	for i := 2; i <= 10; i++ {
		if _, _, err := s.PutValue(ctx, sc, "app", secrets.PutInput{Value: secrets.StringValue("x")}); err != nil {
			t.Fatalf("version %d: %v", i, err)
		}
	}
	_, _, err := s.PutValue(ctx, sc, "app", secrets.PutInput{Value: secrets.StringValue("x")})
	wantFault(t, err, fault.Limit, "")
}

func TestManagedSecretRefusesHandEdits(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	_, _, err := s.Create(ctx, sc, secrets.CreateInput{Name: "db", Type: store.TypeDatabase, Value: ptr(secrets.StringValue(`{"UserName":"u","Password":"p"}`))})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = s.PutValue(ctx, sc, "db", secrets.PutInput{Value: secrets.StringValue("x")})
	wantFault(t, err, fault.WrongState, fault.AutoRotated)
	wantFault(t, s.DeleteVersion(ctx, sc, "db", "x"), fault.WrongState, fault.AutoRotated)
}

func TestScopesAreIsolated(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	mustCreate(t, s, "app", "one")
	for _, other := range []secrets.Scope{{Account: "100000000002", Region: sc.Region}, {Account: sc.Account, Region: "ap-shanghai"}} {
		_, _, _, err := s.GetValue(ctx, other, "app", secrets.Selector{})
		wantFault(t, err, fault.NotFound, "")
		if _, _, err := s.Create(ctx, other, secrets.CreateInput{Name: "app", Value: ptr(secrets.StringValue("two"))}); err != nil {
			t.Fatalf("same name in %+v: %v", other, err)
		}
	}
	if v := mustValue(t, s, "app", secrets.Selector{}); v != "one" {
		t.Fatalf("value = %q, want one", v)
	}
}

func TestConcurrentPutsKeepOneCurrent(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	mustCreate(t, s, "app", "v1")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := s.PutValue(ctx, sc, "app", secrets.PutInput{VersionID: fmt.Sprintf("w%d", i), Value: secrets.StringValue(fmt.Sprint(i))})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		if err == nil {
			ok++
		} else if !fault.Is(err, fault.Limit) {
			t.Fatalf("put: %v", err)
		}
	}
	_, vs, _ := s.Describe(ctx, sc, "app")
	if len(vs) != ok+1 {
		t.Fatalf("%d versions, want %d", len(vs), ok+1)
	}
	current, previous := 0, 0
	for _, v := range vs {
		if slices.Contains(v.Stages, secrets.StageCurrent) {
			current++
		}
		if slices.Contains(v.Stages, secrets.StagePrevious) {
			previous++
		}
	}
	if current != 1 || previous != 1 {
		t.Fatalf("%d current and %d previous versions, want 1 and 1", current, previous)
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	mustCreate(t, s, "app", "one")
	big := secrets.StringValue(string(make([]byte, 64<<10+1)))
	tests := []struct {
		name string
		err  error
		kind fault.Kind
	}{
		{"oversize", func() error { _, _, err := s.PutValue(ctx, sc, "app", secrets.PutInput{Value: big}); return err }(), fault.Invalid},
		{"empty value", func() error {
			_, _, err := s.PutValue(ctx, sc, "app", secrets.PutInput{Value: secrets.StringValue("")})
			return err
		}(), fault.Invalid},
		{"bad version id", func() error {
			_, _, err := s.PutValue(ctx, sc, "app", secrets.PutInput{VersionID: "a b", Value: secrets.StringValue("x")})
			return err
		}(), fault.Invalid},
		{"bad name", func() error {
			_, _, err := s.Create(ctx, sc, secrets.CreateInput{Name: "a b", Value: ptr(secrets.StringValue("x"))})
			return err
		}(), fault.Invalid},
		{"duplicate tags", func() error {
			_, _, err := s.Create(ctx, sc, secrets.CreateInput{Name: "t", Tags: []store.Tag{{Key: "k"}, {Key: "k"}}, Value: ptr(secrets.StringValue("x"))})
			return err
		}(), fault.Invalid},
		{"window too long", func() error { _, err := s.Delete(ctx, sc, "app", secrets.DeleteInput{RecoveryDays: 31}); return err }(), fault.Invalid},
	}
	for _, tt := range tests {
		if fault.KindOf(tt.err) != tt.kind {
			t.Errorf("%s: %v, want kind %v", tt.name, tt.err, tt.kind)
		}
	}
	_, vs, _ := s.Describe(ctx, sc, "app")
	if len(vs) != 1 || mustValue(t, s, "app", secrets.Selector{}) != "one" {
		t.Fatalf("state changed: %d versions", len(vs))
	}
	if _, n, _ := s.List(ctx, sc, secrets.ListInput{}); n != 1 {
		t.Fatalf("%d secrets, want 1", n)
	}
}

func TestMoveStageSwapsCurrentAndPrevious(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	mustCreate(t, s, "app", "one")
	if _, _, err := s.PutValue(ctx, sc, "app", secrets.PutInput{VersionID: "v2", Value: secrets.StringValue("two")}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"one", "two", "one"} {
		_, vs, _ := s.Describe(ctx, sc, "app")
		var cur, prev string
		for _, v := range vs {
			if slices.Contains(v.Stages, secrets.StageCurrent) {
				cur = v.ID
			}
			if slices.Contains(v.Stages, secrets.StagePrevious) {
				prev = v.ID
			}
		}
		if _, err := s.MoveStage(ctx, sc, "app", secrets.MoveInput{Stage: secrets.StageCurrent, MoveTo: prev, RemoveFrom: cur}); err != nil {
			t.Fatalf("swap %d: %v", i, err)
		}
		if got := mustValue(t, s, "app", secrets.Selector{}); got != want {
			t.Fatalf("after swap %d: current = %q, want %q", i, got, want)
		}
	}
	_, err := s.MoveStage(ctx, sc, "app", secrets.MoveInput{Stage: secrets.StageCurrent, MoveTo: "v2"})
	wantFault(t, err, fault.Invalid, "")
}

func TestLabelQuotaAcrossVersions(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	mustCreate(t, s, "app", "one") // v1 holds current
	for i := 0; i < 19; i++ {
		label := fmt.Sprintf("l%02d", i)
		if _, _, err := s.PutValue(ctx, sc, "app", secrets.PutInput{Value: secrets.StringValue("x"), Stages: []string{label}, MaxVersions: 100}); err != nil {
			t.Fatalf("label %d: %v", i, err)
		}
	}
	_, _, err := s.PutValue(ctx, sc, "app", secrets.PutInput{Value: secrets.StringValue("x"), Stages: []string{"one-too-many"}, MaxVersions: 100})
	wantFault(t, err, fault.Limit, "")
	// Moving a label that exists changes no count.
	if _, _, err := s.PutValue(ctx, sc, "app", secrets.PutInput{Value: secrets.StringValue("y"), Stages: []string{"l00"}, MaxVersions: 100}); err != nil {
		t.Fatalf("moving an existing label: %v", err)
	}
}
