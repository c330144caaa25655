package sigv4

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The AWS SDK for Go v2 signer is the independent producer: requests it signs
// must verify here.

const (
	testService = "secretsmanager"
	testRegion  = "us-east-1"
	testBody    = `{"SecretId":"prod/db","VersionStage":"AWSCURRENT"}`
	testTarget  = "secretsmanager.GetSecretValue"
)

// testTime is when the SDK signed; spec §1.5 observed a request then.
var testTime = time.Date(2026, 11, 27, 22, 26, 51, 0, time.UTC)

// sdkRequest builds a GetSecretValue request as aws-sdk-go-v2 sends it,
// before signing: the headers it signs besides host and x-amz-date.
func sdkRequest(tb testing.TB, url string, body []byte) *http.Request {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", testTarget)
	req.Header.Set("Amz-Sdk-Invocation-Id", "6f1e2b2c-4c1a-4f5e-9d57-3a0e0c6b7f11")
	req.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
	return req
}

// sdkSign signs req with the SDK, hashing body unless payloadHash is set.
func sdkSign(tb testing.TB, req *http.Request, body []byte, creds aws.Credentials, payloadHash, region string, at time.Time) {
	tb.Helper()
	if payloadHash == "" {
		payloadHash = hashHex(body)
	}
	err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payloadHash, testService, region, at)
	if err != nil {
		tb.Fatalf("SignHTTP: %v", err)
	}
}

var testCreds = aws.Credentials{AccessKeyID: testAccessKeyID, SecretAccessKey: testSecretKey}

func TestVerifySDKSigned(t *testing.T) {
	tests := []struct {
		name        string
		url         string
		body        string
		region      string
		token       string
		payloadHash string // as given to the SDK; "" hashes the body
		edit        func(*http.Request)
		wantSigned  string // the SignedHeaders the SDK chose
	}{
		{name: "GetSecretValue",
			wantSigned: "amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date;x-amz-target"},
		{name: "other region and host", url: "http://secretsmanager.eu-west-1.example:8443/", region: "eu-west-1"},
		{name: "no port", url: "http://secretsmanager.example/"},
		{name: "empty body", body: "-",
			wantSigned: "amz-sdk-invocation-id;amz-sdk-request;content-type;host;x-amz-date;x-amz-target"},
		{name: "session token", token: "FwoGZXIvYXdzEJr//////////wEaDOZ+token==",
			wantSigned: "amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date;x-amz-security-token;x-amz-target"},
		{name: "repeated values and runs of spaces", edit: func(r *http.Request) {
			r.Header.Add("X-Coffer-Multi", "a   b  c")
			r.Header.Add("X-Coffer-Multi", "d    e")
			r.Header.Add("X-Coffer-Multi", "f,g")
			r.Header.Set("X-Coffer-Spaced", "lead  and   trail")
			r.Header.Set("X-Coffer-Empty", "")
		}},
		{name: "path and query", url: "http://127.0.0.1:5055/a%20b/c%2Fd/%C3%BC/~x.y_z-?b=2&a=1&a=0&c=x+y&d=~-._%2B%2F&e=&f"},
		{name: "unsigned payload", payloadHash: unsignedPayload, edit: func(r *http.Request) {
			r.Header.Set("X-Amz-Content-Sha256", unsignedPayload)
		}},
		{name: "signed payload hash", payloadHash: hashHex([]byte(testBody)), edit: func(r *http.Request) {
			r.Header.Set("X-Amz-Content-Sha256", hashHex([]byte(testBody)))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(orDefault(tt.body, testBody))
			if tt.body == "-" {
				body = nil
			}
			req := sdkRequest(t, orDefault(tt.url, "http://127.0.0.1:5055/"), body)
			if tt.edit != nil {
				tt.edit(req)
			}
			creds := testCreds
			creds.SessionToken = tt.token
			region := orDefault(tt.region, testRegion)
			sdkSign(t, req, body, creds, tt.payloadHash, region, testTime)

			r := received(t, req)
			s, err := ParseRequest(r, body, testService, testTime.Add(time.Second), MaxSkew)
			if err != nil {
				t.Fatalf("ParseRequest: %v\nAuthorization: %s", err, req.Header.Get("Authorization"))
			}
			if err := s.Verify([]byte(testSecretKey)); err != nil {
				t.Errorf("Verify: %v", err)
			}
			if err := s.VerifySigningKey(SigningKey([]byte(testSecretKey), "20261127", region, testService)); err != nil {
				t.Errorf("VerifySigningKey: %v", err)
			}
			a := s.Authorization
			if a.AccessKeyID != testAccessKeyID || a.Date != "20261127" || a.Region != region || a.Service != testService {
				t.Errorf("Authorization = %+v, want %s/20261127/%s/%s", a, testAccessKeyID, region, testService)
			}
			if got := joinNames(a.SignedHeaders); tt.wantSigned != "" && got != tt.wantSigned {
				t.Errorf("SignedHeaders = %s, want %s", got, tt.wantSigned)
			}
			if s.SessionToken != tt.token {
				t.Errorf("SessionToken = %q, want %q", s.SessionToken, tt.token)
			}
			if got, want := s.UnsignedPayload, tt.payloadHash == unsignedPayload; got != want {
				t.Errorf("UnsignedPayload = %t, want %t", got, want)
			}
		})
	}
}

func joinNames(names []string) string {
	var b bytes.Buffer
	for i, n := range names {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(n)
	}
	return b.String()
}

// TestSignRequestMatchesSDK: over the same headers, SignRequest and the SDK
// write the same Authorization header.
func TestSignRequestMatchesSDK(t *testing.T) {
	for _, url := range []string{"http://127.0.0.1:5055/", "https://secretsmanager.us-east-1.amazonaws.com/", "http://h:1/a%20b/c?z=1&y=%2F"} {
		t.Run(url, func(t *testing.T) {
			body := []byte(testBody)
			newReq := func() *http.Request {
				// No body on the request itself, so the SDK does not sign
				// content-length, which SignRequest leaves out.
				req := httptest.NewRequest(http.MethodPost, url, nil)
				req.Header = http.Header{}
				req.Header.Set("Content-Type", "application/x-amz-json-1.1")
				req.Header.Set("X-Amz-Target", testTarget)
				return req
			}
			ours, sdk := newReq(), newReq()
			SignRequestWithToken(ours, body, testAccessKeyID, []byte(testSecretKey), "tok", testRegion, testService, testTime)
			creds := testCreds
			creds.SessionToken = "tok"
			sdkSign(t, sdk, body, creds, "", testRegion, testTime)
			if got, want := ours.Header.Get("Authorization"), sdk.Header.Get("Authorization"); got != want {
				t.Errorf("SignRequest: %s\nSDK:         %s", got, want)
			}
		})
	}
}

// TestVerifySDKRoundTrip sends SDK-signed requests over real HTTP, so Host,
// Content-Length and the transport's own headers are what a server sees.
func TestVerifySDKRoundTrip(t *testing.T) {
	results := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		results <- verify(r, body, testService, []byte(testSecretKey), testTime.Add(2*time.Second))
	}))
	defer srv.Close()
	for _, token := range []string{"", "session-token"} {
		body := []byte(testBody)
		req := sdkRequest(t, srv.URL+"/", body)
		creds := testCreds
		creds.SessionToken = token
		sdkSign(t, req, body, creds, "", testRegion, testTime)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if err := <-results; err != nil {
			t.Errorf("token %q: server: %v", token, err)
		}
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
