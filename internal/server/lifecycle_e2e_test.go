package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	"github.com/coffer-secrets/coffer/internal/iam"
	"github.com/coffer-secrets/coffer/internal/keys/root/keyfile"
	"github.com/coffer-secrets/coffer/internal/server"
)

// devConfig is the configuration startServer uses, for tests that need to
// change it or to open a server that must fail.
func devConfig(dir string) server.Config {
	return server.Config{
		Listen: "127.0.0.1:0", DataDir: dir, Regions: []string{testRegion, "ap-shanghai"}, Dev: true,
		Root: iam.RootInput{AccountID: testAccount, KeyID: testKeyID, Secret: testSecret},
	}
}

// serveConfig opens and serves cfg as startServer does, stopping it at cleanup.
func serveConfig(t testing.TB, cfg server.Config) *testServer {
	t.Helper()
	srv, err := server.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open server: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{Server: srv, t: t, dir: cfg.DataDir, cancel: cancel, done: make(chan error, 1)}
	go func() { ts.done <- srv.Serve(ctx, 5*time.Second) }()
	t.Cleanup(ts.stop)
	return ts
}

// testClock is a clock the test moves by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// startClocked starts a dev server on a fresh directory whose every clock
// (the TC3 signature window included) is clock. Its background sweep waits an
// hour, so only SweepNow purges during a test.
func startClocked(t testing.TB, clock *testClock) *testServer {
	t.Helper()
	cfg := devConfig(t.TempDir())
	cfg.Clock, cfg.SweepInterval = clock.Now, time.Hour
	return serveConfig(t, cfg)
}

// clockedClient calls a server as the root, signing with the server's own
// injected clock (the official SDK signs with the real time).
type clockedClient struct {
	t     testing.TB
	s     *testServer
	clock *testClock
}

func (c clockedClient) call(action string, params map[string]any) rawResponse {
	c.t.Helper()
	body, err := json.Marshal(params)
	if err != nil {
		c.t.Fatalf("%s: %v", action, err)
	}
	s := *c.s
	s.t = c.t
	return s.raw(action, body, testSecret, c.clock.Now(), nil)
}

func (c clockedClient) must(action string, params map[string]any) map[string]any {
	c.t.Helper()
	r := c.call(action, params)
	if code := r.code(); code != "" {
		c.t.Fatalf("%s: got code %s, want success", action, code)
	}
	resp, _ := r.Body["Response"].(map[string]any)
	return resp
}

func (c clockedClient) fails(code, action string, params map[string]any) {
	c.t.Helper()
	if got := c.call(action, params).code(); got != code {
		c.t.Fatalf("%s: got code %q, want %s", action, got, code)
	}
}

func TestSweepPurgesAfterRecoveryWindow(t *testing.T) {
	t0 := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	clock := &testClock{now: t0}
	s := startClocked(t, clock)
	c := clockedClient{t: t, s: s, clock: clock}
	for _, name := range []string{"doomed", "kept", "live"} {
		c.must("CreateSecret", map[string]any{"SecretName": name, "SecretString": name + "-value"})
	}
	for _, name := range []string{"doomed", "kept"} {
		c.must("DisableSecret", map[string]any{"SecretName": name})
	}
	del := c.must("DeleteSecret", map[string]any{"SecretName": "doomed", "RecoveryWindowInDays": 1})
	if got, want := del["DeleteTime"], float64(t0.Add(24*time.Hour).Unix()); got != want {
		t.Fatalf("DeleteTime: got %v, want %v", got, want)
	}
	c.must("DeleteSecret", map[string]any{"SecretName": "kept", "RecoveryWindowInDays": 7})

	clock.Add(24*time.Hour - time.Second)
	s.SweepNow(context.Background())
	wantStatus(t, c, "doomed", "PendingDelete")

	clock.Add(2 * time.Second)
	s.SweepNow(context.Background())
	for _, action := range []string{"DescribeSecret", "ListSecretVersionIds"} {
		c.fails("ResourceNotFound", action, map[string]any{"SecretName": "doomed"})
	}
	c.fails("ResourceNotFound", "GetSecretValue", map[string]any{"SecretName": "doomed", "VersionId": "SSM_Current"})
	wantStatus(t, c, "kept", "PendingDelete")
	wantStatus(t, c, "live", "Enabled")

	c.must("CreateSecret", map[string]any{"SecretName": "doomed", "SecretString": "reborn"})
	got := c.must("GetSecretValue", map[string]any{"SecretName": "doomed", "VersionId": "SSM_Current"})
	if got["SecretString"] != "reborn" {
		t.Fatalf("recreated secret: got %q, want %q", got["SecretString"], "reborn")
	}
	vs := c.must("ListSecretVersionIds", map[string]any{"SecretName": "doomed"})
	if n := len(vs["Versions"].([]any)); n != 1 {
		t.Fatalf("recreated secret has %d versions, want 1: %v", n, vs)
	}
}

