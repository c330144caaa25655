package awskms

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/keys/root/roottest"
)

func TestContract(t *testing.T) {
	e := startKMS(t)
	k := mustOpen(t, e.config(e.createKey(t))) // the region comes from the ARN
	if want := "in " + testRegion; !strings.Contains(k.Describe(), want) {
		t.Errorf("Describe = %q, want it to contain %q", k.Describe(), want)
	}
	roottest.Run(t, k, testSecretKey)
}

func TestAliasAndDefaultCredentialChain(t *testing.T) {
	e := startKMS(t)
	arn := e.createKey(t)
	if _, err := e.client().CreateAlias(t.Context(), &kms.CreateAliasInput{
		AliasName: aws.String("alias/coffer-root"), TargetKeyId: aws.String(arn),
	}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", testAccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecretKey)
	k := mustOpen(t, Config{KeyID: "alias/coffer-root", Region: testRegion, Endpoint: e.endpoint})
	byARN := mustOpen(t, e.config(arn))
	w, err := k.Wrap(t.Context(), []byte("material"), []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := byARN.Unwrap(t.Context(), w, []byte("aad")); err != nil || string(got) != "material" {
		t.Fatalf("Unwrap by ARN of what the alias wrapped = %q, %v", got, err)
	}
}

func TestOtherKeyCannotUnwrap(t *testing.T) {
	e := startKMS(t)
	a, b := mustOpen(t, e.config(e.createKey(t))), mustOpen(t, e.config(e.createKey(t)))
	w, err := a.Wrap(t.Context(), []byte("material"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Unwrap(t.Context(), w, nil); !fault.Is(err, fault.KeyUnavailable) {
		t.Fatalf("Unwrap under another key: %v, want KeyUnavailable", err)
	}
}

func TestDisabledKey(t *testing.T) {
	e := startKMS(t)
	arn := e.createKey(t)
	k := mustOpen(t, e.config(arn))
	w, err := k.Wrap(t.Context(), []byte("material"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client().DisableKey(t.Context(), &kms.DisableKeyInput{KeyId: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Wrap(t.Context(), []byte("material"), nil); !fault.Is(err, fault.KeyUnavailable) {
		t.Errorf("Wrap with a disabled key: %v, want KeyUnavailable", err)
	}
	if _, err := k.Unwrap(t.Context(), w, nil); !fault.Is(err, fault.KeyUnavailable) {
		t.Errorf("Unwrap with a disabled key: %v, want KeyUnavailable", err)
	}
	if _, err := Open(t.Context(), e.config(arn)); !fault.Is(err, fault.KeyUnavailable) {
		t.Errorf("Open with a disabled key: %v, want KeyUnavailable", err)
	}
}

// TestUnreachable: KMS goes away after Open, and Open against nothing.
func TestUnreachable(t *testing.T) {
	e := startKMS(t)
	k := mustOpen(t, e.config(e.createKey(t)))
	w, err := k.Wrap(t.Context(), []byte("material"), nil)
	if err != nil {
		t.Fatal(err)
	}
	e.stop()
	if _, err := k.Wrap(t.Context(), []byte("material"), nil); !fault.Is(err, fault.Unavailable) {
		t.Errorf("Wrap with KMS down: %v, want Unavailable", err)
	}
	if _, err := k.Unwrap(t.Context(), w, nil); !fault.Is(err, fault.Unavailable) {
		t.Errorf("Unwrap with KMS down: %v, want Unavailable", err)
	}
	cfg := e.config("arn:aws:kms:eu-west-2:111122223333:key/00000000-0000-0000-0000-000000000000")
	cfg.Endpoint = deadEndpoint(t)
	if _, err := Open(t.Context(), cfg); !fault.Is(err, fault.Unavailable) {
		t.Errorf("Open with no KMS: %v, want Unavailable", err)
	}
}

func TestCanceled(t *testing.T) {
	e := startKMS(t)
	k := mustOpen(t, e.config(e.createKey(t)))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := k.Wrap(ctx, []byte("material"), nil)
	if !fault.Is(err, fault.Unavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Wrap with a canceled context: %v, want Unavailable wrapping context.Canceled", err)
	}
}

func TestLimits(t *testing.T) {
	e := startKMS(t)
	cfg := e.config(e.createKey(t))
	// The SDK's retries, unlike the other tests' single attempt: Go's HTTP
	// client now and then reads a large answer on a connection it has just
	// closed ("use of closed network connection" with status 200,
	// aws/aws-sdk-go-v2#1825), a failure the SDK retries.
	cfg.MaxAttempts = 0
	k := mustOpen(t, cfg)
	big := bytes.Repeat([]byte{1}, maxPlaintext)
	w, err := k.Wrap(t.Context(), big, nil)
	if err != nil {
		t.Fatalf("Wrap(%d bytes): %v", len(big), err)
	}
	if got, err := k.Unwrap(t.Context(), w, nil); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("Unwrap(%d bytes) = %d bytes, %v", len(big), len(got), err)
	}
	if _, err := k.Wrap(t.Context(), append(big, 1), nil); !fault.Is(err, fault.Invalid) {
		t.Fatalf("Wrap(%d bytes): %v, want Invalid", len(big)+1, err)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no key", Config{Region: "eu-west-1"}, "no key id"},
		{"no region", Config{KeyID: "alias/coffer"}, "no region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := newKMS(t.Context(), tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("newKMS: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestRedaction(t *testing.T) {
	cfg := Config{KeyID: "alias/x", Region: "eu-west-1", AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey, SessionToken: "token-9d1e"}
	k, err := newKMS(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{cfg, &cfg, k} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			if s := fmt.Sprintf(verb, v); strings.Contains(s, testSecretKey) || strings.Contains(s, "token-9d1e") {
				t.Errorf("%s of %T shows a secret: %s", verb, v, s)
			}
		}
	}
}

func TestARNRegion(t *testing.T) {
	tests := []struct{ id, want string }{
		{"arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", "eu-west-1"},
		{"arn:aws-cn:kms:cn-north-1:111122223333:alias/coffer", "cn-north-1"},
		{"1234abcd-12ab-34cd-56ef-1234567890ab", ""},
		{"alias/coffer", ""},
		{"arn:aws:s3:::bucket", ""},
	}
	for _, tt := range tests {
		if got := arnRegion(tt.id); got != tt.want {
			t.Errorf("arnRegion(%q) = %q, want %q", tt.id, got, tt.want)
		}
	}
}
