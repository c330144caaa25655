package tc3

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// verify runs the server side in the order a server does: parse, look up the
// key (here: given), verify.
func verify(r *http.Request, body []byte, service string, key []byte, now time.Time) error {
	s, err := ParseRequest(r, body, service, now, MaxSkew)
	if err != nil {
		return err
	}
	return s.Verify(key)
}

// kindOf returns the Kind of err, 0 for nil.
func kindOf(tb testing.TB, err error) Kind {
	tb.Helper()
	if err == nil {
		return 0
	}
	var e *Error
	if !errors.As(err, &e) {
		tb.Fatalf("err = %#v, want an *Error", err)
	}
	return e.Kind
}

func setAuth(r *http.Request, from, to string) {
	r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), from, to, 1))
}

func TestVerifyVectorA(t *testing.T) {
	a := vectors[0]
	tests := []struct {
		name    string
		edit    func(r *http.Request, body *[]byte)
		service string // default "ssm"
		key     string // default testSecretKey
		skew    int64  // seconds the server clock is ahead of the request
		want    Kind
	}{
		{name: "ok"},
		{name: "300s late", skew: 300},
		{name: "300s early", skew: -300},
		{name: "301s late", skew: 301, want: SignatureExpire},
		{name: "301s early", skew: -301, want: SignatureExpire},
		{name: "a day late", skew: 86400, want: SignatureExpire},
		{name: "wrong key", key: "SECRETKEYEXAMPLF", want: SignatureFailure},
		{name: "empty key", key: "-", want: SignatureFailure},
		{name: "tampered body", want: SignatureFailure, edit: func(_ *http.Request, b *[]byte) {
			*b = []byte(`{"SecretName":"prod","VersionId":"v1"}`)
		}},
		{name: "tampered host", want: SignatureFailure, edit: func(r *http.Request, _ *[]byte) { r.Host = "127.0.0.1:43754" }},
		{name: "host without port", want: SignatureFailure, edit: func(r *http.Request, _ *[]byte) { r.Host = "127.0.0.1" }},
		{name: "tampered content-type", want: SignatureFailure, edit: func(r *http.Request, _ *[]byte) {
			r.Header.Set("Content-Type", "text/plain")
		}},
		{name: "upper-case content-type value", edit: func(r *http.Request, _ *[]byte) {
			r.Header.Set("Content-Type", "Application/JSON")
		}},
		{name: "tampered method", want: SignatureFailure, edit: func(r *http.Request, _ *[]byte) { r.Method = "PUT" }},
		{name: "tampered signature", want: SignatureFailure, edit: func(r *http.Request, _ *[]byte) { setAuth(r, "4da6", "4da7") }},
		{name: "repeated content sha256", want: InvalidAuthorization, edit: func(r *http.Request, _ *[]byte) {
			r.Header.Add("X-TC-Content-SHA256", "UNSIGNED-PAYLOAD")
			r.Header.Add("X-TC-Content-SHA256", "UNSIGNED-PAYLOAD")
		}},
		{name: "unsigned payload claimed", want: SignatureFailure, edit: func(r *http.Request, _ *[]byte) {
			r.Header.Set("X-TC-Content-SHA256", "UNSIGNED-PAYLOAD")
		}},
		{name: "other content sha256 ignored", edit: func(r *http.Request, _ *[]byte) {
			r.Header.Set("X-TC-Content-SHA256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
		}},
		{name: "unsigned action header changed", edit: func(r *http.Request, _ *[]byte) { r.Header.Set("X-TC-Action", "PutSecretValue") }},
		{name: "missing authorization", want: InvalidAuthorization, edit: func(r *http.Request, _ *[]byte) { r.Header.Del("Authorization") }},
		{name: "repeated authorization", want: InvalidAuthorization, edit: func(r *http.Request, _ *[]byte) {
			r.Header.Add("Authorization", r.Header.Get("Authorization"))
		}},
		{name: "bad algorithm", want: InvalidAuthorization, edit: func(r *http.Request, _ *[]byte) { setAuth(r, "TC3-HMAC-SHA256", "TC3-HMAC-SHA1") }},
		{name: "scope date not the timestamp's", want: InvalidAuthorization, edit: func(r *http.Request, _ *[]byte) {
			setAuth(r, "2026-11-27", "2026-11-28")
		}},
		{name: "scope service in header", want: InvalidAuthorization, edit: func(r *http.Request, _ *[]byte) { setAuth(r, "/ssm/", "/cvm/") }},
		{name: "scope service expected", service: "kms", want: InvalidAuthorization},
		{name: "upper-case signed headers", want: InvalidAuthorization, edit: func(r *http.Request, _ *[]byte) {
			setAuth(r, "content-type;host", "Content-Type;Host")
		}},
		{name: "unsorted signed headers", want: InvalidAuthorization, edit: func(r *http.Request, _ *[]byte) {
			setAuth(r, "content-type;host", "host;content-type")
		}},
		{name: "signed header absent", want: InvalidAuthorization, edit: func(r *http.Request, _ *[]byte) {
			setAuth(r, "content-type;host", "content-type;host;x-tc-region")
		}},
		{name: "content-type absent", want: InvalidAuthorization, edit: func(r *http.Request, _ *[]byte) { r.Header.Del("Content-Type") }},
		{name: "content-type repeated", want: InvalidAuthorization, edit: func(r *http.Request, _ *[]byte) {
			r.Header.Add("Content-Type", "text/plain")
		}},
		{name: "short signature", want: InvalidAuthorization, edit: func(r *http.Request, _ *[]byte) { setAuth(r, "45db", "45d") }},
		{name: "long signature", want: InvalidAuthorization, edit: func(r *http.Request, _ *[]byte) { setAuth(r, "45db", "45db00") }},
		{name: "missing timestamp", want: InvalidAuthorization, edit: func(r *http.Request, _ *[]byte) { r.Header.Del("X-TC-Timestamp") }},
		{name: "non-numeric timestamp", want: InvalidAuthorization, edit: func(r *http.Request, _ *[]byte) {
			r.Header.Set("X-TC-Timestamp", "1795817608s")
		}},
		{name: "signed timestamp", want: InvalidAuthorization, edit: func(r *http.Request, _ *[]byte) {
			r.Header.Set("X-TC-Timestamp", "+1795817608")
		}},
		{name: "zero-padded timestamp", want: InvalidAuthorization, edit: func(r *http.Request, _ *[]byte) {
			r.Header.Set("X-TC-Timestamp", "01795817608")
		}},
		{name: "huge timestamp", want: InvalidAuthorization, edit: func(r *http.Request, _ *[]byte) {
			r.Header.Set("X-TC-Timestamp", "99999999999999999999")
		}},
		{name: "repeated timestamp", want: InvalidAuthorization, edit: func(r *http.Request, _ *[]byte) {
			r.Header.Add("X-TC-Timestamp", "1795817608")
		}},
		{name: "timestamp moved within the day", want: SignatureFailure, edit: func(r *http.Request, _ *[]byte) {
			r.Header.Set("X-TC-Timestamp", "1795817609")
		}},
		{name: "query on POST", want: InvalidAuthorization, edit: func(r *http.Request, _ *[]byte) { r.URL.RawQuery = "SecretName=prod" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, body := vectorRequest(a), []byte(testBody)
			if tt.edit != nil {
				tt.edit(r, &body)
			}
			key := []byte(orDefault(tt.key, testSecretKey))
			if tt.key == "-" {
				key = nil
			}
			now := time.Unix(a.req.Timestamp+tt.skew, 0)
			err := verify(r, body, orDefault(tt.service, "ssm"), key, now)
			if got := kindOf(t, err); got != tt.want {
				t.Errorf("kind = %v (%v), want %v", got, err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), a.sig[:16]) {
				t.Errorf("error %q quotes the signature", err)
			}
		})
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// TestErrorsDoNotLeak checks that a failure names neither the key nor the
// signature the server expected.
func TestErrorsDoNotLeak(t *testing.T) {
	a := vectors[0]
	r := vectorRequest(a)
	setAuth(r, a.sig, strings.Repeat("0", 64))
	err := verify(r, []byte(testBody), "ssm", []byte(testSecretKey), time.Unix(a.req.Timestamp, 0))
	if err == nil {
		t.Fatal("verify succeeded, want SignatureFailure")
	}
	for _, secret := range []string{testSecretKey, a.sig, a.sig[:8]} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q contains %q", err, secret)
		}
	}
}

func TestVerifySigningKeyCached(t *testing.T) {
	a := vectors[0]
	s, err := ParseRequest(vectorRequest(a), []byte(testBody), "ssm", time.Unix(a.req.Timestamp, 0), MaxSkew)
	if err != nil {
		t.Fatalf("ParseRequest: %v", err)
	}
	k := SigningKey([]byte(testSecretKey), s.Authorization.Date, s.Authorization.Service)
	if err := s.VerifySigningKey(k); err != nil {
		t.Errorf("VerifySigningKey: %v", err)
	}
	wrong := SigningKey([]byte(testSecretKey), "2026-11-26", "ssm")
	if got := kindOf(t, s.VerifySigningKey(wrong)); got != SignatureFailure {
		t.Errorf("other day's key: kind = %v, want %v", got, SignatureFailure)
	}
	if got := kindOf(t, s.VerifySigningKey(nil)); got != SignatureFailure {
		t.Errorf("nil key: kind = %v, want %v", got, SignatureFailure)
	}
	if got := kindOf(t, new(Signed).Verify([]byte(testSecretKey))); got != SignatureFailure {
		t.Errorf("zero Signed: kind = %v, want %v", got, SignatureFailure)
	}
}

// TestVerifyReplay: TC3 has no nonce, so an identical request verifies again
// within its validity; rejecting replays is not this package's job.
func TestVerifyReplay(t *testing.T) {
	a := vectors[0]
	for i := range 2 {
		err := verify(vectorRequest(a), []byte(testBody), "ssm", []byte(testSecretKey), time.Unix(a.req.Timestamp+10, 0))
		if err != nil {
			t.Errorf("attempt %d: %v", i, err)
		}
	}
}

func TestVerifyExtraSignedHeader(t *testing.T) {
	req := vectors[2].req
	req.Headers = http.Header{"X-Tc-Action": {"GetSecretValue"}}
	canon := CanonicalRequest(&req)
	if want := "host:ssm.tencentcloudapi.com\nx-tc-action:getsecretvalue\n\ncontent-type;host;x-tc-action\n"; !strings.Contains(canon, want) {
		t.Errorf("CanonicalRequest = %q, want it to contain %q", canon, want)
	}
	tests := []struct {
		action string
		want   Kind
	}{
		{"GetSecretValue", 0},
		{"getsecretvalue", 0}, // values are lower-cased before signing
		{" GetSecretValue ", 0},
		{"PutSecretValue", SignatureFailure},
		{"", SignatureFailure},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			r := signedHTTP(&req)
			r.Header.Set("X-TC-Action", tt.action)
			err := verify(r, req.Body, "ssm", []byte(testSecretKey), time.Unix(req.Timestamp, 0))
			if got := kindOf(t, err); got != tt.want {
				t.Errorf("kind = %v (%v), want %v", got, err, tt.want)
			}
		})
	}
}