func wantStatus(t *testing.T, c clockedClient, name, want string) {
	t.Helper()
	d := c.must("DescribeSecret", map[string]any{"SecretName": name})
	if d["Status"] != want {
		t.Fatalf("%s: got status %v, want %s", name, d["Status"], want)
	}
}

// binaryValue is a binary secret with bytes that are not valid UTF-8.
var binaryValue = []byte{0x00, 0xff, 0xfe, 0x10, 'c', 'o', 'f', 'f', 'e', 'r', 0x80, 0x01}

// restartFixture writes secrets of every shape and status into s. It
// returns the secrets' names by region and DeleteSecret's DeleteTime.
func restartFixture(t *testing.T, s *testServer) (map[string][]string, float64) {
	t.Helper()
	c := s.client(testRegion)
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	c.must("CreateSecret", map[string]any{"SecretName": "str", "VersionId": "v1", "SecretString": "alpha", "Description": "several versions"})
	c.must("PutSecretValue", map[string]any{"SecretName": "str", "VersionId": "v2", "SecretString": "beta"})
	c.must("PutSecretValue", map[string]any{"SecretName": "str", "VersionId": "v3", "SecretString": "gamma"})
	c.must("CreateSecret", map[string]any{"SecretName": "bin", "VersionId": "b1", "SecretBinary": b64(binaryValue)})
	c.must("PutSecretValue", map[string]any{"SecretName": "bin", "VersionId": "b2", "SecretBinary": b64(binaryValue[:4])})
	for _, name := range []string{"off", "gone"} {
		c.must("CreateSecret", map[string]any{"SecretName": name, "SecretString": name + "-value"})
		c.must("DisableSecret", map[string]any{"SecretName": name})
	}
	del := c.must("DeleteSecret", map[string]any{"SecretName": "gone", "RecoveryWindowInDays": 7})
	s.client("ap-shanghai").must("CreateSecret", map[string]any{"SecretName": "str", "SecretString": "shanghai"})
	names := map[string][]string{testRegion: {"str", "bin", "off", "gone"}, "ap-shanghai": {"str"}}
	return names, del["DeleteTime"].(float64)
}

// observe returns everything a client can read about the named secrets:
// DescribeSecret, ListSecretVersionIds, every version's GetSecretValue (or
// its error code) and ListSecrets, without RequestIds.
func observe(t *testing.T, s *testServer, names map[string][]string) map[string]any {
	t.Helper()
	out := map[string]any{}
	for region, list := range names {
		c := s.client(region)
		for _, name := range list {
			p := map[string]any{"SecretName": name}
			desc, vers := c.must("DescribeSecret", p), c.must("ListSecretVersionIds", p)
			values := map[string]any{}
			for _, v := range vers["Versions"].([]any) {
				id := v.(map[string]any)["VersionId"].(string)
				values[id] = valueOrCode(c, name, id)
			}
			values["SSM_Current"] = valueOrCode(c, name, "SSM_Current")
			out[region+"/"+name] = map[string]any{"describe": noID(desc), "versions": noID(vers), "values": values}
		}
		out[region+"/(list)"] = noID(c.must("ListSecrets", map[string]any{"Limit": 100}))
	}
	return out
}

func valueOrCode(c *ssm, name, version string) any {
	c.t.Helper()
	got, err := c.call("GetSecretValue", map[string]any{"SecretName": name, "VersionId": version})
	var e *tcerr.TencentCloudSDKError
	if errors.As(err, &e) {
		return e.Code
	} else if err != nil {
		c.t.Fatalf("GetSecretValue %s %s: %v", name, version, err)
	}
	return noID(got)
}

func noID(m map[string]any) map[string]any {
	delete(m, "RequestId")
	return m
}

func TestRestartKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	names, deleteTime := restartFixture(t, s)
	before := observe(t, s, names)
	s.stop()

	s = startServer(t, dir)
	after := observe(t, s, names)
	if !reflect.DeepEqual(after, before) {
		t.Fatalf("after restart:\n got %s\nwant %s", mustJSON(t, after), mustJSON(t, before))
	}
	wantObserved(t, after, deleteTime)

	c := s.client(testRegion)
	c.must("PutSecretValue", map[string]any{"SecretName": "str", "VersionId": "v4", "SecretString": "delta"})
	c.must("RestoreSecret", map[string]any{"SecretName": "gone"})
	c.must("EnableSecret", map[string]any{"SecretName": "gone"})
	got := c.must("GetSecretValue", map[string]any{"SecretName": "gone", "VersionId": "SSM_Current"})
	if got["SecretString"] != "gone-value" {
		t.Fatalf("restored secret: got %q, want %q", got["SecretString"], "gone-value")
	}
}

// TestRestartFromCopiedDatabase follows the backup procedure of
// docs/operations.md: after a clean stop, coffer.db alone (the WAL is
// checkpointed) plus root.key restore everything.
func TestRestartFromCopiedDatabase(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	names, deleteTime := restartFixture(t, s)
	before := observe(t, s, names)
	s.stop()

	restored := t.TempDir()
	for _, name := range []string{"coffer.db", "root.key"} {
		writeFile(t, filepath.Join(restored, name), readFile(t, filepath.Join(dir, name)), 0o600)
	}
	s = startServer(t, restored)
	after := observe(t, s, names)
	if !reflect.DeepEqual(after, before) {
		t.Fatalf("restored from coffer.db:\n got %s\nwant %s", mustJSON(t, after), mustJSON(t, before))
	}
	wantObserved(t, after, deleteTime)
}

// wantObserved checks the restart fixture's values, not only that a restart
// kept them.
func wantObserved(t *testing.T, obs map[string]any, deleteTime float64) {
	t.Helper()
	field := func(key, part, sub, name string) any {
		m := obs[key].(map[string]any)[part].(map[string]any)
		if sub != "" {
			m = m[sub].(map[string]any)
		}
		return m[name]
	}
	b64 := base64.StdEncoding.EncodeToString
	tests := []struct {
		key, part, sub, name string
		want                 any
	}{
		{"ap-guangzhou/str", "values", "v1", "SecretString", "alpha"},
		{"ap-guangzhou/str", "values", "v2", "SecretString", "beta"},
		{"ap-guangzhou/str", "values", "v3", "SecretString", "gamma"},
		{"ap-guangzhou/str", "values", "SSM_Current", "SecretString", "gamma"},
		{"ap-guangzhou/str", "describe", "", "Description", "several versions"},
		{"ap-guangzhou/bin", "values", "b1", "SecretBinary", b64(binaryValue)},
		{"ap-guangzhou/bin", "values", "b2", "SecretBinary", b64(binaryValue[:4])},
		{"ap-guangzhou/off", "describe", "", "Status", "Disabled"},
		{"ap-guangzhou/gone", "describe", "", "Status", "PendingDelete"},
		{"ap-guangzhou/gone", "describe", "", "DeleteTime", deleteTime},
		{"ap-shanghai/str", "values", "SSM_Current", "SecretString", "shanghai"},
	}
	for _, tt := range tests {
		if got := field(tt.key, tt.part, tt.sub, tt.name); got != tt.want {
			t.Errorf("%s %s %s %s: got %v, want %v", tt.key, tt.part, tt.sub, tt.name, got, tt.want)
		}
	}
	codes := map[string]string{
		"ap-guangzhou/off":  "ResourceUnavailable.ResourceDisabled",
		"ap-guangzhou/gone": "ResourceUnavailable.ResourcePendingDeleted",
	}
	for key, want := range codes {
		if got := obs[key].(map[string]any)["values"].(map[string]any)["SSM_Current"]; got != want {
			t.Errorf("%s GetSecretValue: got %v, want %s", key, got, want)
		}
	}
	if n := len(obs["ap-guangzhou/str"].(map[string]any)["versions"].(map[string]any)["Versions"].([]any)); n != 3 {
		t.Errorf("str has %d versions, want 3", n)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRestartRefusesWrongRootKey(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, keyPath string)
		want    []string
	}{
		{"another root key", func(t *testing.T, keyPath string) {
			writeFile(t, keyPath, freshRootKey(t), 0o600)
		}, []string{"root key", "not the one this database was created with"}},
		{"mode 0644", func(t *testing.T, keyPath string) {
			if err := os.Chmod(keyPath, 0o644); err != nil {
				t.Fatal(err)
			}
		}, []string{"root key", "chmod 600"}},
		{"key file removed", func(t *testing.T, keyPath string) {
			if err := os.Remove(keyPath); err != nil {
				t.Fatal(err)
			}
		}, []string{"root key file is missing", "restore"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := startServer(t, dir)
			s.client(testRegion).must("CreateSecret", map[string]any{"SecretName": "kept", "SecretString": "still here"})
			s.stop()
			keyPath := filepath.Join(dir, "root.key")
			orig := readFile(t, keyPath)

			tt.prepare(t, keyPath)
			srv, err := server.Open(context.Background(), devConfig(dir))
			if err == nil {
				srv.Close()
				t.Fatal("Open succeeded, want a root key error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Open: got %q, want it to contain %q", err, w)
				}
			}

			// The refusal changed nothing (no new key file was left behind):
			// the right key opens the data again.
			if tt.name == "key file removed" {
				if _, err := os.Stat(keyPath); !os.IsNotExist(err) {
					t.Fatalf("a refused start left %s behind (%v)", keyPath, err)
				}
			}
			writeFile(t, keyPath, orig, 0o600)
			s = startServer(t, dir)
			got := s.client(testRegion).must("GetSecretValue", map[string]any{"SecretName": "kept", "VersionId": "SSM_Current"})
			if got["SecretString"] != "still here" {
				t.Fatalf("after restoring the key: got %q, want %q", got["SecretString"], "still here")
			}
		})
	}
}

