package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"github.com/coffer-secrets/coffer/internal/signature/tc3"
)

// cofferBin is the binary TestMain builds from this package.
var cofferBin string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "coffer-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	cofferBin = filepath.Join(dir, "coffer")
	if out, err := exec.Command("go", "build", "-o", cofferBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// Root credentials some tests pass in the environment.
const (
	envAccount = "200000000002"
	envKeyID   = "AKIDcofferENV00000000000000000000000"
	envSecret  = "cofferEnvSecretKey0000000000000000000000"
)

// waitLimit bounds every wait on the process; none of them should come near it.
const waitLimit = 15 * time.Second

func rootEnv(id, key, account string) []string {
	return []string{"COFFER_ROOT_SECRET_ID=" + id, "COFFER_ROOT_SECRET_KEY=" + key, "COFFER_ROOT_ACCOUNT_ID=" + account}
}

// environ is the test's environment without COFFER_ROOT_* plus extra.
func environ(extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "COFFER_ROOT_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// lineLog collects what a process writes, line by line, and tells waiters
// when a line arrives.
type lineLog struct {
	mu      sync.Mutex
	partial []byte
	lines   []string
	grew    chan struct{} // closed and replaced when a line arrives
}

func newLineLog() *lineLog { return &lineLog{grew: make(chan struct{})} }

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		l.lines = append(l.lines, string(l.partial[:i]))
		l.partial = l.partial[i+1:]
		close(l.grew)
		l.grew = make(chan struct{})
	}
}

func (l *lineLog) snapshot() ([]string, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...), l.grew
}

func (l *lineLog) String() string {
	lines, _ := l.snapshot()
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(lines, "\n") + "\n" + string(l.partial)
}

// daemon is a running `coffer server` process.
type daemon struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdout *lineLog
	stderr *lineLog
	exited chan struct{}
	err    error // Wait's result, once exited is closed
	URL    string
}

// startCoffer runs the binary with args and extra environment and waits for
// its "Coffer listening on" line.
func startCoffer(t *testing.T, env []string, args ...string) *daemon {
	t.Helper()
	d := launch(t, env, args...)
	if !d.started() {
		t.Fatalf("coffer exited (%v) before listening\nstdout:\n%s\nstderr:\n%s", d.err, d.stdout, d.stderr)
	}
	return d
}

// launch starts the binary without waiting. The process is killed at cleanup
// if it is still running.
func launch(t *testing.T, env []string, args ...string) *daemon {
	t.Helper()
	d := &daemon{t: t, cmd: exec.Command(cofferBin, args...), stdout: newLineLog(), stderr: newLineLog(), exited: make(chan struct{})}
	d.cmd.Env, d.cmd.Stdout, d.cmd.Stderr = environ(env), d.stdout, d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start coffer: %v", err)
	}
	go func() { d.err = d.cmd.Wait(); close(d.exited) }()
	t.Cleanup(func() {
		select {
		case <-d.exited:
		default:
			_ = d.cmd.Process.Kill()
			<-d.exited
		}
	})
	return d
}

// started waits until the process listens (and sets URL) or exits, and
// reports which.
func (d *daemon) started() bool {
	d.t.Helper()
	const prefix = "Coffer listening on "
	line, ok := d.awaitLine(prefix)
	d.URL = strings.TrimPrefix(line, prefix)
	return ok
}

// waitLine returns the first stdout line starting with prefix, failing if the
// process exits first.
func (d *daemon) waitLine(prefix string) string {
	d.t.Helper()
	line, ok := d.awaitLine(prefix)
	if !ok {
		d.t.Fatalf("coffer exited (%v) before printing %q\nstdout:\n%s\nstderr:\n%s", d.err, prefix, d.stdout, d.stderr)
	}
	return line
}

// awaitLine returns the first stdout line starting with prefix, or false if
// the process exits without printing one. It fails after waitLimit.
func (d *daemon) awaitLine(prefix string) (string, bool) {
	d.t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		lines, grew := d.stdout.snapshot()
		for _, l := range lines {
			if strings.HasPrefix(l, prefix) {
				return l, true
			}
		}
		select {
		case <-grew:
		case <-d.exited:
			if !d.has(prefix) { // Wait returns after the last write
				return "", false
			}
		case <-deadline.C:
			d.t.Fatalf("no %q line after %v\nstdout:\n%s\nstderr:\n%s", prefix, waitLimit, d.stdout, d.stderr)
		}
	}
}