func TestVerifyGetQuery(t *testing.T) {
	req := vectors[1].req
	req.RawQuery = "Limit=10&SearchSecretName=a%2Fb&TagFilters.0.TagKey=env"
	tests := []struct {
		query string
		want  Kind
	}{
		{req.RawQuery, 0},
		{"Limit=10&SearchSecretName=a/b&TagFilters.0.TagKey=env", SignatureFailure}, // not re-encoded
		{"Limit=100&SearchSecretName=a%2Fb&TagFilters.0.TagKey=env", SignatureFailure},
		{"", SignatureFailure},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := signedHTTP(&req)
			r.URL.RawQuery = tt.query
			err := verify(r, nil, "ssm", []byte(testSecretKey), time.Unix(req.Timestamp, 0))
			if got := kindOf(t, err); got != tt.want {
				t.Errorf("kind = %v (%v), want %v", got, err, tt.want)
			}
		})
	}
}

func TestVerifyUnsignedPayload(t *testing.T) {
	req := vectors[0].req
	req.UnsignedPayload = true
	r := signedHTTP(&req)
	r.Header.Set("X-TC-Content-SHA256", "UNSIGNED-PAYLOAD")
	s, err := ParseRequest(r, []byte(`{"any":"body"}`), "ssm", time.Unix(req.Timestamp, 0), MaxSkew)
	if err != nil {
		t.Fatalf("ParseRequest: %v", err)
	}
	if !s.UnsignedPayload {
		t.Errorf("UnsignedPayload = false, want true")
	}
	if err := s.Verify([]byte(testSecretKey)); err != nil {
		t.Errorf("Verify: %v", err)
	}
	r.Header.Del("X-TC-Content-SHA256")
	err = verify(r, req.Body, "ssm", []byte(testSecretKey), time.Unix(req.Timestamp, 0))
	if got := kindOf(t, err); got != SignatureFailure {
		t.Errorf("without the header: kind = %v, want %v", got, SignatureFailure)
	}
}

