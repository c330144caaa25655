//go:build cgo

package softhsmtest

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/ThalesGroup/crypto11"
	p11 "github.com/miekg/pkcs11"
)

// login opens tok with pin and closes the context when t ends.
func login(t *testing.T, tok Token, pin string) (*crypto11.Context, error) {
	t.Helper()
	c, err := crypto11.Configure(&crypto11.Config{Path: tok.Module, TokenLabel: tok.Label, Pin: pin})
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, err
}

// TestTokenAfterLogin: a token made while another is open and logged in
// is visible, refuses a wrong PIN, and sees none of the other's tokens.
func TestTokenAfterLogin(t *testing.T) {
	a := NewToken(t)
	if _, err := login(t, a, a.PIN); err != nil {
		t.Fatalf("open the first token: %v", err)
	}
	b := NewToken(t)
	var code p11.Error
	if _, err := login(t, b, "wrong-pin"); !errors.As(err, &code) || code != p11.CKR_PIN_INCORRECT {
		t.Fatalf("a wrong PIN on a fresh token: %v, want CKR_PIN_INCORRECT", err)
	}
	if _, err := login(t, b, b.PIN); err != nil {
		t.Fatalf("open a token made after another was logged in to: %v", err)
	}
	if _, err := login(t, Token{Module: b.Module, Label: a.Label}, a.PIN); err == nil {
		t.Fatal("the second token's module sees the first token")
	}
}

func TestParallelTokens(t *testing.T) {
	for i := range 6 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			tok := NewToken(t)
			c, err := login(t, tok, tok.PIN)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.GenerateSecretKey([]byte("k"), 256, crypto11.CipherAES); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestKey(t *testing.T) {
	tok := NewToken(t)
	c, err := login(t, tok, tok.PIN)
	if err != nil {
		t.Fatal(err)
	}
	for label, attrs := range map[string][]*p11.Attribute{
		"sealed": {p11.NewAttribute(p11.CKA_PRIVATE, true), p11.NewAttribute(p11.CKA_WRAP, false), p11.NewAttribute(p11.CKA_DERIVE, false)},
		"open": {p11.NewAttribute(p11.CKA_PRIVATE, false), p11.NewAttribute(p11.CKA_WRAP, true), p11.NewAttribute(p11.CKA_DERIVE, true),
			p11.NewAttribute(p11.CKA_SENSITIVE, false), p11.NewAttribute(p11.CKA_EXTRACTABLE, true)},
	} {
		tmpl, _ := crypto11.NewAttributeSetWithIDAndLabel([]byte(label), []byte(label))
		for _, a := range attrs {
			tmpl[a.Type] = a
		}
		if _, err := c.GenerateSecretKeyWithAttributes(tmpl, 256, crypto11.CipherAES); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		label string
		want  KeyInfo
	}{
		{"sealed", KeyInfo{Count: 1, Sensitive: true, AlwaysSensitive: true, NeverExtractable: true, Private: true, OnToken: true, ValueLen: 32}},
		{"open", KeyInfo{Count: 1, Extractable: true, OnToken: true, Wrap: true, Derive: true, ValueReadable: true, ValueLen: 32}},
		{"absent", KeyInfo{}},
	}
	for _, tt := range tests {
		if got := tok.Key(t, tt.label); got != tt.want {
			t.Errorf("Key(%q) = %+v, want %+v", tt.label, got, tt.want)
		}
	}
}

func TestTokenRedacted(t *testing.T) {
	tok := NewToken(t)
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%+v", tok), fmt.Sprintf("%#v", &tok), slog.AnyValue(tok).Resolve().String()} {
		if strings.Contains(s, tok.PIN) || strings.Contains(s, tok.SOPIN) {
			t.Errorf("a printed token shows a PIN: %s", s)
		}
	}
}
