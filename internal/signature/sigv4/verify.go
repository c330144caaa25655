package sigv4

import (
	"cmp"
	"crypto/hmac"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coffer-secrets/coffer/internal/signature/authheader"
)

// Signed is a received request that passed every check needing no key: its
// Authorization parsed, its scope matches, its time is fresh and every signed
// header is present. Look up the key for Authorization.AccessKeyID (and
// check SessionToken, if the server issues temporary credentials), then call
// Verify or VerifySigningKey. The zero Signed verifies nothing.
type Signed struct {
	Authorization Authorization
	Time          time.Time // the request time, from X-Amz-Date or else Date, UTC
	// SessionToken is X-Amz-Security-Token as sent, "" when absent. When set
	// it is among the signed headers. It is a credential: Signed prints it
	// redacted.
	SessionToken string
	// UnsignedPayload is set when the client did not sign the body
	// (X-Amz-Content-Sha256: UNSIGNED-PAYLOAD); a server may refuse that.
	UnsignedPayload bool

	stringToSign string
	signature    []byte
}

// String describes s without the session token. It cannot fail.
func (s Signed) String() string {
	token := ""
	if s.SessionToken != "" {
		token = " session-token=[redacted]"
	}
	return fmt.Sprintf("sigv4.Signed{%s %s signed=%q time=%s unsigned-payload=%t%s}",
		s.Authorization.AccessKeyID, s.Authorization.Scope(), s.Authorization.SignedHeaders,
		amzTime(s.Time), s.UnsignedPayload, token)
}

// GoString is String, so %#v redacts too.
func (s Signed) GoString() string { return s.String() }

// Format prints String for every verb.
func (s Signed) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// LogValue is String, for log/slog.
func (s Signed) LogValue() slog.Value { return slog.StringValue(s.String()) }

// ParseRequest checks r, as a net/http server received it, whose body was
// read into body, in the order of spec §1.5. It returns an *Error of kind
//
//   - MissingAuthentication if there is no Authorization header;
//   - IncompleteSignature if Authorization is repeated or malformed (see
//     ParseAuthorization), or X-Amz-Date (Date when it is absent) is
//     missing, repeated or malformed;
//   - ScopeMismatch if the credential scope names a service other than
//     service, or a date other than that of the request time;
//   - SignatureExpired if the request time is more than maxSkew from now,
//     either way;
//   - IncompleteSignature if X-Amz-Security-Token is present but unsigned,
//     a signed header is absent, or the query string or X-Amz-Content-Sha256
//     is malformed;
//   - SignatureMismatch if X-Amz-Content-Sha256 is a hash other than the
//     body's.
//
// It never needs the key. Host is signed as r.Host, as received.
func ParseRequest(r *http.Request, body []byte, service string, now time.Time, maxSkew time.Duration) (*Signed, error) {
	a, err := authorization(r.Header)
	if err != nil {
		return nil, err
	}
	if a.Service != service {
		return nil, &Error{Kind: ScopeMismatch,
			Reason:  fmt.Sprintf("credential scope service %s, want %s", authheader.Clip(a.Service), authheader.Clip(service)),
			message: "Credential should be scoped to correct service: '" + service + "'."}
	}
	t, err := requestTime(r.Header)
	if err != nil {
		return nil, err
	}
	if err := checkTime(a, t, now, maxSkew); err != nil {
		return nil, err
	}
	return signedFromHTTP(r, a, t, body)
}

func signedFromHTTP(r *http.Request, a Authorization, t time.Time, body []byte) (*Signed, error) {
	token, err := sessionToken(r.Header, a.SignedHeaders)
	if err != nil {
		return nil, err
	}
	canonical, unsigned, err := canonicalFromHTTP(r, a.SignedHeaders, body)
	if err != nil {
		return nil, err
	}
	sig, _ := hex.DecodeString(a.Signature) // ParseAuthorization checked it
	return &Signed{
		Authorization:   a,
		Time:            t,
		SessionToken:    token,
		UnsignedPayload: unsigned,
		stringToSign:    stringToSign(amzTime(t), a.Scope(), canonical),
		signature:       sig,
	}, nil
}

// Verify checks the signature against secretKey, the key of
// s.Authorization.AccessKeyID. A mismatch or an empty key gives an *Error of
// kind SignatureMismatch. Identical requests verify again: there is no replay
// check, since clients may resend a request unchanged.
func (s *Signed) Verify(secretKey []byte) error {
	if len(secretKey) == 0 {
		return errMismatch
	}
	a := s.Authorization
	return s.VerifySigningKey(SigningKey(secretKey, a.Date, a.Region, a.Service))
}

// VerifySigningKey is Verify with a signing key already derived by SigningKey
// for s.Authorization's Date, Region and Service, for servers that cache
// them. A mismatch or an empty key gives an *Error of kind SignatureMismatch.
func (s *Signed) VerifySigningKey(signingKey []byte) error {
	if len(signingKey) == 0 || !hmac.Equal(hmacSHA256(signingKey, s.stringToSign), s.signature) {
		return errMismatch
	}
	return nil
}

// authorization parses the one Authorization header. A blank one counts as
// missing.
func authorization(h http.Header) (Authorization, error) {
	vals := h.Values("Authorization")
	if len(vals) == 0 || len(vals) == 1 && strings.TrimSpace(vals[0]) == "" {
		return Authorization{}, &Error{Kind: MissingAuthentication, Reason: "no Authorization header"}
	}
	if len(vals) > 1 {
		return Authorization{}, incomplete("want one Authorization header, got %d", len(vals))
	}
	return ParseAuthorization(vals[0])
}

