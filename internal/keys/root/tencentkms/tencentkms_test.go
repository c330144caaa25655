package tencentkms

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/keys/root/roottest"
)

func mustOpen(t *testing.T, cfg Config) *KMS {
	t.Helper()
	k, err := Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Open(%v): %v", cfg, err)
	}
	return k
}

func TestContract(t *testing.T) {
	f := newFakeKMS(t)
	k := mustOpen(t, f.config(f.createKey(t)))
	roottest.Run(t, k, fakeSecretKey)
}

// TestWireFormat checks what the SDK put on the wire, as the fake saw it.
func TestWireFormat(t *testing.T) {
	f := newFakeKMS(t)
	id := f.createKey(t)
	k := mustOpen(t, f.config(id))
	pt, aad := []byte("cmk material"), []byte("account=1/cmk=2")
	sealed, err := k.Wrap(t.Context(), pt, aad)
	if err != nil {
		t.Fatal(err)
	}
	enc := f.lastRequest("Encrypt")
	wantContext := `{"coffer:aad":"` + base64.StdEncoding.EncodeToString(aad) + `"}`
	for name, want := range map[string]string{
		"KeyId":             id,
		"Plaintext":         base64.StdEncoding.EncodeToString(append([]byte{version}, pt...)),
		"EncryptionContext": wantContext,
	} {
		if got := enc.params[name]; got != want {
			t.Errorf("Encrypt %s = %v, want %q", name, got, want)
		}
	}
	for name, want := range map[string]string{"X-TC-Action": "Encrypt", "X-TC-Version": "2019-01-18", "X-TC-Region": fakeRegion} {
		if got := enc.header.Get(name); got != want {
			t.Errorf("Encrypt header %s = %q, want %q", name, got, want)
		}
	}
	if !strings.HasPrefix(enc.header.Get("Authorization"), "TC3-HMAC-SHA256 Credential="+fakeSecretID+"/") {
		t.Errorf("Authorization = %q, want TC3 by %s", enc.header.Get("Authorization"), fakeSecretID)
	}
	if sealed[0] != version || strings.Count(string(sealed[1:]), "-k-") != 2 {
		t.Errorf("sealed = %q, want a format byte and a <A>-k-<B>-k-<C> blob", sealed)
	}
	if _, err := k.Unwrap(t.Context(), sealed, aad); err != nil {
		t.Fatal(err)
	}
	dec := f.lastRequest("Decrypt")
	if dec.params["CiphertextBlob"] != string(sealed[1:]) || dec.params["EncryptionContext"] != wantContext {
		t.Errorf("Decrypt params = %v, want the blob and the same context", dec.params)
	}
	if _, ok := dec.params["KeyId"]; ok {
		t.Error("Decrypt sent a KeyId; the API has no such input")
	}
	if _, err := k.Wrap(t.Context(), pt, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.lastRequest("Encrypt").params["EncryptionContext"]; ok {
		t.Error("Encrypt without aad sent an EncryptionContext")
	}
}

func TestBadCredentials(t *testing.T) {
	f := newFakeKMS(t)
	id := f.createKey(t)
	tests := []struct{ name, id, key, code string }{
		{"wrong secret key", fakeSecretID, "not-the-secret-key", "AuthFailure.SignatureFailure"},
		{"unknown secret id", "AKIDnobody", fakeSecretKey, "AuthFailure.SecretIdNotFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := f.config(id)
			cfg.SecretID, cfg.SecretKey = tt.id, tt.key
			_, err := Open(t.Context(), cfg)
			if !fault.Is(err, fault.Unavailable) || !strings.Contains(err.Error(), tt.code) {
				t.Fatalf("Open: %v, want Unavailable with %s", err, tt.code)
			}
			if strings.Contains(err.Error(), tt.key) {
				t.Fatalf("the error shows the secret key: %v", err)
			}
		})
	}
}

