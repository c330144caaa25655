package webhook

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzVerify checks that Verify never panics on a hostile header or body,
// and fails only with an ErrSignature. The verifier's clock is the signing
// time, so mutations that keep the header well formed reach the signature
// check.
func FuzzVerify(f *testing.F) {
	good := MustSigned(f).Get(signatureHeader)
	t0, kid, v1 := splitHeader(f, good)
	f.Add(good, testBody)
	f.Add(good, testBody+" ")
	f.Add(" "+v1+" , kid="+kid+" ,"+t0+",v2=x", testBody)
	f.Add(t0+",kid="+kid+",v1="+v1+"==", testBody)
	f.Add("t=99999999999,kid=k,v1="+v1, "")
	f.Add("t=0,kid=k,v1=", "")
	f.Add("t=,kid=,v1=,,,", "")
	f.Add("v9=x", "")
	f.Add("", "")
	_, pub := MustSigner(f)
	f.Fuzz(func(t *testing.T, header, body string) {
		h := http.Header{signatureHeader: {header}}
		err := Verify(pub, h, []byte(body), testNow, 0)
		if err != nil && !errors.Is(err, ErrSignature) {
			t.Fatalf("Verify = %v, want an ErrSignature", err)
		}
		if err == nil && body != testBody {
			t.Fatalf("Verify accepted %q for body %q", header, body)
		}
	})
}

// FuzzReply checks that a hostile reply body never panics the decoders, and
// that an error message kept is short, printable and never quotes a value.
func FuzzReply(f *testing.F) {
	f.Add([]byte(`{"SecretString":"x"}`), pendingSecret)
	f.Add([]byte(`{"SecretBinary":"AQID"}`), pendingSecret)
	f.Add([]byte(`{"Error":"cannot set pending-pw-K3v9"}`), pendingSecret)
	f.Add([]byte(`{"Message":"a\u0000b\u202e"}`), "ab")
	f.Add([]byte(`{"Error":"p\\\"w"}`), `{"password":"p\"w-long"}`)
	f.Add([]byte("{\"Error\":\"\xff\"}"), "\ufffd")
	f.Add([]byte(`null`), "")
	f.Fuzz(func(t *testing.T, body []byte, secret string) {
		if _, err := decodeReply(StepCreate, body); err != nil && !errors.Is(err, ErrReply) {
			t.Fatalf("decodeReply = %v, want an ErrReply", err)
		}
		ev := testEvent(StepSet)
		ev.Pending.SecretString = &secret
		msg := statusMessage(body, ev)
		if len(msg) > maxMessage || !utf8.ValidString(msg) {
			t.Fatalf("message %q is too long or not UTF-8", msg)
		}
		if msg != withheld && (secret != "" && strings.Contains(msg, secret) || strings.Contains(msg, currentSecret)) {
			t.Fatalf("message %q quotes a value", msg)
		}
	})
}
