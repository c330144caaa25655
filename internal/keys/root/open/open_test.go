package open

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func noEnv(string) (string, bool) { return "", false }

func TestOpenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "root.key")
	s, err := ParseSpec("file:" + path + "?create=false")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openWith(t.Context(), s, noEnv); err == nil {
		t.Fatal("Open with create=false made a missing key file")
	}
	s.File.NoCreate = false
	p, err := openWith(t.Context(), s, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	w, err := p.Wrap(t.Context(), []byte("material"), []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := p.Unwrap(t.Context(), w, []byte("aad")); err != nil || !bytes.Equal(got, []byte("material")) {
		t.Fatalf("Unwrap = %q, %v", got, err)
	}
	if !strings.Contains(p.Describe(), path) {
		t.Errorf("Describe = %q, want the path", p.Describe())
	}
}

// TestOpenNeedsSecrets: every secret a spec names must be set; Open says
// which variable is missing before it contacts anything.
func TestOpenNeedsSecrets(t *testing.T) {
	tests := []struct{ spec, want string }{
		{"pkcs11:module=/m.so;token=t;label=k;pin-env=COFFER_TEST_PIN", "COFFER_TEST_PIN"},
		{"awskms:k?region=eu-west-1&access-key-env=COFFER_TEST_AK&secret-key-env=COFFER_TEST_SK", "COFFER_TEST_AK"},
		{"tencentkms:K?region=ap-guangzhou&secret-id-env=COFFER_TEST_ID&secret-key-env=COFFER_TEST_KEY", "COFFER_TEST_ID"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			s, err := ParseSpec(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := openWith(t.Context(), s, noEnv); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open: %v, want an error naming %s", err, tt.want)
			}
		})
	}
}

func TestOpenUnknownKind(t *testing.T) {
	if _, err := Open(t.Context(), Spec{Kind: "vault"}); err == nil {
		t.Fatal("Open of an unknown kind succeeded")
	}
}