func (d *daemon) has(prefix string) bool {
	lines, _ := d.stdout.snapshot()
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

// addr is the host:port the daemon listens on.
func (d *daemon) addr() string {
	_, addr, _ := strings.Cut(d.URL, "://")
	return addr
}

// stop sends SIGTERM and requires a clean exit.
func (d *daemon) stop() {
	d.t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		d.t.Fatalf("SIGTERM: %v", err)
	}
	d.wantExit0()
}

// wantExit0 waits for the process to exit and requires status 0.
func (d *daemon) wantExit0() {
	d.t.Helper()
	select {
	case <-d.exited:
	case <-time.After(waitLimit):
		d.t.Fatalf("coffer still running %v after SIGTERM", waitLimit)
	}
	if d.err != nil {
		d.t.Fatalf("coffer exit: got %v, want status 0\nstderr:\n%s", d.err, d.stderr)
	}
}

// wantRefusal runs the binary and requires it to exit non-zero, before
// listening, with output mentioning want. A server that starts anyway is
// stopped.
func wantRefusal(t *testing.T, env []string, want string, args ...string) {
	t.Helper()
	d := launch(t, env, args...)
	if d.started() {
		d.stop()
		t.Fatalf("coffer started on %s, want a refusal mentioning %q\nstdout:\n%s", d.URL, want, d.stdout)
	}
	out := d.stdout.String() + d.stderr.String()
	var exit *exec.ExitError
	if !errors.As(d.err, &exit) || exit.ExitCode() == 0 || !strings.Contains(out, want) {
		t.Fatalf("got exit %v, output %q; want a failure mentioning %q", d.err, out, want)
	}
}

// client is the official SDK's common client for one server.
type client struct {
	t  *testing.T
	sc *common.Client
}

func newClient(t *testing.T, url, id, key string, rt http.RoundTripper) *client {
	scheme, host, _ := strings.Cut(url, "://")
	prof := profile.NewClientProfile()
	prof.HttpProfile.Endpoint = host
	prof.HttpProfile.Scheme = strings.ToUpper(scheme)
	prof.HttpProfile.ReqTimeout = 10
	prof.Language = "en-US"
	sc := common.NewCommonClient(common.NewCredential(id, key), "ap-guangzhou", prof)
	if rt != nil {
		sc.WithHttpTransport(rt)
	}
	return &client{t: t, sc: sc}
}

func (c *client) call(action string, params map[string]any) (map[string]any, error) {
	c.t.Helper()
	req := tchttp.NewCommonRequest("ssm", "2019-09-23", action)
	if params == nil {
		params = map[string]any{}
	}
	if err := req.SetActionParameters(params); err != nil {
		c.t.Fatalf("%s: %v", action, err)
	}
	resp := tchttp.NewCommonResponse()
	if err := c.sc.Send(req, resp); err != nil {
		return nil, err
	}
	var out struct{ Response map[string]any }
	if err := json.Unmarshal(resp.GetBody(), &out); err != nil {
		c.t.Fatalf("%s: decode: %v", action, err)
	}
	return out.Response, nil
}

func (c *client) must(action string, params map[string]any) map[string]any {
	c.t.Helper()
	out, err := c.call(action, params)
	if err != nil {
		c.t.Fatalf("%s: %v", action, err)
	}
	return out
}

func (c *client) fails(code, action string, params map[string]any) {
	c.t.Helper()
	_, err := c.call(action, params)
	var e *tcerr.TencentCloudSDKError
	if !errors.As(err, &e) || e.Code != code {
		c.t.Fatalf("%s: got %v, want code %s", action, err, code)
	}
}

// printed returns the value of a "NAME=value" line the daemon printed.
func (d *daemon) printed(name string) string {
	lines, _ := d.stdout.snapshot()
	for _, l := range lines {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), name+"="); ok {
			return v
		}
	}
	return ""
}

