package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/client"
)

// fake is a stand-in server that answers with scripted replies, the last
// one repeating, and records what it was sent.
type fake struct {
	*httptest.Server
	mu      sync.Mutex
	replies []reply
	got     []*http.Request
}

// reply is one scripted answer: an HTTP status other than 200, or a
// Tencent error code, or (both empty) a success carrying body.
type reply struct {
	status int
	code   string
	body   map[string]any
}

func throttled() reply         { return reply{code: "RequestLimitExceeded"} }
func failed(code string) reply { return reply{code: code} }
func ok(body map[string]any) reply {
	return reply{body: body}
}

func newFake(t *testing.T, replies ...reply) *fake {
	f := &fake{replies: replies}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.got = append(f.got, r.Clone(context.Background()))
	rep := f.replies[min(len(f.got), len(f.replies))-1]
	f.mu.Unlock()
	if rep.status != 0 {
		w.WriteHeader(rep.status)
		return
	}
	resp := map[string]any{"RequestId": "req-1"}
	for k, v := range rep.body {
		resp[k] = v
	}
	if rep.code != "" {
		resp["Error"] = map[string]string{"Code": rep.code, "Message": "scripted"}
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"Response": resp})
}

func (f *fake) requests() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*http.Request(nil), f.got...)
}

func fakeClient(t *testing.T, url string, creds client.CredentialsProvider, retry client.RetryPolicy) *client.Client {
	t.Helper()
	if creds == nil {
		creds = client.StaticCredentials("AKIDfake", "key")
	}
	c, err := client.New(client.Options{Endpoint: url, Credentials: creds, Retry: retry, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var regions = map[string]any{"Regions": []string{"ap-guangzhou"}}

func TestRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		replies  []reply
		call     func(*client.Client) error
		attempts int
		wantCode string // "" for success
	}{
		{"throttled read", []reply{throttled(), failed("RequestLimitExceeded.UinLimitExceeded"), ok(regions)}, getRegions, 3, ""},
		{"throttled delete", []reply{throttled(), ok(map[string]any{"DeleteTime": 1})}, deleteSecret, 2, ""},
		{"HTTP 429", []reply{{status: http.StatusTooManyRequests}, ok(regions)}, getRegions, 2, ""},
		{"internal error on a read", []reply{failed("InternalError"), failed("ServiceUnavailable"), ok(regions)}, getRegions, 3, ""},
		{"proxy error on a read", []reply{{status: http.StatusBadGateway}, ok(regions)}, getRegions, 2, ""},
		{"internal error on a delete", []reply{failed("InternalError"), ok(nil)}, deleteSecret, 1, "InternalError"},
		{"not found", []reply{failed("ResourceNotFound"), ok(regions)}, getRegions, 1, "ResourceNotFound"},
		{"always throttled", []reply{throttled()}, getRegions, 4, "RequestLimitExceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, tt.replies...)
			err := tt.call(fakeClient(t, f.URL, nil, fastRetry))
			if got := client.CodeOf(err); got != tt.wantCode || (tt.wantCode == "" && err != nil) {
				t.Errorf("got %v, want code %q", err, tt.wantCode)
			}
			if got := len(f.requests()); got != tt.attempts {
				t.Errorf("attempts: got %d, want %d", got, tt.attempts)
			}
		})
	}
}

func getRegions(c *client.Client) error {
	_, err := c.GetRegions(context.Background())
	return err
}

func deleteSecret(c *client.Client) error {
	_, err := c.DeleteSecret(context.Background(), "s", 7)
	return err
}

// TestRetryBackOff checks the waits grow and stay within the policy.
func TestRetryBackOff(t *testing.T) {
	f := newFake(t, throttled())
	policy := client.RetryPolicy{MaxAttempts: 4, BaseDelay: 20 * time.Millisecond, MaxDelay: 40 * time.Millisecond}
	start := time.Now()
	if err := getRegions(fakeClient(t, f.URL, nil, policy)); !client.IsThrottled(err) {
		t.Fatalf("got %v, want throttled", err)
	}
	// Waits: [10,20] + [20,40] + [20,40] ms.
	if d := time.Since(start); d < 50*time.Millisecond || d > 2*time.Second {
		t.Errorf("three back-offs took %v, want 50 ms to 100 ms plus overhead", d)
	}
}

