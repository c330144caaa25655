package tc3

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MaxSkew is the largest difference Tencent Cloud allows between
// X-TC-Timestamp and the server clock, either way.
const MaxSkew = 300 * time.Second

// unsignedPayload is both the X-TC-Content-SHA256 value that marks an
// unsigned body and the text hashed in its place.
const unsignedPayload = "UNSIGNED-PAYLOAD"

// Request is what a client signs. Content-Type and Host are always signed;
// Headers adds more signed headers.
type Request struct {
	Method          string      // "POST" or "GET"
	Host            string      // as sent, including any ":port"
	ContentType     string      // as sent
	RawQuery        string      // the query after "?", as sent; signed for GET only
	Headers         http.Header // extra headers to sign, canonical keys; Host and Content-Type here are ignored
	Body            []byte      // the exact bytes sent
	Timestamp       int64       // X-TC-Timestamp, Unix seconds, not negative
	Service         string      // the scope service, e.g. "ssm"
	UnsignedPayload bool        // sign "UNSIGNED-PAYLOAD" instead of the body (X-TC-Content-SHA256)
}

// String describes r without the body or the query, either of which may
// carry a secret value, and without header values, which may hold a token.
// It cannot fail.
func (r Request) String() string {
	names := slices.Sorted(maps.Keys(r.Headers))
	return fmt.Sprintf("tc3.Request{%s %s content-type=%q headers=%q ts=%d service=%q unsigned=%t query=[redacted %d bytes] body=[redacted %d bytes]}",
		r.Method, r.Host, r.ContentType, names, r.Timestamp, r.Service, r.UnsignedPayload, len(r.RawQuery), len(r.Body))
}

// GoString is String, so %#v redacts too.
func (r Request) GoString() string { return r.String() }

// Format prints String for every verb.
func (r Request) Format(f fmt.State, _ rune) { io.WriteString(f, r.String()) }

// LogValue is String, for log/slog.
func (r Request) LogValue() slog.Value { return slog.StringValue(r.String()) }

// header is one line of the canonical headers, before lower-casing the value.
type header struct{ name, value string }

// headers returns the signed headers of r, sorted by lower-case name.
func (r *Request) headers() []header {
	hs := []header{{"content-type", r.ContentType}, {"host", r.Host}}
	for name, vals := range r.Headers {
		n := strings.ToLower(name)
		if n == "content-type" || n == "host" || len(vals) == 0 {
			continue
		}
		hs = append(hs, header{n, vals[0]})
	}
	slices.SortFunc(hs, func(a, b header) int { return strings.Compare(a.name, b.name) })
	return hs
}

func (r *Request) query() string {
	if r.Method == http.MethodGet {
		return r.RawQuery
	}
	return ""
}

// CanonicalRequest returns the canonical request of r (spec §1.3 step 1).
// It cannot fail.
func CanonicalRequest(r *Request) string {
	return canonicalRequest(r.Method, r.query(), r.headers(), payloadHash(r.Body, r.UnsignedPayload))
}

// StringToSign returns the string to sign for r (spec §1.3 step 2), scoped to
// the UTC date of r.Timestamp. It cannot fail.
func StringToSign(r *Request) string {
	ts := strconv.FormatInt(r.Timestamp, 10)
	return stringToSign(ts, utcDate(r.Timestamp), r.Service, CanonicalRequest(r))
}

// Sign returns the lower-case hex TC3 signature of r under secretKey. It
// cannot fail.
func Sign(secretKey []byte, r *Request) string {
	key := SigningKey(secretKey, utcDate(r.Timestamp), r.Service)
	return hex.EncodeToString(hmacSHA256(key, StringToSign(r)))
}

// AuthorizationHeader returns the Authorization header value for r signed by
// secretID and secretKey. It cannot fail.
func AuthorizationHeader(secretID string, secretKey []byte, r *Request) string {
	hs := r.headers()
	names := make([]string, len(hs))
	for i, h := range hs {
		names[i] = h.name
	}
	return Authorization{
		SecretID:      secretID,
		Date:          utcDate(r.Timestamp),
		Service:       r.Service,
		SignedHeaders: names,
		Signature:     Sign(secretKey, r),
	}.String()
}

// SigningKey derives kSigning from secretKey for one scope date (2006-01-02)
// and service (spec §1.3 step 3). The result depends only on its arguments,
// so a server may cache it per (key, date, service). It cannot fail.
func SigningKey(secretKey []byte, date, service string) []byte {
	k := append([]byte("TC3"), secretKey...)
	defer clear(k)
	kDate := hmacSHA256(k, date)
	kService := hmacSHA256(kDate, service)
	return hmacSHA256(kService, terminator)
}

// SignRequest signs req as the Tencent Cloud Go SDK does, at time now: it sets
// X-TC-Timestamp, sets Content-Type to the SDK's default for the method when
// it is unset, and sets Authorization over content-type;host. body must be the
// exact bytes req sends; SignRequest does not touch req.Body. If req carries
// X-TC-Content-SHA256: UNSIGNED-PAYLOAD the body is left unsigned. It cannot
// fail.
func SignRequest(req *http.Request, body []byte, secretID string, secretKey []byte, service string, now time.Time) {
	if req.Header == nil {
		req.Header = make(http.Header)
	}
	method := cmp.Or(req.Method, http.MethodGet)
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", defaultContentType(method))
	}
	r := &Request{
		Method:          method,
		Host:            cmp.Or(req.Host, req.URL.Host),
		ContentType:     req.Header.Get("Content-Type"),
		RawQuery:        req.URL.RawQuery,
		Body:            body,
		Timestamp:       now.Unix(),
		Service:         service,
		UnsignedPayload: req.Header.Get("X-TC-Content-SHA256") == unsignedPayload,
	}
	req.Header.Set("X-TC-Timestamp", strconv.FormatInt(r.Timestamp, 10))
	req.Header.Set("Authorization", AuthorizationHeader(secretID, secretKey, r))
}

func defaultContentType(method string) string {
	if method == http.MethodGet {
		return "application/x-www-form-urlencoded"
	}
	return "application/json"
}

// canonicalRequest lower-cases and trims header values, as the spec says;
// the names in hs are already lower-case and sorted.
func canonicalRequest(method, query string, hs []header, payloadHash string) string {
	var b strings.Builder
	b.WriteString(method + "\n/\n" + query + "\n")
	for _, h := range hs {
		b.WriteString(h.name + ":" + strings.ToLower(strings.TrimSpace(h.value)) + "\n")
	}
	b.WriteString("\n")
	for i, h := range hs {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(h.name)
	}
	b.WriteString("\n" + payloadHash)
	return b.String()
}

func stringToSign(ts, date, service, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return Algorithm + "\n" + ts + "\n" + date + "/" + service + "/" + terminator + "\n" + hex.EncodeToString(sum[:])
}

func payloadHash(body []byte, unsigned bool) string {
	if unsigned {
		body = []byte(unsignedPayload)
	}
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// utcDate is the scope date of a timestamp. It must be UTC: a local zone
// breaks signatures around midnight.
func utcDate(ts int64) string {
	return time.Unix(ts, 0).UTC().Format(dateLayout)
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
