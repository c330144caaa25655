package console_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/console"
	"github.com/coffer-secrets/coffer/internal/iam"
	"github.com/coffer-secrets/coffer/internal/rotation"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/server"
	"github.com/coffer-secrets/coffer/internal/store"
)

// Fixed root credentials and the users the tests sign in as.
const (
	testAccount = "100000000001"
	testKeyID   = "AKIDcofferCONSOLE000000000000000000"
	testSecret  = "cofferConsoleSecretKey00000000000000000"
	testRegion  = "ap-guangzhou"

	adminUser, adminPassword = "alice", "Alice-passw0rd!"
	readerUser, readerPass   = "bob", "Bob-passw0rd!"
)

// env is a real Coffer server and the console next to it, on its own
// listener, mounted as the server will mount it.
type env struct {
	t    testing.TB
	srv  *server.Server
	url  string // the console's origin, e.g. http://127.0.0.1:1234
	logs *lockedBuffer
	skew atomic.Int64 // added to the console's clock, in nanoseconds
	// clients are signed-in clients by user name (see as).
	clients map[string]*client
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startEnv starts a dev server with an administrator (alice) and a
// read-only user (bob), both allowed to sign in to the console.
func startEnv(t testing.TB) *env {
	t.Helper()
	e := &env{t: t, logs: &lockedBuffer{}, clients: map[string]*client{}}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := server.Config{
		Listen: "127.0.0.1:0", DataDir: t.TempDir(), Regions: []string{testRegion, "ap-shanghai"}, Dev: true,
		Root: iam.RootInput{AccountID: testAccount, KeyID: testKeyID, Secret: testSecret}, Log: log, Out: io.Discard,
	}
	srv, err := server.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open server: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, 5*time.Second) }()
	e.srv = srv
	h := console.New(console.Config{Gate: srv.Gate, KMS: srv.KMS, Rotation: srv.Rotation, Dev: true, Log: log,
		Clock: func() time.Time { return time.Now().Add(time.Duration(e.skew.Load())) }})
	mux := http.NewServeMux()
	mux.Handle("/", http.NotFoundHandler()) // the API edges, as in server.wire
	mux.Handle("/console/", h)
	ts := httptest.NewServer(mux)
	e.url = ts.URL
	t.Cleanup(func() {
		ts.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		if err := srv.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	e.addUser(adminUser, adminPassword, "1") // AdministratorAccess
	e.addUser(readerUser, readerPass, "2")   // ReadOnlyAccess
	return e
}

// addUser creates a console user with the given preset policies attached.
func (e *env) addUser(name, password string, policies ...string) *iam.User {
	e.t.Helper()
	ctx := context.Background()
	out, err := e.srv.IAM.AddUser(ctx, testAccount, iam.AddUserInput{Name: name, ConsoleLogin: true, Password: password})
	if err != nil {
		e.t.Fatalf("add user %s: %v", name, err)
	}
	for _, p := range policies {
		if err := e.srv.IAM.Attach(ctx, testAccount, p, iam.Entity{Kind: store.EntityUser, ID: out.User.Uin}); err != nil {
			e.t.Fatalf("attach %s to %s: %v", p, name, err)
		}
	}
	return out.User
}

func (e *env) scope() secrets.Scope { return secrets.Scope{Account: testAccount, Region: testRegion} }

// mustCreate creates a secret directly in the core.
func (e *env) mustCreate(name, value string, tags ...store.Tag) {
	e.t.Helper()
	v := secrets.StringValue(value)
	_, _, err := e.srv.Secrets.Create(context.Background(), e.scope(), secrets.CreateInput{Name: name, Value: &v,
		Tags: tags, CreatedBy: testAccount, Description: "made by the test"})
	if err != nil {
		e.t.Fatalf("create %s: %v", name, err)
	}
}

// mustRotate gives a secret the random rotator on a 7-day schedule and
// starts a run, which the server's worker works on in the background;
// beta, when set, finishes the run into a roll-out to the callers it names.
func (e *env) mustRotate(t testing.TB, name string, beta *secrets.Rollout) *store.RotationRun {
	t.Helper()
	run, _, err := e.srv.Rotation.Rotate(context.Background(), e.scope(), name, rotation.RotateInput{
		Spec: &rotation.Spec{Rotator: rotation.RotatorRandom}, Rules: &rotation.Rules{Days: 7},
		Enable: true, Immediately: true, Beta: beta})
	if err != nil {
		t.Fatalf("rotate %s: %v", name, err)
	}
	return run
}

// awaitRun polls a run until it ends, and fails unless it ends in state
// want before the deadline.
func (e *env) awaitRun(t testing.TB, id int64, want store.RunState) *store.RotationRun {
	t.Helper()
	const wait = 30 * time.Second
	deadline := time.Now().Add(wait)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		run, err := e.srv.Rotation.Flow(context.Background(), e.scope(), id)
		if err != nil {
			t.Fatalf("run %d: %v", id, err)
		}
		if run.State != store.RunRunning {
			if run.State != want {
				t.Fatalf("run %d ended %s (%s), want %s", id, run.State, run.Error, want)
			}
			return run
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %d still %s at step %s after %v", id, run.State, run.Step, wait)
		}
		<-tick.C
	}
}