func TestRetryStopsWithContext(t *testing.T) {
	t.Parallel()
	f := newFake(t, throttled())
	c := fakeClient(t, f.URL, nil, client.RetryPolicy{BaseDelay: time.Hour, MaxDelay: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.GetRegions(ctx); !client.IsThrottled(err) {
		t.Errorf("got %v, want the throttling error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("returned after %v, want soon after the context ended", d)
	}
}

// TestRetryConnectionRefused: no connection means the call never ran, so
// even a delete is retried.
func TestRetryConnectionRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cnt := newCounter()
	c, err := client.New(client.Options{Endpoint: "http://" + addr, Credentials: client.StaticCredentials("a", "b"),
		Retry: fastRetry, HTTPClient: &http.Client{Transport: cnt}})
	if err != nil {
		t.Fatal(err)
	}
	err = deleteSecret(c)
	if !client.IsUnavailable(err) {
		t.Errorf("got %v, want IsUnavailable", err)
	}
	if got := cnt.total(); got != 4 {
		t.Errorf("attempts: got %d, want 4", got)
	}
}

// TestRetryOnRealServerThrottling runs against a server limited to two
// calls a second per action: a burst of calls all succeed, some retried.
func TestRetryOnRealServerThrottling(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "", serverLimits{Action: 5})
	cnt := newCounter()
	c, err := client.New(client.Options{Endpoint: srv.url, Credentials: client.StaticCredentials(testKeyID, testSecret),
		HTTPClient: &http.Client{Transport: cnt}, Retry: client.RetryPolicy{MaxAttempts: 10, BaseDelay: 50 * time.Millisecond, MaxDelay: 400 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := c.GetRegions(context.Background()); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if n := cnt.count("GetRegions"); n <= 10 {
		t.Errorf("requests: got %d, want more than 10 (some throttled and retried)", n)
	}
}

// dropFirst is a proxy to a real server that forwards every request but
// answers the first PutSecretValue or CreateSecret with 502, as a proxy
// losing the answer would.
type dropFirst struct {
	proxy   *httputil.ReverseProxy
	dropped atomic.Bool
}

func (d *dropFirst) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a := r.Header.Get("X-TC-Action")
	if (a == "PutSecretValue" || a == "CreateSecret") && d.dropped.CompareAndSwap(false, true) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		d.proxy.ServeHTTP(rec, r)
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	d.proxy.ServeHTTP(w, r)
}

func TestRetriedWriteFindsItself(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "", serverLimits{})
	direct := mustClient(t, srv.url, nil)
	u, _ := url.Parse(srv.url)
	mustCreate(t, direct, "taken", "a")
	ref, err := direct.PutSecretValue(context.Background(), client.PutSecretValueInput{Name: "taken", VersionID: "v9", Value: client.Text("a")})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		call     func(*client.Client) (*client.VersionRef, error)
		wantCode string
	}{
		{"put", func(c *client.Client) (*client.VersionRef, error) {
			return c.PutSecretValue(context.Background(), client.PutSecretValueInput{Name: "taken", Value: client.Text("b")})
		}, ""},
		{"create", func(c *client.Client) (*client.VersionRef, error) {
			return c.CreateSecret(context.Background(), client.CreateSecretInput{Name: "fresh", Value: client.Text("c")})
		}, ""},
		{"put over another value", func(c *client.Client) (*client.VersionRef, error) {
			return c.PutSecretValue(context.Background(), client.PutSecretValueInput{Name: "taken", VersionID: ref.VersionID, Value: client.Text("other")})
		}, client.CodeVersionExists},
		{"create over another secret", func(c *client.Client) (*client.VersionRef, error) {
			return c.CreateSecret(context.Background(), client.CreateSecretInput{Name: "taken", Value: client.Text("other")})
		}, client.CodeSecretExists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proxy := httptest.NewServer(&dropFirst{proxy: httputil.NewSingleHostReverseProxy(u)})
			defer proxy.Close()
			_, err := tt.call(mustClient(t, proxy.URL, nil))
			if client.CodeOf(err) != tt.wantCode || (tt.wantCode == "" && err != nil) {
				t.Errorf("got %v, want code %q", err, tt.wantCode)
			}
		})
	}
}

func TestTemporaryCredentials(t *testing.T) {
	t.Parallel()
	f := newFake(t, failed(client.CodeTokenFailure), ok(regions))
	var fetches atomic.Int32
	creds := client.TemporaryCredentials(func(context.Context) (client.Credentials, error) {
		n := fetches.Add(1)
		return client.Credentials{SecretID: "AKIDtmp", SecretKey: "k", Token: "token-" + string(rune('0'+n)),
			Expires: time.Now().Add(time.Hour)}, nil
	})
	c := fakeClient(t, f.URL, creds, fastRetry)
	if err := getRegions(c); err != nil {
		t.Fatalf("GetRegions: %v", err)
	}
	if err := getRegions(c); err != nil {
		t.Fatalf("GetRegions: %v", err)
	}
	var tokens []string
	for _, r := range f.requests() {
		tokens = append(tokens, r.Header.Get("X-TC-Token"))
	}
	if want := []string{"token-1", "token-2", "token-2"}; !equal(tokens, want) {
		t.Errorf("tokens sent: got %v, want %v (renewed once after TokenFailure, then reused)", tokens, want)
	}
	if n := fetches.Load(); n != 2 {
		t.Errorf("fetches: got %d, want 2", n)
	}
}

func TestEnvCredentials(t *testing.T) {
	f := newFake(t, ok(regions))
	t.Setenv("COFFER_SECRET_ID", "AKIDenv")
	t.Setenv("COFFER_SECRET_KEY", "envkey")
	t.Setenv("COFFER_SESSION_TOKEN", "envtoken")
	t.Setenv("COFFER_ADDR", f.URL)
	t.Setenv("COFFER_REGION", "ap-shanghai")
	c, err := client.FromEnv(client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := getRegions(c); err != nil {
		t.Fatal(err)
	}
	r := f.requests()[0]
	if h := r.Header; h.Get("X-TC-Token") != "envtoken" || h.Get("X-TC-Region") != "ap-shanghai" ||
		!bytes.Contains([]byte(h.Get("Authorization")), []byte("Credential=AKIDenv/")) {
		t.Errorf("headers: got %v", h)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
