package tc3

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

const testSig = "4da627700ccfb246385cb88390be04c428c5ad70f7a8b5612b3d9964d9ee45db"

func TestParseAuthorizationAccepts(t *testing.T) {
	want := Authorization{SecretID: "AKIDEXAMPLE", Date: "2026-11-27", Service: "ssm",
		SignedHeaders: []string{"content-type", "host"}, Signature: testSig}
	tests := []struct{ name, h string }{
		{"sdk", "TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2026-11-27/ssm/tc3_request, SignedHeaders=content-type;host, Signature=" + testSig},
		{"no spaces", "TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2026-11-27/ssm/tc3_request,SignedHeaders=content-type;host,Signature=" + testSig},
		{"spaces around commas", "TC3-HMAC-SHA256  Credential=AKIDEXAMPLE/2026-11-27/ssm/tc3_request , SignedHeaders=content-type;host ,  Signature=" + testSig + " "},
		{"other order", "TC3-HMAC-SHA256 Signature=" + testSig + ", Credential=AKIDEXAMPLE/2026-11-27/ssm/tc3_request, SignedHeaders=content-type;host"},
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
}

func TestParseAuthorizationExtraHeaders(t *testing.T) {
	h := "TC3-HMAC-SHA256 Credential=AKID/2023-11-14/ssm/tc3_request, SignedHeaders=content-type;host;x-tc-action, Signature=" + testSig
	a, err := ParseAuthorization(h)
	if err != nil {
		t.Fatalf("ParseAuthorization: %v", err)
	}
	if got, want := a.SignedHeaders, []string{"content-type", "host", "x-tc-action"}; !slices.Equal(got, want) {
		t.Errorf("SignedHeaders = %q, want %q", got, want)
	}
	if got := a.String(); got != h {
		t.Errorf("String = %q, want %q", got, h)
	}
}

func TestParseAuthorizationRejects(t *testing.T) {
	const cred = "Credential=AKIDEXAMPLE/2026-11-27/ssm/tc3_request"
	const sh = "SignedHeaders=content-type;host"
	const sig = "Signature=" + testSig
	ok := "TC3-HMAC-SHA256 " + cred + ", " + sh + ", " + sig
	tests := []struct{ name, h string }{
		{"empty", ""},
		{"blank", "   "},
		{"algorithm only", "TC3-HMAC-SHA256"},
		{"other algorithm", "TC3-HMAC-SHA1 " + cred + ", " + sh + ", " + sig},
		{"lower-case algorithm", strings.ToLower(Algorithm) + " " + cred + ", " + sh + ", " + sig},
		{"aws", "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", " + sig},
		{"missing part", "TC3-HMAC-SHA256 " + cred + ", " + sh},
		{"extra part", ok + ", Foo=bar"},
		{"repeated part", "TC3-HMAC-SHA256 " + cred + ", " + cred + ", " + sig},
		{"unknown part", "TC3-HMAC-SHA256 " + cred + ", Headers=content-type;host, " + sig},
		{"part without =", "TC3-HMAC-SHA256 " + cred + ", " + sh + ", Signature"},
		{"lower-case key", "TC3-HMAC-SHA256 credential=AKIDEXAMPLE/2026-11-27/ssm/tc3_request, " + sh + ", " + sig},
		{"3-part credential", "TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2026-11-27/tc3_request, " + sh + ", " + sig},
		{"5-part credential", "TC3-HMAC-SHA256 Credential=AKID/X/2026-11-27/ssm/tc3_request, " + sh + ", " + sig},
		{"bad terminator", "TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2026-11-27/ssm/aws4_request, " + sh + ", " + sig},
		{"empty secret id", "TC3-HMAC-SHA256 Credential=/2026-11-27/ssm/tc3_request, " + sh + ", " + sig},
		{"empty service", "TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2026-11-27//tc3_request, " + sh + ", " + sig},
		{"secret id with space", "TC3-HMAC-SHA256 Credential=AKID EXAMPLE/2026-11-27/ssm/tc3_request, " + sh + ", " + sig},
		{"compact date", "TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/20261127/ssm/tc3_request, " + sh + ", " + sig},
		{"short date", "TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2026-1-27/ssm/tc3_request, " + sh + ", " + sig},
		{"impossible date", "TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2026-02-30/ssm/tc3_request, " + sh + ", " + sig},
		{"empty signed headers", "TC3-HMAC-SHA256 " + cred + ", SignedHeaders=, " + sig},
		{"upper-case signed header", "TC3-HMAC-SHA256 " + cred + ", SignedHeaders=Content-Type;host, " + sig},
		{"unsorted signed headers", "TC3-HMAC-SHA256 " + cred + ", SignedHeaders=host;content-type, " + sig},
		{"repeated signed header", "TC3-HMAC-SHA256 " + cred + ", SignedHeaders=content-type;host;host, " + sig},
		{"empty signed header", "TC3-HMAC-SHA256 " + cred + ", SignedHeaders=content-type;;host, " + sig},
		{"trailing ;", "TC3-HMAC-SHA256 " + cred + ", SignedHeaders=content-type;host;, " + sig},
		{"no host", "TC3-HMAC-SHA256 " + cred + ", SignedHeaders=content-type;x-tc-action, " + sig},
		{"no content-type", "TC3-HMAC-SHA256 " + cred + ", SignedHeaders=host, " + sig},
		{"space in signed header", "TC3-HMAC-SHA256 " + cred + ", SignedHeaders=content-type; host, " + sig},
		{"short signature", "TC3-HMAC-SHA256 " + cred + ", " + sh + ", Signature=" + testSig[:63]},
		{"long signature", "TC3-HMAC-SHA256 " + cred + ", " + sh + ", Signature=" + testSig + "0"},
		{"upper-case signature", "TC3-HMAC-SHA256 " + cred + ", " + sh + ", Signature=" + strings.ToUpper(testSig)},
		{"non-hex signature", "TC3-HMAC-SHA256 " + cred + ", " + sh + ", Signature=" + strings.Repeat("g", 64)},
		{"tab after algorithm", "TC3-HMAC-SHA256\t" + cred + ", " + sh + ", " + sig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseAuthorization(tt.h)
			if !errors.Is(err, ErrInvalidAuthorization) {
				t.Errorf("err = %v, want kind %v", err, InvalidAuthorization)
			}
		})
	}
}

func TestErrorIs(t *testing.T) {
	err := error(&Error{Kind: SignatureExpire, Reason: "late"})
	if !errors.Is(err, ErrSignatureExpire) {
		t.Errorf("errors.Is(%v, ErrSignatureExpire) = false, want true", err)
	}
	if errors.Is(err, ErrSignatureFailure) {
		t.Errorf("errors.Is(%v, ErrSignatureFailure) = true, want false", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Kind != SignatureExpire {
		t.Errorf("errors.As kind = %v, want %v", e, SignatureExpire)
	}
	if got, want := err.Error(), "tc3: signature expired: late"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func equalAuth(a, b Authorization) bool {
	return a.SecretID == b.SecretID && a.Date == b.Date && a.Service == b.Service &&
		slices.Equal(a.SignedHeaders, b.SignedHeaders) && a.Signature == b.Signature
}
