package console_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/coffer-secrets/coffer/internal/store"
)

// One headless Chromium serves every browser test of the package; each
// test gets its own browser context (its own cookies).
var browser struct {
	once    sync.Once
	ctx     context.Context // the browser's; nil when it could not start
	cancel  func()
	dir     string
	skipMsg string // why there is no browser
}

func TestMain(m *testing.M) {
	code := m.Run()
	if browser.cancel != nil {
		browser.cancel()
	}
	if browser.dir != "" {
		_ = os.RemoveAll(browser.dir)
	}
	os.Exit(code)
}

// chromium finds Debian's Chromium, installing it with apt-get when it is
// missing; it returns "" and why when it cannot.
func chromium() (string, string) {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, ""
		}
	}
	install := func() ([]byte, error) {
		cmd := exec.Command("apt-get", "install", "-y", "--no-install-recommends", "chromium")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		return cmd.CombinedOutput()
	}
	out, err := install()
	if err != nil {
		_ = exec.Command("apt-get", "update").Run()
		out, err = install()
	}
	if err != nil {
		return "", "chromium is not installed and apt-get install chromium failed: " + err.Error() + "\n" + lastLines(string(out), 5)
	}
	p, err := exec.LookPath("chromium")
	if err != nil {
		return "", "apt-get installed chromium but it is not on PATH"
	}
	return p, ""
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// tab returns a new tab in a fresh browser context, starting the browser
// the first time. Without Chromium the test is skipped, or fails in CI.
func tab(t *testing.T) context.Context {
	t.Helper()
	browser.once.Do(startBrowser)
	if browser.ctx == nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no browser: %s", browser.skipMsg)
		}
		t.Skipf("no browser: %s", browser.skipMsg)
	}
	ctx, cancel := chromedp.NewContext(browser.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancelT)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1200, 800)); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return ctx
}

func startBrowser() {
	path, why := chromium()
	if path == "" {
		browser.skipMsg = why
		return
	}
	dir, err := os.MkdirTemp("", "coffer-chromium-")
	if err != nil {
		browser.skipMsg = err.Error()
		return
	}
	browser.dir = dir
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(dir),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true), chromedp.Flag("disable-default-apps", true),
		chromedp.WindowSize(1200, 800))
	ctx, cancelCtx := chromedp.NewContext(alloc)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		cancelCtx()
		cancelAlloc()
		browser.skipMsg = "start chromium: " + err.Error()
		return
	}
	browser.ctx = ctx
	browser.cancel = func() { cancelCtx(); cancelAlloc() }
}

// page wraps a tab with the steps the flows repeat.
type page struct {
	t   *testing.T
	ctx context.Context
	e   *env
}

func (p *page) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, steps...); err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
}

// submit clicks a button that submits a form and waits for the next page.
func (p *page) submit(what, buttonSel string) {
	p.t.Helper()
	if _, err := chromedp.RunResponse(p.ctx, chromedp.Click(chromedp.CSS(buttonSel), chromedp.NodeVisible)); err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
}

func (p *page) open(path string) {
	p.t.Helper()
	p.do("open "+path, chromedp.Navigate(p.e.url+path))
}

func (p *page) text(sel string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		p.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func (p *page) html() string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		p.t.Fatalf("read the page: %v", err)
	}
	return s
}

func (p *page) location() string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Location())
	if err != nil {
		p.t.Fatalf("location: %v", err)
	}
	return s
}

// has reports whether an element matching sel is on the page now.
func (p *page) has(sel string) bool {
	p.t.Helper()
	n, err := chromedp.Run(p.ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+jsString(sel)+`).length`))
	if err != nil {
		p.t.Fatalf("query %s: %v", sel, err)
	}
	return n > 0
}

