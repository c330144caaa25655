package console_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/console"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
)

// TestHTTP drives the console with a plain HTTP client, one server for
// every case (argon2id makes each sign-in cost a second under -race).
func TestHTTP(t *testing.T) {
	e := startEnv(t)
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, *env)
	}{
		{"SecurityHeaders", testSecurityHeaders}, {"SessionCookie", testSessionCookie},
		{"SignInRefused", testSignInRefused}, {"CSRF", testCSRF}, {"ForgedSession", testForgedSession},
		{"CrossSite", testCrossSite}, {"RevealNeverLeaks", testRevealNeverLeaks},
		{"ReadOnlyUser", testReadOnlyUser}, {"TLS", testTLS}, {"SessionEnds", testSessionEnds},
		{"RotationSection", testRotationSection}, {"RotateNow", testRotateNow},
		{"RotationReadOnly", testRotationReadOnly}, {"RotationAccounts", testRotationAccounts},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, e) })
	}
}

const wantCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func testSecurityHeaders(t *testing.T, e *env) {
	c := e.as(t, adminUser, adminPassword)
	for _, path := range []string{"/console/signin", "/console/secrets", "/console/nowhere", "/console/static/console.css"} {
		req, _ := http.NewRequest(http.MethodGet, e.url+path, nil)
		resp, _ := c.do(req)
		for h, want := range map[string]string{
			"Content-Security-Policy": wantCSP, "X-Content-Type-Options": "nosniff",
			"Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
		} {
			if got := resp.Header.Get(h); got != want {
				t.Errorf("%s: %s = %q, want %q", path, h, got, want)
			}
		}
		if got := resp.Header.Get("Strict-Transport-Security"); got != "" {
			t.Errorf("%s: HSTS %q over plain HTTP", path, got)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, e.url+"/console/secrets", nil)
	if resp, _ := c.do(req); resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("pages: Cache-Control = %q, want no-store", resp.Header.Get("Cache-Control"))
	}
	// /console reaches the console through the mux's subtree redirect.
	if code, body := e.newClient(t).get("/console"); code != http.StatusOK || !strings.Contains(body, "Sign in to Coffer") {
		t.Errorf("GET /console: %d, want the sign-in page", code)
	}
}

func testSessionCookie(t *testing.T, e *env) {
	c := e.newClient(t)
	_, body := c.get("/console/signin")
	req := c.postRequest("/console/signin", url.Values{"csrf": {c.token(body)}, "mode": {"user"},
		"account": {testAccount}, "user": {adminUser}, "password": {adminPassword}}, "same-origin")
	c.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, _ := c.do(req)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d, want 303", resp.StatusCode)
	}
	var got *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "coffer_console" {
			got = ck
		}
	}
	if got == nil {
		t.Fatalf("no session cookie in %v", resp.Header["Set-Cookie"])
	}
	if !got.HttpOnly || got.SameSite != http.SameSiteStrictMode || got.Path != "/console/" || len(got.Value) < 40 {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/console/, a long random value", got)
	}
	if got.Secure {
		t.Errorf("session cookie is Secure over dev plain HTTP")
	}
}