// freshRootKey returns the contents of a root key file generated in another
// directory.
func freshRootKey(t *testing.T) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "root.key")
	if _, err := keyfile.Open(path, true); err != nil {
		t.Fatal(err)
	}
	return readFile(t, path)
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeFile replaces path with b and sets its mode (WriteFile keeps the
// mode of an existing file).
func writeFile(t *testing.T, path string, b []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, b, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func TestNoPlaintextOnDisk(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	c := s.client(testRegion)
	plain := map[string][]byte{
		"string value":          []byte("canary-string-Vq8ZtK3pLx"),
		"binary value":          {0x00, 0xde, 0xad, 0xbe, 0xef, 'c', 'a', 'n', 'a', 'r', 'y', 0x9f, 0x01, 0xfe, 0x42, 0x07},
		"value before update":   []byte("canary-overwritten-Jd72Hs0Q"),
		"value after update":    []byte("canary-update-Wm4Rb9cN1e"),
		"deleted version value": []byte("canary-deleted-version-T5yGk"),
		"purged secret value":   []byte("canary-purged-secret-8uPq2X"),
		"root secret key":       []byte(testSecret),
	}
	b64 := func(k string) string { return base64.StdEncoding.EncodeToString(plain[k]) }
	c.must("CreateSecret", map[string]any{"SecretName": "plain-string", "SecretString": string(plain["string value"])})
	c.must("CreateSecret", map[string]any{"SecretName": "plain-binary", "SecretBinary": b64("binary value")})
	c.must("CreateSecret", map[string]any{"SecretName": "plain-update", "VersionId": "v1", "SecretString": string(plain["value before update"])})
	c.must("UpdateSecret", map[string]any{"SecretName": "plain-update", "VersionId": "v1", "SecretString": string(plain["value after update"])})
	c.must("PutSecretValue", map[string]any{"SecretName": "plain-string", "VersionId": "doomed", "SecretString": string(plain["deleted version value"])})
	c.must("DeleteSecretVersion", map[string]any{"SecretName": "plain-string", "VersionId": "doomed"})
	c.must("CreateSecret", map[string]any{"SecretName": "plain-purged", "SecretString": string(plain["purged secret value"])})
	c.must("DisableSecret", map[string]any{"SecretName": "plain-purged"})
	c.must("DeleteSecret", map[string]any{"SecretName": "plain-purged", "RecoveryWindowInDays": 0})

	wantNoPlaintext(t, dir, plain)
	s.stop()
	wantNoPlaintext(t, dir, plain)
}

// wantNoPlaintext reads every file under dir and fails if one holds a value
// of plain, raw or in base64. It checks that the database holds the secret
// names, so a scan that reads nothing useful cannot pass.
func wantNoPlaintext(t *testing.T, dir string, plain map[string][]byte) {
	t.Helper()
	sawName, sawDB := false, false
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		sawDB = sawDB || rel == "coffer.db"
		sawName = sawName || bytes.Contains(b, []byte("plain-update"))
		for what, p := range plain {
			for _, form := range [][]byte{p, []byte(base64.StdEncoding.EncodeToString(p))} {
				if bytes.Contains(b, form) {
					t.Errorf("%s holds the %s in plaintext (%q)", rel, what, form)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !sawDB || !sawName {
		t.Fatalf("scan of %s: found coffer.db %v, found a secret name %v; want both", dir, sawDB, sawName)
	}
}
