// Package sshkey generates the SSH key pairs Coffer stores as secrets: an
// authorized_keys line, the private key in PEM, and the SHA256 fingerprint
// ssh-keygen prints. Check verifies a stored pair before it is handed out.
package sshkey

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/ssh"

	"github.com/coffer-secrets/coffer/internal/fault"
)

// Algorithms, and the key sizes Generate accepts.
const (
	Ed25519        = "ed25519"
	RSA            = "rsa"
	Ed25519Bits    = 256
	DefaultRSABits = 3072
)

// PEM block types of the private keys: OpenSSH's own format for ed25519,
// PKCS#1 for RSA (as Tencent's SSH key secrets show it).
const (
	openSSHBlock = "OPENSSH PRIVATE KEY"
	pkcs1Block   = "RSA PRIVATE KEY"
)

const redacted = "[redacted]"

// Pair is an SSH key pair. It prints its private key as [redacted] through
// fmt and slog; read PrivateKey directly to hand it out.
type Pair struct {
	Algorithm   string // Ed25519 or RSA
	Bits        int    // 256 for ed25519; the modulus size for RSA
	PublicKey   string // an authorized_keys line: "ssh-ed25519 AAAA… comment"
	PrivateKey  string // PEM: OpenSSH format for ed25519, PKCS#1 for RSA
	Fingerprint string // "SHA256:…", as ssh-keygen -l prints it
}

// Generate returns a new key pair from crypto/rand. algorithm is "ed25519"
// (also for "") or "rsa"; bits is 0 or 256 for ed25519, and 0 (meaning
// 3072), 2048, 3072 or 4096 for RSA. comment ends the public key line and,
// for ed25519, is stored in the private key. It returns fault.Invalid for
// any other algorithm or size, and for a comment that holds control
// characters, is not UTF-8, or starts or ends with a space; fault.Internal
// if the system's randomness fails.
func Generate(algorithm string, bits int, comment string) (*Pair, error) {
	const op = "sshkey.Generate"
	if msg := checkComment(comment); msg != "" {
		return nil, fault.E(op, fault.Invalid, msg)
	}
	switch algorithm {
	case "", Ed25519:
		if bits != 0 && bits != Ed25519Bits {
			return nil, fault.E(op, fault.Invalid, fmt.Sprintf("ed25519 keys have %d bits; bits must be 0 or %d", Ed25519Bits, Ed25519Bits))
		}
		return generateEd25519(comment)
	case RSA:
		if bits == 0 {
			bits = DefaultRSABits
		}
		if bits != 2048 && bits != 3072 && bits != 4096 {
			return nil, fault.E(op, fault.Invalid, fmt.Sprintf("RSA keys of %d bits are not supported; use 2048, 3072 or 4096", bits))
		}
		return generateRSA(bits, comment)
	}
	return nil, fault.E(op, fault.Invalid, fmt.Sprintf("algorithm %q is not supported; use ed25519 or rsa", shorten(algorithm)))
}

// checkComment returns why comment cannot end an authorized_keys line, or "".
func checkComment(c string) string {
	switch {
	case !utf8.ValidString(c):
		return "the key comment is not valid UTF-8"
	case strings.ContainsFunc(c, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "the key comment must not hold a line break or other control character"
	case strings.TrimSpace(c) != c:
		return "the key comment must not start or end with a space"
	}
	return ""
}

func generateEd25519(comment string) (*Pair, error) {
	const op = "sshkey.Generate"
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fault.Wrap(op, fault.Internal, "cannot generate a key", err)
	}
	defer clear(priv)
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return nil, fault.E(op, fault.Internal, "cannot encode the private key")
	}
	return newPair(Ed25519, Ed25519Bits, pub, block, comment)
}

func generateRSA(bits int, comment string) (*Pair, error) {
	const op = "sshkey.Generate"
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fault.Wrap(op, fault.Internal, "cannot generate a key", err)
	}
	block := &pem.Block{Type: pkcs1Block, Bytes: x509.MarshalPKCS1PrivateKey(key)}
	return newPair(RSA, bits, &key.PublicKey, block, comment)
}

// newPair encodes a generated key and wipes the encoded private key bytes
// it copied into the Pair.
func newPair(algorithm string, bits int, pub any, block *pem.Block, comment string) (*Pair, error) {
	defer clear(block.Bytes)
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, fault.E("sshkey.Generate", fault.Internal, "cannot encode the public key")
	}
	line := strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(sshPub)), "\n")
	if comment != "" {
		line += " " + comment
	}
	privPEM := pem.EncodeToMemory(block)
	defer clear(privPEM)
	return &Pair{
		Algorithm:   algorithm,
		Bits:        bits,
		PublicKey:   line,
		PrivateKey:  string(privPEM),
		Fingerprint: ssh.FingerprintSHA256(sshPub),
	}, nil
}

// shorten bounds user input quoted in an error message.
func shorten(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}

// String shows the public facts of the pair and hides the private key.
func (p Pair) String() string {
	return fmt.Sprintf("sshkey.Pair{%s %d %s %s}", p.Algorithm, p.Bits, p.Fingerprint, redacted)
}

// GoString is String, so %#v does not print the private key.
func (p Pair) GoString() string { return p.String() }

// Format prints String for every verb, so no verb prints the private key.
func (p Pair) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, p.String()) }

// LogValue logs the public facts of the pair and hides the private key.
func (p Pair) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("algorithm", p.Algorithm),
		slog.Int("bits", p.Bits),
		slog.String("fingerprint", p.Fingerprint),
		slog.String("private_key", redacted),
	)
}
