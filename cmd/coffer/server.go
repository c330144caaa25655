package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/coffer-secrets/coffer/internal/iam"
	"github.com/coffer-secrets/coffer/internal/replicate"
	"github.com/coffer-secrets/coffer/internal/server"
	"github.com/coffer-secrets/coffer/internal/store"
	"github.com/coffer-secrets/coffer/internal/usage"
)

func newServerCmd() *cobra.Command {
	var cfg server.Config
	var logFormat, logLevel string
	var drain time.Duration
	var metricsOn bool
	var peers []string
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the Coffer server",
		Long: `Run the Coffer server on the embedded store (SQLite) in --data.

Without --dev, TLS is mandatory: give --tls-cert and --tls-key, or let the
server generate a self-signed certificate in the data directory on first
start (its fingerprint is printed). --dev serves plain HTTP on a loopback
address only, and serves any region a request names.

Root credentials come from COFFER_ROOT_SECRET_ID, COFFER_ROOT_SECRET_KEY and
COFFER_ROOT_ACCOUNT_ID when set; otherwise they are generated on first start,
stored (the secret half encrypted) and printed once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tuneGC()
			log, err := newLogger(logFormat, logLevel)
			if err != nil {
				return err
			}
			cfg.Log, cfg.Out = log, cmd.OutOrStdout()
			cfg.MetricsOff = !metricsOn
			cfg.Root = iam.RootInput{
				AccountID: os.Getenv("COFFER_ROOT_ACCOUNT_ID"),
				KeyID:     os.Getenv("COFFER_ROOT_SECRET_ID"),
				Secret:    os.Getenv("COFFER_ROOT_SECRET_KEY"),
			}
			if (cfg.Root.KeyID == "") != (cfg.Root.Secret == "") {
				return fmt.Errorf("COFFER_ROOT_SECRET_ID and COFFER_ROOT_SECRET_KEY go together")
			}
			for _, p := range peers {
				region, url, ok := strings.Cut(p, "=")
				if !ok || region == "" || !strings.HasPrefix(url, "https://") {
					return fmt.Errorf("--peer %q: want REGION=https://HOST:PORT", p)
				}
				cfg.Replication.Peers = append(cfg.Replication.Peers, replicate.Peer{Region: region, URL: url})
			}
			cfg.Rotation.WebhookAllowHTTP = cfg.Dev
			cfg.Rotation.Hook = crashHook(os.Getenv("COFFER_TEST_ROTATION_CRASH"))
			return runServer(cmd.Context(), cmd, cfg, drain)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Listen, "listen", "127.0.0.1:8443", "address to listen on (host:port)")
	f.StringVar(&cfg.DataDir, "data", "./coffer-data", "data directory: database, root key file, generated TLS files")
	f.StringArrayVar(&cfg.Regions, "region", nil, "region to serve (repeatable; the first is the default; default "+server.DefaultRegion+")")
	f.BoolVar(&cfg.Dev, "dev", false, "development mode: plain HTTP on loopback only, any region served")
	f.StringVar(&cfg.RootKey, "root-key", "", "root-key provider spec: file:PATH, pkcs11:…, awskms:…, tencentkms:… (docs/keys.md); default the key file in the data directory")
	f.StringVar(&cfg.Store, "store", "", "where data lives: empty for SQLite in the data directory, or postgres://USER@HOST:PORT/DB?… for a database several servers share (docs/operations.md)")
	f.StringVar(&cfg.RootKeyPrevious, "root-key-previous", "", "the root key being rotated away from (spec as --root-key); used to unwrap until `coffer operator rekey` finishes")
	f.StringVar(&cfg.TLSCert, "tls-cert", "", "TLS certificate (PEM)")
	f.StringVar(&cfg.TLSKey, "tls-key", "", "TLS private key (PEM)")
	f.StringVar(&cfg.TLSClientCA, "tls-client-ca", "", "require client certificates signed by this CA (PEM)")
	f.Float64Var(&cfg.Limits.Account, "rate-limit-account", 2000, "requests a second per account, burst the same (0 off)")
	f.Float64Var(&cfg.Limits.Action, "rate-limit-action", 0, "requests a second per account and action (0 off)")
	f.BoolVar(&cfg.Limits.SSMDefaults, "rate-limit-ssm-defaults", false, "apply Tencent's documented per-action SSM limits (GetSecretValue 300/s, ...)")
	f.Float64Var(&cfg.Limits.Unauthenticated, "rate-limit-unauthenticated", 50, "failed authentications a second per source address before its requests are refused unchecked (0 off)")
	f.IntVar(&cfg.Limits.MaxConnections, "max-connections", 0, "API connections open at once (0 unlimited)")
	f.DurationVar(&drain, "drain", 30*time.Second, "how long SIGTERM waits for in-flight requests")
	f.DurationVar(&cfg.AuditCheckpointInterval, "audit-checkpoint-interval", time.Minute, "how often the audit chain's head is signed")
	f.DurationVar(&cfg.AuditRetention, "audit-retention", 0, "remove audit events older than this, keeping the rest verifiable (0 keeps them all)")
	f.StringVar(&cfg.AuditExport, "audit-export", "", `also write audit events as JSON lines to this file ("-" for standard output)`)
	f.Int64Var(&cfg.AuditExportMaxBytes, "audit-export-max-bytes", 100<<20, "rotate the audit export file at this size (0 never)")
	f.IntVar(&cfg.AuditExportMaxFiles, "audit-export-max-files", 10, "rotated audit export files kept")
	f.DurationVar(&cfg.UsageInterval, "usage-interval", usage.DefaultInterval, "how often usage is rolled up from the audit log")
	f.BoolVar(&metricsOn, "metrics", true, "serve Prometheus metrics at /metrics (--metrics=false turns them off)")
	f.BoolVar(&cfg.Pprof, "pprof", false, "serve Go's profiles (/debug/pprof/) on --metrics-listen, which must then be a loopback address")
	f.StringVar(&cfg.MetricsListen, "metrics-listen", "", "serve /metrics on this address instead of --listen: plain HTTP on a loopback address, TLS with the API's certificate elsewhere")
	f.DurationVar(&cfg.Rotation.Interval, "rotation-interval", 5*time.Second, "how often scheduled rotations and retries are looked for")
	f.DurationVar(&cfg.Rotation.Grace, "rotation-grace", time.Minute, "alternating strategies: how long a credential that stopped being current keeps working, at least")
	f.DurationVar(&cfg.Rotation.RetryBase, "rotation-retry", 10*time.Second, "wait after a rotation step's first failure (doubling, up to an hour)")
	f.IntVar(&cfg.Rotation.MaxAttempts, "rotation-attempts", 5, "attempts of a rotation step before the rotation is rolled back")
	f.StringVar(&cfg.Rotation.WebhookCA, "webhook-ca", "", "PEM bundle of extra CAs trusted for rotation webhook endpoints")
	f.StringArrayVar(&peers, "peer", nil, "another deployment to replicate secrets to: REGION=https://HOST:PORT (repeatable; docs/replication.md)")
	f.StringVar(&cfg.Replication.PeerCert, "peer-cert", "", "this deployment's client certificate for its peers (PEM)")
	f.StringVar(&cfg.Replication.PeerKey, "peer-key", "", "the key of --peer-cert (PEM)")
	f.StringVar(&cfg.Replication.PeerCA, "peer-ca", "", "the CA that signs the peers' certificates (PEM): peers calling in must present one")
	f.DurationVar(&cfg.Replication.Interval, "replication-interval", 2*time.Second, "how often replicas are checked when no change wakes the shipper")
	f.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	return cmd
}

func runServer(ctx context.Context, cmd *cobra.Command, cfg server.Config, drain time.Duration) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	srv, err := server.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	if rc := srv.RootCredentials(); rc.Generated {
		fmt.Fprintf(cmd.OutOrStdout(), "Root credentials (shown once; store them now):\n  COFFER_ROOT_ACCOUNT_ID=%s\n  COFFER_ROOT_SECRET_ID=%s\n  COFFER_ROOT_SECRET_KEY=%s\n", rc.AccountID, rc.KeyID, rc.Secret)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "Coffer listening on %s\n", srv.URL())
	if u := srv.MetricsURL(); u != "" {
		fmt.Fprintf(cmd.OutOrStdout(), "Metrics at %s\n", u)
	}
	return srv.Serve(ctx, drain)
}

func newLogger(format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format is text or json, not %q", format)
}

// crashHook returns the rotation hook the crash tests use: with
// COFFER_TEST_ROTATION_CRASH=STEP:PHASE (phase before, after or record)
// the server kills itself with SIGKILL at that point of a rotation, as a
// power cut would. Unset, it returns nil. It exists for tests.
func crashHook(at string) func(*store.RotationRun, string) error {
	step, phase, ok := strings.Cut(at, ":")
	if !ok {
		return nil
	}
	return func(r *store.RotationRun, p string) error {
		if r.Step == step && p == phase {
			fmt.Fprintf(os.Stderr, "crash hook: killing the server at %s %s of flow %d\n", step, phase, r.ID)
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // SIGKILL cannot be caught; wait for it
		}
		return nil
	}
}