func TestServerFirstStartPrintsRootCredentialsOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	args := []string{"server", "--dev", "--listen", "127.0.0.1:0", "--data", dir}
	d := startCoffer(t, nil, args...)
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("data directory: got %v, %v; want mode 0700", st.Mode().Perm(), err)
	}
	if !strings.HasPrefix(d.URL, "http://127.0.0.1:") {
		t.Fatalf("URL: got %q, want http://127.0.0.1:<port>", d.URL)
	}
	account, id, key := d.printed("COFFER_ROOT_ACCOUNT_ID"), d.printed("COFFER_ROOT_SECRET_ID"), d.printed("COFFER_ROOT_SECRET_KEY")
	if account == "" || id == "" || key == "" {
		t.Fatalf("first start printed account %q, id %q, key %q; want all three\n%s", account, id, key, d.stdout)
	}
	c := newClient(t, d.URL, id, key, nil)
	c.must("CreateSecret", map[string]any{"SecretName": "first", "SecretString": "from the first start"})
	if got := c.must("DescribeSecret", map[string]any{"SecretName": "first"})["CreateUinString"]; got != account {
		t.Errorf("CreateUinString: got %v, want the printed account %s", got, account)
	}
	wantHealthz(t, http.DefaultClient, d.URL)
	d.stop()
	for what, v := range map[string]string{"root secret key": key, "secret value": "from the first start"} {
		if strings.Contains(d.stderr.String(), v) {
			t.Errorf("the %s appears in the log:\n%s", what, d.stderr)
		}
	}

	d = startCoffer(t, nil, args...)
	c = newClient(t, d.URL, id, key, nil)
	got := c.must("GetSecretValue", map[string]any{"SecretName": "first", "VersionId": "SSM_Current"})
	if got["SecretString"] != "from the first start" {
		t.Errorf("after restart: got %v, want %q", got["SecretString"], "from the first start")
	}
	d.stop()
	if out := d.stdout.String() + d.stderr.String(); strings.Contains(out, "COFFER_ROOT_SECRET_KEY=") || strings.Contains(out, key) {
		t.Errorf("second start printed the root secret key again:\n%s", out)
	}
}

func wantHealthz(t *testing.T, hc *http.Client, url string) {
	t.Helper()
	resp, err := hc.Get(url + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "ok\n" {
		t.Fatalf("GET /healthz: got %d %q, want 200 \"ok\\n\"", resp.StatusCode, body)
	}
}

func TestServerRootFromEnvironment(t *testing.T) {
	args := []string{"server", "--dev", "--listen", "127.0.0.1:0", "--data", t.TempDir()}
	d := startCoffer(t, rootEnv(envKeyID, envSecret, envAccount), args...)
	c := newClient(t, d.URL, envKeyID, envSecret, nil)
	c.must("CreateSecret", map[string]any{"SecretName": "env", "SecretString": "v"})
	if got := c.must("DescribeSecret", map[string]any{"SecretName": "env"})["CreateUinString"]; got != envAccount {
		t.Errorf("CreateUinString: got %v, want %s", got, envAccount)
	}
	newClient(t, d.URL, "AKIDcofferOTHER0000000000000000000000", envSecret, nil).
		fails("AuthFailure.SecretIdNotFound", "GetRegions", nil)
	d.stop()
	if out := d.stdout.String(); strings.Contains(out, "COFFER_ROOT_SECRET_KEY=") || strings.Contains(out, envSecret) {
		t.Errorf("credentials from the environment were printed:\n%s", out)
	}

	d = startCoffer(t, rootEnv(envKeyID, envSecret, envAccount), args...)
	got := newClient(t, d.URL, envKeyID, envSecret, nil).must("GetSecretValue", map[string]any{"SecretName": "env", "VersionId": "SSM_Current"})
	if got["SecretString"] != "v" {
		t.Errorf("restart with the same variables: got %v, want %q", got["SecretString"], "v")
	}
	d.stop()
}

// TestServerRefusesChangedRootCredentials follows docs/operations.md: later
// starts with the root variables set "check that they match what is stored
// and refuse to start otherwise".
func TestServerRefusesChangedRootCredentials(t *testing.T) {
	const otherID, otherSecret = "AKIDcofferCHANGED000000000000000000", "cofferChangedSecret00000000000000000000"
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"another secret key", rootEnv(envKeyID, otherSecret, envAccount), "different secret"},
		{"another account id", rootEnv(envKeyID, envSecret, "300000000003"), "belongs to account"},
		{"another secret id", rootEnv(otherID, otherSecret, ""), "root"},
		{"another secret id in the same account", rootEnv(otherID, otherSecret, envAccount), "root"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"server", "--dev", "--listen", "127.0.0.1:0", "--data", t.TempDir()}
			startCoffer(t, rootEnv(envKeyID, envSecret, envAccount), args...).stop()
			wantRefusal(t, tt.env, tt.want, args...)
		})
	}
}

