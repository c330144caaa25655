package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/iam"
	"github.com/coffer-secrets/coffer/internal/server"
	"github.com/coffer-secrets/coffer/internal/signature/sigv4"
	"github.com/coffer-secrets/coffer/internal/signature/tc3"
)

// startLimited starts a dev-mode server with the test root credentials and
// the given limits; opts may change the rest of its configuration.
func startLimited(t testing.TB, lim server.Limits, opts ...func(*server.Config)) *testServer {
	t.Helper()
	cfg := server.Config{
		Listen: "127.0.0.1:0", DataDir: t.TempDir(), Regions: []string{testRegion}, Dev: true,
		Root:   iam.RootInput{AccountID: testAccount, KeyID: testKeyID, Secret: testSecret},
		Limits: lim,
	}
	for _, o := range opts {
		o(&cfg)
	}
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

// frozen stops the server's clock, so rate-limit buckets never refill
// however slowly the test runs (signatures made now stay valid).
func frozen(c *server.Config) {
	now := time.Now()
	c.Clock = func() time.Time { return now }
}

// limClient sends raw signed requests; its own transport so tests leave no
// idle connections in http.DefaultClient.
type limClient struct {
	t    testing.TB
	url  string
	http *http.Client
}

func newLimClient(t testing.TB, s *testServer) *limClient {
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return &limClient{t: t, url: s.URL(), http: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
}

// tencent sends an SSM action signed with key and returns the HTTP status
// and the error code ("" on success).
func (c *limClient) tencent(action, key string) (int, string, error) {
	body := []byte("{}")
	req, _ := http.NewRequest(http.MethodPost, c.url+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-TC-Action", action)
	req.Header.Set("X-TC-Version", "2019-09-23")
	req.Header.Set("X-TC-Region", testRegion)
	tc3.SignRequest(req, body, testKeyID, []byte(key), "ssm", time.Now())
	var out struct {
		Response struct{ Error struct{ Code string } }
	}
	status, err := c.do(req, &out)
	return status, out.Response.Error.Code, err
}

// aws sends a Secrets Manager action signed with key and returns the HTTP
// status and the __type ("" on success).
func (c *limClient) aws(action, key string) (int, string, error) {
	body := []byte("{}")
	req, _ := http.NewRequest(http.MethodPost, c.url+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "secretsmanager."+action)
	sigv4.SignRequest(req, body, testKeyID, []byte(key), testRegion, "secretsmanager", time.Now())
	var out struct {
		Type string `json:"__type"`
	}
	status, err := c.do(req, &out)
	return status, out.Type, err
}

func (c *limClient) do(req *http.Request, out any) (int, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	return resp.StatusCode, json.Unmarshal(b, out)
}

func (c *limClient) wantTencent(action, key string, wantStatus int, wantCode string) {
	c.t.Helper()
	status, code, err := c.tencent(action, key)
	if err != nil || status != wantStatus || code != wantCode {
		c.t.Fatalf("%s: got %d %q (%v), want %d %q", action, status, code, err, wantStatus, wantCode)
	}
}

func (c *limClient) wantAWS(action, key string, wantStatus int, wantCode string) {
	c.t.Helper()
	status, code, err := c.aws(action, key)
	if err != nil || status != wantStatus || code != wantCode {
		c.t.Fatalf("%s: got %d %q (%v), want %d %q", action, status, code, err, wantStatus, wantCode)
	}
}

func TestLimitsAccountThrottlesTencent(t *testing.T) {
	s := startLimited(t, server.Limits{Account: 3}, frozen)
	c := newLimClient(t, s)
	for range 3 {
		c.wantTencent("GetRegions", testSecret, http.StatusOK, "")
	}
	c.wantTencent("GetRegions", testSecret, http.StatusOK, "RequestLimitExceeded")
	c.wantTencent("ListSecrets", testSecret, http.StatusOK, "RequestLimitExceeded")

	// Counted like any refused call.
	resp, err := c.http.Get(s.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), `code="RequestLimitExceeded"`) {
		t.Errorf("metrics: no request counted with code RequestLimitExceeded")
	}
}

func TestLimitsActionThrottlesAWS(t *testing.T) {
	s := startLimited(t, server.Limits{Action: 2}, frozen)
	c := newLimClient(t, s)
	for range 2 {
		c.wantAWS("ListSecrets", testSecret, http.StatusOK, "")
	}
	c.wantAWS("ListSecrets", testSecret, http.StatusBadRequest, "ThrottlingException")
	// Another action has its own bucket.
	c.wantAWS("GetRandomPassword", testSecret, http.StatusOK, "")
}

func TestLimitsSSMDefaults(t *testing.T) {
	// A stopped clock: the buckets never refill, however slow the test.
	s := startLimited(t, server.Limits{SSMDefaults: true}, frozen)
	c := newLimClient(t, s)
	admitted := 0
	for range 45 {
		if _, code, _ := c.tencent("ListSecrets", testSecret); code == "" {
			admitted++
		}
	}
	if admitted != 30 { // ListSecrets is 30/s in Tencent's table
		t.Fatalf("ListSecrets: got %d of 45 admitted, want 30", admitted)
	}
	c.wantTencent("GetRegions", testSecret, http.StatusOK, "") // not in the table
}

func TestLimitsUnauthenticatedPerSource(t *testing.T) {
	s := startLimited(t, server.Limits{Unauthenticated: 2})
	c := newLimClient(t, s)
	for range 2 {
		c.wantTencent("GetRegions", "wrong-key", http.StatusOK, "AuthFailure.SignatureFailure")
	}
	// The address has spent its budget: refused before the signature is
	// checked, good or bad.
	c.wantTencent("GetRegions", "wrong-key", http.StatusOK, "RequestLimitExceeded.IPLimitExceeded")
	c.wantAWS("ListSecrets", "wrong-key", http.StatusBadRequest, "ThrottlingException")
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, code, err := c.tencent("GetRegions", testSecret)
		if err == nil && code == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a good request was still refused after the budget refilled: %q %v", code, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestLimitsSlowHeadersDisconnected(t *testing.T) {
	s := startLimited(t, server.Limits{ReadHeaderTimeout: 300 * time.Millisecond})
	conn, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	closed := make(chan time.Duration, 1)
	start := time.Now()
	go func() {
		_, _ = io.Copy(io.Discard, conn) // returns when the server hangs up
		closed <- time.Since(start)
	}()
	go func() {
		for _, b := range []byte("POST / HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 100)) {
			if _, err := conn.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	// A normal client is served meanwhile.
	c := newLimClient(t, s)
	c.wantTencent("GetRegions", testSecret, http.StatusOK, "")
	select {
	case d := <-closed:
		if d > 3*time.Second {
			t.Fatalf("slow client held its connection %v", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("slow client still connected after 5 s with a 300 ms header timeout")
	}
	c.wantTencent("GetRegions", testSecret, http.StatusOK, "")
}

func TestLimitsMaxConnections(t *testing.T) {
	s := startLimited(t, server.Limits{MaxConnections: 2})
	var held []net.Conn
	for range 2 {
		conn, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		held = append(held, conn)
	}
	c := newLimClient(t, s)
	c.http.Timeout = 500 * time.Millisecond
	if _, _, err := c.tencent("GetRegions", testSecret); err == nil {
		t.Fatal("a third connection was served while two were held")
	}
	held[0].Close()
	c.http.Timeout = 10 * time.Second
	c.wantTencent("GetRegions", testSecret, http.StatusOK, "")
}
