package bench

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/signature/sigv4"
	"github.com/coffer-secrets/coffer/internal/signature/tc3"
)

func sprint(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// signedRequest signs a request for a with body the way a worker does, at
// now, with st carried over from earlier requests.
func signedRequest(s *signer, st *signState, a action, body []byte, now time.Time) *http.Request {
	var p payload
	s.prepare(&p, body)
	r := httptest.NewRequest(http.MethodPost, "http://"+s.host+"/", bytes.NewReader(body))
	s.proto.setHeaders(r.Header, a, []string{s.region})
	s.sign(st, r.Header, a, &p, now)
	return r
}

// TestSignerAcrossDays signs with one worker's state just before and just
// after midnight UTC, and at a later second, and has Coffer's verifiers
// check each: the cached signing key must follow the day.
func TestSignerAcrossDays(t *testing.T) {
	times := []time.Time{
		time.Date(2026, 11, 27, 23, 59, 59, 0, time.UTC),
		time.Date(2026, 11, 28, 0, 0, 1, 0, time.UTC),
		time.Date(2026, 11, 28, 0, 0, 1, 500, time.UTC),
		time.Date(2026, 11, 28, 13, 0, 0, 0, time.Local),
	}
	body := Tencent.body(nil, actGet, "bench-x-1", "", "", 0, 0)
	for _, p := range []Protocol{Tencent, AWS} {
		s := &signer{proto: p, id: testID, secret: testSecret, host: "Coffer.Example:8443", region: testRegion}
		var st signState
		for _, now := range times {
			r := signedRequest(s, &st, actDescribe, body, now)
			var err error
			if p == AWS {
				var sg *sigv4.Signed
				if sg, err = sigv4.ParseRequest(r, body, "secretsmanager", now, time.Second); err == nil {
					err = sg.Verify([]byte(testSecret))
				}
			} else {
				var sg *tc3.Signed
				if sg, err = tc3.ParseRequest(r, body, "ssm", now, time.Second); err == nil {
					err = sg.Verify([]byte(testSecret))
				}
			}
			if err != nil {
				t.Errorf("%s at %v: %v", p, now.UTC(), err)
			}
		}
	}
}

// TestSignerMatchesLibrary: the cheap TC3 signature is the one tc3.Sign
// computes the long way.
func TestSignerMatchesLibrary(t *testing.T) {
	now := time.Unix(1795817608, 0)
	body := []byte(`{"SecretName":"test","VersionId":"v1"}`)
	s := &signer{proto: Tencent, id: "AKIDEXAMPLE", secret: "SECRETKEYEXAMPLE", host: "127.0.0.1:43753", region: testRegion}
	var st signState
	r := signedRequest(s, &st, actGet, body, now)
	// Vector A of the spec, captured from the Tencent Cloud Go SDK.
	want := "TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2026-11-27/ssm/tc3_request, SignedHeaders=content-type;host, Signature=4da627700ccfb246385cb88390be04c428c5ad70f7a8b5612b3d9964d9ee45db"
	if got := r.Header.Get("Authorization"); got != want {
		t.Errorf("Authorization = %q, want %q", got, want)
	}
}

func BenchmarkSign(b *testing.B) {
	body := Tencent.body(nil, actGet, "bench-default-17", "", "", 0, 0)
	for _, p := range []Protocol{Tencent, AWS} {
		b.Run(p.String(), func(b *testing.B) {
			s := &signer{proto: p, id: testID, secret: testSecret, host: "127.0.0.1:8443", region: testRegion}
			var pl payload
			s.prepare(&pl, body)
			var st signState
			h := make(http.Header)
			b.ReportAllocs()
			for b.Loop() {
				s.sign(&st, h, actGet, &pl, time.Now())
			}
		})
	}
}
