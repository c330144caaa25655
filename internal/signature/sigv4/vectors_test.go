package sigv4

import (
	"bufio"
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The example credentials of the AWS SigV4 test suite.
const (
	testAccessKeyID = "AKIDEXAMPLE"
	testSecretKey   = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

// suiteVector is a request of the AWS SigV4 test suite, with its published
// signature.
type suiteVector struct {
	name string
	req  Request
	sig  string
}

var (
	suiteTime     = time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	suiteTime2011 = time.Date(2011, 9, 9, 23, 36, 0, 0, time.UTC)
)

// suiteVectors come from the 2015 suite (get-vanilla, post-vanilla,
// get-vanilla-query-order-key-case) and the 2011 suite (get-vanilla, which
// signs Date instead of X-Amz-Date).
var suiteVectors = []suiteVector{
	{"get-vanilla", Request{Method: "GET", Host: "example.amazonaws.com", Path: "/",
		Headers: http.Header{"X-Amz-Date": {"20150830T123600Z"}}, Time: suiteTime, Region: "us-east-1", Service: "service"},
		"5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
	{"post-vanilla", Request{Method: "POST", Host: "example.amazonaws.com", Path: "/",
		Headers: http.Header{"X-Amz-Date": {"20150830T123600Z"}}, Time: suiteTime, Region: "us-east-1", Service: "service"},
		"5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
	{"get-vanilla-query-order-key-case", Request{Method: "GET", Host: "example.amazonaws.com", Path: "/",
		RawQuery: "Param2=value2&Param1=value1",
		Headers:  http.Header{"X-Amz-Date": {"20150830T123600Z"}}, Time: suiteTime, Region: "us-east-1", Service: "service"},
		"b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
	{"2011 get-vanilla", Request{Method: "GET", Host: "host.foo.com", Path: "/",
		Headers: http.Header{"Date": {"Mon, 09 Sep 2011 23:36:00 GMT"}}, Time: suiteTime2011, Region: "us-east-1", Service: "host"},
		"b27ccfbfa7df52a200ff74193ca6e32d4b48b8856fab7ebf1c595d0670a7e470"},
}

func TestSuiteVectorsSign(t *testing.T) {
	for _, v := range suiteVectors {
		t.Run(v.name, func(t *testing.T) {
			if got := Sign([]byte(testSecretKey), &v.req); got != v.sig {
				t.Errorf("Sign = %s, want %s", got, v.sig)
			}
			h := AuthorizationHeader(testAccessKeyID, []byte(testSecretKey), &v.req)
			if want := ", Signature=" + v.sig; !strings.HasSuffix(h, want) {
				t.Errorf("AuthorizationHeader = %q, want suffix %q", h, want)
			}
		})
	}
}

// TestSuiteIntermediates checks the canonical request and string to sign the
// suites publish alongside the signatures.
func TestSuiteIntermediates(t *testing.T) {
	const emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	tests := []struct {
		v                 suiteVector
		canonical, toSign string
	}{
		{suiteVectors[0],
			"GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" + emptyHash,
			"AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"},
		{suiteVectors[3],
			"GET\n/\n\ndate:Mon, 09 Sep 2011 23:36:00 GMT\nhost:host.foo.com\n\ndate;host\n" + emptyHash,
			"AWS4-HMAC-SHA256\n20110909T233600Z\n20110909/us-east-1/host/aws4_request\n366b91fb121d72a00f46bbe8d395f53a102b06dfb7e79636515208ed3fa606b1"},
	}
	for _, tt := range tests {
		t.Run(tt.v.name, func(t *testing.T) {
			if got := CanonicalRequest(&tt.v.req); got != tt.canonical {
				t.Errorf("CanonicalRequest = %q, want %q", got, tt.canonical)
			}
			if got := StringToSign(&tt.v.req); got != tt.toSign {
				t.Errorf("StringToSign = %q, want %q", got, tt.toSign)
			}
		})
	}
}

// TestSuiteVectorsVerify sends each vector to ParseRequest as a server
// receives it, the 2011 one through the Date fallback.
func TestSuiteVectorsVerify(t *testing.T) {
	for _, v := range suiteVectors {
		t.Run(v.name, func(t *testing.T) {
			r := suiteHTTP(v)
			s, err := ParseRequest(r, nil, v.req.Service, v.req.Time, MaxSkew)
			if err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
			if err := s.Verify([]byte(testSecretKey)); err != nil {
				t.Errorf("Verify: %v", err)
			}
			if !s.Time.Equal(v.req.Time) {
				t.Errorf("Time = %v, want %v", s.Time, v.req.Time)
			}
		})
	}
}

// suiteHTTP is the request of v as a server receives it, signed.
func suiteHTTP(v suiteVector) *http.Request {
	url := "http://" + v.req.Host + v.req.Path
	if v.req.RawQuery != "" {
		url += "?" + v.req.RawQuery
	}
	r := httptest.NewRequest(v.req.Method, url, nil)
	for name, vals := range v.req.Headers {
		r.Header[name] = vals
	}
	r.Header.Set("Authorization", AuthorizationHeader(testAccessKeyID, []byte(testSecretKey), &v.req))
	return r
}

// received returns req as a net/http server would see it: written to the
// wire and parsed back, so Host leaves the header map and Content-Length
// joins it.
func received(tb testing.TB, req *http.Request) *http.Request {
	tb.Helper()
	var wire bytes.Buffer
	if err := req.Write(&wire); err != nil {
		tb.Fatalf("writing request: %v", err)
	}
	r, err := http.ReadRequest(bufio.NewReader(&wire))
	if err != nil {
		tb.Fatalf("reading request: %v", err)
	}
	return r
}
