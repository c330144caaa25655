package rotation_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/keys"
	"github.com/coffer-secrets/coffer/internal/keys/root/keyfile"
	"github.com/coffer-secrets/coffer/internal/rotation"
	"github.com/coffer-secrets/coffer/internal/rotation/webhook"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
	"github.com/coffer-secrets/coffer/internal/store/sqlite"
)

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

type fixture struct {
	st  store.Store
	sec *secrets.Service
	clk *clock
	sc  secrets.Scope
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "coffer.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	root, err := keyfile.Open(filepath.Join(dir, "root.key"), true)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
	log := &audit.Log{Store: st, Clock: c.now}
	svc := &secrets.Service{Store: st, Keys: &keys.Keyring{Root: root, NewID: secrets.NewUUID}, Audit: log, Clock: c.now}
	return &fixture{st: st, sec: svc, clk: c, sc: secrets.Scope{Account: "100000000001", Region: "ap-guangzhou"}}
}

// service returns a rotation service over the fixture: a fresh one stands
// for a restarted server.
func (f *fixture) service(hook func(*store.RotationRun, string) error) *rotation.Service {
	return &rotation.Service{Store: f.st, Secrets: f.sec, Audit: f.sec.Audit, Clock: f.clk.now,
		MaxAttempts: 3, RetryBase: time.Second, Hook: hook}
}

