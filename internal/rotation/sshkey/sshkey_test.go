package sshkey

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/coffer-secrets/coffer/internal/fault"
)

// mustGenerate returns a new pair or fails the test.
func mustGenerate(tb testing.TB, algorithm string, bits int, comment string) *Pair {
	tb.Helper()
	p, err := Generate(algorithm, bits, comment)
	if err != nil {
		tb.Fatalf("Generate(%q, %d, %q): %v", algorithm, bits, comment, err)
	}
	return p
}

// invalidMessage returns the client-safe message of a fault.Invalid error.
func invalidMessage(tb testing.TB, err error) string {
	tb.Helper()
	var e *fault.Error
	if !errors.As(err, &e) || e.Kind != fault.Invalid {
		tb.Fatalf("error %v: want a fault.Invalid error", err)
	}
	return e.Msg
}

func TestGenerateRoundTrip(t *testing.T) {
	tests := []struct {
		algorithm string
		bits      int
		wantAlg   string
		wantBits  int
		wantPEM   string
		wantType  string
	}{
		{"", 0, Ed25519, 256, "-----BEGIN OPENSSH PRIVATE KEY-----\n", ssh.KeyAlgoED25519},
		{"ed25519", 0, Ed25519, 256, "-----BEGIN OPENSSH PRIVATE KEY-----\n", ssh.KeyAlgoED25519},
		{"ed25519", 256, Ed25519, 256, "-----BEGIN OPENSSH PRIVATE KEY-----\n", ssh.KeyAlgoED25519},
		{"rsa", 0, RSA, 3072, "-----BEGIN RSA PRIVATE KEY-----\n", ssh.KeyAlgoRSA},
		{"rsa", 2048, RSA, 2048, "-----BEGIN RSA PRIVATE KEY-----\n", ssh.KeyAlgoRSA},
		{"rsa", 4096, RSA, 4096, "-----BEGIN RSA PRIVATE KEY-----\n", ssh.KeyAlgoRSA},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.algorithm, tt.bits), func(t *testing.T) {
			if tt.bits == 4096 && testing.Short() {
				t.Skip("4096-bit RSA generation is slow")
			}
			const comment = "skey-1a2b3c4d coffer@example"
			p := mustGenerate(t, tt.algorithm, tt.bits, comment)
			if p.Algorithm != tt.wantAlg || p.Bits != tt.wantBits {
				t.Errorf("Algorithm, Bits = %q, %d, want %q, %d", p.Algorithm, p.Bits, tt.wantAlg, tt.wantBits)
			}
			if !strings.HasPrefix(p.PrivateKey, tt.wantPEM) {
				t.Errorf("private key starts %.40q, want %q", p.PrivateKey, tt.wantPEM)
			}
			if !strings.HasPrefix(p.PublicKey, tt.wantType+" AAAA") || !strings.HasSuffix(p.PublicKey, " "+comment) {
				t.Errorf("public key %q: want %q AAAA… %q", p.PublicKey, tt.wantType, comment)
			}
			checkWithSSH(t, p, comment, tt.wantType)
			checkWithSSHKeygen(t, p)
			if err := Check(p); err != nil {
				t.Errorf("Check: %v", err)
			}
		})
	}
}

// checkWithSSH checks p against golang.org/x/crypto/ssh: both keys parse,
// they are the same key, a signature by one verifies with the other, and
// the fingerprint is ssh.FingerprintSHA256.
func checkWithSSH(t *testing.T, p *Pair, comment, keyType string) {
	t.Helper()
	signer, err := ssh.ParsePrivateKey([]byte(p.PrivateKey))
	if err != nil {
		t.Fatalf("ssh.ParsePrivateKey: %v", err)
	}
	pub, gotComment, _, rest, err := ssh.ParseAuthorizedKey([]byte(p.PublicKey))
	if err != nil || len(rest) != 0 {
		t.Fatalf("ssh.ParseAuthorizedKey: %v, rest %q", err, rest)
	}
	if gotComment != comment || pub.Type() != keyType {
		t.Errorf("public key type, comment = %q, %q, want %q, %q", pub.Type(), gotComment, keyType, comment)
	}
	if !bytes.Equal(signer.PublicKey().Marshal(), pub.Marshal()) {
		t.Errorf("the private key's public key differs from the authorized_keys line")
	}
	data := []byte("rotate me")
	sig, err := signer.Sign(rand.Reader, data)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if err := pub.Verify(data, sig); err != nil {
		t.Errorf("Verify: %v", err)
	}
	if err := pub.Verify([]byte("rotate you"), sig); err == nil {
		t.Errorf("Verify accepted a signature over other data")
	}
	if as, ok := signer.(ssh.AlgorithmSigner); ok && keyType == ssh.KeyAlgoRSA {
		sig, err := as.SignWithAlgorithm(rand.Reader, data, ssh.KeyAlgoRSASHA256)
		if err != nil || pub.Verify(data, sig) != nil {
			t.Errorf("rsa-sha2-256 signature: %v", err)
		}
	}
	if got, want := p.Fingerprint, ssh.FingerprintSHA256(pub); got != want {
		t.Errorf("Fingerprint = %q, want %q", got, want)
	}
}