func testSignInRefused(t *testing.T, e *env) {
	e.addUser("carol", "Carol-passw0rd!") // no policies: may sign in, may do nothing
	before := failedSignIns(t, e)
	for _, tc := range []struct {
		name string
		form url.Values
	}{
		{"wrong password", url.Values{"mode": {"user"}, "account": {testAccount}, "user": {adminUser}, "password": {"Wrong-passw0rd!"}}},
		{"unknown user", url.Values{"mode": {"user"}, "account": {testAccount}, "user": {"mallory"}, "password": {adminPassword}}},
		{"other account", url.Values{"mode": {"user"}, "account": {"100000000002"}, "user": {adminUser}, "password": {adminPassword}}},
		{"root wrong key", url.Values{"mode": {"root"}, "account": {testAccount}, "secret_id": {testKeyID}, "secret_key": {"nope"}}},
		{"root other account", url.Values{"mode": {"root"}, "account": {"100000000002"}, "secret_id": {testKeyID}, "secret_key": {testSecret}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.newClient(t)
			_, body := c.get("/console/signin")
			tc.form.Set("csrf", c.token(body))
			code, body := c.post("/console/signin", tc.form)
			if code != http.StatusUnauthorized || !strings.Contains(body, "wrong") {
				t.Fatalf("got %d, want 401 and a message", code)
			}
			if code, _ := c.get("/console/secrets"); code != http.StatusOK || len(c.urls) == 0 || !strings.HasSuffix(c.urls[len(c.urls)-1], "/console/signin") {
				t.Errorf("after a refused sign-in /console/secrets did not send to the sign-in page: %v", c.urls)
			}
		})
	}
	if got := failedSignIns(t, e) - before; got != 3 { // the other two are recorded in the account they named
		t.Errorf("got %d more failed ConsoleLogin events, want 3", got)
	}
	// The root signs in with its key pair; a user without rights signs in
	// and sees nothing it may not.
	c := e.newClient(t)
	_, body := c.get("/console/signin")
	code, body := c.post("/console/signin", url.Values{"csrf": {c.token(body)}, "mode": {"root"},
		"account": {testAccount}, "secret_id": {testKeyID}, "secret_key": {testSecret}})
	if code != http.StatusOK || !strings.Contains(body, `id="whoami">root<`) {
		t.Fatalf("root sign in: %d", code)
	}
	carol := e.signIn(t, "carol", "Carol-passw0rd!")
	if code, _ := carol.get("/console/secrets"); code != http.StatusForbidden {
		t.Errorf("carol lists secrets: %d, want 403", code)
	}
}

// failedSignIns counts the failed sign-ins in the test account's audit
// log, checking that none recorded a password or secret key.
func failedSignIns(t *testing.T, e *env) int {
	n := 0
	for _, ev := range e.events() {
		if ev.Action == "ConsoleLogin" && ev.ErrorCode != "" {
			n++
			if strings.Contains(ev.Params, adminPassword) || strings.Contains(ev.Params, testSecret) {
				t.Errorf("a failed sign-in recorded the password or key: %s", ev.Params)
			}
		}
	}
	return n
}

// testCSRF: a form without the session's token changes nothing.
func testCSRF(t *testing.T, e *env) {
	e.mustCreate("kept-csrf", "v1")
	c := e.as(t, adminUser, adminPassword)
	for _, tc := range []struct{ name, csrf string }{{"no token", ""}, {"wrong token", "AAAA" + c.csrf[4:]}} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"name": {"made-by-forgery"}, "value": {"x"}}
			if tc.csrf != "" {
				form.Set("csrf", tc.csrf)
			}
			if code, _ := c.post("/console/secrets", form); code != http.StatusForbidden {
				t.Errorf("create: %d, want 403", code)
			}
			delete(form, "name")
			if code, _ := c.post("/console/secrets/kept-csrf/disable", form); code != http.StatusForbidden {
				t.Errorf("disable: %d, want 403", code)
			}
			if code, body := c.post("/console/secrets/kept-csrf/reveal", form); code != http.StatusForbidden || strings.Contains(body, "v1") {
				t.Errorf("reveal: %d, want 403 and no value", code)
			}
		})
	}
	if got := e.status("made-by-forgery"); got != "" {
		t.Errorf("a forged form created a secret (%s)", got)
	}
	if got := e.status("kept-csrf"); got != store.StatusEnabled {
		t.Errorf("a forged form changed the secret: %s", got)
	}
	// The sign-in form needs its own token too (against login CSRF).
	fresh := e.newClient(t)
	code, _ := fresh.post("/console/signin", url.Values{"csrf": {"guess"}, "mode": {"user"},
		"account": {testAccount}, "user": {adminUser}, "password": {adminPassword}})
	if code != http.StatusForbidden {
		t.Errorf("sign-in without its token: %d, want 403", code)
	}
}