func (f *fixture) create(t *testing.T, name, value string) {
	t.Helper()
	v := secrets.StringValue(value)
	if _, _, err := f.sec.Create(context.Background(), f.sc, secrets.CreateInput{Name: name, Value: &v, VersionID: "v1", CreatedBy: f.sc.Account}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) current(t *testing.T, name string) (string, string) {
	t.Helper()
	_, ver, val, err := f.sec.GetValue(context.Background(), f.sc, name, secrets.Selector{})
	if err != nil {
		t.Fatal(err)
	}
	return ver.ID, val.Text()
}

func (f *fixture) versions(t *testing.T, name string) map[string][]string {
	t.Helper()
	_, vs, err := f.sec.Describe(context.Background(), f.sc, name)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, v := range vs {
		out[v.ID] = v.Stages
	}
	return out
}

// drain works runs until none is due, moving the clock past back-offs.
func drain(t *testing.T, f *fixture, s *rotation.Service) {
	t.Helper()
	for range 50 {
		if _, err := s.Work(context.Background()); err != nil {
			t.Fatal(err)
		}
		var due []*store.RotationRun
		_ = f.st.View(context.Background(), func(tx store.Tx) error {
			var err error
			due, err = tx.RotationRunsDue(context.Background(), f.clk.now().Add(2*time.Hour), 10)
			return err
		})
		if len(due) == 0 {
			return
		}
		f.clk.add(2 * time.Hour)
	}
	t.Fatal("runs never ended")
}

func random() *rotation.Spec { return &rotation.Spec{Rotator: rotation.RotatorRandom} }

func TestRotateRandom(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.create(t, "app", `{"username":"app","password":"old"}`)
	s := f.service(nil)
	run, _, err := s.Rotate(ctx, f.sc, "app", rotation.RotateInput{Spec: random(), Enable: true, Immediately: true, Token: "tok-1"})
	if err != nil {
		t.Fatal(err)
	}
	if run.State != store.RunRunning || run.VersionID != "tok-1" || run.ID == 0 {
		t.Fatalf("run = %+v", run)
	}
	// A retry with the same token is the same run; another token is refused.
	again, _, err := s.Rotate(ctx, f.sc, "app", rotation.RotateInput{Immediately: true, Token: "tok-1"})
	if err != nil || again.ID != run.ID {
		t.Fatalf("retry: %v, %+v", err, again)
	}
	if _, _, err := s.Rotate(ctx, f.sc, "app", rotation.RotateInput{Immediately: true, Token: "tok-2"}); fault.ReasonOf(err) != fault.RotationInProgress {
		t.Fatalf("second rotation: %v", err)
	}
	drain(t, f, s)
	id, val := f.current(t, "app")
	if id != "tok-1" {
		t.Fatalf("current = %s", id)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(val), &m); err != nil || m["username"] != "app" || m["password"] == "old" || len(m["password"]) != 32 {
		t.Fatalf("rotated value does not keep the shape with a new password: %v", err)
	}
	if vs := f.versions(t, "app"); !slices.Equal(vs["v1"], []string{secrets.StagePrevious}) || !slices.Equal(vs["tok-1"], []string{secrets.StageCurrent}) {
		t.Fatalf("stages = %v", vs)
	}
	sec, runs, err := s.Runs(ctx, f.sc, "app", 10)
	if err != nil || len(runs) != 1 || runs[0].State != store.RunSucceeded {
		t.Fatalf("runs: %v %+v", err, runs)
	}
	if !sec.Rotation.Last.Equal(f.clk.now()) || !sec.Rotation.Enabled || !sec.Rotation.Next.After(f.clk.now()) {
		t.Fatalf("rotation = %+v", sec.Rotation)
	}
	// Every step was audited, with no value.
	steps := auditSteps(t, f)
	if want := []string{"createSecret", "setSecret", "testSecret", "finishSecret"}; !slices.Equal(steps, want) {
		t.Fatalf("audited steps = %v, want %v", steps, want)
	}
}

func auditSteps(t *testing.T, f *fixture) []string {
	t.Helper()
	var out []string
	evs := events(t, f)
	for _, e := range evs {
		if e.Action == "RotationStep" {
			var p struct{ Step string }
			_ = json.Unmarshal([]byte(e.Params), &p)
			out = append(out, p.Step)
		}
	}
	return out
}

func events(t *testing.T, f *fixture) []*audit.Event {
	t.Helper()
	var evs []*audit.Event
	err := f.st.View(context.Background(), func(tx store.Tx) error {
		var err error
		evs, err = tx.Events(context.Background(), store.EventQuery{Limit: 1000})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestScheduledRotation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.create(t, "sched", "first")
	s := f.service(nil)
	if _, _, err := s.Rotate(ctx, f.sc, "sched", rotation.RotateInput{Spec: random(), Enable: true, Rules: &rotation.Rules{Days: 1}}); err != nil {
		t.Fatal(err)
	}
	drain(t, f, s)
	if id, _ := f.current(t, "sched"); id != "v1" {
		t.Fatalf("rotated before its time: %s", id)
	}
	f.clk.add(25 * time.Hour)
	drain(t, f, s)
	id, val := f.current(t, "sched")
	if id == "v1" || val == "first" {
		t.Fatal("the scheduled rotation did not run")
	}
	// A disabled secret does not rotate on schedule.
	if _, err := f.sec.Disable(ctx, f.sc, "sched"); err != nil {
		t.Fatal(err)
	}
	f.clk.add(50 * time.Hour)
	drain(t, f, s)
	if _, vs, _ := f.sec.Describe(ctx, f.sc, "sched"); len(vs) != 2 {
		t.Fatalf("a disabled secret rotated: %d versions", len(vs))
	}
}

func TestRotateRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.create(t, "plain", "x")
	s := f.service(nil)
	tests := []struct {
		name string
		in   rotation.RotateInput
		want fault.Kind
	}{
		{"no rotator", rotation.RotateInput{Immediately: true}, fault.WrongState},
		{"unknown rotator", rotation.RotateInput{Spec: &rotation.Spec{Rotator: "lambda"}}, fault.Invalid},
		{"bad strategy", rotation.RotateInput{Spec: &rotation.Spec{Rotator: rotation.RotatorPostgres, Strategy: "triple"}}, fault.Invalid},
		{"webhook without https", rotation.RotateInput{Spec: &rotation.Spec{Rotator: rotation.RotatorWebhook, URL: "ftp://x"}}, fault.Invalid},
		{"days and schedule", rotation.RotateInput{Spec: random(), Rules: &rotation.Rules{Days: 3, Schedule: "rate(4 hours)"}}, fault.Invalid},
		{"days too many", rotation.RotateInput{Spec: random(), Rules: &rotation.Rules{Days: 1001}}, fault.Invalid},
		{"bad cron", rotation.RotateInput{Spec: random(), Rules: &rotation.Rules{Schedule: "cron(99 * * * ? *)"}}, fault.Invalid},
		{"bad token", rotation.RotateInput{Spec: random(), Token: "bad token!"}, fault.Invalid},
		{"token of a version", rotation.RotateInput{Spec: random(), Token: "v1", Immediately: true}, fault.Exists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := s.Rotate(ctx, f.sc, "plain", tt.in)
			if !fault.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			sec, _ := f.sec.Meta(ctx, f.sc, "plain")
			if sec.Rotation.Rotator != "" || sec.Rotation.Enabled {
				t.Fatalf("a refused call changed the secret: %+v", sec.Rotation)
			}
		})
	}
	if _, _, err := s.Rotate(ctx, f.sc, "missing", rotation.RotateInput{Spec: random()}); !fault.Is(err, fault.NotFound) {
		t.Fatalf("missing secret: %v", err)
	}
	if _, _, err := s.Cancel(ctx, f.sc, "plain"); fault.ReasonOf(err) != fault.NoRotator {
		t.Fatalf("cancel without rotator: %v", err)
	}
}

// TestCrashAtEveryStep stops the work at every step and phase, as a server
// that dies there, and checks that a new service over the same store
// finishes the rotation with exactly one new version.
func TestCrashAtEveryStep(t *testing.T) {
	for _, step := range []string{rotation.StepCreate, rotation.StepSet, rotation.StepTest, rotation.StepFinish} {
		for _, phase := range []string{"before", "after", "record"} {
			t.Run(step+"/"+phase, func(t *testing.T) {
				f := newFixture(t)
				ctx := context.Background()
				f.create(t, "c", "zero")
				crashed := false
				dying := f.service(func(r *store.RotationRun, p string) error {
					if r.Step == step && p == phase && !crashed {
						crashed = true
						return errors.New("killed")
					}
					return nil
				})
				if _, _, err := dying.Rotate(ctx, f.sc, "c", rotation.RotateInput{Spec: random(), Immediately: true, Token: "tok"}); err != nil {
					t.Fatal(err)
				}
				if _, err := dying.Work(ctx); err == nil || !crashed {
					t.Fatalf("the hook did not stop the work: %v", err)
				}
				drain(t, f, f.service(nil))
				if id, val := f.current(t, "c"); id != "tok" || val == "zero" {
					t.Fatalf("after restart current = %s", id)
				}
				if vs := f.versions(t, "c"); len(vs) != 2 {
					t.Fatalf("versions = %v", vs)
				}
				_, runs, _ := f.service(nil).Runs(ctx, f.sc, "c", 10)
				if len(runs) != 1 || runs[0].State != store.RunSucceeded {
					t.Fatalf("runs = %+v", runs)
				}
			})
		}
	}
}

// hookServer is a webhook endpoint that records the steps it is called
// for, verifies every signature, and fails the steps in failing.
type hookServer struct {
	*httptest.Server
	pub     ed25519.PublicKey
	mu      sync.Mutex
	steps   []string
	failing map[string]bool
	value   string
	bad     []string
}

func newHookServer(t *testing.T, pub ed25519.PublicKey) *hookServer {
	h := &hookServer{pub: pub, failing: map[string]bool{}}
	h.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body [1 << 16]byte
		n, _ := r.Body.Read(body[:])
		for n < len(body) {
			m, err := r.Body.Read(body[n:])
			n += m
			if err != nil {
				break
			}
		}
		b := body[:n]
		h.mu.Lock()
		defer h.mu.Unlock()
		if err := webhook.Verify(h.pub, r.Header, b, time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC), 24*time.Hour); err != nil {
			h.bad = append(h.bad, err.Error())
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var ev webhook.Event
		_ = json.Unmarshal(b, &ev)
		h.steps = append(h.steps, ev.Step)
		if h.failing[ev.Step] {
			http.Error(w, `{"Error":"target refused"}`, http.StatusInternalServerError)
			return
		}
		if ev.Step == webhook.StepCreate && h.value != "" {
			fmt.Fprintf(w, `{"SecretString":%q}`, h.value)
		}
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) seen() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.steps)
}

