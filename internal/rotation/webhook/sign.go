package webhook

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	signatureHeader = "Coffer-Signature"
	signingPrefix   = "coffer-webhook-v1\n"

	// DefaultMaxSkew is how far Verify lets a call's timestamp stray from
	// the endpoint's clock, either way, when given no other bound.
	DefaultMaxSkew = 5 * time.Minute

	maxHeaderLen = 1024 // a real header is under 250 bytes
	maxTimeLen   = 12   // decimal digits; enough until the year 33658
	maxKeyIDLen  = 128
)

var sigEncoding = base64.RawURLEncoding.Strict()

// signedMessage returns the bytes a signature covers.
func signedMessage(t string, body []byte) []byte {
	m := make([]byte, 0, len(signingPrefix)+len(t)+1+len(body))
	m = append(m, signingPrefix...)
	m = append(m, t...)
	m = append(m, '\n')
	return append(m, body...)
}

// sign returns the Coffer-Signature header for body sent at now. It returns
// an error when the signer's key or key id is unusable.
func (s Signer) sign(now time.Time, body []byte) (string, error) {
	if len(s.Key) != ed25519.PrivateKeySize {
		return "", errors.New("webhook: the signing key is not an Ed25519 private key")
	}
	if !validKeyID(s.KeyID) {
		return "", fmt.Errorf("webhook: the signing key id must be 1 to %d printable ASCII characters without spaces or commas", maxKeyIDLen)
	}
	if now.Unix() < 0 {
		return "", errors.New("webhook: the clock is before 1970")
	}
	t := strconv.FormatInt(now.Unix(), 10)
	sig := ed25519.Sign(s.Key, signedMessage(t, body))
	return "t=" + t + ",kid=" + s.KeyID + ",v1=" + sigEncoding.EncodeToString(sig), nil
}

func validKeyID(id string) bool {
	if id == "" || len(id) > maxKeyIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f || c == ',' {
			return false
		}
	}
	return true
}

// Verify returns nil when the Coffer-Signature header in h signs body with
// the private key of pub, at a time within maxSkew of now either way
// (DefaultMaxSkew when maxSkew ≤ 0). body must be the exact bytes received.
// The header's kid is not checked: it only helps choose pub.
//
// Verify returns an error wrapping ErrSignature when the header is missing
// or malformed, offers no v1 signature, does not match, or is too old or
// too new; an endpoint should refuse the call with 401. It returns an error
// not wrapping ErrSignature when pub is not an Ed25519 public key.
func Verify(pub ed25519.PublicKey, h http.Header, body []byte, now time.Time, maxSkew time.Duration) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("webhook: verify: the public key has %d bytes, not %d", len(pub), ed25519.PublicKeySize)
	}
	p, err := parseSignature(h)
	if err != nil {
		return err
	}
	// The signature first: only a genuine call learns that its clock is off.
	if !ed25519.Verify(pub, signedMessage(p.t, body), p.sig) {
		return errMismatch
	}
	if maxSkew <= 0 {
		maxSkew = DefaultMaxSkew
	}
	if d := now.Sub(time.Unix(p.unix, 0)); d > maxSkew || d < -maxSkew {
		return fmt.Errorf("%w: t=%s is %s from the verifier's clock, more than %s",
			errExpired, p.t, d.Round(time.Second), maxSkew)
	}
	return nil
}

// signature is a parsed Coffer-Signature header.
type signature struct {
	t    string // canonical decimal Unix seconds, as signed
	unix int64
	kid  string
	sig  []byte
}

// parseSignature reads the one Coffer-Signature header in h. Elements are
// key=value pairs separated by commas, in any order; unknown keys are
// skipped so the header can grow, and a repeated key is an error.
func parseSignature(h http.Header) (signature, error) {
	var p signature
	vals := h.Values(signatureHeader)
	switch {
	case len(vals) == 0:
		return p, errNoSignature
	case len(vals) > 1:
		return p, fmt.Errorf("%w: %d headers, want one", errMalformed, len(vals))
	case len(vals[0]) > maxHeaderLen:
		return p, fmt.Errorf("%w: longer than %d bytes", errMalformed, maxHeaderLen)
	}
	seen := make(map[string]bool)
	for elem := range strings.SplitSeq(vals[0], ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(elem), "=")
		if !ok || k == "" {
			return p, fmt.Errorf("%w: element %s is not key=value", errMalformed, quote(elem))
		}
		if seen[k] {
			return p, fmt.Errorf("%w: %s appears twice", errMalformed, quote(k))
		}
		seen[k] = true
		if err := p.set(k, v); err != nil {
			return p, err
		}
	}
	return p, p.complete(seen)
}

// set records one element of the header.
func (p *signature) set(k, v string) error {
	var err error
	switch k {
	case "t":
		p.t, p.unix, err = parseTime(v)
	case "kid":
		p.kid = v
	case "v1":
		p.sig, err = sigEncoding.DecodeString(v)
		if err != nil || len(p.sig) != ed25519.SignatureSize {
			err = fmt.Errorf("%w: v1 is not a base64url Ed25519 signature", errMalformed)
		}
	}
	return err
}

// complete reports a required element the header lacked.
func (p *signature) complete(seen map[string]bool) error {
	switch {
	case !seen["v1"] && versioned(seen):
		return fmt.Errorf("%w: no v1 signature; this verifier supports scheme v1 only", errMalformed)
	case !seen["v1"]:
		return fmt.Errorf("%w: no v1 signature", errMalformed)
	case !seen["t"]:
		return fmt.Errorf("%w: no timestamp t", errMalformed)
	case p.kid == "":
		return fmt.Errorf("%w: no key id kid", errMalformed)
	}
	return nil
}

// versioned reports whether seen holds a signature of another scheme, v<N>.
func versioned(seen map[string]bool) bool {
	for k := range seen {
		if len(k) > 1 && k[0] == 'v' && strings.Trim(k[1:], "0123456789") == "" {
			return true
		}
	}
	return false
}

// parseTime reads t: Unix seconds in canonical decimal, so the text that
// was signed is the only text that verifies.
func parseTime(v string) (string, int64, error) {
	bad := func(why string) (string, int64, error) {
		return "", 0, fmt.Errorf("%w: t=%s %s", errMalformed, quote(v), why)
	}
	if v == "" || len(v) > maxTimeLen || strings.Trim(v, "0123456789") != "" {
		return bad("is not Unix seconds")
	}
	if len(v) > 1 && v[0] == '0' {
		return bad("has a leading zero")
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return bad("is not Unix seconds")
	}
	return v, n, nil
}

// quote returns untrusted header text fit for an error message: quoted and
// clipped.
func quote(s string) string {
	const limit = 32
	if len(s) > limit {
		return strconv.Quote(s[:limit]) + "..."
	}
	return strconv.Quote(s)
}
