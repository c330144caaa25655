package console_test

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/coffer-secrets/coffer/internal/rotation"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
)

// The rotation section's cases of TestHTTP.

var startedRun = regexp.MustCompile(`Started rotation (\d+) of `)

// testRotationSection: a secret rotated by the random rotator shows its
// settings and its run, and no value, old or new.
func testRotationSection(t *testing.T, e *env) {
	first := "first-" + secrets.NewID(24)
	e.mustCreate("rotated-token", first)
	run := e.awaitRun(t, e.mustRotate(t, "rotated-token", nil).ID, store.RunSucceeded)
	_, now := e.current(t, "rotated-token")
	if now == first {
		t.Fatalf("the rotation did not change the value")
	}
	c := e.as(t, adminUser, adminPassword)
	code, body := c.get("/console/secrets/rotated-token")
	if code != http.StatusOK {
		t.Fatalf("secret page: %d\n%s", code, body)
	}
	for _, want := range []string{
		`id="rotation"`, `<dd id="rotator"><code>coffer:random</code></dd>`, `<dd id="rotation-enabled">on, every 7 days</dd>`,
		`id="runs"`, `<tr id="run-` + strconv.FormatInt(run.ID, 10) + `">`, `<span class="status s-Succeeded">Succeeded</span>`,
		`<td>rotate</td>`, `id="rotate-now"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the rotation section lacks %s", want)
		}
	}
	if strings.Contains(body, `<dd id="rotation-last">never</dd>`) || strings.Contains(body, `<dd id="rotation-next">none scheduled</dd>`) {
		t.Errorf("the section shows no last or next rotation after a rotation with a schedule")
	}
	if strings.Contains(body, first) || strings.Contains(body, now) {
		t.Errorf("the secret page shows a value")
	}
}

// testRotateNow: Rotate now starts a run with the session's token, shows
// it and is audited as RotateProductSecret; without the token, or from
// another site, it starts nothing.
func testRotateNow(t *testing.T, e *env) {
	const name = "rotate-now-key"
	e.mustCreate(name, "v1")
	e.awaitRun(t, e.mustRotate(t, name, nil).ID, store.RunSucceeded)
	c := e.as(t, adminUser, adminPassword)
	before := len(e.runs(t, name))
	for _, tc := range []struct {
		name string
		csrf string
		site string
	}{{"no token", "", "same-origin"}, {"wrong token", "AAAA" + c.csrf[4:], "same-origin"}, {"cross-site", c.csrf, "cross-site"}} {
		form := c.form()
		form.Set("csrf", tc.csrf)
		if tc.csrf == "" {
			form.Del("csrf")
		}
		if resp, _ := c.do(c.postRequest("/console/secrets/"+name+"/rotate", form, tc.site)); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", tc.name, resp.StatusCode)
		}
	}
	if got := len(e.runs(t, name)); got != before {
		t.Fatalf("refused forms started %d runs", got-before)
	}

	code, body := c.post("/console/secrets/"+name+"/rotate", c.form())
	m := startedRun.FindStringSubmatch(body)
	if code != http.StatusOK || m == nil {
		t.Fatalf("rotate now: %d, no flash naming the run\n%s", code, body)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	if !strings.Contains(body, `<tr id="run-`+m[1]+`">`) {
		t.Errorf("the page after Rotate now does not show run %d", id)
	}
	if got := len(e.runs(t, name)); got != before+1 {
		t.Errorf("Rotate now started %d runs, want 1", got-before)
	}
	run := e.awaitRun(t, id, store.RunSucceeded)
	if ver, _ := e.current(t, name); ver != run.VersionID {
		t.Errorf("current version %s after the run, want %s", ver, run.VersionID)
	}
	_, body = c.get("/console/secrets/" + name)
	if !regexp.MustCompile(`<tr id="run-` + m[1] + `">.*\n.*s-Succeeded`).MatchString(body) {
		t.Errorf("run %d is not shown as Succeeded", id)
	}
	found := false
	for _, ev := range e.events() {
		if ev.Action == "RotateProductSecret" && ev.Resource == name {
			found = ev.ErrorCode == "" && ev.PrincipalName == adminUser && strings.HasPrefix(ev.UserAgent, "coffer-console/1") && ev.Family == "ssm"
			break
		}
	}
	if !found {
		t.Errorf("no RotateProductSecret event by %s through the console", adminUser)
	}
}

// testRotationReadOnly: a read-only user sees the history and a roll-out,
// and no Rotate, Promote or Abandon button, and its forged forms change
// nothing; an administrator abandons one roll-out and promotes another.
func testRotationReadOnly(t *testing.T, e *env) {
	const name = "beta-key"
	e.mustCreate(name, "v1")
	beta := &secrets.Rollout{Users: []string{"ci-bot"}, Percent: 5}
	run := e.awaitRun(t, e.mustRotate(t, name, beta).ID, store.RunSucceeded)
	bob := e.as(t, readerUser, readerPass)
	code, body := bob.get("/console/secrets/" + name)
	if code != http.StatusOK {
		t.Fatalf("secret page: %d", code)
	}
	for _, want := range []string{`id="runs"`, `id="rollout"`, `<code id="rollout-version">` + run.VersionID + `</code>`,
		`<dd id="rollout-selector">users ci-bot; 5% of other callers</dd>`} {
		if !strings.Contains(body, want) {
			t.Errorf("a read-only user is not shown %s", want)
		}
	}
	for _, id := range []string{`id="rotate-now"`, `id="promote"`, `id="abandon"`, `/rotate"`, `/rollout/`} {
		if strings.Contains(body, id) {
			t.Errorf("a read-only user is shown %s", id)
		}
	}
	before := len(e.runs(t, name))
	for _, path := range []string{"/rotate", "/rollout/promote", "/rollout/abandon"} {
		if code, _ := bob.post("/console/secrets/"+name+path, bob.form()); code != http.StatusForbidden {
			t.Errorf("POST %s by a read-only user: %d, want 403", path, code)
		}
	}
	if got := len(e.runs(t, name)); got != before || rolloutOf(t, e, name) == nil {
		t.Fatalf("a read-only user changed the rotation: %d more runs, roll-out %v", got-before, rolloutOf(t, e, name))
	}

	alice := e.as(t, adminUser, adminPassword)
	_, body = alice.get("/console/secrets/" + name)
	if !strings.Contains(body, `id="promote"`) || !strings.Contains(body, `id="abandon"`) {
		t.Fatalf("an administrator is not shown Promote and Abandon")
	}
	code, body = alice.post("/console/secrets/"+name+"/rollout/abandon", alice.form())
	if code != http.StatusOK || !strings.Contains(body, "Abandoned the roll-out") || strings.Contains(body, `id="rollout"`) || rolloutOf(t, e, name) != nil {
		t.Fatalf("abandon: %d\n%s", code, body)
	}
	run = e.awaitRun(t, e.mustRotate(t, name, beta).ID, store.RunSucceeded)
	code, body = alice.post("/console/secrets/"+name+"/rollout/promote", alice.form())
	if code != http.StatusOK || !strings.Contains(body, "Promoted the roll-out") || rolloutOf(t, e, name) != nil {
		t.Fatalf("promote: %d\n%s", code, body)
	}
	if ver, _ := e.current(t, name); ver != run.VersionID {
		t.Errorf("current version %s after promoting, want %s", ver, run.VersionID)
	}
	if code, _ := alice.post("/console/secrets/"+name+"/rollout/promote", alice.form()); code != http.StatusConflict {
		t.Errorf("promote without a roll-out: %d, want 409", code)
	}
}

