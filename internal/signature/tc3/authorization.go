package tc3

import (
	"slices"
	"strings"
	"time"
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
	h = strings.TrimSpace(h)
	if h == "" {
		return Authorization{}, invalid("empty Authorization header")
	}
	alg, rest, _ := strings.Cut(h, " ")
	if alg != Algorithm {
		return Authorization{}, invalid("algorithm %s is not %s", clip(alg), Algorithm)
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
		return Authorization{}, invalid("signature is not 64 lower-case hex digits")
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
		return vals, invalid("want 3 comma-separated parts, got %d", len(fields))
	}
	for _, f := range fields {
		key, val, _ := strings.Cut(strings.Trim(f, " \t"), "=")
		i := slices.Index(partKeys[:], key)
		if i < 0 || seen[i] {
			return vals, invalid("unexpected or repeated part %s", clip(key))
		}
		vals[i], seen[i] = val, true
	}
	return vals, nil
}

func (a *Authorization) setCredential(s string) error {
	f := strings.Split(s, "/")
	if len(f) != 4 || f[3] != terminator {
		return invalid("credential is not SecretId/Date/Service/%s", terminator)
	}
	if !isVisible(f[0]) || !isVisible(f[2]) {
		return invalid("credential has an empty or non-printable SecretId or service")
	}
	if t, err := time.Parse(dateLayout, f[1]); err != nil || t.Format(dateLayout) != f[1] {
		return invalid("credential date %s is not YYYY-MM-DD", clip(f[1]))
	}
	a.SecretID, a.Date, a.Service = f[0], f[1], f[2]
	return nil
}

func parseSignedHeaders(s string) ([]string, error) {
	names := strings.Split(s, ";")
	for i, n := range names {
		if !isHeaderName(n) {
			return nil, invalid("signed header %s is not a lower-case header name", clip(n))
		}
		if i > 0 && names[i-1] >= n {
			return nil, invalid("signed headers are not sorted or repeat %s", clip(n))
		}
	}
	if !slices.Contains(names, "content-type") || !slices.Contains(names, "host") {
		return nil, invalid("signed headers must include content-type and host")
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