// checkWithSSHKeygen checks that OpenSSH's ssh-keygen reads the private key
// back to the same public key, size and fingerprint. It does nothing when
// ssh-keygen is not installed.
func checkWithSSHKeygen(t *testing.T, p *Pair) {
	t.Helper()
	keygen, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Log("ssh-keygen not found; skipping the OpenSSH cross-check")
		return
	}
	path := filepath.Join(t.TempDir(), "id")
	if err := os.WriteFile(path, []byte(p.PrivateKey), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(keygen, "-y", "-f", path).Output()
	if err != nil {
		t.Fatalf("ssh-keygen -y: %v", err)
	}
	if got, want := strings.Fields(string(out)), strings.Fields(p.PublicKey); len(got) < 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("ssh-keygen -y printed %q, want %q", out, p.PublicKey)
	}
	out, err = exec.Command(keygen, "-l", "-f", path).Output()
	if err != nil {
		t.Fatalf("ssh-keygen -l: %v", err)
	}
	if f := strings.Fields(string(out)); len(f) < 2 || f[0] != fmt.Sprint(p.Bits) || f[1] != p.Fingerprint {
		t.Errorf("ssh-keygen -l printed %q, want %d %s", out, p.Bits, p.Fingerprint)
	}
}

func TestGenerateWithoutComment(t *testing.T) {
	p := mustGenerate(t, Ed25519, 0, "")
	if f := strings.Fields(p.PublicKey); len(f) != 2 || strings.HasSuffix(p.PublicKey, " ") {
		t.Errorf("public key %q: want type and key only", p.PublicKey)
	}
	if err := Check(p); err != nil {
		t.Errorf("Check: %v", err)
	}
}

func TestGenerateRefuses(t *testing.T) {
	tests := []struct {
		name      string
		algorithm string
		bits      int
		comment   string
		want      string
	}{
		{"dsa", "dsa", 0, "", `algorithm "dsa" is not supported; use ed25519 or rsa`},
		{"ecdsa", "ecdsa", 256, "", `algorithm "ecdsa" is not supported; use ed25519 or rsa`},
		{"upper case", "RSA", 2048, "", `algorithm "RSA" is not supported; use ed25519 or rsa`},
		{"ssh type name", "ssh-ed25519", 0, "", `algorithm "ssh-ed25519" is not supported; use ed25519 or rsa`},
		{"rsa 1024", "rsa", 1024, "", "RSA keys of 1024 bits are not supported; use 2048, 3072 or 4096"},
		{"rsa 2047", "rsa", 2047, "", "RSA keys of 2047 bits are not supported; use 2048, 3072 or 4096"},
		{"rsa 8192", "rsa", 8192, "", "RSA keys of 8192 bits are not supported; use 2048, 3072 or 4096"},
		{"rsa negative", "rsa", -1, "", "RSA keys of -1 bits are not supported; use 2048, 3072 or 4096"},
		{"ed25519 2048", "ed25519", 2048, "", "ed25519 keys have 256 bits; bits must be 0 or 256"},
		{"default 3072", "", 3072, "", "ed25519 keys have 256 bits; bits must be 0 or 256"},
		{"newline", "ed25519", 0, "a\nb", "the key comment must not hold a line break or other control character"},
		{"trailing newline", "rsa", 2048, "a\n", "the key comment must not hold a line break or other control character"},
		{"carriage return", "ed25519", 0, "a\rb", "the key comment must not hold a line break or other control character"},
		{"NUL", "ed25519", 0, "a\x00b", "the key comment must not hold a line break or other control character"},
		{"not UTF-8", "ed25519", 0, "a\xffb", "the key comment is not valid UTF-8"},
		{"leading space", "ed25519", 0, " a", "the key comment must not start or end with a space"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Generate(tt.algorithm, tt.bits, tt.comment)
			if err == nil {
				t.Fatalf("Generate returned %v, want an error", p)
			}
			if got := invalidMessage(t, err); got != tt.want {
				t.Errorf("error %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPairRedacted(t *testing.T) {
	p := mustGenerate(t, Ed25519, 0, "c")
	var log bytes.Buffer
	slog.New(slog.NewJSONHandler(&log, nil)).Info("pair", "p", p, "v", *p)
	for _, out := range []string{
		fmt.Sprint(p), fmt.Sprint(*p), fmt.Sprintf("%v %+v %#v %s %q %x", p, p, p, p, p, p),
		fmt.Sprintf("%+v %#v", *p, *p), fmt.Sprintf("%v", []*Pair{p}), log.String(),
	} {
		if leaks(out, p.PrivateKey) || strings.Contains(out, "PRIVATE KEY") {
			t.Errorf("output shows the private key: %s", out)
		}
		if !strings.Contains(out, p.Fingerprint) || !strings.Contains(out, "[redacted]") {
			t.Errorf("output %s: want the fingerprint and [redacted]", out)
		}
	}
}

// leaks reports whether out holds any base64 line of the PEM text priv.
func leaks(out, priv string) bool {
	for _, line := range strings.Split(priv, "\n") {
		if len(line) >= 16 && !strings.HasPrefix(line, "-----") && strings.Contains(out, line) {
			return true
		}
	}
	return false
}
