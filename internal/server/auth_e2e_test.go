package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	apitc3 "github.com/coffer-secrets/coffer/internal/api/tc3"
	"github.com/coffer-secrets/coffer/internal/signature/tc3"
)

const unknownKeyID = "AKIDcofferUNKNOWN000000000000000000"

// createBody is a CreateSecret request body for name.
func createBody(name string) []byte {
	return []byte(fmt.Sprintf(`{"SecretName":%q,"SecretString":"v"}`, name))
}

// sized returns CreateSecret bodies of exactly n bytes.
func sized(n int) func(name string) []byte {
	return func(name string) []byte {
		head, tail := fmt.Sprintf(`{"SecretName":%q,"SecretString":"`, name), `"}`
		return []byte(head + strings.Repeat("x", n-len(head)-len(tail)) + tail)
	}
}

// resign signs r again over body with another identity or service.
func resign(body []byte, id, key, service string, at time.Time) func(*http.Request) {
	return func(r *http.Request) { tc3.SignRequest(r, body, id, []byte(key), service, at) }
}

// setAuth rewrites the Authorization header.
func setAuth(f func(string) string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", f(r.Header.Get("Authorization"))) }
}

// wantRefused checks that a raw response is a TC3 error with code, sent with
// HTTP 200, a message and a RequestId.
func wantRefused(t *testing.T, r rawResponse, code string) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Errorf("HTTP status: got %d, want 200", r.Status)
	}
	if got := r.code(); got != code {
		t.Fatalf("code: got %q, want %s (%v)", got, code, r.Body)
	}
	resp := r.Body["Response"].(map[string]any)
	if id, _ := resp["RequestId"].(string); id == "" {
		t.Errorf("no RequestId in %v", r.Body)
	}
	if msg, _ := resp["Error"].(map[string]any)["Message"].(string); msg == "" {
		t.Errorf("no error Message in %v", r.Body)
	}
}

// rebind returns s reporting its failures to t, for use in subtests.
func rebind(s *testServer, t testing.TB) *testServer {
	c := *s
	c.t = t
	return &c
}

