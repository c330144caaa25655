//go:build cgo

package pkcs11

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ThalesGroup/crypto11"
	p11 "github.com/miekg/pkcs11"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/keys/root/pkcs11/softhsmtest"
	"github.com/coffer-secrets/coffer/internal/keys/root/roottest"
)

func TestContract(t *testing.T) {
	tok := softhsmtest.NewToken(t)
	h := mustOpen(t, configIn(tok, "contract"))
	roottest.Run(t, h, tok.PIN, tok.SOPIN)
}

func TestReopenFindsKeyByLabel(t *testing.T) {
	cfg := config(t, "reopen")
	first, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pt, aad := roottest.Random(t, 32), []byte("cmk=1")
	w, err := first.Wrap(t.Context(), pt, aad)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.CreateIfMissing = false
	again, other := mustOpen(t, cfg), mustOpen(t, cfg) // a second context on one token, as two processes would be
	for _, h := range []*HSM{again, other} {
		got, err := h.Unwrap(t.Context(), w, aad)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("Unwrap after reopen = %x, %v; want %x", got, err, pt)
		}
	}
}

func TestKeyNotExportable(t *testing.T) {
	h := mustOpen(t, config(t, "export"))
	attrs, err := h.p11.GetAttributes(h.key, []crypto11.AttributeType{
		p11.CKA_SENSITIVE, p11.CKA_EXTRACTABLE, p11.CKA_PRIVATE, p11.CKA_TOKEN,
		p11.CKA_WRAP, p11.CKA_DERIVE, p11.CKA_ALWAYS_SENSITIVE, p11.CKA_NEVER_EXTRACTABLE,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[crypto11.AttributeType]bool{
		p11.CKA_SENSITIVE: true, p11.CKA_EXTRACTABLE: false, p11.CKA_PRIVATE: true, p11.CKA_TOKEN: true,
		p11.CKA_WRAP: false, p11.CKA_DERIVE: false, p11.CKA_ALWAYS_SENSITIVE: true, p11.CKA_NEVER_EXTRACTABLE: true,
	}
	for typ, w := range want {
		if got := boolean(attrs[typ]); got != w {
			t.Errorf("attribute %#x = %t, want %t", typ, got, w)
		}
	}
	v, err := h.p11.GetAttribute(h.key, p11.CKA_VALUE)
	if err == nil && v != nil && len(v.Value) > 0 {
		t.Fatalf("the token returned CKA_VALUE (%d bytes): the key is exportable", len(v.Value))
	}
}

// TestRefusesExportableKey: a key someone made by hand with CKA_EXTRACTABLE
// is not accepted as a root key.
func TestRefusesExportableKey(t *testing.T) {
	cfg := config(t, "weak")
	c, err := crypto11.Configure(&crypto11.Config{Path: cfg.Module, TokenLabel: cfg.Token, Pin: cfg.PIN})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tmpl, _ := crypto11.NewAttributeSetWithIDAndLabel([]byte(cfg.KeyLabel), []byte(cfg.KeyLabel))
	tmpl[p11.CKA_SENSITIVE] = p11.NewAttribute(p11.CKA_SENSITIVE, false)
	tmpl[p11.CKA_EXTRACTABLE] = p11.NewAttribute(p11.CKA_EXTRACTABLE, true)
	if _, err := c.GenerateSecretKeyWithAttributes(tmpl, 256, crypto11.CipherAES); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(cfg); err == nil || !strings.Contains(err.Error(), "can be exported") {
		t.Fatalf("Open with an extractable key: %v, want a refusal", err)
	}
}

func TestOtherKeyCannotUnwrap(t *testing.T) {
	cfg := config(t, "key-a")
	other := cfg
	other.KeyLabel = "key-b" // in the same token
	a, b := mustOpen(t, cfg), mustOpen(t, other)
	w, err := a.Wrap(t.Context(), []byte("material"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Unwrap(t.Context(), w, nil); !fault.Is(err, fault.KeyUnavailable) {
		t.Fatalf("Unwrap under another key: %v, want KeyUnavailable", err)
	}
}

func TestClosedIsUnavailable(t *testing.T) {
	h, err := Open(config(t, "closed"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := h.Wrap(t.Context(), []byte("material"), nil)
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
	if _, err := h.Wrap(t.Context(), []byte("material"), nil); !fault.Is(err, fault.Unavailable) {
		t.Errorf("Wrap after Close: %v, want Unavailable", err)
	}
	if _, err := h.Unwrap(t.Context(), w, nil); !fault.Is(err, fault.Unavailable) {
		t.Errorf("Unwrap after Close: %v, want Unavailable", err)
	}
}

// TestWrongPIN relies on a fresh token, which nothing has logged in to yet:
// PKCS#11 login state belongs to the application, so a second login to a
// token that is already logged in succeeds whatever the PIN.
func TestWrongPIN(t *testing.T) {
	cfg := config(t, "root")
	pin := cfg.PIN
	cfg.PIN = "wrong-pin-51d0"
	_, err := Open(cfg)
	if err == nil || !strings.Contains(err.Error(), "wrong PIN") {
		t.Fatalf("Open with a wrong PIN: %v, want a wrong PIN error", err)
	}
	if s := err.Error(); strings.Contains(s, cfg.PIN) || strings.Contains(s, pin) {
		t.Fatalf("the error shows a PIN: %v", err)
	}
	cfg.PIN = pin
	mustOpen(t, cfg) // the token itself is fine
}

func TestOpenErrors(t *testing.T) {
	base := config(t, "errors")
	notModule := filepath.Join(t.TempDir(), "libnot.so")
	if err := os.WriteFile(notModule, []byte("not an ELF file"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"missing module", func(c *Config) { c.Module = "/nonexistent/libsofthsm2.so" }, "no such file"},
		{"not a module", func(c *Config) { c.Module = notModule }, "cannot load"},
		{"unknown token", func(c *Config) { c.Token = "no-such-token" }, `no initialized token labelled "no-such-token"`},
		{"missing key", func(c *Config) { c.KeyLabel, c.CreateIfMissing = "never-made", false }, `has no key labelled "never-made"`},
		{"no PIN", func(c *Config) { c.PIN = "" }, "no PIN"},
		{"no module", func(c *Config) { c.Module = "" }, "no module"},
		{"no token", func(c *Config) { c.Token = "" }, "no token"},
		{"no key label", func(c *Config) { c.KeyLabel = "" }, "no key label"},
		{"one session", func(c *Config) { c.MaxSessions = 1 }, "MaxSessions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.edit(&cfg)
			h, err := Open(cfg)
			if err == nil {
				h.Close()
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open: %v, want an error containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), base.PIN) {
				t.Fatalf("the error shows the PIN: %v", err)
			}
		})
	}
}

func TestRedaction(t *testing.T) {
	cfg := config(t, "redact")
	h := mustOpen(t, cfg)
	for _, v := range []any{cfg, &cfg, h} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			if s := fmt.Sprintf(verb, v); strings.Contains(s, cfg.PIN) {
				t.Errorf("%s of %T shows the PIN: %s", verb, v, s)
			}
		}
	}
}

// TestConcurrentOpen: several contexts opening one existing key at once
// and using it (one process's providers, or several Coffer processes).
func TestConcurrentOpen(t *testing.T) {
	cfg := config(t, "shared")
	mustOpen(t, cfg)
	cfg.CreateIfMissing = false
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			h, err := Open(cfg)
			if err != nil {
				errs <- err
				return
			}
			defer h.Close()
			w, err := h.Wrap(t.Context(), []byte("x"), []byte("y"))
			if err == nil {
				_, err = h.Unwrap(t.Context(), w, []byte("y"))
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		fallback fault.Kind
		want     fault.Kind
	}{
		{"tag mismatch, as crypto11 formats it", fmt.Errorf("C_Decrypt: %v", p11.Error(p11.CKR_GENERAL_ERROR)), fault.KeyUnavailable, fault.KeyUnavailable},
		{"bad data", p11.Error(p11.CKR_ENCRYPTED_DATA_INVALID), fault.KeyUnavailable, fault.KeyUnavailable},
		{"device gone", fmt.Errorf("C_Encrypt: %v", p11.Error(p11.CKR_DEVICE_REMOVED)), fault.Internal, fault.Unavailable},
		{"session lost", fmt.Errorf("wrapped: %w", p11.Error(p11.CKR_SESSION_HANDLE_INVALID)), fault.KeyUnavailable, fault.Unavailable},
		{"not logged in", p11.Error(p11.CKR_USER_NOT_LOGGED_IN), fault.KeyUnavailable, fault.Unavailable},
		{"closed context", errors.New("context is closed"), fault.KeyUnavailable, fault.Unavailable},
		{"other token error on Wrap", p11.Error(p11.CKR_MECHANISM_INVALID), fault.Internal, fault.Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fault.KindOf(classify("op", tt.err, tt.fallback)); got != tt.want {
				t.Fatalf("classify(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
