package tc3

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func FuzzParseAuthorization(f *testing.F) {
	for _, v := range vectors {
		f.Add(v.auth())
	}
	f.Add("TC3-HMAC-SHA256 Credential=AKID/2023-11-14/ssm/tc3_request,SignedHeaders=content-type;host;x-tc-action,Signature=" + testSig)
	f.Add("TC3-HMAC-SHA256 Signature=" + testSig + " , Credential=a/2024-02-29/tag/tc3_request , SignedHeaders=content-type;host")
	f.Add("TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2026-11-27/ssm/tc3_request, SignedHeaders=host;content-type, Signature=" + testSig)
	f.Add("")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := ParseAuthorization(h)
		if err != nil {
			if !errors.Is(err, ErrInvalidAuthorization) {
				t.Fatalf("err = %#v, want kind %v", err, InvalidAuthorization)
			}
			return
		}
		if !slices.IsSorted(a.SignedHeaders) || !isLowerHex(a.Signature, 64) {
			t.Fatalf("accepted %+v", a)
		}
		b, err := ParseAuthorization(a.String())
		if err != nil || !equalAuth(a, b) {
			t.Fatalf("String() = %q re-parses to %+v, %v; want %+v", a.String(), b, err, a)
		}
	})
}

// FuzzVerify sends vector A's request with a fuzzed Authorization header,
// X-TC-Timestamp and body. The server clock is the timestamp itself when it
// parses, so the fuzzer reaches the signature check.
func FuzzVerify(f *testing.F) {
	a := vectors[0]
	ts := strconv.FormatInt(a.req.Timestamp, 10)
	f.Add(a.auth(), ts, []byte(testBody))
	f.Add(a.auth(), ts, []byte(`{"SecretName":"test","VersionId":"v2"}`))
	f.Add(a.auth(), "1795817609", []byte(testBody))
	f.Add(strings.Replace(a.auth(), "content-type;host", "content-type;host;x-tc-action", 1), ts, []byte(testBody))
	f.Add(vectors[2].auth(), "1700000000", []byte(testBody))
	f.Add("TC3-HMAC-SHA256", "-1", []byte{})
	f.Fuzz(func(t *testing.T, auth, tsHeader string, body []byte) {
		r := httptest.NewRequest("POST", "http://"+a.req.Host+"/", bytes.NewReader(body))
		r.Header.Set("Content-Type", a.req.ContentType)
		r.Header.Set("X-TC-Action", "GetSecretValue")
		r.Header["Authorization"] = []string{auth}
		r.Header["X-Tc-Timestamp"] = []string{tsHeader}
		now := time.Unix(a.req.Timestamp, 0)
		if n, err := strconv.ParseInt(tsHeader, 10, 64); err == nil && n >= 0 && n <= maxTimestamp {
			now = time.Unix(n, 0)
		}
		s, err := ParseRequest(r, body, "ssm", now, MaxSkew)
		if err == nil {
			err = s.Verify([]byte(testSecretKey))
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Kind < InvalidAuthorization || e.Kind > SignatureFailure {
				t.Fatalf("err = %#v, want an *Error of a known kind", err)
			}
			return
		}
		checkVerified(t, s, body)
	})
}

// checkVerified fails unless s is exactly what Sign produces for its request.
func checkVerified(t *testing.T, s *Signed, body []byte) {
	t.Helper()
	a := vectors[0].req
	req := &Request{Method: "POST", Host: a.Host, ContentType: a.ContentType, Body: body,
		Timestamp: s.Timestamp, Service: "ssm"}
	switch h := s.Authorization.SignedHeaders; {
	case slices.Equal(h, []string{"content-type", "host"}):
	case slices.Equal(h, []string{"content-type", "host", "x-tc-action"}):
		req.Headers = http.Header{"X-Tc-Action": {"GetSecretValue"}}
	default:
		t.Fatalf("verified with SignedHeaders %q", h)
	}
	if got, want := s.Authorization.Signature, Sign([]byte(testSecretKey), req); got != want {
		t.Fatalf("verified signature %s, Sign gives %s", got, want)
	}
}
