package sigv4

import (
	"slices"
	"strings"
	"time"

	"github.com/coffer-secrets/coffer/internal/signature/authheader"
)

// Algorithm is the only algorithm this package speaks; it opens every
// Authorization header and every string to sign.
const Algorithm = "AWS4-HMAC-SHA256"

const (
	terminator = "aws4_request"
	dateLayout = "20060102"         // the scope date
	timeLayout = "20060102T150405Z" // X-Amz-Date and the string to sign
)

// Authorization is a parsed SigV4 Authorization header:
//
//	AWS4-HMAC-SHA256 Credential=<AKID>/<Date>/<Region>/<Service>/aws4_request, SignedHeaders=host;x-amz-date, Signature=<hex>
type Authorization struct {
	AccessKeyID   string   // selects the secret key
	Date          string   // the scope date, 20060102, UTC
	Region        string   // the scope region, e.g. "us-east-1"
	Service       string   // the scope service, e.g. "secretsmanager"
	SignedHeaders []string // lower-case, sorted ascending, no duplicates, host among them
	Signature     string   // 64 lower-case hex digits
}

// Scope returns the credential scope, Date/Region/Service/aws4_request.
func (a Authorization) Scope() string {
	return a.Date + "/" + a.Region + "/" + a.Service + "/" + terminator
}

// String formats a as the header value AWS SDKs send: one space after the
// algorithm and ", " between the parts. It cannot fail and does not validate
// a; ParseAuthorization does.
func (a Authorization) String() string {
	return Algorithm + " Credential=" + a.AccessKeyID + "/" + a.Scope() +
		", SignedHeaders=" + strings.Join(a.SignedHeaders, ";") + ", Signature=" + a.Signature
}

// ParseAuthorization parses an Authorization header value strictly: the
// algorithm must be AWS4-HMAC-SHA256; the credential must be
// AKID/YYYYMMDD/region/service/aws4_request; SignedHeaders must be
// lower-case, sorted, free of duplicates and include host; the signature must
// be 64 lower-case hex digits. The three parts may come in any order, each
// once, separated by "," with optional spaces. On failure it returns an
// *Error of kind IncompleteSignature.
func ParseAuthorization(h string) (Authorization, error) {
	cred, signedHeaders, sig, err := authheader.Split(h, Algorithm)
	if err != nil {
		return Authorization{}, incomplete("%v", err)
	}
	var a Authorization
	if err := a.setCredential(cred); err != nil {
		return Authorization{}, err
	}
	if a.SignedHeaders, err = parseSignedHeaders(signedHeaders); err != nil {
		return Authorization{}, err
	}
	if !authheader.IsLowerHex(sig, 64) {
		return Authorization{}, incomplete("signature is not 64 lower-case hex digits")
	}
	a.Signature = sig
	return a, nil
}

// setCredential parses AKID/Date/Region/Service/aws4_request. A wrong
// terminator makes the credential malformed, not merely mis-scoped.
func (a *Authorization) setCredential(s string) error {
	f := strings.Split(s, "/")
	if len(f) != 5 || f[4] != terminator {
		return incomplete("credential is not AKID/Date/Region/Service/%s", terminator)
	}
	if !authheader.IsVisible(f[0]) || !authheader.IsVisible(f[2]) || !authheader.IsVisible(f[3]) {
		return incomplete("credential has an empty or non-printable access key ID, region or service")
	}
	if t, err := time.Parse(dateLayout, f[1]); err != nil || t.Format(dateLayout) != f[1] {
		return incomplete("credential date %s is not YYYYMMDD", authheader.Clip(f[1]))
	}
	a.AccessKeyID, a.Date, a.Region, a.Service = f[0], f[1], f[2], f[3]
	return nil
}

// errHostUnsigned carries the message AWS sends when host is not signed.
var errHostUnsigned = &Error{Kind: IncompleteSignature, Reason: "signed headers do not include host",
	message: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."}

// parseSignedHeaders checks the syntax authheader.SignedHeaders owns, then
// that host is signed, as SigV4 requires.
func parseSignedHeaders(s string) ([]string, error) {
	names, err := authheader.SignedHeaders(s)
	if err != nil {
		return nil, incomplete("%v", err)
	}
	if !slices.Contains(names, "host") {
		return nil, errHostUnsigned
	}
	return names, nil
}