func TestServerRefusesBadConfiguration(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"dev on all IPv4 interfaces", nil, []string{"--dev", "--listen", "0.0.0.0:0"}, "loopback"},
		{"dev on all IPv6 interfaces", nil, []string{"--dev", "--listen", "[::]:0"}, "loopback"},
		{"dev on a host name", nil, []string{"--dev", "--listen", "example.com:0"}, "loopback"},
		{"dev on an empty host", nil, []string{"--dev", "--listen", ":0"}, "loopback"},
		{"root id without key", []string{"COFFER_ROOT_SECRET_ID=" + envKeyID}, []string{"--dev", "--listen", "127.0.0.1:0"}, "go together"},
		{"tls cert without key", nil, []string{"--listen", "127.0.0.1:0", "--tls-cert", "x.pem"}, "go together"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			wantRefusal(t, tt.env, tt.want, append([]string{"server", "--data", data}, tt.args...)...)
			if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("data directory after refusal: got %v, want it not created", err)
			}
		})
	}
}

func TestServerGeneratesTLSCertificate(t *testing.T) {
	dir := t.TempDir()
	args := []string{"server", "--listen", "127.0.0.1:0", "--data", dir}
	d := startCoffer(t, rootEnv(envKeyID, envSecret, envAccount), args...)
	if !strings.HasPrefix(d.URL, "https://127.0.0.1:") {
		t.Fatalf("URL: got %q, want https://127.0.0.1:<port>", d.URL)
	}
	certPEM := readFile(t, filepath.Join(dir, "tls.crt"))
	for name, want := range map[string]os.FileMode{"tls.key": 0o600} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || st.Mode().Perm() != want {
			t.Fatalf("%s: got %v, %v; want mode %04o", name, st.Mode().Perm(), err, want)
		}
	}
	block, _ := pem.Decode(certPEM)
	if block == nil {
		t.Fatalf("tls.crt is not PEM: %q", certPEM)
	}
	wantCertificate(t, block.Bytes)
	wantFP := fingerprint(block.Bytes)
	if got := strings.TrimPrefix(d.waitLine("SHA-256 fingerprint: "), "SHA-256 fingerprint: "); got != wantFP {
		t.Errorf("printed fingerprint: got %s, want %s", got, wantFP)
	}

	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(certPEM) {
		t.Fatal("tls.crt: no certificate")
	}
	pinned := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	defer pinned.CloseIdleConnections()
	got := newClient(t, d.URL, envKeyID, envSecret, pinned).must("GetRegions", nil)
	if regions, _ := got["Regions"].([]any); len(regions) != 1 || regions[0] != "ap-guangzhou" {
		t.Errorf("GetRegions: got %v, want [ap-guangzhou]", got["Regions"])
	}
	wantHealthz(t, &http.Client{Transport: pinned}, d.URL)
	if _, err := newClient(t, d.URL, envKeyID, envSecret, nil).call("GetRegions", nil); err == nil {
		t.Error("HTTPS without the pinned certificate succeeded, want a verification error")
	}
	if _, err := newClient(t, "http://"+d.addr(), envKeyID, envSecret, nil).call("GetRegions", nil); err == nil {
		t.Error("plain HTTP to the TLS port succeeded, want an error")
	}
	old := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}}
	if _, err := (&http.Client{Transport: old}).Get(d.URL + "/healthz"); err == nil {
		t.Error("TLS 1.1 handshake succeeded, want TLS 1.2 or newer only")
	}
	d.stop()

	d = startCoffer(t, rootEnv(envKeyID, envSecret, envAccount), args...)
	if d.has("Generated a self-signed") || !bytes.Equal(readFile(t, filepath.Join(dir, "tls.crt")), certPEM) {
		t.Errorf("second start generated a new certificate:\n%s", d.stdout)
	}
	d.stop()
	if !strings.Contains(d.stderr.String(), wantFP) {
		t.Errorf("second start does not log the fingerprint %s:\n%s", wantFP, d.stderr)
	}
}

