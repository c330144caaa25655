package sigv4

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

func FuzzParseAuthorization(f *testing.F) {
	for _, v := range suiteVectors {
		f.Add(AuthorizationHeader(testAccessKeyID, []byte(testSecretKey), &v.req))
	}
	r, _ := mustSDKReceived(f)
	f.Add(r.Header.Get("Authorization"))
	f.Add("AWS4-HMAC-SHA256 Signature=" + testSig + " , Credential=a/20240229/r/s/aws4_request , SignedHeaders=host")
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261127/us-east-1/secretsmanager/aws4_request, SignedHeaders=x-amz-date;host, Signature=" + testSig)
	f.Add("")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := ParseAuthorization(h)
		if err != nil {
			if !errors.Is(err, ErrIncompleteSignature) {
				t.Fatalf("err = %#v, want kind %v", err, IncompleteSignature)
			}
			return
		}
		if !slices.IsSorted(a.SignedHeaders) || !slices.Contains(a.SignedHeaders, "host") || !isLowerHex(a.Signature, 64) {
			t.Fatalf("accepted %+v", a)
		}
		b, err := ParseAuthorization(a.String())
		if err != nil || !equalAuth(a, b) {
			t.Fatalf("String() = %q re-parses to %+v, %v; want %+v", a.String(), b, err, a)
		}
	})
}

// FuzzVerify sends a GetSecretValue with a fuzzed Authorization header,
// X-Amz-Date, body and amz-sdk-request value. The server clock is the
// request time itself when X-Amz-Date parses, so the fuzzer reaches the
// signature check.
func FuzzVerify(f *testing.F) {
	sdk, body := mustSDKReceived(f)
	date := testTime.Format(timeLayout)
	f.Add(sdk.Header.Get("Authorization"), date, body, "attempt=1; max=3")
	f.Add(sdk.Header.Get("Authorization"), date, body, "  attempt=1;    max=3 ")
	f.Add(sdk.Header.Get("Authorization"), date, body, "attempt=2; max=3")
	f.Add(sdk.Header.Get("Authorization"), "20261127T222652Z", body, "attempt=1; max=3")
	f.Add(sdk.Header.Get("Authorization"), date, []byte("{}"), "attempt=1; max=3")
	own := &Request{Method: "POST", Host: "127.0.0.1:5055", Path: "/", Body: body, Time: testTime,
		Headers: http.Header{"X-Amz-Date": {date}}, Region: testRegion, Service: testService}
	f.Add(AuthorizationHeader(testAccessKeyID, []byte(testSecretKey), own), date, body, "")
	f.Add("AWS4-HMAC-SHA256", "-1", []byte{}, "")
	f.Fuzz(func(t *testing.T, auth, amzDate string, body []byte, sdkRequest string) {
		r := httptest.NewRequest("POST", "http://127.0.0.1:5055/", nil)
		r.Header.Set("Content-Type", "application/x-amz-json-1.1")
		r.Header.Set("X-Amz-Target", testTarget)
		r.Header.Set("Amz-Sdk-Invocation-Id", sdk.Header.Get("Amz-Sdk-Invocation-Id"))
		r.Header["Amz-Sdk-Request"] = []string{sdkRequest}
		r.Header["Authorization"] = []string{auth}
		r.Header["X-Amz-Date"] = []string{amzDate}
		now := testTime
		if at, err := time.Parse(timeLayout, amzDate); err == nil {
			now = at
		}
		s, err := ParseRequest(r, body, testService, now, MaxSkew)
		if err == nil {
			err = s.Verify([]byte(testSecretKey))
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Kind < MissingAuthentication || e.Kind > SignatureMismatch || e.Message() == "" {
				t.Fatalf("err = %#v, want an *Error of a known kind", err)
			}
			if strings.Contains(err.Error()+e.Message(), testSecretKey) {
				t.Fatalf("error %q leaks the key", err)
			}
			return
		}
		checkVerified(t, r, s, body)
	})
}

// checkVerified fails unless s carries exactly the signature Sign computes
// for the request r, rebuilt from its signed headers.
func checkVerified(t *testing.T, r *http.Request, s *Signed, body []byte) {
	t.Helper()
	a := s.Authorization
	req := &Request{Method: r.Method, Host: r.Host, Path: "/", Headers: http.Header{}, Body: body,
		Time: s.Time, Region: a.Region, Service: a.Service}
	for _, n := range a.SignedHeaders {
		if n != "host" {
			req.Headers[n] = r.Header.Values(n)
		}
	}
	if got, want := a.Signature, Sign([]byte(testSecretKey), req); got != want {
		t.Fatalf("verified signature %s, Sign gives %s", got, want)
	}
	if got, want := AuthorizationHeader(a.AccessKeyID, []byte(testSecretKey), req), a.String(); got != want {
		t.Fatalf("verified %q, AuthorizationHeader gives %q", want, got)
	}
}