// runs returns a secret's rotation runs, newest first.
func (e *env) runs(t testing.TB, name string) []*store.RotationRun {
	t.Helper()
	_, runs, err := e.srv.Rotation.Runs(context.Background(), e.scope(), name, 100)
	if err != nil {
		t.Fatalf("runs of %s: %v", name, err)
	}
	return runs
}

// current returns a secret's current version and its value as text.
func (e *env) current(t testing.TB, name string) (string, string) {
	t.Helper()
	_, ver, val, err := e.srv.Secrets.GetValue(context.Background(), e.scope(), name, secrets.Selector{Stage: secrets.StageCurrent})
	if err != nil {
		t.Fatalf("current value of %s: %v", name, err)
	}
	return ver.ID, val.Text()
}

// status returns a secret's status, "" when it does not exist.
func (e *env) status(name string) store.SecretStatus {
	e.t.Helper()
	sec, err := e.srv.Secrets.Meta(context.Background(), e.scope(), name)
	if err != nil {
		return ""
	}
	return sec.Status
}

// events returns every audit event of the test account, newest first.
func (e *env) events() []*audit.Event {
	e.t.Helper()
	var out []*audit.Event
	q := audit.Query{EventQuery: store.EventQuery{Account: testAccount, Limit: audit.MaxPage}}
	for {
		p, err := e.srv.Gate.Lookup.Events(context.Background(), q)
		if err != nil {
			e.t.Fatalf("audit events: %v", err)
		}
		out = append(out, p.Events...)
		if p.Next == 0 {
			return out
		}
		q.BeforeSeq = p.Next
	}
}

// client is a browser-like HTTP client of the console: it keeps cookies
// and records every URL it visits, redirects included.
type client struct {
	t    testing.TB
	e    *env
	c    *http.Client
	csrf string
	urls []string
}

func (e *env) newClient(t testing.TB) *client {
	jar, _ := cookiejar.New(nil)
	c := &client{t: t, e: e}
	c.c = &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		c.urls = append(c.urls, req.URL.String())
		return nil
	}}
	return c
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signIn signs in as a console user and keeps the session's CSRF token.
func (e *env) signIn(t testing.TB, user, password string) *client {
	t.Helper()
	c := e.newClient(t)
	_, body := c.get("/console/signin")
	code, body := c.post("/console/signin", url.Values{"csrf": {c.token(body)}, "mode": {"user"},
		"account": {testAccount}, "user": {user}, "password": {password}})
	if !strings.Contains(body, `id="whoami">`+user+`<`) {
		t.Fatalf("sign in as %s: %d\n%s", user, code, body)
	}
	c.csrf = c.token(body)
	return c
}

// as returns a signed-in client of user, reusing one signed in before:
// each argon2id check costs a second under the race detector.
func (e *env) as(t testing.TB, user, password string) *client {
	t.Helper()
	if c, ok := e.clients[user]; ok {
		c.t = t
		return c
	}
	c := e.signIn(t, user, password)
	e.clients[user] = c
	return c
}

func (c *client) token(body string) string {
	c.t.Helper()
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		c.t.Fatalf("no CSRF token in the page:\n%s", body)
	}
	return m[1]
}

// do sends a request and returns the final status and body.
func (c *client) do(req *http.Request) (*http.Response, string) {
	c.t.Helper()
	c.urls = append(c.urls, req.URL.String())
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("read %s: %v", req.URL, err)
	}
	return resp, string(b)
}

func (c *client) get(path string) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.e.url+path, nil)
	resp, body := c.do(req)
	return resp.StatusCode, body
}

// post sends a same-origin form, as a browser would.
func (c *client) post(path string, form url.Values) (int, string) {
	c.t.Helper()
	resp, body := c.do(c.postRequest(path, form, "same-origin"))
	return resp.StatusCode, body
}

// postRequest builds a form POST; site is the Sec-Fetch-Site a browser
// would send ("" for none, and then no Origin either).
func (c *client) postRequest(path string, form url.Values, site string) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, c.e.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if site != "" {
		req.Header.Set("Sec-Fetch-Site", site)
		req.Header.Set("Origin", c.e.url)
	}
	return req
}

// form returns form values with the session's CSRF token.
func (c *client) form(kv ...string) url.Values {
	v := url.Values{"csrf": {c.csrf}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func iamPatch(password string) iam.UserPatch { return iam.UserPatch{Password: &password} }
