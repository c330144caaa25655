package bench

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coffer-secrets/coffer/internal/signature/sigv4"
	"github.com/coffer-secrets/coffer/internal/signature/tc3"
)

// SecretKey is the secret half of an access key. It prints as [redacted].
type SecretKey string

// String returns "[redacted]".
func (SecretKey) String() string { return "[redacted]" }

// GoString returns "[redacted]", so %#v redacts too.
func (SecretKey) GoString() string { return "[redacted]" }

// Format prints "[redacted]" for every verb.
func (SecretKey) Format(f fmt.State, _ rune) { io.WriteString(f, "[redacted]") }

// LogValue is "[redacted]", for log/slog.
func (SecretKey) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// The scopes the tool signs for.
const (
	tc3Service = "ssm"
	awsService = "secretsmanager"
	tc3Signed  = "content-type;host"
	awsSigned  = "content-type;host;x-amz-date;x-amz-target"
)

// payload is a request body and the hashes its signature needs. Bodies sent
// many times (GetSecretValue of one secret) are hashed once.
type payload struct {
	body     []byte
	bodyHash [64]byte // hex SHA-256 of body
	// tc3Canon is the hex SHA-256 of the TC3 canonical request, which does
	// not depend on the time: with it a TC3 signature is one HMAC.
	tc3Canon [64]byte
}

// signer signs requests for one access key, host and region. It derives a
// signing key once per UTC day and shares it between workers.
type signer struct {
	proto  Protocol
	id     string
	secret SecretKey
	host   string
	region string

	mu   sync.Mutex
	day  int64 // the UTC day (Unix days) of key
	key  []byte
	have bool
}

// signingKey returns the signing key for the UTC day of sec, whose scope
// date is date.
func (s *signer) signingKey(day int64, date string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.have || s.day != day {
		if s.proto == AWS {
			s.key = sigv4.SigningKey([]byte(s.secret), date, s.region, awsService)
		} else {
			s.key = tc3.SigningKey([]byte(s.secret), date, tc3Service)
		}
		s.day, s.have = day, true
	}
	return s.key
}

// prepare fills p's hashes for body.
func (s *signer) prepare(p *payload, body []byte) {
	p.body = body
	sum := sha256.Sum256(body)
	hex.Encode(p.bodyHash[:], sum[:])
	if s.proto == Tencent {
		var buf [256]byte
		c := append(buf[:0], "POST\n/\n\ncontent-type:"+tc3ContentType+"\nhost:"...)
		c = appendLower(c, s.host)
		c = append(c, "\n\n"+tc3Signed+"\n"...)
		c = append(c, p.bodyHash[:]...)
		sum = sha256.Sum256(c)
		hex.Encode(p.tc3Canon[:], sum[:])
	}
}

// signState is one worker's scratch for signing, reused request after
// request: buffers, an HMAC keyed for the current day, and the time
// strings of the current second.
type signState struct {
	buf, auth, sum []byte
	mac            hash.Hash
	macDay         int64
	sec            int64    // the second stamp and date were made for
	stamp          []string // X-TC-Timestamp or X-Amz-Date, as a header value
	date           string   // the scope date
}

// clock moves st to the second of now, rekeying its HMAC on a new day.
func (s *signer) clock(st *signState, now time.Time) {
	sec := now.Unix()
	if st.stamp != nil && sec == st.sec {
		return
	}
	st.sec = sec
	utc := time.Unix(sec, 0).UTC()
	if s.proto == AWS {
		amz := utc.Format("20060102T150405Z")
		st.stamp, st.date = []string{amz}, amz[:8]
	} else {
		st.stamp, st.date = []string{strconv.FormatInt(sec, 10)}, utc.Format("2006-01-02")
	}
	day := utc.Unix() / 86400
	if st.mac == nil || st.macDay != day {
		st.mac, st.macDay = hmac.New(sha256.New, s.signingKey(day, st.date)), day
	}
}

// sign sets the time and Authorization headers of a request for a with body
// p, at now.
func (s *signer) sign(st *signState, h http.Header, a action, p *payload, now time.Time) {
	s.clock(st, now)
	if s.proto == AWS {
		h["X-Amz-Date"] = st.stamp
		s.signAWS(st, a, p)
	} else {
		h["X-Tc-Timestamp"] = st.stamp
		s.signTC3(st, p)
	}
	h["Authorization"] = []string{string(st.auth)}
}

func (s *signer) signTC3(st *signState, p *payload) {
	b := append(st.buf[:0], tc3.Algorithm+"\n"...)
	b = append(b, st.stamp[0]...)
	b = append(b, '\n')
	b = append(b, st.date...)
	b = append(b, "/"+tc3Service+"/tc3_request\n"...)
	st.buf = append(b, p.tc3Canon[:]...)
	a := append(st.auth[:0], tc3.Algorithm+" Credential="...)
	a = append(a, s.id...)
	a = append(a, '/')
	a = append(a, st.date...)
	a = append(a, "/"+tc3Service+"/tc3_request, SignedHeaders="+tc3Signed+", Signature="...)
	st.auth = s.appendMAC(st, a)
}

func (s *signer) signAWS(st *signState, act action, p *payload) {
	c := append(st.buf[:0], "POST\n/\n\ncontent-type:"+awsContentType+"\nhost:"...)
	c = append(c, s.host...)
	c = append(c, "\nx-amz-date:"...)
	c = append(c, st.stamp[0]...)
	c = append(c, "\nx-amz-target:"+awsTargetPre...)
	c = append(c, act.String()...)
	c = append(c, "\n\n"+awsSigned+"\n"...)
	c = append(c, p.bodyHash[:]...)
	sum := sha256.Sum256(c)

	c = append(c[:0], sigv4.Algorithm+"\n"...) // the canonical request is hashed: reuse its buffer
	c = append(c, st.stamp[0]...)
	c = append(c, '\n')
	c = s.appendScope(c, st.date)
	c = append(c, '\n')
	st.buf = hex.AppendEncode(c, sum[:])

	a := append(st.auth[:0], sigv4.Algorithm+" Credential="...)
	a = append(a, s.id...)
	a = append(a, '/')
	a = s.appendScope(a, st.date)
	a = append(a, ", SignedHeaders="+awsSigned+", Signature="...)
	st.auth = s.appendMAC(st, a)
}

func (s *signer) appendScope(b []byte, date string) []byte {
	b = append(b, date...)
	b = append(b, '/')
	b = append(b, s.region...)
	return append(b, "/"+awsService+"/aws4_request"...)
}

// appendMAC appends the hex HMAC of st.buf under the day's key to dst.
func (s *signer) appendMAC(st *signState, dst []byte) []byte {
	st.mac.Reset()
	st.mac.Write(st.buf)
	st.sum = st.mac.Sum(st.sum[:0])
	return hex.AppendEncode(dst, st.sum)
}

// appendLower appends s in lower case: TC3 signs header values lowered.
func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}
