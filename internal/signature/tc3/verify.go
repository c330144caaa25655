package tc3

import (
	"crypto/hmac"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"

	"github.com/coffer-secrets/coffer/internal/signature/authheader"
)

// maxTimestamp is 9999-12-31T23:59:59Z, the last second a scope date can name.
const maxTimestamp = 253402300799

// Signed is a received request that passed every check needing no key: its
// Authorization parsed, its scope matches, its timestamp is fresh. It holds
// no key material. Look up the key for Authorization.SecretID, then call
// Verify or VerifySigningKey. The zero Signed verifies nothing.
type Signed struct {
	Authorization Authorization
	Timestamp     int64 // X-TC-Timestamp, Unix seconds
	// UnsignedPayload is set when the client did not sign the body
	// (X-TC-Content-SHA256: UNSIGNED-PAYLOAD); a server may refuse that.
	UnsignedPayload bool

	stringToSign string
	signature    []byte
}

// ParseRequest checks r, whose body was read into body, in the order of spec
// §1.3: a missing or malformed Authorization or X-TC-Timestamp, a signed
// header that is absent or repeated, a query string on a non-GET request, or a
// credential scope other than service and the UTC date of X-TC-Timestamp give
// an *Error of kind InvalidAuthorization; then a timestamp more than maxSkew
// from now, either way, gives kind SignatureExpire. It never needs the key.
// Host is signed as r.Host, as received; the path is not signed (it is "/").
func ParseRequest(r *http.Request, body []byte, service string, now time.Time, maxSkew time.Duration) (*Signed, error) {
	s, err := parseRequest(r, body, service)
	if err != nil {
		return nil, err
	}
	t := time.Unix(s.Timestamp, 0)
	if now.Before(t.Add(-maxSkew)) || now.After(t.Add(maxSkew)) {
		return nil, &Error{Kind: SignatureExpire, Reason: "server clock minus X-TC-Timestamp is " + now.Sub(t).Round(time.Second).String()}
	}
	return s, nil
}

func parseRequest(r *http.Request, body []byte, service string) (*Signed, error) {
	h, err := single(r.Header, "Authorization")
	if err != nil {
		return nil, err
	}
	a, err := ParseAuthorization(h)
	if err != nil {
		return nil, err
	}
	tsRaw, ts, err := timestamp(r.Header)
	if err != nil {
		return nil, err
	}
	if err := checkScope(a, ts, service); err != nil {
		return nil, err
	}
	canonical, unsigned, err := canonicalFromHTTP(r, a.SignedHeaders, body)
	if err != nil {
		return nil, err
	}
	sig, _ := hex.DecodeString(a.Signature) // ParseAuthorization checked it
	return &Signed{
		Authorization:   a,
		Timestamp:       ts,
		UnsignedPayload: unsigned,
		stringToSign:    stringToSign(tsRaw, a.Date, a.Service, canonical),
		signature:       sig,
	}, nil
}

// Verify checks the signature against secretKey, the key of
// s.Authorization.SecretID. A mismatch or an empty key gives an *Error of
// kind SignatureFailure. Identical requests verify again: there is no replay
// check.
func (s *Signed) Verify(secretKey []byte) error {
	if len(secretKey) == 0 {
		return errMismatch
	}
	return s.VerifySigningKey(SigningKey(secretKey, s.Authorization.Date, s.Authorization.Service))
}

// VerifySigningKey is Verify with a signing key already derived by SigningKey
// for s.Authorization.Date and Service, for servers that cache them. A
// mismatch or an empty key gives an *Error of kind SignatureFailure.
func (s *Signed) VerifySigningKey(signingKey []byte) error {
	if len(signingKey) == 0 || !hmac.Equal(hmacSHA256(signingKey, s.stringToSign), s.signature) {
		return errMismatch
	}
	return nil
}

// single returns the one value of header name; none or several is malformed.
func single(h http.Header, name string) (string, error) {
	vals := h.Values(name)
	if len(vals) != 1 {
		return "", invalid("want one %s header, got %d", name, len(vals))
	}
	return vals[0], nil
}

// timestamp returns X-TC-Timestamp as sent (it is signed verbatim) and its
// value. Only plain decimal is accepted: no sign, no leading zero.
func timestamp(h http.Header) (string, int64, error) {
	raw, err := single(h, "X-TC-Timestamp")
	if err != nil {
		return "", 0, err
	}
	ts, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || ts < 0 || ts > maxTimestamp || strconv.FormatInt(ts, 10) != raw {
		return "", 0, invalid("X-TC-Timestamp %s is not Unix seconds", authheader.Clip(raw))
	}
	return raw, ts, nil
}

func checkScope(a Authorization, ts int64, service string) error {
	if a.Service != service {
		return invalid("credential scope service %s, want %s", authheader.Clip(a.Service), authheader.Clip(service))
	}
	if d := utcDate(ts); a.Date != d {
		return invalid("credential scope date %s, want %s, the UTC date of X-TC-Timestamp", a.Date, d)
	}
	return nil
}

// canonicalFromHTTP rebuilds the canonical request from r as received.
func canonicalFromHTTP(r *http.Request, names []string, body []byte) (string, bool, error) {
	hs, err := receivedHeaders(r, names)
	if err != nil {
		return "", false, err
	}
	query := r.URL.RawQuery
	if r.Method != http.MethodGet && query != "" {
		return "", false, invalid("%s request has a query string, which TC3 does not sign", r.Method)
	}
	unsigned, err := isUnsignedPayload(r.Header)
	if err != nil {
		return "", false, err
	}
	return canonicalRequest(r.Method, query, hs, payloadHash(body, unsigned)), unsigned, nil
}

// receivedHeaders returns the values of the signed headers. Host is r.Host,
// as received, port included.
func receivedHeaders(r *http.Request, names []string) ([]header, error) {
	hs := make([]header, len(names))
	for i, n := range names {
		v := r.Host
		if n != "host" {
			var err error
			if v, err = single(r.Header, n); err != nil {
				return nil, err
			}
		}
		hs[i] = header{n, v}
	}
	return hs, nil
}

// isUnsignedPayload reports whether X-TC-Content-SHA256 is UNSIGNED-PAYLOAD.
// Any other value is ignored and the body is hashed, so the body stays signed.
func isUnsignedPayload(h http.Header) (bool, error) {
	vals := h.Values("X-TC-Content-SHA256")
	if len(vals) > 1 {
		return false, invalid("want at most one X-TC-Content-SHA256 header, got %d", len(vals))
	}
	return len(vals) == 1 && vals[0] == unsignedPayload, nil
}
