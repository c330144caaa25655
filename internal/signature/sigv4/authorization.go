package sigv4

import (
	"slices"
	"strings"
	"time"
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
	h = strings.TrimSpace(h)
	if h == "" {
		return Authorization{}, incomplete("empty Authorization header")
	}
	alg, rest, _ := strings.Cut(h, " ")
	if alg != Algorithm {
		return Authorization{}, incomplete("algorithm %s is not %s", clip(alg), Algorithm)
	}
	parts, err := splitParts(rest)
	if err != nil {
		return Authorization{}, err
	}
	var a Authorization
	if err := a.setCredential(parts[0]); err != nil {
		return Authorization{}, err
	}
	if a.SignedHeaders, err = parseSignedHeaders(parts[1]); err != nil {
		return Authorization{}, err
	}
	if !isLowerHex(parts[2], 64) {
		return Authorization{}, incomplete("signature is not 64 lower-case hex digits")
	}
	a.Signature = parts[2]
	return a, nil
}

var partKeys = [...]string{"Credential", "SignedHeaders", "Signature"}

// splitParts returns the values of Credential, SignedHeaders and Signature,
// in that order.
func splitParts(s string) ([3]string, error) {
	var vals [3]string
	var seen [3]bool
	fields := strings.Split(s, ",")
	if len(fields) != len(partKeys) {
		return vals, incomplete("want 3 comma-separated parts, got %d", len(fields))
	}
	for _, f := range fields {
		key, val, _ := strings.Cut(strings.Trim(f, " \t"), "=")
		i := slices.Index(partKeys[:], key)
		if i < 0 || seen[i] {
			return vals, incomplete("unexpected or repeated part %s", clip(key))
		}
		vals[i], seen[i] = val, true
	}
	return vals, nil
}

// setCredential parses AKID/Date/Region/Service/aws4_request. A wrong
// terminator makes the credential malformed, not merely mis-scoped.
func (a *Authorization) setCredential(s string) error {
	f := strings.Split(s, "/")
	if len(f) != 5 || f[4] != terminator {
		return incomplete("credential is not AKID/Date/Region/Service/%s", terminator)
	}
	if !isVisible(f[0]) || !isVisible(f[2]) || !isVisible(f[3]) {
		return incomplete("credential has an empty or non-printable access key ID, region or service")
	}
	if t, err := time.Parse(dateLayout, f[1]); err != nil || t.Format(dateLayout) != f[1] {
		return incomplete("credential date %s is not YYYYMMDD", clip(f[1]))
	}
	a.AccessKeyID, a.Date, a.Region, a.Service = f[0], f[1], f[2], f[3]
	return nil
}

// errHostUnsigned carries the message AWS sends when host is not signed.
var errHostUnsigned = &Error{Kind: IncompleteSignature, Reason: "signed headers do not include host",
	message: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."}

func parseSignedHeaders(s string) ([]string, error) {
	names := strings.Split(s, ";")
	for i, n := range names {
		if !isHeaderName(n) {
			return nil, incomplete("signed header %s is not a lower-case header name", clip(n))
		}
		if i > 0 && names[i-1] >= n {
			return nil, incomplete("signed headers are not sorted or repeat %s", clip(n))
		}
	}
	if !slices.Contains(names, "host") {
		return nil, errHostUnsigned
	}
	return names, nil
}

// isHeaderName reports whether s is a non-empty RFC 9110 token without
// upper-case letters.
func isHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}

// isVisible reports whether s is non-empty printable ASCII without spaces.
func isVisible(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !('0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f') {
			return false
		}
	}
	return true
}