// errNoDate carries the message AWS sends when the request has no time.
var errNoDate = &Error{Kind: IncompleteSignature, Reason: "no X-Amz-Date or Date header",
	message: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."}

// requestTime returns the request time from X-Amz-Date (20060102T150405Z)
// or, only when that is absent, from Date, in that form or as an HTTP date
// (Mon, 02 Jan 2006 15:04:05 GMT).
func requestTime(h http.Header) (time.Time, error) {
	name, vals := "X-Amz-Date", h.Values("X-Amz-Date")
	if len(vals) == 0 {
		name, vals = "Date", h.Values("Date")
	}
	switch {
	case len(vals) == 0:
		return time.Time{}, errNoDate
	case len(vals) > 1:
		return time.Time{}, incomplete("want one %s header, got %d", name, len(vals))
	}
	if t, err := time.Parse(timeLayout, vals[0]); err == nil && t.Format(timeLayout) == vals[0] {
		return t, nil
	}
	if t, ok := parseHTTPDate(vals[0]); ok && name == "Date" {
		return t, nil
	}
	return time.Time{}, incomplete("%s %s is not YYYYMMDD'T'HHMMSS'Z'", name, authheader.Clip(vals[0]))
}

// parseHTTPDate parses s as http.TimeFormat, refusing what does not format
// back to s, except the weekday: the AWS test suite dates 9 September 2011,
// a Friday, "Mon".
func parseHTTPDate(s string) (time.Time, bool) {
	const weekday = len("Mon")
	t, err := time.Parse(http.TimeFormat, s)
	if err != nil || t.Format(http.TimeFormat)[weekday:] != s[weekday:] {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// checkTime compares the request time with the scope date, then with now.
func checkTime(a Authorization, t, now time.Time, maxSkew time.Duration) error {
	if d := amzTime(t); d[:len(dateLayout)] != a.Date {
		return &Error{Kind: ScopeMismatch,
			Reason: fmt.Sprintf("credential scope date %s, want %s, the date of %s", a.Date, d[:len(dateLayout)], d),
			message: fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
				a.Date, d[:len(dateLayout)], d)}
	}
	if t.Before(now.Add(-maxSkew)) || t.After(now.Add(maxSkew)) {
		return expired(t, now, maxSkew)
	}
	return nil
}

// sessionToken returns X-Amz-Security-Token, which must be signed when sent.
func sessionToken(h http.Header, signed []string) (string, error) {
	vals := h.Values("X-Amz-Security-Token")
	switch {
	case len(vals) == 0:
		return "", nil
	case len(vals) > 1:
		return "", incomplete("want at most one X-Amz-Security-Token header, got %d", len(vals))
	case vals[0] == "":
		return "", incomplete("empty X-Amz-Security-Token header")
	case !slices.Contains(signed, "x-amz-security-token"):
		return "", incomplete("X-Amz-Security-Token is present but not signed")
	}
	return vals[0], nil
}

// canonicalFromHTTP rebuilds the canonical request from r as received.
func canonicalFromHTTP(r *http.Request, names []string, body []byte) (string, bool, error) {
	hs, err := receivedHeaders(r, names)
	if err != nil {
		return "", false, err
	}
	query, err := canonicalQuery(r.URL.RawQuery)
	if err != nil {
		return "", false, incomplete("malformed query string: %v", err)
	}
	payload, unsigned, err := payloadHash(r.Header, body)
	if err != nil {
		return "", false, err
	}
	method := cmp.Or(r.Method, http.MethodGet)
	return canonicalRequest(method, canonicalURI(r.URL.EscapedPath()), query, hs, payload), unsigned, nil
}

// receivedHeaders returns the values of the signed headers, every line of
// each. Host is r.Host, as received, port included; net/http keeps it out of
// r.Header. A signed header that was not sent is an error: the client cannot
// have signed it, and an absent header must not pass for an empty one.
func receivedHeaders(r *http.Request, names []string) ([]header, error) {
	hs := make([]header, len(names))
	for i, n := range names {
		vals := r.Header.Values(n)
		if n == "host" {
			vals = []string{cmp.Or(r.Host, r.URL.Host)}
		}
		if len(vals) == 0 {
			return nil, incomplete("signed header %s is absent", authheader.Clip(n))
		}
		hs[i] = header{n, vals}
	}
	return hs, nil
}

// payloadHash returns the hash that stands for the body: X-Amz-Content-Sha256
// when sent, else the body's. A sent hex hash must be the body's, or a client
// could sign one body and send another; UNSIGNED-PAYLOAD leaves the body
// unsigned. Other values, such as the streaming ones S3 knows, are refused.
func payloadHash(h http.Header, body []byte) (string, bool, error) {
	vals := h.Values("X-Amz-Content-Sha256")
	switch {
	case len(vals) == 0:
		return hashHex(body), false, nil
	case len(vals) > 1:
		return "", false, incomplete("want at most one X-Amz-Content-Sha256 header, got %d", len(vals))
	case vals[0] == unsignedPayload:
		return unsignedPayload, true, nil
	case !authheader.IsLowerHex(vals[0], 64):
		return "", false, incomplete("X-Amz-Content-Sha256 %s is neither a lower-case hex SHA-256 nor %s", authheader.Clip(vals[0]), unsignedPayload)
	case vals[0] != hashHex(body):
		return "", false, &Error{Kind: SignatureMismatch, Reason: "body does not match X-Amz-Content-Sha256"}
	}
	return vals[0], false, nil
}
