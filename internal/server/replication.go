package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/coffer-secrets/coffer/internal/replicate"
)

// wireReplication builds the shipper and, when peers may call in, the
// receiving handler.
func (s *Server) wireReplication(mux *http.ServeMux) error {
	rc := s.cfg.Replication
	peers := map[string]replicate.Peer{}
	for _, p := range rc.Peers {
		if s.Gate.Serves(p.Region) && !s.cfg.Dev {
			return fmt.Errorf("--peer %s: this server serves that region itself", p.Region)
		}
		peers[p.Region] = p
	}
	s.Shipper = &replicate.Shipper{
		Store: s.store, Secrets: s.Secrets, Peers: peers, Clock: s.cfg.Clock, Logger: s.cfg.Log,
		Local: func(region string) bool { return slices.Contains(s.cfg.Regions, region) },
		Lag:   s.metrics.ReplicationLag,
	}
	s.Secrets.OnChange = s.Shipper.Kick
	if rc.PeerCA == "" {
		return nil
	}
	pool, err := loadCA(rc.PeerCA)
	if err != nil {
		return err
	}
	if rc.PeerCert != "" {
		cert, err := tls.LoadX509KeyPair(rc.PeerCert, rc.PeerKey)
		if err != nil {
			return fmt.Errorf("load the peer certificate: %w", err)
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, MinVersion: tls.VersionTLS12}
		s.Shipper.Client = &http.Client{Transport: tr, Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	mux.Handle("POST "+replicate.ApplyPath, &replicate.Handler{
		Secrets: s.Secrets, Serves: s.Gate.Serves, Logger: s.cfg.Log,
		Verified: func(cs *tls.ConnectionState) bool { return peerVerified(cs, pool) },
	})
	return nil
}

// peerVerified reports whether the client's certificate chains to the
// peers' CA and is meant for client authentication.
func peerVerified(cs *tls.ConnectionState, pool *x509.CertPool) bool {
	if len(cs.PeerCertificates) == 0 {
		return false
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	return err == nil
}

// replicateJob ships replicas: the lease holder's job.
func (s *Server) replicateJob(ctx context.Context) {
	s.Shipper.Loop(ctx, s.cfg.Replication.Interval)
}

// replicaRegion reports whether secrets may be replicated to region: one
// this server is configured for, or a peer's.
func (s *Server) replicaRegion(region string) bool {
	if slices.Contains(s.cfg.Regions, region) {
		return true
	}
	for _, p := range s.cfg.Replication.Peers {
		if p.Region == region {
			return true
		}
	}
	return false
}
