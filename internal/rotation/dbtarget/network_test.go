package dbtarget_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/rotation/dbtarget"
)

// TestUnreachable: a closed port and a server that never answers are both
// ErrUnreachable, the second within the Conn's timeout.
func TestUnreachable(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := closed.Addr().(*net.TCPAddr).Port
	closed.Close()

	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	silentPort := silent.Addr().(*net.TCPAddr).Port

	for _, engine := range []string{dbtarget.Postgres, dbtarget.MySQL} {
		for _, port := range []int{closedPort, silentPort} {
			c := dbtarget.Conn{Engine: engine, Host: "127.0.0.1", Port: port, User: "u", Password: "hunter2-secret",
				Timeout: 300 * time.Millisecond, TLS: dbtarget.TLSDisable}
			start := time.Now()
			err := dbtarget.TestLogin(context.Background(), c)
			if !errors.Is(err, dbtarget.ErrUnreachable) {
				t.Errorf("%s port %d: TestLogin = %v, want ErrUnreachable", engine, port, err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("%s port %d: TestLogin took %v with a 300ms timeout", engine, port, d)
			}
			noSecret(t, err, c.Password)
			if _, err := dbtarget.Open(context.Background(), c); !errors.Is(err, dbtarget.ErrUnreachable) {
				t.Errorf("%s port %d: Open = %v, want ErrUnreachable", engine, port, err)
			}
		}
		// The caller's context bounds a login too.
		c := dbtarget.Conn{Engine: engine, Host: "127.0.0.1", Port: silentPort, User: "u", TLS: dbtarget.TLSDisable}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		start := time.Now()
		err := dbtarget.TestLogin(ctx, c)
		cancel()
		if !errors.Is(err, dbtarget.ErrUnreachable) || time.Since(start) > 3*time.Second {
			t.Errorf("%s: TestLogin with a 200ms context = %v after %v, want ErrUnreachable at once", engine, err, time.Since(start))
		}
	}
}

// TestPGTLS checks the TLS modes against the server's certificate (Debian's
// snakeoil, for "localhost", when the server uses it).
func TestPGTLS(t *testing.T) {
	s := getServer(t, dbtarget.Postgres)
	a := s.open(t)
	name, pw := s.newUser(t), password()
	s.mustCreate(t, a, name, pw, s.selectPrivs())
	c := s.login(name, pw)

	for _, tc := range []struct {
		tls, ca, host string
		ok            bool
	}{
		{tls: dbtarget.TLSRequire, ok: true},
		{tls: dbtarget.TLSDisable, ok: true},
		{tls: dbtarget.TLSVerifyFull, ok: false}, // no CA given, not in the system's roots
		{tls: dbtarget.TLSRequire, ca: selfSigned(t), ok: false},
	} {
		c := c
		c.TLS, c.CACert = tc.tls, tc.ca
		err := dbtarget.TestLogin(context.Background(), c)
		if tc.ok && err != nil || !tc.ok && !errors.Is(err, dbtarget.ErrUnreachable) {
			t.Errorf("TLS %q, CA given %t: %v, want ok %t (else ErrUnreachable)", tc.tls, tc.ca != "", err, tc.ok)
		}
	}

	snakeoil, err := os.ReadFile("/etc/ssl/certs/ssl-cert-snakeoil.pem")
	if err != nil {
		t.Skipf("no snakeoil certificate to check verification against: %v", err)
	}
	var file string
	conn, err := pgConnect(context.Background(), s.admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(context.Background(), "SHOW ssl_cert_file").Scan(&file); err != nil || file != "/etc/ssl/certs/ssl-cert-snakeoil.pem" {
		t.Skipf("the server's certificate is %q (%v), not the snakeoil one", file, err)
	}
	c.TLS, c.CACert = dbtarget.TLSRequire, string(snakeoil)
	if err := dbtarget.TestLogin(context.Background(), c); err != nil {
		t.Errorf("TLS require with the server's CA: %v", err)
	}
	c.TLS = dbtarget.TLSVerifyFull // the certificate names localhost, not 127.0.0.1
	if err := dbtarget.TestLogin(context.Background(), c); !errors.Is(err, dbtarget.ErrUnreachable) {
		t.Errorf("TLS verify-full of 127.0.0.1 against a certificate for localhost: %v, want ErrUnreachable", err)
	}
	c.Host = "localhost"
	if err := dbtarget.TestLogin(context.Background(), c); err != nil {
		t.Errorf("TLS verify-full of localhost with the server's CA: %v", err)
	}
}

// TestMyTLSRequired: a server without TLS is refused when TLS is required.
func TestMyTLSRequired(t *testing.T) {
	s := getServer(t, dbtarget.MySQL)
	c := s.admin
	c.TLS = dbtarget.TLSRequire
	err := dbtarget.TestLogin(context.Background(), c)
	if err == nil {
		t.Skip("this server offers TLS")
	}
	if !errors.Is(err, dbtarget.ErrUnreachable) {
		t.Errorf("TLS require against a server without TLS: %v, want ErrUnreachable", err)
	}
}

// selfSigned returns the PEM of a fresh self-signed CA certificate, one no
// server here uses.
func selfSigned(tb testing.TB) string {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ct test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}
