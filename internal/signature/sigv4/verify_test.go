package sigv4

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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

// mustSDKReceived returns an SDK-signed GetSecretValue as a server receives
// it, and its body.
func mustSDKReceived(tb testing.TB) (*http.Request, []byte) {
	tb.Helper()
	body := []byte(testBody)
	req := sdkRequest(tb, "http://127.0.0.1:5055/", body)
	sdkSign(tb, req, body, testCreds, "", testRegion, testTime)
	return received(tb, req), body
}

func TestVerifyFailures(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(r *http.Request, body *[]byte)
		service string        // default testService
		key     string        // default testSecretKey; "-" is none
		skew    time.Duration // how far the server clock is ahead of the request
		want    Kind
	}{
		{name: "ok"},
		{name: "299s late", skew: 299 * time.Second},
		{name: "299s early", skew: -299 * time.Second},
		{name: "300s late", skew: 300 * time.Second},
		{name: "300s early", skew: -300 * time.Second},
		{name: "301s late", skew: 301 * time.Second, want: SignatureExpired},
		{name: "301s early", skew: -301 * time.Second, want: SignatureExpired},
		{name: "300.5s late", skew: 300*time.Second + 500*time.Millisecond, want: SignatureExpired},
		{name: "a day late", skew: 24 * time.Hour, want: SignatureExpired},
		{name: "wrong key", key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ", want: SignatureMismatch},
		{name: "empty key", key: "-", want: SignatureMismatch},
		{name: "tampered body", want: SignatureMismatch, edit: func(_ *http.Request, b *[]byte) {
			*b = []byte(`{"SecretId":"prod/root","VersionStage":"AWSCURRENT"}`)
		}},
		{name: "tampered host", want: SignatureMismatch, edit: func(r *http.Request, _ *[]byte) { r.Host = "127.0.0.1:5056" }},
		{name: "host without port", want: SignatureMismatch, edit: func(r *http.Request, _ *[]byte) { r.Host = "127.0.0.1" }},
		{name: "tampered target", want: SignatureMismatch, edit: func(r *http.Request, _ *[]byte) {
			r.Header.Set("X-Amz-Target", "secretsmanager.DeleteSecret")
		}},
		{name: "target case changed", want: SignatureMismatch, edit: func(r *http.Request, _ *[]byte) {
			r.Header.Set("X-Amz-Target", strings.ToLower(testTarget))
		}},
		{name: "tampered retry header", want: SignatureMismatch, edit: func(r *http.Request, _ *[]byte) {
			r.Header.Set("Amz-Sdk-Request", "attempt=2; max=3")
		}},
		{name: "spaces added to a signed value", edit: func(r *http.Request, _ *[]byte) {
			r.Header.Set("Amz-Sdk-Request", "attempt=1;     max=3")
		}},
		{name: "signed header repeated", want: SignatureMismatch, edit: func(r *http.Request, _ *[]byte) {
			r.Header.Add("X-Amz-Target", testTarget)
		}},
		{name: "tampered content-length", want: SignatureMismatch, edit: func(r *http.Request, _ *[]byte) {
			r.Header.Set("Content-Length", "17")
		}},
		{name: "tampered method", want: SignatureMismatch, edit: func(r *http.Request, _ *[]byte) { r.Method = "PUT" }},
		{name: "tampered path", want: SignatureMismatch, edit: func(r *http.Request, _ *[]byte) { r.URL.Path = "/x" }},
		{name: "query added", want: SignatureMismatch, edit: func(r *http.Request, _ *[]byte) { r.URL.RawQuery = "a=b" }},
		{name: "tampered signature", want: SignatureMismatch, edit: func(r *http.Request, _ *[]byte) {
			sig := r.Header.Get("Authorization")[len(r.Header.Get("Authorization"))-64:]
			setAuth(r, sig, strings.Repeat("0", 64))
		}},
		{name: "unsigned header changed", edit: func(r *http.Request, _ *[]byte) { r.Header.Set("User-Agent", "curl/8") }},
		{name: "X-Amz-Date moved within the day", want: SignatureMismatch, edit: func(r *http.Request, _ *[]byte) {
			r.Header.Set("X-Amz-Date", "20261127T222652Z")
		}},
		{name: "unsigned payload claimed", want: SignatureMismatch, edit: func(r *http.Request, _ *[]byte) {
			r.Header.Set("X-Amz-Content-Sha256", unsignedPayload)
		}},
		{name: "body hash sent unsigned", edit: func(r *http.Request, _ *[]byte) {
			r.Header.Set("X-Amz-Content-Sha256", hashHex([]byte(testBody)))
		}},
		{name: "other body hash", want: SignatureMismatch, edit: func(r *http.Request, _ *[]byte) {
			r.Header.Set("X-Amz-Content-Sha256", hashHex([]byte("{}")))
		}},
		{name: "streaming payload", want: IncompleteSignature, edit: func(r *http.Request, _ *[]byte) {
			r.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
		}},
		{name: "repeated content sha256", want: IncompleteSignature, edit: func(r *http.Request, _ *[]byte) {
			r.Header.Add("X-Amz-Content-Sha256", unsignedPayload)
			r.Header.Add("X-Amz-Content-Sha256", unsignedPayload)
		}},
		{name: "missing authorization", want: MissingAuthentication, edit: func(r *http.Request, _ *[]byte) { r.Header.Del("Authorization") }},
		{name: "blank authorization", want: MissingAuthentication, edit: func(r *http.Request, _ *[]byte) { r.Header.Set("Authorization", " ") }},
		{name: "repeated authorization", want: IncompleteSignature, edit: func(r *http.Request, _ *[]byte) {
			r.Header.Add("Authorization", r.Header.Get("Authorization"))
		}},
		{name: "malformed authorization", want: IncompleteSignature, edit: func(r *http.Request, _ *[]byte) {
			setAuth(r, ", Signature=", ", Sig=")
		}},
		{name: "other algorithm", want: IncompleteSignature, edit: func(r *http.Request, _ *[]byte) {
			setAuth(r, "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256")
		}},
		{name: "other terminator", want: IncompleteSignature, edit: func(r *http.Request, _ *[]byte) { setAuth(r, "aws4_request", "aws4_requesx") }},
		{name: "scope service in header", want: ScopeMismatch, edit: func(r *http.Request, _ *[]byte) {
			setAuth(r, "/secretsmanager/", "/kms/")
		}},
		{name: "scope service expected", service: "kms", want: ScopeMismatch},
		{name: "scope date not X-Amz-Date's", want: ScopeMismatch, edit: func(r *http.Request, _ *[]byte) {
			setAuth(r, "/20261127/", "/20261126/")
		}},
		{name: "signed headers without host", want: IncompleteSignature, edit: func(r *http.Request, _ *[]byte) {
			setAuth(r, "content-type;host;", "content-type;")
		}},
		{name: "unsorted signed headers", want: IncompleteSignature, edit: func(r *http.Request, _ *[]byte) {
			setAuth(r, "content-type;host", "host;content-type")
		}},
		{name: "upper-case signed headers", want: IncompleteSignature, edit: func(r *http.Request, _ *[]byte) {
			setAuth(r, "content-type;host", "Content-Type;Host")
		}},
		{name: "signed header absent", want: IncompleteSignature, edit: func(r *http.Request, _ *[]byte) {
			r.Header.Del("Amz-Sdk-Invocation-Id")
		}},
		{name: "signed header not sent", want: IncompleteSignature, edit: func(r *http.Request, _ *[]byte) {
			setAuth(r, ";x-amz-target", ";x-amz-target;x-coffer-extra")
		}},
		{name: "missing X-Amz-Date", want: IncompleteSignature, edit: func(r *http.Request, _ *[]byte) { r.Header.Del("X-Amz-Date") }},
		{name: "X-Amz-Date absent, Date present", want: IncompleteSignature, edit: func(r *http.Request, _ *[]byte) {
			r.Header.Del("X-Amz-Date")
			r.Header.Set("Date", testTime.Format(http.TimeFormat))
		}},
		{name: "malformed X-Amz-Date", want: IncompleteSignature, edit: func(r *http.Request, _ *[]byte) {
			r.Header.Set("X-Amz-Date", "2026-11-27T22:26:51Z")
		}},
		{name: "X-Amz-Date as HTTP date", want: IncompleteSignature, edit: func(r *http.Request, _ *[]byte) {
			r.Header.Set("X-Amz-Date", testTime.Format(http.TimeFormat))
		}},
		{name: "malformed X-Amz-Date, good Date", want: IncompleteSignature, edit: func(r *http.Request, _ *[]byte) {
			r.Header.Set("X-Amz-Date", "yesterday")
			r.Header.Set("Date", testTime.Format(http.TimeFormat))
		}},
		{name: "repeated X-Amz-Date", want: IncompleteSignature, edit: func(r *http.Request, _ *[]byte) {
			r.Header.Add("X-Amz-Date", "20261127T222651Z")
		}},
		{name: "unsigned session token", want: IncompleteSignature, edit: func(r *http.Request, _ *[]byte) {
			r.Header.Set("X-Amz-Security-Token", "tok")
		}},
		{name: "malformed query", want: IncompleteSignature, edit: func(r *http.Request, _ *[]byte) { r.URL.RawQuery = "a=%zz" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, body := mustSDKReceived(t)
			sig := r.Header.Get("Authorization")[len(r.Header.Get("Authorization"))-64:]
			if tt.edit != nil {
				tt.edit(r, &body)
			}
			key := []byte(orDefault(tt.key, testSecretKey))
			if tt.key == "-" {
				key = nil
			}
			err := verify(r, body, orDefault(tt.service, testService), key, testTime.Add(tt.skew))
			if got := kindOf(t, err); got != tt.want {
				t.Errorf("kind = %v (%v), want %v", got, err, tt.want)
			}
			if err == nil {
				return
			}
			if !errors.Is(err, &Error{Kind: tt.want}) {
				t.Errorf("errors.Is(%v, kind %v) = false", err, tt.want)
			}
			var e *Error
			errors.As(err, &e)
			for _, leak := range []string{testSecretKey, sig[:16]} {
				if strings.Contains(err.Error(), leak) || strings.Contains(e.Message(), leak) {
					t.Errorf("error %q / %q contains %q", err, e.Message(), leak)
				}
			}
		})
	}
}