// testForgedSession: an unknown session id is no session.
func testForgedSession(t *testing.T, e *env) {
	e.mustCreate("kept-forged", "v1")
	real := e.as(t, adminUser, adminPassword)
	c := e.newClient(t)
	u, _ := url.Parse(e.url + "/console/")
	c.c.Jar.SetCookies(u, []*http.Cookie{{Name: "coffer_console", Value: "Zm9yZ2VkLXNlc3Npb24taWQtZm9yZ2VkLXNlc3Npb24taWQ", Path: "/console/"}})
	if code, body := c.get("/console/secrets"); code != http.StatusOK || !strings.Contains(body, "Sign in to Coffer") || strings.Contains(body, "kept-forged") {
		t.Errorf("forged cookie, GET: %d, want the sign-in page", code)
	}
	c.c.Jar.SetCookies(u, []*http.Cookie{{Name: "coffer_console", Value: "Zm9yZ2VkLXNlc3Npb24taWQtZm9yZ2VkLXNlc3Npb24taWQ", Path: "/console/"}})
	// Even with a real session's CSRF token, a forged cookie is refused.
	if code, _ := c.post("/console/secrets", url.Values{"csrf": {real.csrf}, "name": {"forged"}, "value": {"x"}}); code != http.StatusForbidden {
		t.Errorf("forged cookie, create: %d, want 403", code)
	}
	if code, _ := c.post("/console/secrets/kept-forged/disable", url.Values{"csrf": {real.csrf}}); code != http.StatusForbidden {
		t.Errorf("forged cookie, disable: %d, want 403", code)
	}
	if e.status("forged") != "" || e.status("kept-forged") != store.StatusEnabled {
		t.Errorf("a forged cookie changed something")
	}
}

// testCrossSite: a state-changing request from another site is refused,
// even with a valid session and token.
func testCrossSite(t *testing.T, e *env) {
	e.mustCreate("kept-cross", "v1")
	c := e.as(t, adminUser, adminPassword)
	for _, tc := range []struct {
		name   string
		header map[string]string
	}{
		{"Sec-Fetch-Site cross-site", map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"Sec-Fetch-Site same-site", map[string]string{"Sec-Fetch-Site": "same-site"}},
		{"Origin of another site", map[string]string{"Origin": "https://evil.example"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for path, form := range map[string]url.Values{
				"/console/secrets":                    c.form("name", "cross", "value", "x"),
				"/console/secrets/kept-cross/disable": c.form(),
				"/console/secrets/kept-cross/reveal":  c.form(),
				"/console/signout":                    c.form(),
			} {
				req := c.postRequest(path, form, "")
				for k, v := range tc.header {
					req.Header.Set(k, v)
				}
				resp, body := c.do(req)
				if resp.StatusCode != http.StatusForbidden || strings.Contains(body, "v1") {
					t.Errorf("POST %s: %d, want 403", path, resp.StatusCode)
				}
			}
		})
	}
	if e.status("cross") != "" || e.status("kept-cross") != store.StatusEnabled {
		t.Fatalf("a cross-site request changed something")
	}
	// The session survived (sign-out was refused) and same-origin works.
	if code, _ := c.post("/console/secrets/kept-cross/disable", c.form()); code != http.StatusOK || e.status("kept-cross") != store.StatusDisabled {
		t.Errorf("same-origin disable: %d, status %s", code, e.status("kept-cross"))
	}
}