// wantCertificate checks the generated certificate against
// docs/operations.md: localhost, 127.0.0.1 and ::1, ten years.
func wantCertificate(t *testing.T, der []byte) {
	t.Helper()
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := cert.VerifyHostname("localhost"); err != nil {
		t.Error(err)
	}
	for _, ip := range []string{"127.0.0.1", "::1"} {
		if err := cert.VerifyHostname(ip); err != nil {
			t.Error(err)
		}
	}
	if years := cert.NotAfter.Sub(time.Now()).Hours() / 24 / 365; years < 9.9 || years > 10.1 {
		t.Errorf("certificate valid for %.1f more years, want 10", years)
	}
}

func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestServerSIGTERMDrainsInFlight holds a request open across SIGTERM: the
// server must stop accepting, finish the request, then exit 0.
func TestServerSIGTERMDrainsInFlight(t *testing.T) {
	d := startCoffer(t, rootEnv(envKeyID, envSecret, envAccount), "server", "--dev", "--listen", "127.0.0.1:0", "--data", t.TempDir())
	conn, err := net.Dial("tcp", d.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(waitLimit)); err != nil {
		t.Fatal(err)
	}
	body := []byte("{}")
	req, br := sendHead(t, conn, d.addr(), "GetRegions", body)

	// The server answers 100 Continue when the handler starts reading the
	// body: from then on the request is in flight.
	cont, err := http.ReadResponse(br, req)
	if err != nil || cont.StatusCode != http.StatusContinue {
		t.Fatalf("interim response: got %v, %v; want 100 Continue", cont, err)
	}
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitRefused(t, d.addr())
	select {
	case <-d.exited:
		t.Fatalf("coffer exited (%v) with a request in flight", d.err)
	default:
	}

	if _, err := conn.Write(body); err != nil {
		t.Fatalf("send body: %v", err)
	}
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatalf("response to the in-flight request: %v", err)
	}
	defer resp.Body.Close()
	var out struct{ Response map[string]any }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("in-flight response: got %d, %v", resp.StatusCode, err)
	}
	if regions, _ := out.Response["Regions"].([]any); len(regions) == 0 {
		t.Fatalf("in-flight GetRegions: got %v, want regions", out.Response)
	}
	d.wantExit0()
}

// sendHead writes the head of a signed SSM request whose body follows later,
// asking for 100 Continue. It returns the request (for reading responses)
// and a reader of the connection.
func sendHead(t *testing.T, conn net.Conn, addr, action string, body []byte) (*http.Request, *bufio.Reader) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-TC-Action", action)
	req.Header.Set("X-TC-Version", "2019-09-23")
	req.Header.Set("X-TC-Region", "ap-guangzhou")
	tc3.SignRequest(req, body, envKeyID, []byte(envSecret), "ssm", time.Now())
	req.Header.Set("Content-Length", fmt.Sprint(len(body)))
	req.Header.Set("Expect", "100-continue")
	var head bytes.Buffer
	fmt.Fprintf(&head, "POST / HTTP/1.1\r\nHost: %s\r\n", addr)
	if err := req.Header.Write(&head); err != nil {
		t.Fatal(err)
	}
	head.WriteString("\r\n")
	if _, err := conn.Write(head.Bytes()); err != nil {
		t.Fatalf("send head: %v", err)
	}
	return req, bufio.NewReader(conn)
}

// waitRefused polls until addr no longer accepts connections.
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("%s still accepts connections %v after SIGTERM", addr, waitLimit)
}
