package tc3

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The vectors of spec §1.5: A and B were captured from the Tencent Cloud Go
// SDK, C from an independent implementation.
const (
	testSecretID  = "AKIDEXAMPLE"
	testSecretKey = "SECRETKEYEXAMPLE"
	testBody      = `{"SecretName":"test","VersionId":"v1"}`
)

type vector struct {
	name string
	req  Request
	date string // the scope date
	sig  string
}

// auth is the Authorization header the SDK sent for v.
func (v vector) auth() string {
	return "TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/" + v.date +
		"/ssm/tc3_request, SignedHeaders=content-type;host, Signature=" + v.sig
}

var vectors = []vector{
	{"A", Request{Method: "POST", Host: "127.0.0.1:43753", ContentType: "application/json",
		Body: []byte(testBody), Timestamp: 1795817608, Service: "ssm"},
		"2026-11-27", "4da627700ccfb246385cb88390be04c428c5ad70f7a8b5612b3d9964d9ee45db"},
	{"B", Request{Method: "GET", Host: "127.0.0.1:43753", ContentType: "application/x-www-form-urlencoded",
		Timestamp: 1795817608, Service: "ssm"},
		"2026-11-27", "1865ab9cdc57eafb432b96fe10c4aabd83024adb58d58f9c3a03ce04a7312604"},
	{"C", Request{Method: "POST", Host: "ssm.tencentcloudapi.com", ContentType: "application/json",
		Body: []byte(testBody), Timestamp: 1700000000, Service: "ssm"},
		"2023-11-14", "80f9e5c0233c81d7109a85bc4a37e707b64b9542b8e13acca4e264bda3813580"},
}

func TestVectorsSign(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			if got := Sign([]byte(testSecretKey), &v.req); got != v.sig {
				t.Errorf("Sign = %s, want %s", got, v.sig)
			}
			if got, want := utcDate(v.req.Timestamp), v.date; got != want {
				t.Errorf("scope date = %s, want %s", got, want)
			}
			got := AuthorizationHeader(testSecretID, []byte(testSecretKey), &v.req)
			if want := v.auth(); got != want {
				t.Errorf("AuthorizationHeader = %q, want %q", got, want)
			}
		})
	}
}

func TestVectorCIntermediates(t *testing.T) {
	r := &vectors[2].req
	const payload = "3379574ead3c924e6c096158c0b5c09405def0374fe5a5c1abd96454d158ac34"
	if got := payloadHash(r.Body, false); got != payload {
		t.Errorf("payload hash = %s, want %s", got, payload)
	}
	wantCanon := "POST\n/\n\ncontent-type:application/json\nhost:ssm.tencentcloudapi.com\n\ncontent-type;host\n" + payload
	if got := CanonicalRequest(r); got != wantCanon {
		t.Errorf("CanonicalRequest = %q, want %q", got, wantCanon)
	}
	wantSTS := "TC3-HMAC-SHA256\n1700000000\n2023-11-14/ssm/tc3_request\n" +
		"b8b505e872a9f6183f8fa36994b9a2ae1b8dabc2db7489da44438d5cf70e0215"
	if got := StringToSign(r); got != wantSTS {
		t.Errorf("StringToSign = %q, want %q", got, wantSTS)
	}
}

// TestVectorsVerify feeds each vector to the server side as an HTTP request
// carrying the expected Authorization, with the clock at the vector's time.
func TestVectorsVerify(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			r := vectorRequest(v)
			s, err := ParseRequest(r, v.req.Body, "ssm", time.Unix(v.req.Timestamp, 0), MaxSkew)
			if err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
			if got, want := s.Authorization.SecretID, testSecretID; got != want {
				t.Errorf("SecretID = %q, want %q", got, want)
			}
			if err := s.Verify([]byte(testSecretKey)); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

// TestSignRequestVectors checks that SignRequest signs as the Go SDK did.
func TestSignRequestVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			req, err := http.NewRequest(v.req.Method, "http://"+v.req.Host+"/", bytes.NewReader(v.req.Body))
			if err != nil {
				t.Fatal(err)
			}
			SignRequest(req, v.req.Body, testSecretID, []byte(testSecretKey), "ssm", time.Unix(v.req.Timestamp, 0))
			if got, want := req.Header.Get("Content-Type"), v.req.ContentType; got != want {
				t.Errorf("Content-Type = %q, want %q", got, want)
			}
			if got, want := req.Header.Get("X-TC-Timestamp"), strconv.FormatInt(v.req.Timestamp, 10); got != want {
				t.Errorf("X-TC-Timestamp = %q, want %q", got, want)
			}
			if got := req.Header.Get("Authorization"); !strings.HasSuffix(got, "Signature="+v.sig) {
				t.Errorf("Authorization = %q, want signature %s", got, v.sig)
			}
		})
	}
}

// vectorRequest builds the request a server receives for v.
func vectorRequest(v vector) *http.Request {
	r := httptest.NewRequest(v.req.Method, "http://"+v.req.Host+"/", bytes.NewReader(v.req.Body))
	r.Header.Set("Content-Type", v.req.ContentType)
	r.Header.Set("X-TC-Timestamp", strconv.FormatInt(v.req.Timestamp, 10))
	r.Header.Set("X-TC-Action", "GetSecretValue")
	r.Header.Set("X-TC-Version", "2019-09-23")
	r.Header.Set("Authorization", v.auth())
	return r
}