// testRevealNeverLeaks: a value reaches only the answer to the reveal
// click: never a URL, a log line or the audit record.
func testRevealNeverLeaks(t *testing.T, e *env) {
	first, second := "first-"+secrets.NewID(24), "second-"+secrets.NewID(24)
	c := e.as(t, adminUser, adminPassword)
	code, body := c.post("/console/secrets", c.form("name", "db-password", "value", first, "tags", "env=prod\nteam=core"))
	if code != http.StatusOK || !strings.Contains(body, "Created secret db-password") || strings.Contains(body, first) {
		t.Fatalf("create: %d\n%s", code, body)
	}
	code, body = c.post("/console/secrets/db-password/versions", c.form("value", second, "version_id", "v2"))
	if code != http.StatusOK || !strings.Contains(body, "Added version v2") || strings.Contains(body, second) {
		t.Fatalf("put: %d\n%s", code, body)
	}
	if _, body = c.get("/console/secrets/db-password"); strings.Contains(body, second) || !strings.Contains(body, `id="reveal"`) {
		t.Fatalf("the secret page shows the value before the click, or no reveal button")
	}
	resp, body := c.do(c.postRequest("/console/secrets/db-password/reveal", c.form(), "same-origin"))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<pre id="secret-value" tabindex="0">`+second+`</pre>`) {
		t.Fatalf("reveal: %d, value not shown\n%s", resp.StatusCode, body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("reveal answer Cache-Control %q, want no-store", cc)
	}
	_, vs, err := e.srv.Secrets.Describe(t.Context(), e.scope(), "db-password")
	if err != nil || len(vs) != 2 || vs[0].ID == "v2" {
		t.Fatalf("versions %v, %v", vs, err)
	}
	_, body = c.post("/console/secrets/db-password/reveal", c.form("version", vs[0].ID))
	if !strings.Contains(body, first) {
		t.Errorf("revealing the first version did not show it")
	}
	for _, u := range c.urls {
		if strings.Contains(u, first) || strings.Contains(u, second) {
			t.Errorf("a value in a URL: %s", u)
		}
	}
	if logs := e.logs.String(); strings.Contains(logs, first) || strings.Contains(logs, second) {
		t.Errorf("a value in the logs")
	}
	reads := 0
	for _, ev := range e.events() {
		all := strings.Join([]string{ev.Resource, ev.VersionID, ev.Params, ev.UserAgent, ev.ErrorCode, ev.PrincipalName}, " ")
		if strings.Contains(all, first) || strings.Contains(all, second) {
			t.Errorf("a value in the audit record %s: %s", ev.Action, all)
		}
		if ev.Action == "GetSecretValue" && ev.Resource == "db-password" {
			reads++
			if ev.PrincipalName != adminUser || !strings.HasPrefix(ev.UserAgent, "coffer-console/1") || ev.Family != "ssm" {
				t.Errorf("read event %+v: want alice through the console as ssm", ev)
			}
		}
	}
	if reads != 2 {
		t.Errorf("got %d GetSecretValue events, want 2 (one per click)", reads)
	}
}

// testReadOnlyUser: ReadOnlyAccess lists and describes, but reveals,
// creates and changes nothing, and is shown no button for it.
func testReadOnlyUser(t *testing.T, e *env) {
	e.mustCreate("app-key", "top-secret-value")
	c := e.as(t, readerUser, readerPass)
	code, body := c.get("/console/secrets")
	if code != http.StatusOK || !strings.Contains(body, "app-key") || strings.Contains(body, `id="create-secret"`) {
		t.Fatalf("list: %d, want the secret and no create button\n%s", code, body)
	}
	code, body = c.get("/console/secrets/app-key")
	if code != http.StatusOK {
		t.Fatalf("secret page: %d", code)
	}
	for _, id := range []string{`id="reveal"`, `id="disable"`, `id="delete"`, `id="put-form"`, "/reveal"} {
		if strings.Contains(body, id) {
			t.Errorf("a read-only user is shown %s", id)
		}
	}
	if code, _ := c.get("/console/secrets/new"); code != http.StatusForbidden {
		t.Errorf("new secret page: %d, want 403", code)
	}
	for path, form := range map[string]url.Values{
		"/console/secrets/app-key/reveal":   c.form(),
		"/console/secrets/app-key/disable":  c.form(),
		"/console/secrets/app-key/versions": c.form("value", "overwritten"),
		"/console/secrets":                  c.form("name", "new-one", "value", "x"),
		"/console/users":                    c.form("name", "eve", "console", "1"),
	} {
		code, body := c.post(path, form)
		if code != http.StatusForbidden || strings.Contains(body, "top-secret-value") {
			t.Errorf("POST %s: %d, want 403 and no value", path, code)
		}
	}
	if e.status("app-key") != store.StatusEnabled || e.status("new-one") != "" {
		t.Errorf("a read-only user changed something")
	}
	if code, _ := c.get("/console/audit"); code != http.StatusOK {
		t.Errorf("audit page: %d, want 200 (ReadOnlyAccess grants cloudaudit)", code)
	}
	if code, _ := c.get("/console/keys"); code != http.StatusForbidden {
		t.Errorf("keys page: %d, want 403 (ReadOnlyAccess grants no kms)", code)
	}
}

// testSessionEnds: idle timeout, lifetime, sign-out and a password change
// each end a session.
func testSessionEnds(t *testing.T, e *env) {
	e.addUser("dave", "Dave-passw0rd!", "1")
	defer e.skew.Store(0)
	signedOut := func(c *client) bool {
		code, body := c.get("/console/secrets")
		return code == http.StatusOK && strings.Contains(body, "Sign in to Coffer")
	}
	c := e.signIn(t, "dave", "Dave-passw0rd!")
	e.skew.Store(int64(31 * time.Minute))
	if !signedOut(c) {
		t.Errorf("a session idle 31 minutes is still live")
	}
	e.skew.Store(0)
	c = e.signIn(t, "dave", "Dave-passw0rd!")
	for range 17 {
		e.skew.Add(int64(29 * time.Minute))
		c.get("/console/secrets")
	}
	if !signedOut(c) {
		t.Errorf("a session older than 8 hours is still live")
	}
	e.skew.Store(0)
	c = e.signIn(t, "dave", "Dave-passw0rd!")
	if code, _ := c.post("/console/signout", c.form()); code != http.StatusOK || !signedOut(c) {
		t.Errorf("sign-out did not end the session")
	}
	c = e.signIn(t, "dave", "Dave-passw0rd!")
	other := e.as(t, readerUser, readerPass)
	pw := "Changed-passw0rd!"
	if err := e.srv.IAM.UpdateUser(t.Context(), testAccount, "dave", iamPatch(pw)); err != nil {
		t.Fatal(err)
	}
	if !signedOut(c) {
		t.Errorf("a password change did not end the session")
	}
	if signedOut(other) {
		t.Errorf("another user's password change ended bob's session")
	}
}

// testTLS: over HTTPS the cookie is Secure with the __Host- prefix and HSTS
// is sent; without --dev, plain HTTP signs nobody in.
func testTLS(t *testing.T, e *env) {
	h := console.New(console.Config{Gate: e.srv.Gate, KMS: e.srv.KMS})
	ts := httptest.NewTLSServer(h)
	defer ts.Close()
	c := e.newClient(t)
	c.c.Transport = ts.Client().Transport
	c.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.e = &env{url: ts.URL}
	resp, body := c.do(mustRequest(t, http.MethodGet, ts.URL+"/console/signin"))
	if got := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(got, "max-age=") {
		t.Errorf("HSTS over TLS: %q", got)
	}
	resp, _ = c.do(c.postRequest("/console/signin", url.Values{"csrf": {c.token(body)}, "mode": {"user"},
		"account": {testAccount}, "user": {readerUser}, "password": {readerPass}}, "same-origin"))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in over TLS: %d", resp.StatusCode)
	}
	var got *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "__Host-coffer_console" {
			got = ck
		}
	}
	if got == nil || !got.Secure || !got.HttpOnly || got.Path != "/" || got.SameSite != http.SameSiteStrictMode {
		t.Fatalf("session cookie over TLS %+v, want __Host-, Secure, HttpOnly, path /, SameSite=Strict", got)
	}
	if resp, _ := c.do(mustRequest(t, http.MethodGet, ts.URL+"/console/secrets")); resp.StatusCode != http.StatusOK {
		t.Errorf("the secrets page over TLS: %d", resp.StatusCode)
	}

	plain := httptest.NewServer(h)
	defer plain.Close()
	p := e.newClient(t)
	p.e = &env{url: plain.URL}
	_, body = p.get("/console/signin")
	code, _ := p.post("/console/signin", url.Values{"csrf": {p.token(body)}, "mode": {"user"},
		"account": {testAccount}, "user": {readerUser}, "password": {readerPass}})
	if code != http.StatusForbidden {
		t.Errorf("sign in over plain HTTP without --dev: %d, want 403", code)
	}
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