// TestErrorMessages checks the client-facing text against messages AWS sent.
func TestErrorMessages(t *testing.T) {
	const mismatch = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	at := func(s string) time.Time {
		t, err := time.Parse(timeLayout, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	tests := []struct {
		name         string
		signed, now  time.Time
		edit         func(*http.Request)
		service, key string
		want         string
	}{
		{name: "expired", signed: at("20251105T220858Z"), now: at("20251106T132608Z"),
			want: "Signature expired: 20251105T220858Z is now earlier than 20251106T132108Z (20251106T132608Z - 5 min.)"},
		{name: "not yet current", signed: at("20181120T211543Z"), now: at("20181120T211029Z"),
			want: "Signature not yet current: 20181120T211543Z is still later than 20181120T211529Z (20181120T211029Z + 5 min.)"},
		{name: "mismatch", key: "other", want: mismatch},
		{name: "missing", edit: func(r *http.Request) { r.Header.Del("Authorization") }, want: "Missing Authentication Token"},
		{name: "service", service: "kms", want: "Credential should be scoped to correct service: 'kms'."},
		{name: "date", edit: func(r *http.Request) { setAuth(r, "/20261127/", "/20261126/") },
			want: "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20261126' != '20261127', from '20261127T222651Z'."},
		{name: "no date", edit: func(r *http.Request) { r.Header.Del("X-Amz-Date") },
			want: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."},
		{name: "host unsigned", edit: func(r *http.Request) { setAuth(r, "content-type;host;", "content-type;") },
			want: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."},
		{name: "malformed", edit: func(r *http.Request) { setAuth(r, "Credential=", "Credentials=") },
			want: "The request signature does not conform to AWS standards."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			signed, now := cmpTime(tt.signed, testTime), cmpTime(tt.now, testTime)
			req := sdkRequest(t, "http://127.0.0.1:5055/", []byte(testBody))
			SignRequest(req, []byte(testBody), testAccessKeyID, []byte(testSecretKey), testRegion, testService, signed)
			r := received(t, req)
			if tt.edit != nil {
				tt.edit(r)
			}
			err := verify(r, []byte(testBody), orDefault(tt.service, testService), []byte(orDefault(tt.key, testSecretKey)), now)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want an *Error", err)
			}
			if got := e.Message(); got != tt.want {
				t.Errorf("Message() = %q\nwant        %q", got, tt.want)
			}
		})
	}
}

func cmpTime(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t
}

func TestKinds(t *testing.T) {
	for k := MissingAuthentication; k <= SignatureMismatch; k++ {
		e := &Error{Kind: k}
		if strings.HasPrefix(k.String(), "kind(") || e.Message() == "" {
			t.Errorf("kind %d: String %q, Message %q", k, k, e.Message())
		}
	}
	if got, want := Kind(0).String(), "kind(0)"; got != want {
		t.Errorf("Kind(0) = %q, want %q", got, want)
	}
	if got := (&Error{Kind: 99}).Message(); got != "" {
		t.Errorf("Message of kind 99 = %q, want empty", got)
	}
	if got, want := (&Error{Kind: SignatureExpired, Reason: "x"}).Error(), "sigv4: signature expired: x"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// TestVerifyReplay: SigV4 has no nonce, so an identical request verifies
// again within its validity; rejecting replays is not this package's job.
func TestVerifyReplay(t *testing.T) {
	r, body := mustSDKReceived(t)
	for i := range 2 {
		if err := verify(r, body, testService, []byte(testSecretKey), testTime.Add(10*time.Second)); err != nil {
			t.Errorf("attempt %d: %v", i, err)
		}
	}
}

func TestVerifySigningKeyCached(t *testing.T) {
	r, body := mustSDKReceived(t)
	s, err := ParseRequest(r, body, testService, testTime, MaxSkew)
	if err != nil {
		t.Fatalf("ParseRequest: %v", err)
	}
	a := s.Authorization
	if err := s.VerifySigningKey(SigningKey([]byte(testSecretKey), a.Date, a.Region, a.Service)); err != nil {
		t.Errorf("VerifySigningKey: %v", err)
	}
	wrong := map[string][]byte{
		"other day":     SigningKey([]byte(testSecretKey), "20261126", a.Region, a.Service),
		"other region":  SigningKey([]byte(testSecretKey), a.Date, "us-east-2", a.Service),
		"other service": SigningKey([]byte(testSecretKey), a.Date, a.Region, "kms"),
		"nil":           nil,
	}
	for name, k := range wrong {
		if got := kindOf(t, s.VerifySigningKey(k)); got != SignatureMismatch {
			t.Errorf("%s key: kind = %v, want %v", name, got, SignatureMismatch)
		}
	}
	if got := kindOf(t, new(Signed).Verify([]byte(testSecretKey))); got != SignatureMismatch {
		t.Errorf("zero Signed: kind = %v, want %v", got, SignatureMismatch)
	}
}

// TestVerifyMidnight: the scope date is the UTC date, whatever the zone of
// the clocks involved.
func TestVerifyMidnight(t *testing.T) {
	tokyo := time.FixedZone("UTC+9", 9*3600)
	for _, at := range []time.Time{time.Date(2026, 11, 27, 23, 59, 59, 0, time.UTC), time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)} {
		req := sdkRequest(t, "http://127.0.0.1:5055/", []byte(testBody))
		SignRequest(req, []byte(testBody), testAccessKeyID, []byte(testSecretKey), testRegion, testService, at.In(tokyo))
		if err := verify(received(t, req), []byte(testBody), testService, []byte(testSecretKey), at.Add(time.Second).In(tokyo)); err != nil {
			t.Errorf("%v: %v", at, err)
		}
	}
}

// TestSignRequestRoundTrip sends requests signed by SignRequest over real
// HTTP.
func TestSignRequestRoundTrip(t *testing.T) {
	type result struct {
		s   *Signed
		err error
	}
	results := make(chan result, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s, err := ParseRequest(r, body, testService, testTime.Add(2*time.Second), MaxSkew)
		if err == nil {
			err = s.Verify([]byte(testSecretKey))
		}
		results <- result{s, err}
	}))
	defer srv.Close()
	tests := []struct{ name, token, contentSHA, path string }{
		{name: "plain"},
		{name: "session token", token: "FwoGZXIvYXdzEJr//token=="},
		{name: "unsigned payload", contentSHA: unsignedPayload},
		{name: "odd path", path: "a%20b/c%2Fd?x=1&a=%2F"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(testBody)
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/"+tt.path, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", testTarget)
			if tt.contentSHA != "" {
				req.Header.Set("X-Amz-Content-Sha256", tt.contentSHA)
			}
			SignRequestWithToken(req, body, testAccessKeyID, []byte(testSecretKey), tt.token, testRegion, testService, testTime)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got := <-results
			if got.err != nil {
				t.Fatalf("server: %v", got.err)
			}
			if got.s.SessionToken != tt.token || got.s.UnsignedPayload != (tt.contentSHA == unsignedPayload) {
				t.Errorf("Signed = %+v, want token %q, unsigned %t", got.s, tt.token, tt.contentSHA != "")
			}
		})
	}
}

