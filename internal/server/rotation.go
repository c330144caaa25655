package server

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"time"
)

// topicRotation tells the lease holder a rotation was asked for on another server.
const topicRotation = "rotation"

// rotate works on rotations: the lease holder's job.
func (s *Server) rotate(ctx context.Context) {
	s.Rotation.Loop(ctx, s.cfg.Rotation.Interval)
}

// announceRotation wakes the rotation worker wherever it runs.
func (s *Server) announceRotation() {
	if s.Leading() {
		return // Rotation.Kick already woke it
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.notifier.Publish(ctx, topicRotation); err != nil {
			s.cfg.Log.Warn("announce a rotation", "error", err.Error())
		}
	}()
}

// webhookHTTP returns the client webhook calls use: TLS 1.2 or later, the
// system roots plus caFile's, no redirects (the webhook package refuses
// them too), a bounded time.
func webhookHTTP(caFile string) *http.Client {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if pem, err := os.ReadFile(caFile); err == nil {
			pool.AppendCertsFromPEM(pem)
		}
		cfg.RootCAs = pool
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = cfg
	return &http.Client{Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// webhookKey publishes the public key webhook endpoints verify Coffer's
// calls with (docs/rotation.md). It is public: it proves, it grants nothing.
func (s *Server) webhookKey(w http.ResponseWriter, _ *http.Request) {
	pub := s.auditKeys.Webhook.Public().(ed25519.PublicKey)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{
		"KeyId": s.auditKeys.WebhookKeyID, "Algorithm": "Ed25519",
		"PublicKey": base64.StdEncoding.EncodeToString(pub),
	})
}
