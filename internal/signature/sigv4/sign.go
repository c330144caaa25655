package sigv4

import (
	"cmp"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// MaxSkew is the largest difference Secrets Manager allows between the
// request time and its clock, either way. (Most AWS services allow 15
// minutes; Secrets Manager says "5 min." in its expiry message.)
const MaxSkew = 5 * time.Minute

// Request is what a client signs. Host is always signed; Headers lists every
// other signed header, X-Amz-Date included when sent.
type Request struct {
	Method      string      // e.g. "POST"
	Host        string      // as sent, including any ":port"
	Path        string      // the escaped path as sent; "" is "/"
	RawQuery    string      // the query after "?", as sent
	Headers     http.Header // the signed headers besides Host, values as sent; a Host key here is ignored
	Body        []byte      // the exact bytes sent
	PayloadHash string      // X-Amz-Content-Sha256 when sent (e.g. UNSIGNED-PAYLOAD); "" hashes Body
	Time        time.Time   // the request time, as in X-Amz-Date; it fixes the scope date
	Region      string      // the scope region, e.g. "us-east-1"
	Service     string      // the scope service, e.g. "secretsmanager"
}

// String describes r without the body or the query, either of which may
// carry a secret value, and without header values, which may hold a session
// token. It cannot fail.
func (r Request) String() string {
	names := slices.Sorted(maps.Keys(r.Headers))
	return fmt.Sprintf("sigv4.Request{%s %s path=%q headers=%q time=%s scope=%s/%s query=[redacted %d bytes] body=[redacted %d bytes]}",
		r.Method, r.Host, r.Path, names, amzTime(r.Time), r.Region, r.Service, len(r.RawQuery), len(r.Body))
}

// GoString is String, so %#v redacts too.
func (r Request) GoString() string { return r.String() }

// Format prints String for every verb.
func (r Request) Format(f fmt.State, _ rune) { io.WriteString(f, r.String()) }

// LogValue is String, for log/slog.
func (r Request) LogValue() slog.Value { return slog.StringValue(r.String()) }

// headers returns the signed headers of r sorted by name. Keys that differ
// only in case merge, in key order, as one header.
func (r *Request) headers() []header {
	byName := map[string][]string{"host": {r.Host}}
	for _, key := range slices.Sorted(maps.Keys(r.Headers)) {
		n := strings.ToLower(key)
		if n == "host" || len(r.Headers[key]) == 0 {
			continue
		}
		byName[n] = append(byName[n], r.Headers[key]...)
	}
	hs := make([]header, 0, len(byName))
	for _, n := range slices.Sorted(maps.Keys(byName)) {
		hs = append(hs, header{n, byName[n]})
	}
	return hs
}

func (r *Request) payloadHash() string {
	if r.PayloadHash != "" {
		return r.PayloadHash
	}
	return hashHex(r.Body)
}

func (r *Request) scope() string {
	return amzTime(r.Time)[:len(dateLayout)] + "/" + r.Region + "/" + r.Service + "/" + terminator
}

// CanonicalRequest returns the canonical request of r (spec §1.5 step 4). A
// malformed RawQuery signs the pairs that parse. It cannot fail.
func CanonicalRequest(r *Request) string {
	query, _ := canonicalQuery(r.RawQuery)
	return canonicalRequest(cmp.Or(r.Method, http.MethodGet), canonicalURI(r.Path), query, r.headers(), r.payloadHash())
}

// StringToSign returns the string to sign for r (spec §1.5 step 5), scoped to
// the UTC date of r.Time. It cannot fail.
func StringToSign(r *Request) string {
	return stringToSign(amzTime(r.Time), r.scope(), CanonicalRequest(r))
}

// Sign returns the lower-case hex SigV4 signature of r under secretKey. It
// cannot fail.
func Sign(secretKey []byte, r *Request) string {
	key := SigningKey(secretKey, amzTime(r.Time)[:len(dateLayout)], r.Region, r.Service)
	return hex.EncodeToString(hmacSHA256(key, StringToSign(r)))
}

// AuthorizationHeader returns the Authorization header value for r signed by
// accessKeyID and secretKey. It cannot fail.
func AuthorizationHeader(accessKeyID string, secretKey []byte, r *Request) string {
	hs := r.headers()
	names := make([]string, len(hs))
	for i, h := range hs {
		names[i] = h.name
	}
	return Authorization{
		AccessKeyID:   accessKeyID,
		Date:          amzTime(r.Time)[:len(dateLayout)],
		Region:        r.Region,
		Service:       r.Service,
		SignedHeaders: names,
		Signature:     Sign(secretKey, r),
	}.String()
}

// signedByDefault are the headers SignRequest signs, besides host, when req
// carries them.
var signedByDefault = []string{"Content-Type", "X-Amz-Content-Sha256", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Target"}

// SignRequest signs req at time now: it sets X-Amz-Date and an Authorization
// header over host, x-amz-date and, when req carries them, content-type,
// x-amz-content-sha256, x-amz-security-token and x-amz-target. body must be
// the exact bytes req sends; SignRequest does not touch req.Body. If req
// carries X-Amz-Content-Sha256, its value is signed in place of the body's
// hash. It cannot fail.
func SignRequest(req *http.Request, body []byte, accessKeyID string, secretKey []byte, region, service string, now time.Time) {
	SignRequestWithToken(req, body, accessKeyID, secretKey, "", region, service, now)
}

// SignRequestWithToken is SignRequest for temporary credentials: unless
// sessionToken is empty it also sets and signs X-Amz-Security-Token. It
// cannot fail.
func SignRequestWithToken(req *http.Request, body []byte, accessKeyID string, secretKey []byte, sessionToken, region, service string, now time.Time) {
	if req.Header == nil {
		req.Header = make(http.Header)
	}
	req.Header.Set("X-Amz-Date", amzTime(now))
	if sessionToken != "" {
		req.Header.Set("X-Amz-Security-Token", sessionToken)
	}
	signed := make(http.Header)
	for _, name := range signedByDefault {
		if vals := req.Header.Values(name); len(vals) > 0 {
			signed[name] = vals
		}
	}
	r := &Request{
		Method:      req.Method,
		Host:        cmp.Or(req.Host, req.URL.Host),
		Path:        req.URL.EscapedPath(),
		RawQuery:    req.URL.RawQuery,
		Headers:     signed,
		Body:        body,
		PayloadHash: req.Header.Get("X-Amz-Content-Sha256"),
		Time:        now,
		Region:      region,
		Service:     service,
	}
	req.Header.Set("Authorization", AuthorizationHeader(accessKeyID, secretKey, r))
}