// TestAuthRefused sends CreateSecret requests the TC3 edge must refuse, and
// checks each refusal created nothing.
func TestAuthRefused(t *testing.T) {
	s := startServer(t, "")
	now := time.Now()
	expired := now.Add(-10 * time.Minute)
	tests := []struct {
		name   string
		body   func(name string) []byte // createBody when nil
		key    string                   // testSecret when ""
		at     time.Time                // now when zero
		mutate func(r *http.Request, body []byte)
		want   string
	}{
		{name: "wrong secret key", key: "wrongSecretKey0000000000000000000000000", want: "AuthFailure.SignatureFailure"},
		{name: "unknown SecretId", mutate: func(r *http.Request, b []byte) { resign(b, unknownKeyID, testSecret, "ssm", now)(r) },
			want: "AuthFailure.SecretIdNotFound"},
		{name: "body tampered after signing", mutate: func(r *http.Request, b []byte) {
			tampered := bytes.Replace(b, []byte(`"v"`), []byte(`"w"`), 1)
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(tampered)), int64(len(tampered))
		}, want: "AuthFailure.SignatureFailure"},
		{name: "signature of another request", mutate: func(r *http.Request, b []byte) {
			resign(createBody("someone-else"), testKeyID, testSecret, "ssm", now)(r)
		}, want: "AuthFailure.SignatureFailure"},
		{name: "missing Authorization", mutate: func(r *http.Request, _ []byte) { r.Header.Del("Authorization") },
			want: "AuthFailure.InvalidAuthorization"},
		{name: "wrong algorithm", mutate: func(r *http.Request, _ []byte) {
			setAuth(func(h string) string { return strings.Replace(h, tc3.Algorithm, "TC3-HMAC-SHA1", 1) })(r)
		}, want: "AuthFailure.InvalidAuthorization"},
		{name: "garbage Authorization", mutate: func(r *http.Request, _ []byte) { setAuth(func(string) string { return "garbage" })(r) },
			want: "AuthFailure.InvalidAuthorization"},
		{name: "truncated signature", mutate: func(r *http.Request, _ []byte) {
			setAuth(func(h string) string { return h[:len(h)-1] })(r)
		}, want: "AuthFailure.InvalidAuthorization"},
		{name: "scope service tag", mutate: func(r *http.Request, b []byte) { resign(b, testKeyID, testSecret, "tag", now)(r) },
			want: "AuthFailure.InvalidAuthorization"},
		{name: "scope service cvm", mutate: func(r *http.Request, b []byte) { resign(b, testKeyID, testSecret, "cvm", now)(r) },
			want: "AuthFailure.InvalidAuthorization"},
		{name: "scope date not the timestamp's", mutate: func(r *http.Request, _ []byte) {
			day := now.UTC().Format("2006-01-02")
			setAuth(func(h string) string {
				return strings.Replace(h, day, now.UTC().AddDate(0, 0, -1).Format("2006-01-02"), 1)
			})(r)
		}, want: "AuthFailure.InvalidAuthorization"},
		{name: "X-TC-Token", mutate: func(r *http.Request, _ []byte) { r.Header.Set("X-TC-Token", "sts-token") },
			want: "AuthFailure.TokenFailure"},
		{name: "Content-Type changed after signing", mutate: func(r *http.Request, _ []byte) {
			r.Header.Set("Content-Type", "application/json; charset=utf-8")
		}, want: "AuthFailure.SignatureFailure"},
		{name: "Host changed after signing", mutate: func(r *http.Request, _ []byte) { r.Host = "ssm.tencentcloudapi.com" },
			want: "AuthFailure.SignatureFailure"},
		{name: "missing X-TC-Timestamp", mutate: func(r *http.Request, _ []byte) { r.Header.Del("X-TC-Timestamp") },
			want: "AuthFailure.InvalidAuthorization"},
		{name: "X-TC-Timestamp not a number", mutate: func(r *http.Request, _ []byte) { r.Header.Set("X-TC-Timestamp", "soon") },
			want: "AuthFailure.InvalidAuthorization"},
		{name: "two Authorization headers", mutate: func(r *http.Request, _ []byte) {
			r.Header.Add("Authorization", r.Header.Get("Authorization"))
		}, want: "AuthFailure.InvalidAuthorization"},
		{name: "query string on POST", mutate: func(r *http.Request, _ []byte) { r.URL.RawQuery = "SecretName=other" },
			want: "AuthFailure.InvalidAuthorization"},
		{name: "GET", mutate: func(r *http.Request, _ []byte) { r.Method = http.MethodGet }, want: "UnsupportedProtocol"},
		{name: "PUT", mutate: func(r *http.Request, _ []byte) { r.Method = http.MethodPut }, want: "UnsupportedProtocol"},
		{name: "body over 256 KiB", body: sized(apitc3.MaxBody + 1), want: "RequestSizeLimitExceeded"},
		// A body of exactly the limit is read and authenticated; its value is too long.
		{name: "body of exactly 256 KiB", body: sized(apitc3.MaxBody), want: "InvalidParameterValue"},

		// Several faults at once: the first in the order of spec §1.3 wins.
		{name: "expired and unknown SecretId", at: expired,
			mutate: func(r *http.Request, b []byte) { resign(b, unknownKeyID, testSecret, "ssm", expired)(r) },
			want:   "AuthFailure.SignatureExpire"},
		{name: "expired and wrong key", at: expired, key: "wrongSecretKey0000000000000000000000000",
			want: "AuthFailure.SignatureExpire"},
		{name: "scope tag and expired", mutate: func(r *http.Request, b []byte) { resign(b, testKeyID, testSecret, "tag", expired)(r) },
			want: "AuthFailure.InvalidAuthorization"},
		{name: "token and wrong key", key: "wrongSecretKey0000000000000000000000000",
			mutate: func(r *http.Request, _ []byte) { r.Header.Set("X-TC-Token", "sts-token") },
			want:   "AuthFailure.TokenFailure"}, // a token names a session, checked before the signature
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := rebind(s, t)
			name := fmt.Sprintf("refused-%d", i)
			body := createBody(name)
			if tt.body != nil {
				body = tt.body(name)
			}
			key, at := tt.key, tt.at
			if key == "" {
				key = testSecret
			}
			if at.IsZero() {
				at = now
			}
			var mutate func(*http.Request)
			if tt.mutate != nil {
				mutate = func(r *http.Request) { tt.mutate(r, body) }
			}
			wantRefused(t, s.raw("CreateSecret", body, key, at, mutate), tt.want)
			newSSM(t, s.URL(), testKeyID, testSecret, testRegion).
				fails("ResourceNotFound", "DescribeSecret", map[string]any{"SecretName": name})
		})
	}
	wantSecretCount(t, s, 0)
}