func webhookService(f *fixture, h *hookServer) *rotation.Service {
	_, priv, _ := ed25519.GenerateKey(nil)
	h.pub = priv.Public().(ed25519.PublicKey)
	s := f.service(nil)
	s.Webhook = &webhook.Client{HTTP: h.Client(), Signer: webhook.Signer{KeyID: "k1", Key: priv}, Clock: f.clk.now}
	return s
}

func TestWebhookRotation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.create(t, "hooked", "before")
	h := newHookServer(t, nil)
	h.value = "from-endpoint"
	s := webhookService(f, h)
	if _, _, err := s.Rotate(ctx, f.sc, "hooked", rotation.RotateInput{Spec: &rotation.Spec{Rotator: rotation.RotatorWebhook, URL: h.URL}, Immediately: true}); err != nil {
		t.Fatal(err)
	}
	drain(t, f, s)
	if want := []string{"createSecret", "setSecret", "testSecret", "finishSecret"}; !slices.Equal(h.seen(), want) {
		t.Fatalf("endpoint saw %v (bad signatures: %v)", h.seen(), h.bad)
	}
	if _, val := f.current(t, "hooked"); val != "from-endpoint" {
		t.Fatal("the endpoint's value is not current")
	}
}

func TestWebhookFailedTestRollsBack(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.create(t, "hooked", "before")
	h := newHookServer(t, nil)
	h.failing[webhook.StepTest] = true
	s := webhookService(f, h)
	run, _, err := s.Rotate(ctx, f.sc, "hooked", rotation.RotateInput{Spec: &rotation.Spec{Rotator: rotation.RotatorWebhook, URL: h.URL}, Immediately: true})
	if err != nil {
		t.Fatal(err)
	}
	drain(t, f, s)
	if id, val := f.current(t, "hooked"); id != "v1" || val != "before" {
		t.Fatalf("current changed: %s", id)
	}
	if vs := f.versions(t, "hooked"); len(vs) != 1 {
		t.Fatalf("the pending version stayed: %v", vs)
	}
	got, err := s.Flow(ctx, f.sc, run.ID)
	if err != nil || got.State != store.RunRolledBack || !strings.Contains(got.Error, "testSecret") || strings.Contains(got.Error, "before") {
		t.Fatalf("flow = %+v, %v", got, err)
	}
	tests := 0
	for _, st := range h.seen() {
		if st == webhook.StepTest {
			tests++
		}
	}
	if tests != 3 || slices.Contains(h.seen(), webhook.StepFinish) {
		t.Fatalf("endpoint saw %v: want testSecret 3 times (MaxAttempts) and no finishSecret", h.seen())
	}
	// Another account cannot see the flow.
	if _, err := s.Flow(ctx, secrets.Scope{Account: "100000000002", Region: f.sc.Region}, run.ID); !fault.Is(err, fault.NotFound) {
		t.Fatalf("another account's flow: %v", err)
	}
}