func rolloutOf(t *testing.T, e *env, name string) *secrets.Rollout {
	t.Helper()
	sec, err := e.srv.Secrets.Meta(context.Background(), e.scope(), name)
	if err != nil {
		t.Fatal(err)
	}
	return secrets.RolloutOf(sec)
}

// testRotationAccounts: a product secret shows its two accounts and which
// is current, and no password.
func testRotationAccounts(t *testing.T, e *env) {
	const name = "orders-db"
	password := "pw-" + secrets.NewID(24)
	v := secrets.StringValue(`{"UserName":"app_SSM_aaa","Password":"` + password + `"}`)
	ctx := context.Background()
	if _, _, err := e.srv.Secrets.Create(ctx, e.scope(), secrets.CreateInput{Name: name, Type: store.TypeDatabase,
		Product: "PostgreSQL", Value: &v, CreatedBy: testAccount}); err != nil {
		t.Fatal(err)
	}
	// A product secret as CreateProduct leaves it, without a database to
	// make the accounts on.
	sp := rotation.Spec{Rotator: rotation.RotatorProduct, Database: "db1", Accounts: []string{"app_SSM_aaa", "app_SSM_bbb"}, Hosts: []string{"%"}}
	if _, err := e.srv.Rotation.SetSchedule(ctx, e.scope(), name, rotation.ScheduleInput{Spec: &sp}); err != nil {
		t.Fatal(err)
	}
	c := e.as(t, readerUser, readerPass)
	code, body := c.get("/console/secrets/" + name)
	if code != http.StatusOK {
		t.Fatalf("secret page: %d\n%s", code, body)
	}
	for _, re := range []string{
		`<code>app_SSM_aaa</code></th>\s*<td><span class="status s-Enabled">current</span></td>`,
		`<code>app_SSM_bbb</code></th>\s*<td><span class="muted">standby</span></td>`,
		`<dd id="rotator"><code>coffer:product</code></dd>`, `<dd id="rotation-enabled">off</dd>`,
		`This secret has not rotated yet.`,
	} {
		if !regexp.MustCompile(re).MatchString(body) {
			t.Errorf("the page does not match %s", re)
		}
	}
	if strings.Contains(body, password) {
		t.Errorf("the page shows the password")
	}
}
