// Package server wires Coffer together: it opens the store and the root
// key, bootstraps the root credentials, and serves the API edges over TLS
// (or plain HTTP on loopback in development mode) until told to stop.
package server

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"time"

	"github.com/coffer-secrets/coffer/internal/iam"
	"github.com/coffer-secrets/coffer/internal/keys/root"
	"github.com/coffer-secrets/coffer/internal/replicate"
	"github.com/coffer-secrets/coffer/internal/store"
)

// Config is everything the server needs to start.
type Config struct {
	Listen  string // host:port; port 0 picks a free one
	DataDir string // database, root key file and generated TLS files
	// Store is where data lives: "" for the embedded SQLite database in
	// DataDir, or postgres://… for a PostgreSQL database several servers
	// share (see store/open).
	Store string
	// LeaseTTL is how long a server holds the lease on the background
	// jobs that must run once in a cluster; 0 means 15 s.
	LeaseTTL time.Duration
	Regions  []string // served regions; the first is the default
	Dev      bool     // plain HTTP on loopback, any region served

	TLSCert, TLSKey string // PEM files; empty to generate a self-signed pair in DataDir
	TLSClientCA     string // PEM CA bundle: clients must present a certificate it signed; empty for none

	Root iam.RootInput // root credentials from the environment; empty to generate

	Log           *slog.Logger
	Out           io.Writer     // where first-start credentials and fingerprints are printed once
	SweepInterval time.Duration // how often deletion windows are checked; 0 for a minute
	Clock         func() time.Time

	AuditCheckpointInterval time.Duration // how often the audit chain's head is signed; 0 for a minute
	AuditRetention          time.Duration // audit events older than this are removed; 0 keeps them all
	AuditExport             string        // JSON-lines export file, "-" for Out, "" for none
	AuditExportMaxBytes     int64         // rotate the export file at this size; 0 never
	AuditExportMaxFiles     int           // rotated export files kept; 0 for audit.DefaultMaxFiles
	UsageInterval           time.Duration // how often usage is rolled up from the audit log; usage.DefaultInterval when 0

	// RootKey selects the root-key provider by spec (docs/keys.md):
	// file:PATH, pkcs11:…, awskms:…, tencentkms:…; "" means the key file
	// root.key in DataDir.
	RootKey string
	// RootKeyPrevious is the root key being rotated away from (a spec, as
	// RootKey): unwrapping falls back to it until `coffer operator rekey`
	// has re-wrapped everything under RootKey.
	RootKeyPrevious string
	// RootWrap, when set, wraps the root-key provider (an HSM client, or a
	// test's fault injector).
	RootWrap func(root.Provider) root.Provider

	MetricsOff    bool   // serve no /metrics and record nothing
	MetricsListen string // serve /metrics here instead of on Listen: plain HTTP on loopback, TLS elsewhere
	Pprof         bool   // also serve Go's profiles (/debug/pprof/) on MetricsListen, which must be loopback

	Limits Limits // rate limits, connection limit and timeouts (limits.go)

	Rotation RotationConfig // rotation worker settings (docs/rotation.md)

	Replication ReplicationConfig // links to other deployments (docs/replication.md)
}

// ReplicationConfig links this deployment to others for cross-region
// replication.
type ReplicationConfig struct {
	// Peers are the other deployments' regions and addresses.
	Peers []replicate.Peer
	// PeerCert and PeerKey are this deployment's client certificate for
	// its peers (PEM files); PeerCA the CA that signs every peer's
	// certificates, client and server. All three are needed for peers.
	PeerCert, PeerKey, PeerCA string
	// Interval is how often replicas are checked when nothing wakes the
	// shipper; 0 means 2 s.
	Interval time.Duration
}

// RotationConfig tunes the rotation worker.
type RotationConfig struct {
	// Interval is how often scheduled rotations and retries are looked
	// for; 0 means 5 s. A rotation asked for through the API starts at once.
	Interval time.Duration
	// Grace is how long a credential that stopped being current keeps
	// working, at least, under the alternating strategies; 0 means a minute.
	Grace time.Duration
	// RetryBase is the wait after a step's first failure (doubling); 0 means 10 s.
	RetryBase time.Duration
	// MaxAttempts is how often a step is tried before the rotation is
	// rolled back; 0 means 5.
	MaxAttempts int
	// WebhookCA is a PEM bundle of extra roots trusted for webhook
	// endpoints; "" for the system roots.
	WebhookCA string
	// WebhookAllowHTTP lets webhooks use plain http:// (development only).
	WebhookAllowHTTP bool
	// Hook is the rotation service's test hook (rotation.Service.Hook).
	Hook func(run *store.RotationRun, phase string) error
}

// DefaultRegion is served when no region is configured.
const DefaultRegion = "ap-guangzhou"

func (c *Config) check() error {
	if c.DataDir == "" {
		return fmt.Errorf("a data directory is required (--data)")
	}
	if len(c.Regions) == 0 {
		c.Regions = []string{DefaultRegion}
	}
	if c.SweepInterval == 0 {
		c.SweepInterval = time.Minute
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Replication.Interval == 0 {
		c.Replication.Interval = 2 * time.Second
	}
	if len(c.Replication.Peers) > 0 && (c.Replication.PeerCert == "" || c.Replication.PeerKey == "" || c.Replication.PeerCA == "") {
		return fmt.Errorf("replication peers need --peer-cert, --peer-key and --peer-ca")
	}
	if c.Rotation.Interval == 0 {
		c.Rotation.Interval = 5 * time.Second
	}
	if c.Rotation.Grace == 0 {
		c.Rotation.Grace = time.Minute
	}
	if err := c.checkMetrics(); err != nil {
		return err
	}
	if c.Dev {
		return checkLoopback(c.Listen)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return fmt.Errorf("--tls-cert and --tls-key go together")
	}
	return nil
}

// checkLoopback refuses plain HTTP anywhere but on a loopback address.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("--dev serves plain HTTP and listens only on a loopback address (127.0.0.1, ::1 or localhost), not %q", addr)
	}
	return nil
}

func (c *Config) path(name string) string { return filepath.Join(c.DataDir, name) }