// TestVerifyMidnight: the scope date is the UTC date, whatever the zone of
// the clocks involved.
func TestVerifyMidnight(t *testing.T) {
	shanghai := time.FixedZone("UTC+8", 8*3600)
	for _, ts := range []int64{1700006399, 1700006400} { // 23:59:59 and 00:00:00 UTC
		req := vectors[2].req
		req.Timestamp = ts
		err := verify(signedHTTP(&req), req.Body, "ssm", []byte(testSecretKey), time.Unix(ts, 0).In(shanghai))
		if err != nil {
			t.Errorf("ts %d: %v", ts, err)
		}
	}
}

// TestSignRequestRoundTrip sends a signed request over real HTTP, so Host,
// port and body are what the server really receives.
func TestSignRequestRoundTrip(t *testing.T) {
	now := time.Unix(1795817608, 0)
	results := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		results <- verify(r, body, "ssm", []byte(testSecretKey), now.Add(2*time.Second))
	}))
	defer srv.Close()
	for _, method := range []string{"POST", "GET"} {
		t.Run(method, func(t *testing.T) {
			body, url := []byte(testBody), srv.URL+"/"
			if method == "GET" {
				body, url = nil, url+"?SecretName=test&VersionId=v1"
			}
			req, err := http.NewRequest(method, url, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-TC-Action", "GetSecretValue")
			SignRequest(req, body, testSecretID, []byte(testSecretKey), "ssm", now)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if err := <-results; err != nil {
				t.Errorf("server: %v", err)
			}
		})
	}
}

