package server_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"github.com/coffer-secrets/coffer/internal/iam"
	"github.com/coffer-secrets/coffer/internal/server"
)

// The helpers of the SSM end-to-end matrix. Names start with mx so they
// cannot collide with other test files of this package.

// mxP is the parameter object of one SSM call.
type mxP = map[string]any

// mx drives one server through the official SDK on behalf of one test or
// subtest: failures are reported on that test, never on the server's.
type mx struct {
	t *testing.T
	s *testServer
	c *ssm
}

// newMX returns a driver of s in region for t.
func newMX(t *testing.T, s *testServer, region string) *mx {
	t.Helper()
	return &mx{t: t, s: s, c: newSSM(t, s.URL(), testKeyID, testSecret, region)}
}

func (m *mx) must(action string, p mxP) map[string]any {
	m.t.Helper()
	return m.c.must(action, p)
}

func (m *mx) fails(code, action string, p mxP) {
	m.t.Helper()
	m.c.fails(code, action, p)
}

// create makes a secret holding the string value, plus any extra parameters.
func (m *mx) create(name, value string, extra mxP) map[string]any {
	m.t.Helper()
	p := mxP{"SecretName": name, "SecretString": value}
	for k, v := range extra {
		p[k] = v
	}
	return m.must("CreateSecret", p)
}

// describe returns DescribeSecret's response without its RequestId.
func (m *mx) describe(name string) map[string]any {
	m.t.Helper()
	return mxStrip(m.must("DescribeSecret", mxP{"SecretName": name}))
}

func (m *mx) status(name string) string {
	m.t.Helper()
	return mxStr(m.t, m.describe(name), "Status")
}

// value returns GetSecretValue's response without its RequestId.
func (m *mx) value(name, version string) map[string]any {
	m.t.Helper()
	return mxStrip(m.must("GetSecretValue", mxP{"SecretName": name, "VersionId": version}))
}

// wantString checks that version of name holds the string want.
func (m *mx) wantString(name, version, want string) {
	m.t.Helper()
	got := m.value(name, version)
	if s := mxStr(m.t, got, "SecretString"); s != want {
		m.t.Errorf("GetSecretValue(%s, %s): got SecretString %q, want %q", name, version, s, want)
	}
	if b := mxStr(m.t, got, "SecretBinary"); b != "" {
		m.t.Errorf("GetSecretValue(%s, %s): got SecretBinary %q, want \"\"", name, version, b)
	}
}

// versions returns the version ids ListSecretVersionIds reports, in order.
func (m *mx) versions(name string) []string {
	m.t.Helper()
	out := m.must("ListSecretVersionIds", mxP{"SecretName": name})
	vs, ok := out["Versions"].([]any)
	if !ok {
		m.t.Fatalf("ListSecretVersionIds(%s): Versions is %T, want an array", name, out["Versions"])
	}
	ids := make([]string, 0, len(vs))
	for _, v := range vs {
		info, _ := v.(map[string]any)
		ids = append(ids, mxStr(m.t, info, "VersionId"))
	}
	return ids
}

// list calls ListSecrets and returns the names in order, TotalCount and
// the raw metadata objects.
func (m *mx) list(p mxP) ([]string, int, []map[string]any) {
	m.t.Helper()
	out := m.must("ListSecrets", p)
	raw, ok := out["SecretMetadatas"].([]any)
	if !ok {
		m.t.Fatalf("ListSecrets: SecretMetadatas is %T, want an array", out["SecretMetadatas"])
	}
	names := make([]string, 0, len(raw))
	metas := make([]map[string]any, 0, len(raw))
	for _, r := range raw {
		meta, _ := r.(map[string]any)
		metas = append(metas, meta)
		names = append(names, mxStr(m.t, meta, "SecretName"))
	}
	return names, int(mxNum(m.t, out, "TotalCount")), metas
}

// raw sends a hand-signed request whose failures are reported on m.t.
func (m *mx) raw(action string, body []byte, key string, mutate func(*http.Request)) rawResponse {
	m.t.Helper()
	s := *m.s
	s.t, s.cancel = m.t, nil // a view of the server: never stops it
	return s.raw(action, body, key, time.Now(), mutate)
}

// mxState is what a failed call must leave as it was.
type mxState struct {
	Describe map[string]any
	Versions []string
	Values   map[string]map[string]any // by version id, when Enabled
	Names    []string                  // every secret listed
	Total    int
}