func wantSecretCount(t *testing.T, s *testServer, want int) {
	t.Helper()
	got := newSSM(t, s.URL(), testKeyID, testSecret, testRegion).must("GetServiceStatus", nil)["TotalCount"]
	if got != float64(want) {
		t.Fatalf("secrets stored: got %v, want %d", got, want)
	}
}

// TestAuthTimestampWindow signs at fixed distances from a fixed server clock.
func TestAuthTimestampWindow(t *testing.T) {
	t0 := time.Date(2030, 6, 15, 12, 0, 0, 0, time.UTC)
	clock := &testClock{now: t0}
	s := startClocked(t, clock)
	tests := []struct {
		skew time.Duration
		want string // "" for accepted
	}{
		{-301 * time.Second, "AuthFailure.SignatureExpire"},
		{301 * time.Second, "AuthFailure.SignatureExpire"},
		{-24 * time.Hour, "AuthFailure.SignatureExpire"},
		{-300 * time.Second, ""},
		{300 * time.Second, ""},
		{-299 * time.Second, ""},
		{299 * time.Second, ""},
	}
	for i, tt := range tests {
		t.Run(tt.skew.String(), func(t *testing.T) {
			s := rebind(s, t)
			name := fmt.Sprintf("skew-%d", i)
			r := s.raw("CreateSecret", createBody(name), testSecret, t0.Add(tt.skew), nil)
			c := clockedClient{t: t, s: s, clock: clock}
			if tt.want != "" {
				wantRefused(t, r, tt.want)
				c.fails("ResourceNotFound", "DescribeSecret", map[string]any{"SecretName": name})
				return
			}
			if code := r.code(); code != "" {
				t.Fatalf("got code %s, want success", code)
			}
			c.must("DescribeSecret", map[string]any{"SecretName": name})
		})
	}
}

// TestAuthOfficialClientWrongCredentials uses the Tencent SDK itself.
func TestAuthOfficialClientWrongCredentials(t *testing.T) {
	s := startServer(t, "")
	tests := []struct {
		name, id, key, want string
	}{
		{"wrong secret key", testKeyID, "wrongSecretKey0000000000000000000000000", "AuthFailure.SignatureFailure"},
		{"unknown SecretId", unknownKeyID, testSecret, "AuthFailure.SecretIdNotFound"},
		{"empty secret key", testKeyID, "", "AuthFailure.SignatureFailure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newSSM(t, s.URL(), tt.id, tt.key, testRegion)
			c.fails(tt.want, "CreateSecret", map[string]any{"SecretName": "sdk-refused", "SecretString": "v"})
			c.fails(tt.want, "GetRegions", nil)
		})
	}
	wantSecretCount(t, s, 0)
}

// TestAuthReplayWithinWindow sends one signed read twice: Tencent has no
// replay check inside the ±300 s window, and clients retry.
func TestAuthReplayWithinWindow(t *testing.T) {
	s := startServer(t, "")
	s.client(testRegion).must("CreateSecret", map[string]any{"SecretName": "replayed", "SecretString": "same twice"})
	body, err := json.Marshal(map[string]any{"SecretName": "replayed", "VersionId": "SSM_Current"})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	var ids []string
	for i := range 2 {
		r := s.raw("GetSecretValue", body, testSecret, at, nil)
		if code := r.code(); code != "" {
			t.Fatalf("send %d: got code %s, want success", i+1, code)
		}
		resp := r.Body["Response"].(map[string]any)
		if resp["SecretString"] != "same twice" {
			t.Fatalf("send %d: got %v, want SecretString %q", i+1, resp["SecretString"], "same twice")
		}
		ids = append(ids, resp["RequestId"].(string))
	}
	if ids[0] == ids[1] {
		t.Errorf("both sends got RequestId %s, want one each", ids[0])
	}
}
