package webhook

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

const testBody = `{"Step":"setSecret","SecretId":"prod/db"}`

// MustSigned returns the headers of testBody signed at testNow.
func MustSigned(tb testing.TB) http.Header {
	tb.Helper()
	s, _ := MustSigner(tb)
	v, err := s.sign(testNow, []byte(testBody))
	if err != nil {
		tb.Fatal(err)
	}
	return http.Header{signatureHeader: {v}}
}

// signedAt returns the Coffer-Signature header of body signed at t.
func signedAt(tb testing.TB, t time.Time, body string) string {
	tb.Helper()
	s, _ := MustSigner(tb)
	v, err := s.sign(t, []byte(body))
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func TestVerify(t *testing.T) {
	_, pub := MustSigner(t)
	good := MustSigned(t).Get(signatureHeader)
	t0, kid, v1 := splitHeader(t, good)
	tests := []struct {
		name   string
		header []string // nil: no header
		body   string   // "": testBody
		skew   time.Duration
		clock  time.Duration // how far the verifier's clock is ahead
		want   error
	}{
		{name: "ok", header: []string{good}},
		{name: "reordered, spaced, extra element", header: []string{" v1=" + v1 + " , x=1,kid=" + kid + ", " + t0}},
		{name: "another key id", header: []string{t0 + ",kid=someone-else," + "v1=" + v1}},
		{name: "300s late", header: []string{good}, clock: 300 * time.Second},
		{name: "300s early", header: []string{good}, clock: -300 * time.Second},
		{name: "301s late", header: []string{good}, clock: 301 * time.Second, want: errExpired},
		{name: "301s early", header: []string{good}, clock: -301 * time.Second, want: errExpired},
		{name: "stale by a day", header: []string{good}, clock: 24 * time.Hour, want: errExpired},
		{name: "skew given", header: []string{good}, clock: 30 * time.Second, skew: 10 * time.Second, want: errExpired},
		{name: "skew given, within", header: []string{good}, clock: 9 * time.Second, skew: 10 * time.Second},
		{name: "tampered body", header: []string{good}, body: strings.Replace(testBody, "setSecret", "testSecret", 1), want: errMismatch},
		{name: "empty body", header: []string{good}, body: " ", want: errMismatch},
		{name: "tampered t", header: []string{"t=" + strconv.FormatInt(testNow.Unix()+1, 10) + ",kid=" + kid + ",v1=" + v1}, clock: time.Second, want: errMismatch},
		{name: "flipped signature", header: []string{t0 + ",kid=" + kid + ",v1=" + flip(v1)}, want: errMismatch},
		{name: "missing", want: errNoSignature},
		{name: "two headers", header: []string{good, good}, want: errMalformed},
		{name: "empty", header: []string{""}, want: errMalformed},
		{name: "no v1", header: []string{t0 + ",kid=" + kid}, want: errMalformed},
		{name: "v2 only", header: []string{t0 + ",kid=" + kid + ",v2=" + v1}, want: errMalformed},
		{name: "no t", header: []string{"kid=" + kid + ",v1=" + v1}, want: errMalformed},
		{name: "no kid", header: []string{t0 + ",v1=" + v1}, want: errMalformed},
		{name: "empty kid", header: []string{t0 + ",kid=,v1=" + v1}, want: errMalformed},
		{name: "t twice", header: []string{t0 + "," + good}, want: errMalformed},
		{name: "v1 twice", header: []string{good + ",v1=" + v1}, want: errMalformed},
		{name: "t not a number", header: []string{"t=soon,kid=" + kid + ",v1=" + v1}, want: errMalformed},
		{name: "t signed", header: []string{"t=+" + t0[2:] + ",kid=" + kid + ",v1=" + v1}, want: errMalformed},
		{name: "t negative", header: []string{"t=-1,kid=" + kid + ",v1=" + v1}, want: errMalformed},
		{name: "t leading zero", header: []string{"t=0" + t0[2:] + ",kid=" + kid + ",v1=" + v1}, want: errMalformed},
		{name: "t far future", header: []string{"t=99999999999999999999,kid=" + kid + ",v1=" + v1}, want: errMalformed},
		{name: "t empty", header: []string{"t=,kid=" + kid + ",v1=" + v1}, want: errMalformed},
		{name: "v1 padded", header: []string{t0 + ",kid=" + kid + ",v1=" + v1 + "=="}, want: errMalformed},
		{name: "v1 std base64", header: []string{t0 + ",kid=" + kid + ",v1=" + strings.NewReplacer("-", "+", "_", "/").Replace(v1) + "+"}, want: errMalformed},
		{name: "v1 short", header: []string{t0 + ",kid=" + kid + ",v1=" + v1[:43]}, want: errMalformed},
		{name: "v1 hex", header: []string{t0 + ",kid=" + kid + ",v1=" + strings.Repeat("ab", 64)}, want: errMalformed},
		{name: "element without =", header: []string{good + ",junk"}, want: errMalformed},
		{name: "empty element", header: []string{good + ","}, want: errMalformed},
		{name: "empty key", header: []string{good + ",=x"}, want: errMalformed},
		{name: "semicolons", header: []string{strings.ReplaceAll(good, ",", ";")}, want: errMalformed},
		{name: "too long", header: []string{good + ",x=" + strings.Repeat("a", maxHeaderLen)}, want: errMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.header {
				h.Add(signatureHeader, v)
			}
			body := tt.body
			if body == "" {
				body = testBody
			}
			err := Verify(pub, h, []byte(body), testNow.Add(tt.clock), tt.skew)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if err != nil && !errors.Is(err, ErrSignature) {
				t.Errorf("Verify = %v, want an ErrSignature", err)
			}
		})
	}
}

