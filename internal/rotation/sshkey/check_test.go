package sshkey

import (
	"crypto/ed25519"
	"encoding/pem"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// with returns a copy of p changed by edit.
func with(p *Pair, edit func(*Pair)) *Pair {
	c := *p
	edit(&c)
	return &c
}

// reencode decodes a PEM private key, lets edit change the block, and
// encodes it again.
func reencode(tb testing.TB, text string, edit func(*pem.Block)) string {
	tb.Helper()
	b, _ := pem.Decode([]byte(text))
	if b == nil {
		tb.Fatal("not PEM")
	}
	edit(b)
	return string(pem.EncodeToMemory(b))
}

// mixedEd25519 returns an OpenSSH private key whose seed is a's and whose
// embedded public half is b's: it parses, and claims b's public key, but
// cannot sign for it.
func mixedEd25519(tb testing.TB) (priv string, pub ssh.PublicKey) {
	tb.Helper()
	_, a, _ := ed25519.GenerateKey(nil)
	bPub, _, _ := ed25519.GenerateKey(nil)
	mixed := append(append(ed25519.PrivateKey{}, a.Seed()...), bPub...)
	block, err := ssh.MarshalPrivateKey(mixed, "")
	if err != nil {
		tb.Fatal(err)
	}
	pub, _ = ssh.NewPublicKey(bPub)
	return string(pem.EncodeToMemory(block)), pub
}

func TestCheckRejects(t *testing.T) {
	ed := mustGenerate(t, Ed25519, 0, "a")
	ed2 := mustGenerate(t, Ed25519, 0, "b")
	rsa := mustGenerate(t, RSA, 2048, "c")
	rsaInOpenSSH := func() string {
		signer, _ := ssh.ParseRawPrivateKey([]byte(rsa.PrivateKey))
		b, _ := ssh.MarshalPrivateKey(signer, "")
		return string(pem.EncodeToMemory(b))
	}()
	encrypted := func() string {
		raw, _ := ssh.ParseRawPrivateKey([]byte(ed.PrivateKey))
		b, _ := ssh.MarshalPrivateKeyWithPassphrase(raw, "", []byte("pass"))
		return string(pem.EncodeToMemory(b))
	}()
	mixedPriv, mixedPub := mixedEd25519(t)
	mixed := &Pair{Algorithm: Ed25519, Bits: 256, PrivateKey: mixedPriv,
		PublicKey:   strings.TrimSpace(string(ssh.MarshalAuthorizedKey(mixedPub))),
		Fingerprint: ssh.FingerprintSHA256(mixedPub)}
	flip := func(i int) func(*pem.Block) { return func(b *pem.Block) { b.Bytes[len(b.Bytes)-i] ^= 0x01 } }

	tests := []struct {
		name string
		p    *Pair
		want string
	}{
		{"nil", nil, "no key pair"},
		{"empty", &Pair{}, "the public key is not an authorized_keys line"},
		{"public key of another pair", with(ed, func(p *Pair) { p.PublicKey = ed2.PublicKey }), "the private key does not match the public key"},
		{"private key of another pair", with(ed, func(p *Pair) { p.PrivateKey = ed2.PrivateKey }), "the private key does not match the public key"},
		{"seed and public half differ", mixed, "the private key does not match the public key"},
		{"fingerprint", with(ed, func(p *Pair) { p.Fingerprint = ed2.Fingerprint }), "the fingerprint does not match the public key"},
		{"bits", with(rsa, func(p *Pair) { p.Bits = 3072 }), "the pair says 3072 bits, but the private key has 2048"},
		{"ed25519 bits", with(ed, func(p *Pair) { p.Bits = 0 }), "the pair says 0 bits, but the private key has 256"},
		{"algorithm of the other kind", with(rsa, func(p *Pair) { p.Algorithm = Ed25519 }), `an ed25519 private key must be a "OPENSSH PRIVATE KEY" PEM block`},
		{"unknown algorithm", with(rsa, func(p *Pair) { p.Algorithm = "dsa" }), `algorithm "dsa" is not supported; use ed25519 or rsa`},
		{"RSA in OpenSSH format", with(rsa, func(p *Pair) { p.Algorithm, p.PrivateKey = Ed25519, rsaInOpenSSH }), "the private key is not an ed25519 key"},
		{"PKCS#8 RSA", with(rsa, func(p *Pair) {
			p.PrivateKey = reencode(t, p.PrivateKey, func(b *pem.Block) { b.Type = "PRIVATE KEY" })
		}), `an rsa private key must be a "RSA PRIVATE KEY" PEM block`},
		{"encrypted", with(ed, func(p *Pair) { p.PrivateKey = encrypted }), "the private key is encrypted"},
		{"not PEM", with(ed, func(p *Pair) { p.PrivateKey = "AAAA" }), "the private key is not PEM"},
		{"truncated PEM", with(ed, func(p *Pair) { p.PrivateKey = p.PrivateKey[:len(p.PrivateKey)/2] }), "the private key is not PEM"},
		{"two PEM blocks", with(ed, func(p *Pair) { p.PrivateKey += ed2.PrivateKey }), "the private key holds more than one PEM block"},
		{"corrupt RSA", with(rsa, func(p *Pair) { p.PrivateKey = reencode(t, p.PrivateKey, flip(3)) }), "the private key does not parse"},
		{"corrupt OpenSSH padding", with(ed, func(p *Pair) { p.PrivateKey = reencode(t, p.PrivateKey, flip(1)) }), "the private key does not parse"},
		{"public key garbage", with(ed, func(p *Pair) { p.PublicKey = "ssh-ed25519 !!!" }), "the public key is not an authorized_keys line"},
		{"public key type mismatch", with(ed, func(p *Pair) { p.PublicKey = "ssh-rsa" + strings.TrimPrefix(p.PublicKey, "ssh-ed25519") }), "the public key is not an authorized_keys line"},
		{"public key options", with(ed, func(p *Pair) { p.PublicKey = `command="true" ` + p.PublicKey }), "the public key line holds options"},
		{"two public keys", with(ed, func(p *Pair) { p.PublicKey += "\n" + ed2.PublicKey }), "the public key holds more than one line"},
	}
	secrets := []string{ed.PrivateKey, ed2.PrivateKey, rsa.PrivateKey, rsaInOpenSSH, encrypted, mixedPriv}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.p)
			if err == nil {
				t.Fatal("Check passed, want an error")
			}
			if got := invalidMessage(t, err); got != tt.want {
				t.Errorf("error %q, want %q", got, tt.want)
			}
			for _, s := range append(secrets, privateOf(tt.p)) {
				if leaks(err.Error(), s) {
					t.Errorf("error shows private key material: %v", err)
				}
			}
		})
	}
}

func privateOf(p *Pair) string {
	if p == nil {
		return ""
	}
	return p.PrivateKey
}

// FuzzCheck checks that Check never panics on stored pairs, and never
// quotes the private key it was given.
func FuzzCheck(f *testing.F) {
	ed := mustGenerate(f, Ed25519, 0, "a")
	rsa := mustGenerate(f, RSA, 2048, "b")
	for _, p := range []*Pair{ed, rsa} {
		f.Add(p.Algorithm, p.Bits, p.PublicKey, p.PrivateKey, p.Fingerprint)
	}
	f.Add(Ed25519, 256, ed.PublicKey, rsa.PrivateKey, ed.Fingerprint)
	f.Fuzz(func(t *testing.T, alg string, bits int, pub, priv, fp string) {
		err := Check(&Pair{Algorithm: alg, Bits: bits, PublicKey: pub, PrivateKey: priv, Fingerprint: fp})
		if err != nil && leaks(err.Error(), priv) {
			t.Fatalf("error shows the private key: %v", err)
		}
	})
}
