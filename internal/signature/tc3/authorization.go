package tc3

import (
	"slices"
	"strings"
	"time"

	"github.com/coffer-secrets/coffer/internal/signature/authheader"
)

// Algorithm is the only algorithm TC3 defines; it opens every Authorization
// header and every string to sign.
const Algorithm = "TC3-HMAC-SHA256"

const (
	terminator = "tc3_request"
	dateLayout = "2006-01-02"
)

// Authorization is a parsed TC3 Authorization header:
//
//	TC3-HMAC-SHA256 Credential=<SecretId>/<Date>/<Service>/tc3_request, SignedHeaders=content-type;host, Signature=<hex>
type Authorization struct {
	SecretID      string   // selects the secret key
	Date          string   // the scope date, 2006-01-02, UTC
	Service       string   // the scope service, e.g. "ssm"
	SignedHeaders []string // lower-case, sorted ascending, no duplicates
	Signature     string   // 64 lower-case hex digits
}

// String formats a as the header value Tencent Cloud SDKs send: one space
// after the algorithm and ", " between the parts. It cannot fail and does
// not validate a; ParseAuthorization does.
func (a Authorization) String() string {
	return Algorithm + " Credential=" + a.SecretID + "/" + a.Date + "/" + a.Service + "/" + terminator +
		", SignedHeaders=" + strings.Join(a.SignedHeaders, ";") + ", Signature=" + a.Signature
}

// ParseAuthorization parses an Authorization header value strictly: the
// algorithm must be TC3-HMAC-SHA256; the credential must be
// SecretId/YYYY-MM-DD/service/tc3_request; SignedHeaders must be lower-case,
// sorted, free of duplicates and include content-type and host (both are
// mandatory in TC3); the signature must be 64 lower-case hex digits. The three
// parts may come in any order, each once, separated by "," with optional
// spaces. On failure it returns an *Error of kind InvalidAuthorization.
func ParseAuthorization(h string) (Authorization, error) {
	cred, signedHeaders, sig, err := authheader.Split(h, Algorithm)
	if err != nil {
		return Authorization{}, invalid("%v", err)
	}
	var a Authorization
	if err := a.setCredential(cred); err != nil {
		return Authorization{}, err
	}
	if a.SignedHeaders, err = parseSignedHeaders(signedHeaders); err != nil {
		return Authorization{}, err
	}
	if !authheader.IsLowerHex(sig, 64) {
		return Authorization{}, invalid("signature is not 64 lower-case hex digits")
	}
	a.Signature = sig
	return a, nil
}

func (a *Authorization) setCredential(s string) error {
	f := strings.Split(s, "/")
	if len(f) != 4 || f[3] != terminator {
		return invalid("credential is not SecretId/Date/Service/%s", terminator)
	}
	if !authheader.IsVisible(f[0]) || !authheader.IsVisible(f[2]) {
		return invalid("credential has an empty or non-printable SecretId or service")
	}
	if t, err := time.Parse(dateLayout, f[1]); err != nil || t.Format(dateLayout) != f[1] {
		return invalid("credential date %s is not YYYY-MM-DD", authheader.Clip(f[1]))
	}
	a.SecretID, a.Date, a.Service = f[0], f[1], f[2]
	return nil
}

// parseSignedHeaders checks the syntax authheader.SignedHeaders owns, then
// that content-type and host are signed, as TC3 requires.
func parseSignedHeaders(s string) ([]string, error) {
	names, err := authheader.SignedHeaders(s)
	if err != nil {
		return nil, invalid("%v", err)
	}
	if !slices.Contains(names, "content-type") || !slices.Contains(names, "host") {
		return nil, invalid("signed headers must include content-type and host")
	}
	return names, nil
}