// signedHTTP builds the request a server receives for req, signed by the
// test key.
func signedHTTP(req *Request) *http.Request {
	url := "http://" + req.Host + "/"
	if req.RawQuery != "" {
		url += "?" + req.RawQuery
	}
	r := httptest.NewRequest(req.Method, url, bytes.NewReader(req.Body))
	for name, vals := range req.Headers {
		r.Header[name] = vals
	}
	r.Header.Set("Content-Type", req.ContentType)
	r.Header.Set("X-TC-Timestamp", strconv.FormatInt(req.Timestamp, 10))
	r.Header.Set("Authorization", AuthorizationHeader(testSecretID, []byte(testSecretKey), req))
	return r
}

func BenchmarkVerify(b *testing.B) {
	a := vectors[0]
	r, body, now := vectorRequest(a), []byte(testBody), time.Unix(a.req.Timestamp, 0)
	key := []byte(testSecretKey)
	b.Run("derive", func(b *testing.B) {
		for b.Loop() {
			s, err := ParseRequest(r, body, "ssm", now, MaxSkew)
			if err != nil || s.Verify(key) != nil {
				b.Fatal("verification failed")
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		cached := SigningKey(key, a.date, "ssm")
		for b.Loop() {
			s, err := ParseRequest(r, body, "ssm", now, MaxSkew)
			if err != nil || s.VerifySigningKey(cached) != nil {
				b.Fatal("verification failed")
			}
		}
	})
	b.Run("sign", func(b *testing.B) {
		for b.Loop() {
			Sign(key, &a.req)
		}
	})
}

func TestRequestRedacts(t *testing.T) {
	req := vectors[0].req
	req.Body = []byte(`{"SecretString":"hunter2"}`)
	req.Headers = http.Header{"X-Tc-Token": {"sts-token-value"}}
	req.RawQuery = "SecretString=swordfish"
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("signing", "req", req, "ptr", &req)
	out := fmt.Sprintf("%v %+v %#v %s %q %v", req, req, req, req, req, &req) + logged.String() + req.String()
	for _, secret := range []string{"hunter2", "sts-token-value", "swordfish"} {
		if strings.Contains(out, secret) {
			t.Errorf("printed Request contains %q: %s", secret, out)
		}
	}
	if !strings.Contains(out, "127.0.0.1:43753") {
		t.Errorf("printed Request lacks the host: %s", out)
	}
}