func jsString(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

// screenshot saves the whole page as docs/console/NAME.png.
func (p *page) screenshot(name string) {
	p.t.Helper()
	b, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join("..", "..", "docs", "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), b, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// signIn signs in through the user form, with the keyboard only: type,
// then Enter submits.
func (p *page) signIn(user, password string) {
	p.t.Helper()
	p.open("/console/")
	if !strings.HasSuffix(p.location(), "/console/signin") {
		p.t.Fatalf("not sent to the sign-in page: %s", p.location())
	}
	p.do("fill the sign-in form",
		chromedp.SendKeys(chromedp.ID("u-account"), testAccount),
		chromedp.SendKeys(chromedp.ID("u-name"), user))
	if _, err := chromedp.RunResponse(p.ctx, chromedp.SendKeys(chromedp.ID("u-password"), password+kb.Enter)); err != nil {
		p.t.Fatalf("sign in: %v", err)
	}
	if got := p.text("#whoami"); got != user {
		p.t.Fatalf("signed in as %q, want %q", got, user)
	}
}

// TestBrowser drives the console in headless Chromium.
func TestBrowser(t *testing.T) {
	e := startEnv(t)
	for i, n := range []string{"payments-api-key", "orders-db-password", "smtp-relay", "webhook-signing-secret"} {
		e.mustCreate(n, "seed-value", store.Tag{Key: "env", Value: []string{"prod", "staging"}[i%2]})
	}
	t.Run("Admin", func(t *testing.T) { browserAdmin(t, e) })
	t.Run("Rotation", func(t *testing.T) { browserRotation(t, e) })
	t.Run("ReadOnly", func(t *testing.T) { browserReadOnly(t, e) })
}

// browserRotation: on a secret the random rotator rotated, click Rotate
// now and see the new run, then see it succeed.
func browserRotation(t *testing.T, e *env) {
	const name = "orders-db-password"
	e.awaitRun(t, e.mustRotate(t, name, nil).ID, store.RunSucceeded)
	p := &page{t: t, ctx: tab(t), e: e}
	p.signIn(adminUser, adminPassword)
	p.open("/console/secrets/" + name)
	if got := p.text("#rotator"); got != "coffer:random" {
		t.Fatalf("rotator %q, want coffer:random", got)
	}
	p.submit("rotate now", "#rotate-now")
	if got := p.text("#flash"); !strings.Contains(got, "Started rotation") {
		t.Fatalf("after Rotate now: flash %q", got)
	}
	runs := e.runs(t, name)
	if len(runs) != 2 {
		t.Fatalf("%d runs after Rotate now, want 2", len(runs))
	}
	row := "#run-" + strconv.FormatInt(runs[0].ID, 10)
	if !p.has(row) {
		t.Fatalf("the page after Rotate now does not show run %d", runs[0].ID)
	}
	e.awaitRun(t, runs[0].ID, store.RunSucceeded)
	p.open("/console/secrets/" + name)
	if got := p.text(row); !strings.Contains(got, "Succeeded") {
		t.Errorf("run %d reads %q, want Succeeded", runs[0].ID, got)
	}
	if strings.Contains(p.html(), "seed-value") {
		t.Errorf("the page shows the value")
	}
	p.screenshot("secret-rotation")
}

// browserAdmin: sign in, create a secret, put a version, reveal it,
// disable and delete it, and find the read in the audit log.
func browserAdmin(t *testing.T, e *env) {
	p := &page{t: t, ctx: tab(t), e: e}
	p.open("/console/signin")
	p.screenshot("signin")
	p.signIn(adminUser, adminPassword)
	p.screenshot("secrets")

	const name, first, second = "billing-db-password", "first-Xq7pV2rL9s", "second-Kd83HwQz1m"
	p.submit("open the create form", "#create-secret")
	p.do("fill the create form",
		chromedp.SendKeys(chromedp.ID("n-name"), name),
		chromedp.SendKeys(chromedp.ID("n-desc"), "Billing database, service account"),
		chromedp.SendKeys(chromedp.ID("n-value"), first),
		chromedp.SendKeys(chromedp.ID("n-tags"), "env=prod\nteam=billing"))
	p.submit("create", "#create-submit")
	if got := p.text("#secret-name"); got != name {
		t.Fatalf("after create: on %q, want the secret page", got)
	}
	p.do("fill the new version", chromedp.SendKeys(chromedp.ID("p-value"), second), chromedp.SendKeys(chromedp.ID("p-id"), "v2"))
	p.submit("put a version", "#put")
	if got := p.text("#flash"); !strings.Contains(got, "Added version v2") {
		t.Fatalf("after put: flash %q", got)
	}
	if h := p.html(); strings.Contains(h, first) || strings.Contains(h, second) || p.has("#secret-value") {
		t.Fatalf("a value is on the page before the reveal click")
	}
	p.screenshot("secret")
	p.submit("reveal", "#reveal")
	if got := p.text("#secret-value"); got != second {
		t.Fatalf("revealed %q, want the new version's value", got)
	}
	if loc := p.location(); strings.Contains(loc, second) || strings.Contains(loc, first) {
		t.Fatalf("a value in the URL: %s", loc)
	}
	p.screenshot("secret-revealed")
	p.submit("hide", "#hide")
	if p.has("#secret-value") {
		t.Fatalf("the value is still shown after Hide")
	}

	p.submit("disable", "#disable")
	if got := p.text("#secret-status"); got != "Disabled" || p.has("#reveal") {
		t.Fatalf("after disable: status %q, reveal shown %v", got, p.has("#reveal"))
	}
	p.do("set the recovery window", chromedp.SetValue(chromedp.ID("days"), "7"))
	p.submit("delete", "#delete")
	if got := p.text("#secret-status"); got != "PendingDelete" || !p.has("#restore") {
		t.Fatalf("after delete: status %q, restore shown %v", got, p.has("#restore"))
	}

	p.open("/console/audit?resource=" + name)
	events := p.text("#events")
	for _, want := range []string{"ssm:GetSecretValue", "ssm:CreateSecret", "ssm:PutSecretValue", "ssm:DisableSecret", "ssm:DeleteSecret", adminUser, "Coffer console"} {
		if !strings.Contains(events, want) {
			t.Errorf("the audit page lacks %q", want)
		}
	}
	if strings.Contains(p.html(), second) {
		t.Errorf("the audit page shows the value")
	}
	p.screenshot("audit")
	p.open("/console/users")
	p.screenshot("users")
	p.open("/console/policies")
	p.screenshot("policies")
	p.open("/console/keys")
	p.screenshot("keys")
	p.do("narrow screen", chromedp.EmulateViewport(390, 844))
	p.open("/console/secrets")
	p.screenshot("secrets-narrow")
}

// browserReadOnly: a ReadOnlyAccess user sees the list and the metadata,
// and no value and no button its policies forbid.
func browserReadOnly(t *testing.T, e *env) {
	p := &page{t: t, ctx: tab(t), e: e}
	p.signIn(readerUser, readerPass)
	// The skip link is the first thing the keyboard reaches.
	p.do("tab", chromedp.KeyEvent(kb.Tab))
	if cls, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.activeElement.className`)); err != nil || cls != "skip" {
		t.Errorf("first Tab focuses %q (%v), want the skip link", cls, err)
	}
	if got := p.text("#secrets"); !strings.Contains(got, "payments-api-key") {
		t.Fatalf("the list lacks the secrets: %q", got)
	}
	if p.has("#create-secret") {
		t.Errorf("a read-only user is shown Create secret")
	}
	p.open("/console/secrets/payments-api-key")
	if got := p.text("#secret-status"); got != "Enabled" {
		t.Fatalf("status %q", got)
	}
	for _, sel := range []string{"#reveal", "#disable", "#delete", "#put-form", "form[action$='/reveal']"} {
		if p.has(sel) {
			t.Errorf("a read-only user is shown %s", sel)
		}
	}
	if !p.has("#no-actions") || strings.Contains(p.html(), "seed-value") {
		t.Errorf("want the no-actions note and no value")
	}
	// On a rotated secret: the history, and no rotation button.
	p.open("/console/secrets/orders-db-password")
	if !p.has("#rotation") || p.has("#rotate-now") || p.has("form[action$='/rotate']") {
		t.Errorf("a read-only user: rotation section shown %v, Rotate now shown %v", p.has("#rotation"), p.has("#rotate-now"))
	}
}