func TestOtherKeyCannotUnwrap(t *testing.T) {
	f := newFakeKMS(t)
	a, b := mustOpen(t, f.config(f.createKey(t))), mustOpen(t, f.config(f.createKey(t)))
	w, err := a.Wrap(t.Context(), []byte("material"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Unwrap(t.Context(), w, nil); !fault.Is(err, fault.KeyUnavailable) {
		t.Fatalf("Unwrap under another CMK: %v, want KeyUnavailable", err)
	}
}

func TestDisabledKey(t *testing.T) {
	f := newFakeKMS(t)
	id := f.createKey(t)
	k := mustOpen(t, f.config(id))
	w, err := k.Wrap(t.Context(), []byte("material"), nil)
	if err != nil {
		t.Fatal(err)
	}
	f.setEnabled(id, false)
	if _, err := k.Wrap(t.Context(), []byte("material"), nil); !fault.Is(err, fault.KeyUnavailable) || !strings.Contains(err.Error(), "CmkDisabled") {
		t.Errorf("Wrap with a disabled CMK: %v, want KeyUnavailable (CmkDisabled)", err)
	}
	if _, err := k.Unwrap(t.Context(), w, nil); !fault.Is(err, fault.KeyUnavailable) {
		t.Errorf("Unwrap with a disabled CMK: %v, want KeyUnavailable", err)
	}
	cfg := f.config(id)
	cfg.Region = "ap-shanghai" // the key lives in one region
	f.setEnabled(id, true)
	if _, err := Open(t.Context(), cfg); !fault.Is(err, fault.KeyUnavailable) || !strings.Contains(err.Error(), "CmkNotFound") {
		t.Errorf("Open in another region: %v, want KeyUnavailable (CmkNotFound)", err)
	}
}

func TestUnreachable(t *testing.T) {
	f := newFakeKMS(t)
	id := f.createKey(t)
	k := mustOpen(t, f.config(id))
	w, err := k.Wrap(t.Context(), []byte("material"), nil)
	if err != nil {
		t.Fatal(err)
	}
	f.srv.Close()
	if _, err := k.Wrap(t.Context(), []byte("material"), nil); !fault.Is(err, fault.Unavailable) {
		t.Errorf("Wrap with KMS down: %v, want Unavailable", err)
	}
	if _, err := k.Unwrap(t.Context(), w, nil); !fault.Is(err, fault.Unavailable) {
		t.Errorf("Unwrap with KMS down: %v, want Unavailable", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := f.config(id)
	cfg.Endpoint = "http://" + l.Addr().String()
	l.Close()
	if _, err := Open(t.Context(), cfg); !fault.Is(err, fault.Unavailable) {
		t.Errorf("Open with no KMS: %v, want Unavailable", err)
	}
}

func TestCanceled(t *testing.T) {
	f := newFakeKMS(t)
	k := mustOpen(t, f.config(f.createKey(t)))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := k.Wrap(ctx, []byte("material"), nil); !fault.Is(err, fault.Unavailable) {
		t.Fatalf("Wrap with a canceled context: %v, want Unavailable", err)
	}
}

func TestLimits(t *testing.T) {
	f := newFakeKMS(t)
	k := mustOpen(t, f.config(f.createKey(t)))
	big := bytes.Repeat([]byte{7}, maxPlaintext)
	w, err := k.Wrap(t.Context(), big, nil)
	if err != nil {
		t.Fatalf("Wrap(%d bytes): %v", len(big), err)
	}
	if got, err := k.Unwrap(t.Context(), w, nil); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("Unwrap(%d bytes) = %d bytes, %v", len(big), len(got), err)
	}
	if _, err := k.Wrap(t.Context(), append(big, 7), nil); !fault.Is(err, fault.Invalid) {
		t.Fatalf("Wrap(%d bytes): %v, want Invalid", len(big)+1, err)
	}
}

func TestDefaultCredentialChain(t *testing.T) {
	f := newFakeKMS(t)
	t.Setenv("TENCENTCLOUD_SECRET_ID", fakeSecretID)
	t.Setenv("TENCENTCLOUD_SECRET_KEY", fakeSecretKey)
	cfg := f.config(f.createKey(t))
	cfg.SecretID, cfg.SecretKey = "", ""
	mustOpen(t, cfg)
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no key", Config{Region: fakeRegion, SecretID: "a", SecretKey: "b"}, "no key id"},
		{"no region", Config{KeyID: "k", SecretID: "a", SecretKey: "b"}, "no region"},
		{"bad scheme", Config{KeyID: "k", Region: fakeRegion, Endpoint: "ftp://x", SecretID: "a", SecretKey: "b"}, "endpoint"},
		{"no secret key", Config{KeyID: "k", Region: fakeRegion, SecretID: "a"}, "no SecretKey"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := newKMS(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("newKMS: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestRedaction(t *testing.T) {
	cfg := Config{KeyID: "k", Region: fakeRegion, SecretID: fakeSecretID, SecretKey: fakeSecretKey, Token: "token-51be"}
	k, err := newKMS(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{cfg, &cfg, k} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			if s := fmt.Sprintf(verb, v); strings.Contains(s, fakeSecretKey) || strings.Contains(s, "token-51be") {
				t.Errorf("%s of %T shows a secret: %s", verb, v, s)
			}
		}
	}
}