func TestVerifyWrongKey(t *testing.T) {
	err := Verify(MustOtherKey(t), MustSigned(t), []byte(testBody), testNow, 0)
	if !errors.Is(err, errMismatch) {
		t.Fatalf("Verify = %v, want %v", err, errMismatch)
	}
}

func TestVerifyBadPublicKey(t *testing.T) {
	_, pub := MustSigner(t)
	for _, k := range [][]byte{nil, pub[:31], append(pub, 0)} {
		err := Verify(k, MustSigned(t), []byte(testBody), testNow, 0)
		if err == nil || errors.Is(err, ErrSignature) {
			t.Errorf("Verify with a %d-byte key = %v, want a key error", len(k), err)
		}
	}
}

func TestVerifyErrorsAreClipped(t *testing.T) {
	_, pub := MustSigner(t)
	h := http.Header{signatureHeader: {"t=1,kid=k,v1=x," + strings.Repeat("Z", 500)}}
	err := Verify(pub, h, nil, testNow, 0)
	if !errors.Is(err, errMalformed) || len(err.Error()) > 150 {
		t.Fatalf("Verify = %q, want a short malformed error", err)
	}
}

// splitHeader returns the t=, kid's value and v1's value of a header Sign made.
func splitHeader(tb testing.TB, h string) (t, kid, v1 string) {
	tb.Helper()
	parts := strings.Split(h, ",")
	if len(parts) != 3 || !strings.HasPrefix(parts[0], "t=") || !strings.HasPrefix(parts[1], "kid=") ||
		!strings.HasPrefix(parts[2], "v1=") {
		tb.Fatalf("header %q, want t=..,kid=..,v1=..", h)
	}
	return parts[0], parts[1][4:], parts[2][3:]
}

// flip changes the first character of a base64url signature.
func flip(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

func TestSignedFormat(t *testing.T) {
	h := signedAt(t, testNow, testBody)
	tt, kid, v1 := splitHeader(t, h)
	if want := "t=" + strconv.FormatInt(testNow.Unix(), 10); tt != want || kid != "coffer-test-1" || len(v1) != 86 {
		t.Errorf("header = %q, want %s,kid=coffer-test-1,v1=<86 base64url characters>", h, want)
	}
}
