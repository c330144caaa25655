package sshkey

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"

	"golang.org/x/crypto/ssh"

	"github.com/coffer-secrets/coffer/internal/fault"
)

// Check reports whether p is whole: the public key is one authorized_keys
// line, the private key is one unencrypted PEM block of the format Generate
// writes for p.Algorithm, the two keys belong together (a signature made
// with the private key verifies with the public key), and Bits and
// Fingerprint agree with them. It returns a fault.Invalid error naming the
// first problem; no error holds key material or a parser's message.
func Check(p *Pair) error {
	const op = "sshkey.Check"
	if p == nil {
		return fault.E(op, fault.Invalid, "no key pair")
	}
	pub, err := parsePublic(p.PublicKey)
	if err != nil {
		return fault.E(op, fault.Invalid, err.Error())
	}
	signer, bits, err := parsePrivate(p.PrivateKey, p.Algorithm)
	if err != nil {
		return fault.E(op, fault.Invalid, err.Error())
	}
	switch {
	case bits != p.Bits:
		return fault.E(op, fault.Invalid, fmt.Sprintf("the pair says %d bits, but the private key has %d", p.Bits, bits))
	case !bytes.Equal(signer.PublicKey().Marshal(), pub.Marshal()) || !signs(signer, pub):
		return fault.E(op, fault.Invalid, "the private key does not match the public key")
	case p.Fingerprint != ssh.FingerprintSHA256(pub):
		return fault.E(op, fault.Invalid, "the fingerprint does not match the public key")
	}
	return nil
}

// parsePublic parses exactly one authorized_keys line without options.
func parsePublic(line string) (ssh.PublicKey, error) {
	pub, _, options, rest, err := ssh.ParseAuthorizedKey([]byte(line))
	switch {
	case err != nil:
		return nil, errors.New("the public key is not an authorized_keys line")
	case len(options) > 0:
		return nil, errors.New("the public key line holds options")
	case len(bytes.TrimSpace(rest)) > 0:
		return nil, errors.New("the public key holds more than one line")
	}
	return pub, nil
}

// parsePrivate parses the private key and returns a signer and the key's
// size. Parser errors are dropped: they could quote the key.
func parsePrivate(text, algorithm string) (ssh.Signer, int, error) {
	if err := checkBlock(text, algorithm); err != nil {
		return nil, 0, err
	}
	raw, err := ssh.ParseRawPrivateKey([]byte(text))
	var missing *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &missing):
		return nil, 0, errors.New("the private key is encrypted")
	case err != nil:
		return nil, 0, errors.New("the private key does not parse")
	}
	alg, bits := "", 0
	switch k := raw.(type) {
	case *ed25519.PrivateKey:
		alg, bits = Ed25519, Ed25519Bits
	case *rsa.PrivateKey:
		alg, bits = RSA, k.N.BitLen()
	}
	if alg != algorithm {
		return nil, 0, fmt.Errorf("the private key is not an %s key", algorithm)
	}
	signer, err := ssh.NewSignerFromKey(raw)
	if err != nil {
		return nil, 0, errors.New("the private key cannot sign")
	}
	return signer, bits, nil
}

// checkBlock checks that text is one PEM block of the type Generate writes
// for algorithm.
func checkBlock(text, algorithm string) error {
	want := map[string]string{Ed25519: openSSHBlock, RSA: pkcs1Block}[algorithm]
	if want == "" {
		return fmt.Errorf("algorithm %q is not supported; use ed25519 or rsa", shorten(algorithm))
	}
	block, rest := pem.Decode([]byte(text))
	switch {
	case block == nil:
		return errors.New("the private key is not PEM")
	case len(bytes.TrimSpace(rest)) > 0:
		return errors.New("the private key holds more than one PEM block")
	case block.Type != want:
		return fmt.Errorf("an %s private key must be a %q PEM block", algorithm, want)
	}
	return nil
}

// signs reports whether a signature by signer over fresh random data
// verifies with pub. Comparing public keys alone is not enough: an OpenSSH
// ed25519 key carries its public half, which need not match its seed.
func signs(signer ssh.Signer, pub ssh.PublicKey) bool {
	data := make([]byte, 32)
	if _, err := rand.Read(data); err != nil {
		return false
	}
	sig, err := signer.Sign(rand.Reader, data)
	return err == nil && pub.Verify(data, sig) == nil
}
