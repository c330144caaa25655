package sigv4

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

const testSig = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"

func equalAuth(a, b Authorization) bool {
	return a.AccessKeyID == b.AccessKeyID && a.Date == b.Date && a.Region == b.Region && a.Service == b.Service &&
		slices.Equal(a.SignedHeaders, b.SignedHeaders) && a.Signature == b.Signature
}

func TestParseAuthorizationAccepts(t *testing.T) {
	want := Authorization{AccessKeyID: "AKIDEXAMPLE", Date: "20150830", Region: "us-east-1", Service: "service",
		SignedHeaders: []string{"host", "x-amz-date"}, Signature: testSig}
	const cred = "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
	tests := []struct{ name, h string }{
		{"sdk", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;x-amz-date, Signature=" + testSig},
		{"no spaces", "AWS4-HMAC-SHA256 " + cred + ",SignedHeaders=host;x-amz-date,Signature=" + testSig},
		{"spaces around commas", "AWS4-HMAC-SHA256  " + cred + " , SignedHeaders=host;x-amz-date ,\tSignature=" + testSig + " "},
		{"other order", "AWS4-HMAC-SHA256 Signature=" + testSig + ", " + cred + ", SignedHeaders=host;x-amz-date"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAuthorization(tt.h)
			if err != nil {
				t.Fatalf("ParseAuthorization: %v", err)
			}
			if !equalAuth(got, want) {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
	if got, want := want.String(), "AWS4-HMAC-SHA256 "+cred+", SignedHeaders=host;x-amz-date, Signature="+testSig; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if got, want := want.Scope(), "20150830/us-east-1/service/aws4_request"; got != want {
		t.Errorf("Scope = %q, want %q", got, want)
	}
}

func TestParseAuthorizationRejects(t *testing.T) {
	const cred = "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
	const sh = "SignedHeaders=host;x-amz-date"
	const sig = "Signature=" + testSig
	tests := []struct{ name, h string }{
		{"empty", ""},
		{"blank", "   "},
		{"algorithm only", "AWS4-HMAC-SHA256"},
		{"other algorithm", "AWS4-HMAC-SHA512 " + cred + ", " + sh + ", " + sig},
		{"lower-case algorithm", "aws4-hmac-sha256 " + cred + ", " + sh + ", " + sig},
		{"sigv4a", "AWS4-ECDSA-P256-SHA256 " + cred + ", " + sh + ", " + sig},
		{"tc3", "TC3-HMAC-SHA256 " + cred + ", " + sh + ", " + sig},
		{"missing part", "AWS4-HMAC-SHA256 " + cred + ", " + sh},
		{"extra part", "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", " + sig + ", Foo=bar"},
		{"repeated part", "AWS4-HMAC-SHA256 " + cred + ", " + cred + ", " + sig},
		{"lower-case key", "AWS4-HMAC-SHA256 credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, " + sh + ", " + sig},
		{"no equals", "AWS4-HMAC-SHA256 Credential AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, " + sh + ", " + sig},
		{"short credential", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/aws4_request, " + sh + ", " + sig},
		{"long credential", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/x/aws4_request, " + sh + ", " + sig},
		{"other terminator", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/tc3_request, " + sh + ", " + sig},
		{"empty access key", "AWS4-HMAC-SHA256 Credential=/20150830/us-east-1/service/aws4_request, " + sh + ", " + sig},
		{"empty region", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830//service/aws4_request, " + sh + ", " + sig},
		{"empty service", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1//aws4_request, " + sh + ", " + sig},
		{"control char in key", "AWS4-HMAC-SHA256 Credential=AKID\x01/20150830/us-east-1/service/aws4_request, " + sh + ", " + sig},
		{"dashed date", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2015-08-30/us-east-1/service/aws4_request, " + sh + ", " + sig},
		{"impossible date", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150230/us-east-1/service/aws4_request, " + sh + ", " + sig},
		{"empty signed headers", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=, " + sig},
		{"no host", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=x-amz-date, " + sig},
		{"unsorted", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=x-amz-date;host, " + sig},
		{"duplicate", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;host;x-amz-date, " + sig},
		{"upper-case header", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=Host;x-amz-date, " + sig},
		{"empty header name", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;;x-amz-date, " + sig},
		{"header with space", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host; x-amz-date, " + sig},
		{"short signature", "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", " + sig[:len(sig)-1]},
		{"long signature", "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", " + sig + "0"},
		{"upper-case signature", "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", Signature=" + strings.ToUpper(testSig)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ParseAuthorization(tt.h)
			if err == nil {
				t.Fatalf("ParseAuthorization = %+v, want an error", a)
			}
			if !errors.Is(err, ErrIncompleteSignature) {
				t.Errorf("err = %v, want kind %v", err, IncompleteSignature)
			}
		})
	}
}

func TestCanonicalValue(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{[]string{"attempt=1; max=3"}, "attempt=1; max=3"},
		{[]string{"  a   b  c  "}, "a b c"},
		{[]string{"a  b", " c ", "d,e"}, "a b,c,d,e"},
		{[]string{"a\t\tb"}, "a\t\tb"},
		{[]string{"\t a \t"}, "a"},
		{[]string{""}, ""},
		{[]string{"", ""}, ","},
	}
	for _, tt := range tests {
		if got := canonicalValue(tt.in); got != tt.want {
			t.Errorf("canonicalValue(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCanonicalURIAndQuery(t *testing.T) {
	uris := []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/a b", "/a%20b"},
		{"/a%20b/c%2Fd", "/a%2520b/c%252Fd"},
		{"/~a-b_c.d/", "/~a-b_c.d/"},
		{"/%C3%BC+", "/%25C3%25BC%2B"},
		{"//x/../y", "//x/../y"},
	}
	for _, tt := range uris {
		if got := canonicalURI(tt.in); got != tt.want {
			t.Errorf("canonicalURI(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	queries := []struct{ in, want string }{
		{"", ""},
		{"Param2=value2&Param1=value1", "Param1=value1&Param2=value2"},
		{"a=2&a=1&b", "a=1&a=2&b="},
		{"a0=x&a=y", "a=y&a0=x"}, // sorted by name before value
		{"q=a+b&r=a%20b&s=a%2Bb", "q=a%20b&r=a%20b&s=a%2Bb"},
		{"k=%2F~-._*", "k=%2F~-._%2A"},
		{"&&a=1&", "a=1"},
	}
	for _, tt := range queries {
		got, err := canonicalQuery(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("canonicalQuery(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"a=%zz", "a;b=1"} {
		if _, err := canonicalQuery(bad); err == nil {
			t.Errorf("canonicalQuery(%q) succeeded, want an error", bad)
		}
	}
}
