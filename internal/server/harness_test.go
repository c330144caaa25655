package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"github.com/coffer-secrets/coffer/internal/iam"
	"github.com/coffer-secrets/coffer/internal/keys/root/keyfile"
	"github.com/coffer-secrets/coffer/internal/server"
	"github.com/coffer-secrets/coffer/internal/signature/tc3"
	"github.com/coffer-secrets/coffer/internal/store/sqlite/sqlitetest"
)

// Fixed root credentials for the end-to-end tests.
const (
	testAccount = "100000000001"
	testKeyID   = "AKIDcofferTEST0000000000000000000000"
	testSecret  = "cofferTestSecretKey000000000000000000000"
	testRegion  = "ap-guangzhou"
)

// testServer is a real Coffer server on a loopback port.
type testServer struct {
	*server.Server
	t      testing.TB
	dir    string
	cancel context.CancelFunc
	done   chan error
}

// seedDataDir gives a new data directory a migrated store, copied
// (faster than migrating), and the root key a first start would make: a
// server refuses to make a key for a store that is already there.
func seedDataDir(t testing.TB, dir string) {
	t.Helper()
	sqlitetest.Seed(t, dir)
	if _, err := keyfile.Open(filepath.Join(dir, "root.key"), true); err != nil {
		t.Fatalf("root key: %v", err)
	}
}

// startServer starts a server in dev mode on dir (a fresh one when "").
func startServer(t testing.TB, dir string, regions ...string) *testServer {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
		seedDataDir(t, dir)
	}
	if len(regions) == 0 {
		regions = []string{testRegion, "ap-shanghai"}
	}
	cfg := server.Config{
		Listen: "127.0.0.1:0", DataDir: dir, Regions: regions, Dev: true,
		Root: iam.RootInput{AccountID: testAccount, KeyID: testKeyID, Secret: testSecret},
	}
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

// stop drains and closes the server; it may be called more than once.
func (s *testServer) stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	if err := <-s.done; err != nil {
		s.t.Errorf("serve: %v", err)
	}
	if err := s.Close(); err != nil {
		s.t.Errorf("close: %v", err)
	}
}

// ssm is a client of one server made of the official SDK's common client.
type ssm struct {
	t      testing.TB
	client *common.Client
}

func (s *testServer) client(region string) *ssm {
	return newSSM(s.t, s.URL(), testKeyID, testSecret, region)
}

func newSSM(t testing.TB, url, id, key, region string) *ssm {
	cred := common.NewCredential(id, key)
	prof := profile.NewClientProfile()
	prof.HttpProfile.Endpoint = strings.TrimPrefix(url, "http://")
	prof.HttpProfile.Scheme = "HTTP"
	prof.HttpProfile.ReqTimeout = 10
	prof.Language = "en-US"
	return &ssm{t: t, client: common.NewCommonClient(cred, region, prof)}
}

// call sends one SSM action and returns the "Response" object.
func (c *ssm) call(action string, params map[string]any) (map[string]any, error) {
	c.t.Helper()
	req := tchttp.NewCommonRequest("ssm", "2019-09-23", action)
	if params == nil {
		params = map[string]any{}
	}
	if err := req.SetActionParameters(params); err != nil {
		c.t.Fatalf("%s: set parameters: %v", action, err)
	}
	resp := tchttp.NewCommonResponse()
	if err := c.client.Send(req, resp); err != nil {
		return nil, err
	}
	var out struct{ Response map[string]any }
	if err := json.Unmarshal(resp.GetBody(), &out); err != nil {
		c.t.Fatalf("%s: decode response: %v", action, err)
	}
	return out.Response, nil
}

// must sends an action that must succeed.
func (c *ssm) must(action string, params map[string]any) map[string]any {
	c.t.Helper()
	out, err := c.call(action, params)
	if err != nil {
		c.t.Fatalf("%s: %v", action, err)
	}
	return out
}

// fails sends an action that must fail with code.
func (c *ssm) fails(code, action string, params map[string]any) {
	c.t.Helper()
	_, err := c.call(action, params)
	wantCode(c.t, err, code)
}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	var e *tcerr.TencentCloudSDKError
	if !errors.As(err, &e) {
		t.Fatalf("got error %v, want code %s", err, code)
	}
	if e.Code != code {
		t.Fatalf("got code %s (%s), want %s", e.Code, e.Message, code)
	}
	if e.RequestId == "" {
		t.Errorf("error %s has no RequestId", e.Code)
	}
}

// rawResponse is a response read off the wire without the SDK.
type rawResponse struct {
	Status int
	Body   map[string]any
}

func (r rawResponse) code() string {
	resp, _ := r.Body["Response"].(map[string]any)
	e, _ := resp["Error"].(map[string]any)
	c, _ := e["Code"].(string)
	return c
}

// raw sends body as action, signed by our own signer with the given
// credentials and clock, after mutate may change the request.
func (s *testServer) raw(action string, body []byte, key string, now time.Time, mutate func(*http.Request)) rawResponse {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL()+"/", bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-TC-Action", action)
	req.Header.Set("X-TC-Version", "2019-09-23")
	req.Header.Set("X-TC-Region", testRegion)
	tc3.SignRequest(req, body, testKeyID, []byte(key), "ssm", now)
	if mutate != nil {
		mutate(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s: %v", action, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	out := rawResponse{Status: resp.StatusCode}
	if err := json.Unmarshal(b, &out.Body); err != nil {
		s.t.Fatalf("%s: response is not JSON: %q", action, b)
	}
	return out
}