// snapshot records the state of name and of the secret list.
func (m *mx) snapshot(name string) mxState {
	m.t.Helper()
	st := mxState{Describe: m.describe(name), Versions: m.versions(name), Values: map[string]map[string]any{}}
	if st.Describe["Status"] == "Enabled" {
		for _, v := range st.Versions {
			st.Values[v] = m.value(name, v)
		}
	}
	st.Names, st.Total, _ = m.list(mxP{"Limit": 1000, "State": 0})
	return st
}

// unchanged fails the test when the state of name differs from before.
func (m *mx) unchanged(name string, before mxState) {
	m.t.Helper()
	after := m.snapshot(name)
	if !reflect.DeepEqual(after.Describe, before.Describe) {
		m.t.Errorf("DescribeSecret(%s) changed:\n got %v\nwant %v", name, after.Describe, before.Describe)
	}
	if !reflect.DeepEqual(after.Versions, before.Versions) {
		m.t.Errorf("versions of %s changed: got %v, want %v", name, after.Versions, before.Versions)
	}
	if !reflect.DeepEqual(after.Values, before.Values) {
		m.t.Errorf("values of %s changed", name) // the values are the test's own; keep the message short
	}
	if after.Total != before.Total || !reflect.DeepEqual(after.Names, before.Names) {
		m.t.Errorf("secret list changed: got %d %v, want %d %v", after.Total, after.Names, before.Total, before.Names)
	}
}

// mxStrip returns resp without RequestId, which differs on every call.
func mxStrip(resp map[string]any) map[string]any {
	out := make(map[string]any, len(resp))
	for k, v := range resp {
		if k != "RequestId" {
			out[k] = v
		}
	}
	return out
}

func mxStr(t testing.TB, m map[string]any, key string) string {
	t.Helper()
	v, ok := m[key].(string)
	if !ok {
		t.Fatalf("field %s is %s (%v), want a string", key, mxJSONType(m[key]), m[key])
	}
	return v
}

func mxNum(t testing.TB, m map[string]any, key string) float64 {
	t.Helper()
	v, ok := m[key].(float64)
	if !ok {
		t.Fatalf("field %s is %s (%v), want a number", key, mxJSONType(m[key]), m[key])
	}
	return v
}

// mxJSONType names the JSON type of a value decoded into any.
func mxJSONType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}

// mxFields checks that obj has every field of want with its JSON type.
func mxFields(t testing.TB, what string, obj map[string]any, want map[string]string) {
	t.Helper()
	for field, typ := range want {
		v, ok := obj[field]
		if !ok {
			t.Errorf("%s: field %s is missing", what, field)
			continue
		}
		if got := mxJSONType(v); got != typ {
			t.Errorf("%s: field %s is %s (%v), want %s", what, field, got, v, typ)
		}
	}
}

// mxClock is a server clock the test moves forward, so secrets get
// distinct CreateTimes without sleeping. It stays within the signature's
// 300 s skew as long as the offset does.
type mxClock struct{ offset atomic.Int64 }

func (c *mxClock) now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func (c *mxClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// mxStartServer starts a server like startServer, with edit applied to its
// configuration first.
func mxStartServer(t *testing.T, edit func(*server.Config)) *testServer {
	t.Helper()
	dir := t.TempDir()
	seedDataDir(t, dir)
	cfg := server.Config{
		Listen: "127.0.0.1:0", DataDir: dir, Regions: []string{testRegion, "ap-shanghai"}, Dev: true,
		Root: iam.RootInput{AccountID: testAccount, KeyID: testKeyID, Secret: testSecret},
	}
	edit(&cfg)
	srv, err := server.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open server: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{Server: srv, t: t, dir: dir, cancel: cancel, done: make(chan error, 1)}
	go func() { ts.done <- srv.Serve(ctx, 5*time.Second) }()
	t.Cleanup(ts.stop)
	return ts
}

// newTLSMX returns a driver of a TLS server (not in dev mode) that trusts
// the certificate the server generated in its data directory.
func newTLSMX(t *testing.T, s *testServer, region string) *mx {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(s.dir, "tls.crt"))
	if err != nil {
		t.Fatalf("read generated certificate: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("the generated certificate does not parse")
	}
	prof := profile.NewClientProfile()
	prof.HttpProfile.Endpoint = strings.TrimPrefix(s.URL(), "https://")
	prof.HttpProfile.Scheme = "HTTPS"
	prof.HttpProfile.ReqTimeout = 10
	prof.Language = "en-US"
	cl := common.NewCommonClient(common.NewCredential(testKeyID, testSecret), region, prof)
	cl.WithHttpTransport(&http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}})
	return &mx{t: t, s: s, c: &ssm{t: t, client: cl}}
}