func TestRedacts(t *testing.T) {
	req := suiteVectors[1].req
	req.Body = []byte(`{"SecretString":"hunter2"}`)
	req.Headers = http.Header{"X-Amz-Security-Token": {"sts-token-value"}}
	req.RawQuery = "SecretString=swordfish"
	s := Signed{Authorization: Authorization{AccessKeyID: testAccessKeyID, Date: "20150830", Region: "us-east-1", Service: "service",
		SignedHeaders: []string{"host", "x-amz-security-token"}}, SessionToken: "sts-token-value"}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("signing", "req", req, "ptr", &req, "signed", s, "signedPtr", &s)
	out := fmt.Sprintf("%v %+v %#v %s %q %v | %v %+v %#v %s %q %v", req, req, req, req, req, &req, s, s, s, s, s, &s) +
		logged.String() + req.String() + s.String()
	for _, secret := range []string{"hunter2", "sts-token-value", "swordfish"} {
		if strings.Contains(out, secret) {
			t.Errorf("printed value contains %q: %s", secret, out)
		}
	}
	for _, want := range []string{"example.amazonaws.com", testAccessKeyID, "session-token=[redacted]"} {
		if !strings.Contains(out, want) {
			t.Errorf("printed values lack %q: %s", want, out)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	r, body := mustSDKReceived(b)
	key := []byte(testSecretKey)
	b.Run("derive", func(b *testing.B) {
		for b.Loop() {
			s, err := ParseRequest(r, body, testService, testTime, MaxSkew)
			if err != nil || s.Verify(key) != nil {
				b.Fatal("verification failed")
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		cached := SigningKey(key, "20261127", testRegion, testService)
		for b.Loop() {
			s, err := ParseRequest(r, body, testService, testTime, MaxSkew)
			if err != nil || s.VerifySigningKey(cached) != nil {
				b.Fatal("verification failed")
			}
		}
	})
	b.Run("sign", func(b *testing.B) {
		req := suiteVectors[1].req
		for b.Loop() {
			Sign(key, &req)
		}
	})
}