func TestCancelRollsBack(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.create(t, "c", "zero")
	stop := f.service(func(r *store.RotationRun, p string) error {
		if r.Step == rotation.StepSet && p == "before" {
			return errors.New("pause")
		}
		return nil
	})
	if _, _, err := stop.Rotate(ctx, f.sc, "c", rotation.RotateInput{Spec: random(), Enable: true, Immediately: true, Token: "tok"}); err != nil {
		t.Fatal(err)
	}
	_, _ = stop.Work(ctx) // createSecret done, stopped before setSecret
	if vs := f.versions(t, "c"); !slices.Equal(vs["tok"], []string{secrets.StagePending}) {
		t.Fatalf("pending version = %v", vs)
	}
	run, sec, err := stop.Cancel(ctx, f.sc, "c")
	if err != nil || run == nil || sec.Rotation.Enabled {
		t.Fatalf("cancel: %v %+v %+v", err, run, sec)
	}
	drain(t, f, f.service(nil))
	if id, _ := f.current(t, "c"); id != "v1" {
		t.Fatalf("current = %s", id)
	}
	if vs := f.versions(t, "c"); len(vs) != 1 {
		t.Fatalf("versions after cancel = %v", vs)
	}
}

func TestDeletedDuringRotation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.create(t, "d", "zero")
	stop := f.service(func(r *store.RotationRun, p string) error {
		if r.Step == rotation.StepSet && p == "before" {
			return errors.New("pause")
		}
		return nil
	})
	run, _, err := stop.Rotate(ctx, f.sc, "d", rotation.RotateInput{Spec: random(), Immediately: true})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = stop.Work(ctx)
	if _, err := f.sec.Disable(ctx, f.sc, "d"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.sec.Delete(ctx, f.sc, "d", secrets.DeleteInput{}); err != nil {
		t.Fatal(err)
	}
	drain(t, f, f.service(nil))
	got, err := f.service(nil).Flow(ctx, f.sc, run.ID)
	if err != nil || got.State != store.RunFailed {
		t.Fatalf("flow = %+v, %v", got, err)
	}
}

func TestFromLambda(t *testing.T) {
	tests := []struct {
		in       string
		rotator  string
		strategy string
		ok       bool
	}{
		{"coffer:random", rotation.RotatorRandom, "", true},
		{"coffer:ssh", rotation.RotatorSSH, "", true},
		{"coffer:postgresql-single", rotation.RotatorPostgres, rotation.StrategySingle, true},
		{"coffer:mysql-alternating", rotation.RotatorMySQL, rotation.StrategyAlternating, true},
		{"arn:aws:lambda:us-east-1:123456789012:function:coffer-postgresql-alternating", rotation.RotatorPostgres, rotation.StrategyAlternating, true},
		{"arn:aws:lambda:us-east-1:123456789012:function:coffer-random:live", rotation.RotatorRandom, "", true},
		{"https://rotate.example.com/hook", rotation.RotatorWebhook, "", true},
		{"arn:aws:lambda:us-east-1:123456789012:function:my-rotator", "", "", false},
		{"coffer:oracle-single", "", "", false},
		{"https://user:pw@x.example/", "", "", false},
	}
	for _, tt := range tests {
		sp, err := rotation.FromLambda(tt.in)
		if (err == nil) != tt.ok || tt.ok && (sp.Rotator != tt.rotator || sp.Strategy != tt.strategy || sp.Lambda != tt.in) {
			t.Errorf("FromLambda(%q) = %+v, %v", tt.in, sp, err)
		}
	}
}
