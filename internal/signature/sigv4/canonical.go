package sigv4

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"slices"
	"strings"
	"time"
)

// unsignedPayload is the X-Amz-Content-Sha256 value that marks an unsigned
// body; it stands in for the payload hash.
const unsignedPayload = "UNSIGNED-PAYLOAD"

// header is one line of the canonical headers: a lower-case name and the
// values as sent, one per header line.
type header struct {
	name   string
	values []string
}

// canonicalRequest joins the six parts of spec §1.5 step 4. The headers in hs
// are sorted by name.
func canonicalRequest(method, uri, query string, hs []header, payloadHash string) string {
	var b strings.Builder
	b.WriteString(method + "\n" + uri + "\n" + query + "\n")
	for _, h := range hs {
		b.WriteString(h.name + ":" + canonicalValue(h.values) + "\n")
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

// canonicalValue trims each value, collapses its inner runs of spaces to one
// and joins the values with ",", as AWS SDKs do. Tabs inside a value are
// kept: the SDKs keep them too.
func canonicalValue(vals []string) string {
	var b strings.Builder
	for i, v := range vals {
		if i > 0 {
			b.WriteByte(',')
		}
		space := false
		for _, c := range []byte(strings.TrimSpace(v)) {
			if c == ' ' && space {
				continue
			}
			space = c == ' '
			b.WriteByte(c)
		}
	}
	return b.String()
}

// canonicalURI encodes each segment of the escaped path once more, as AWS
// does for every service but S3: a path sent as /a%20b signs as /a%2520b.
// Dot segments are not removed, as in aws-sdk-go-v2. An empty path is "/".
func canonicalURI(escapedPath string) string {
	return uriEncode(cmp.Or(escapedPath, "/"), false)
}

// canonicalQuery decodes the raw query as net/url does ("+" is a space),
// then encodes each name and value per RFC 3986 and sorts the pairs by
// encoded name, then value. A malformed query gives the pairs that parsed
// and an error; signers ignore it, as aws-sdk-go-v2 does.
func canonicalQuery(raw string) (string, error) {
	vals, err := url.ParseQuery(raw)
	var pairs [][2]string
	for k, vs := range vals {
		for _, v := range vs {
			pairs = append(pairs, [2]string{uriEncode(k, true), uriEncode(v, true)})
		}
	}
	slices.SortFunc(pairs, func(a, b [2]string) int {
		return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(a[1], b[1]))
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p[0] + "=" + p[1])
	}
	return b.String(), err
}

// uriEncode percent-encodes every byte outside the RFC 3986 unreserved set
// with upper-case hex; "/" too when encodeSlash is set.
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) || c == '/' && !encodeSlash {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// stringToSign builds spec §1.5 step 5 from the request time in ISO 8601
// basic form and the credential scope.
func stringToSign(amzDate, scope, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return Algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
}

// SigningKey derives kSigning from secretKey for one scope date (20060102),
// region and service (spec §1.5 step 6). The result depends only on its
// arguments, so a server may cache it per (key, date, region, service). It
// cannot fail.
func SigningKey(secretKey []byte, date, region, service string) []byte {
	k := append([]byte("AWS4"), secretKey...)
	defer clear(k)
	kDate := hmacSHA256(k, date)
	kRegion := hmacSHA256(kDate, region)
	kService := hmacSHA256(kRegion, service)
	return hmacSHA256(kService, terminator)
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// amzTime formats t as X-Amz-Date does. It must be UTC: a local zone breaks
// signatures, and the scope date, around midnight.
func amzTime(t time.Time) string {
	return t.UTC().Format(timeLayout)
}
