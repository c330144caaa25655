package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/iam"
	"github.com/coffer-secrets/coffer/internal/server"
)

// startTLS starts a TLS server with a generated certificate and returns
// it with a pool that trusts that certificate.
func startTLS(t *testing.T, clientCA string) (*server.Server, *x509.CertPool) {
	t.Helper()
	dir := t.TempDir()
	srv, err := server.Open(context.Background(), server.Config{
		Listen: "127.0.0.1:0", DataDir: dir, TLSClientCA: clientCA, MetricsOff: true,
		Root: iam.RootInput{AccountID: testAccount, KeyID: testKeyID, Secret: testSecret},
	})
	if err != nil {
		t.Fatalf("open server: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, 5*time.Second) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		srv.Close()
	})
	b, err := os.ReadFile(filepath.Join(dir, "tls.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(b)
	return srv, pool
}

// healthz makes one request with cfg and returns its error.
func healthz(srv *server.Server, cfg *tls.Config) error {
	tr := &http.Transport{TLSClientConfig: cfg}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get(srv.URL() + "/healthz")
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

func TestTLSModernOnly(t *testing.T) {
	srv, pool := startTLS(t, "")
	for _, tc := range []struct {
		name string
		cfg  *tls.Config
		ok   bool
	}{
		{"default", &tls.Config{RootCAs: pool}, true},
		{"TLS 1.2 AEAD", &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS12}, true},
		{"TLS 1.1", &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}, false},
		{"TLS 1.2 CBC only", &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
		}}, false},
	} {
		err := healthz(srv, tc.cfg)
		if got := err == nil; got != tc.ok {
			t.Errorf("%s: got error %v, want success %v", tc.name, err, tc.ok)
		}
	}
}

func TestTLSClientCertificates(t *testing.T) {
	ca, caKey := mustCA(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, pool := startTLS(t, caFile)
	if err := healthz(srv, &tls.Config{RootCAs: pool}); err == nil {
		t.Error("without a client certificate: got success, want refusal")
	}
	other, otherKey := mustCA(t)
	if err := healthz(srv, &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{mustClientCert(t, other, otherKey)}}); err == nil {
		t.Error("with a certificate from another CA: got success, want refusal")
	}
	if err := healthz(srv, &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{mustClientCert(t, ca, caKey)}}); err != nil {
		t.Errorf("with a certificate from the CA: %v", err)
	}
}

func mustCA(t testing.TB) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func mustClientCert(t testing.TB, ca *x509.Certificate, caKey *ecdsa.PrivateKey) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
