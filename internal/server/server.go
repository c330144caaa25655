package server

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"github.com/coffer-secrets/coffer/internal/console"
	rootopen "github.com/coffer-secrets/coffer/internal/keys/root/open"
	"github.com/coffer-secrets/coffer/internal/kms"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/api/awsjson"
	"github.com/coffer-secrets/coffer/internal/api/tc3"
	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/cluster"
	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/iam"
	"github.com/coffer-secrets/coffer/internal/keys"
	"github.com/coffer-secrets/coffer/internal/keys/root"
	"github.com/coffer-secrets/coffer/internal/keys/root/keyfile"
	"github.com/coffer-secrets/coffer/internal/metrics"
	"github.com/coffer-secrets/coffer/internal/replicate"
	"github.com/coffer-secrets/coffer/internal/rotation"
	"github.com/coffer-secrets/coffer/internal/rotation/webhook"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
	storeopen "github.com/coffer-secrets/coffer/internal/store/open"
	"github.com/coffer-secrets/coffer/internal/usage"
)

// Server is a running Coffer.
type Server struct {
	cfg   Config
	store store.Store
	root  root.Provider
	// holder names this process in the cluster's leases; notifier tells
	// the other servers of IAM changes and hears theirs.
	holder   string
	notifier cluster.Notifier
	closers  []io.Closer // root-key providers holding sessions (an HSM)
	leading  atomic.Bool
	Secrets  *secrets.Service
	IAM      *iam.Service
	KMS      *kms.Service
	Gate     *api.Gate
	Rotation *rotation.Service
	Shipper  *replicate.Shipper

	AuditLog *audit.Log
	// UsageRoller rolls the audit log up into hourly usage (docs/usage.md).
	UsageRoller *usage.Roller

	auditKeys   *audit.Keys
	auditWriter *audit.Writer
	ln          net.Listener
	http        *http.Server
	tls         bool
	rootCred    iam.RootCredentials
	metrics     *metrics.Metrics // nil when turned off
	metricsLn   net.Listener     // nil: /metrics is on ln, or off
	metricsTLS  bool
}

// Open prepares a server: data directory, store, root key, root
// credentials and listener. It serves nothing until Serve.
func Open(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	s := &Server{cfg: cfg, metrics: newMetrics(cfg)}
	if err := s.open(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) open(ctx context.Context) error {
	// The root key file is created only with a new database: a database
	// without its key is a restore gone wrong, not a first start.
	_, err := os.Stat(s.cfg.path("coffer.db"))
	firstStart := errors.Is(err, fs.ErrNotExist)
	if storeopen.IsPostgres(s.cfg.Store) {
		// A shared database: the key file may be new on this server; a
		// wrong one is caught by the key check below.
		firstStart = true
	}
	if s.cfg.RootKey != "" {
		spec, err := rootopen.ParseSpec(s.cfg.RootKey)
		if err != nil {
			return err
		}
		if s.root, err = rootopen.Open(ctx, spec); err != nil {
			return fmt.Errorf("open the root key (%s): %w", spec, err)
		}
		if c, ok := s.root.(io.Closer); ok {
			s.closers = append(s.closers, c)
		}
	} else if s.root, err = keyfile.Open(s.cfg.path("root.key"), firstStart); err != nil {
		if !firstStart && errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("the root key file is missing: restore %s from its backup (the database cannot be read without it): %w", s.cfg.path("root.key"), err)
		}
		return err
	}
	if s.cfg.RootKeyPrevious != "" {
		spec, err := rootopen.ParseSpec(s.cfg.RootKeyPrevious)
		if err != nil {
			return fmt.Errorf("previous root key: %w", err)
		}
		prev, err := rootopen.Open(ctx, spec)
		if err != nil {
			return fmt.Errorf("open the previous root key (%s): %w", spec, err)
		}
		if c, ok := prev.(io.Closer); ok {
			s.closers = append(s.closers, c)
		}
		s.root = &root.Chain{Current: s.root, Previous: prev}
	}
	if s.cfg.RootWrap != nil {
		s.root = s.cfg.RootWrap(s.root)
	}
	s.root = s.metrics.Root(s.root)
	if s.store, err = storeopen.Open(ctx, s.cfg.Store, s.cfg.DataDir); err != nil {
		return fmt.Errorf("open store %s: %w", storeopen.Redact(s.cfg.Store), err)
	}
	s.holder = cluster.NewHolderID()
	s.notifier = cluster.Local{}
	if storeopen.IsPostgres(s.cfg.Store) {
		s.notifier = &cluster.PG{DSN: s.cfg.Store, Holder: s.holder, Log: s.cfg.Log}
	}
	if ix, ok := s.store.(searchIndexer); ok {
		switch indexed, err := ix.SearchIndexed(ctx); {
		case err != nil:
			s.cfg.Log.Warn("cannot tell whether name searches have their trigram index", "err", err)
		case !indexed:
			s.cfg.Log.Warn("name searches scan every secret of an account: the trigram index is missing " +
				"because pg_trgm could not be installed (see \"Name search on PostgreSQL\" in docs/operations.md)")
		}
	}
	if err := checkRootKey(ctx, s.store, s.root); err != nil {
		return err
	}
	if s.auditKeys, err = audit.LoadKeys(ctx, s.store, s.root); err != nil {
		return err
	}
	if err := s.wire(); err != nil {
		return err
	}
	if s.rootCred, err = s.IAM.Bootstrap(ctx, s.cfg.Root); err != nil {
		return fmt.Errorf("root credentials: %w", err)
	}
	if err := s.listen(); err != nil {
		return err
	}
	return s.listenMetrics()
}

// groupWriter is a store that groups write calls into shared commits
// (the embedded store), for the coffer_store_write_* metrics.
type groupWriter interface {
	WriteStats() (commits, calls int64)
	QueuedWrites() int
}

// auditIndexer is a store that indexes audit events in the background (the
// embedded store), for coffer_audit_unindexed_events.
type auditIndexer interface {
	UnindexedEvents(ctx context.Context) (int, error)
}

// searchIndexer is a store whose name search may lack its index: the
// PostgreSQL store, where pg_trgm could not be installed.
type searchIndexer interface {
	SearchIndexed(ctx context.Context) (bool, error)
}

func (s *Server) wire() error {
	ring := &keys.Keyring{Root: s.root, NewID: secrets.NewUUID, OnLookup: s.metrics.Cache(metrics.CacheKeyMaterial)}
	s.AuditLog = &audit.Log{Store: s.store, Clock: s.cfg.Clock}
	s.UsageRoller = &usage.Roller{Store: s.store, Clock: s.cfg.Clock, Interval: s.cfg.UsageInterval, Logger: s.cfg.Log}
	s.auditWriter = &audit.Writer{Log: s.AuditLog, Observe: s.metrics.AuditCommit}
	s.metrics.AuditQueue(s.auditWriter.Queued)
	if w, ok := s.store.(groupWriter); ok {
		s.metrics.StoreWrites(w.WriteStats, w.QueuedWrites)
	}
	if ix, ok := s.store.(auditIndexer); ok {
		s.metrics.AuditUnindexed(func() (int, error) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			return ix.UnindexedEvents(ctx)
		})
	}
	s.Secrets = &secrets.Service{Store: s.store, Keys: ring, Audit: s.AuditLog, Clock: s.cfg.Clock,
		SharedStore: storeopen.IsPostgres(s.cfg.Store)}
	s.IAM = &iam.Service{Store: s.store, Root: s.root, Clock: s.cfg.Clock, OnLookup: s.metrics.Cache(metrics.CacheCredentials),
		OnChange: s.announce}
	s.KMS = &kms.Service{Store: s.store, Keys: ring, Audit: s.AuditLog, Clock: s.cfg.Clock}
	s.Gate = &api.Gate{
		IAM: s.IAM, Secrets: s.Secrets, Regions: s.cfg.Regions, AnyRegion: s.cfg.Dev, Log: s.cfg.Log,
		Audit: s.auditWriter, Redactor: &audit.Redactor{Key: s.auditKeys.HMAC}, Clock: s.cfg.Clock,
		Lookup: &audit.Lookup{Store: s.store},
		Usage:  &usage.Reader{Store: s.store}, Metrics: s.metrics,
		Limits: s.cfg.Limits.limiter(s.cfg.Clock),
	}
	s.Rotation = &rotation.Service{
		Store: s.store, Secrets: s.Secrets, Audit: s.AuditLog, Clock: s.cfg.Clock, Logger: s.cfg.Log,
		Webhook: &webhook.Client{HTTP: webhookHTTP(s.cfg.Rotation.WebhookCA), Signer: webhook.Signer{KeyID: s.auditKeys.WebhookKeyID, Key: s.auditKeys.Webhook},
			Clock: s.cfg.Clock, AllowHTTP: s.cfg.Rotation.WebhookAllowHTTP},
		MaxAttempts: s.cfg.Rotation.MaxAttempts, RetryBase: s.cfg.Rotation.RetryBase, Grace: s.cfg.Rotation.Grace,
		OnStart: s.announceRotation, Hook: s.cfg.Rotation.Hook, OnEnd: s.metrics.RotationEnded,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /rotation/webhook-key", s.webhookKey)
	mux.HandleFunc("GET /readyz", s.readyz)
	s.routeMetrics(mux)
	mux.Handle("/", edges{
		tencent: &tc3.Edge{Gate: s.Gate, KMS: s.KMS, Rotation: s.Rotation, ReplicaRegion: s.replicaRegion, Clock: s.cfg.Clock},
		aws:     &awsjson.Edge{Gate: s.Gate, Rotation: s.Rotation, ReplicaRegion: s.replicaRegion, Clock: s.cfg.Clock},
	})
	mux.Handle("/console/", console.New(console.Config{Gate: s.Gate, KMS: s.KMS, Rotation: s.Rotation, Clock: s.cfg.Clock, Dev: s.cfg.Dev, Log: s.cfg.Log}))
	s.http = s.cfg.Limits.httpServer(mux)
	return s.wireReplication(mux)
}

// edges routes a request to the API family it speaks: AWS JSON requests
// name their action in X-Amz-Target, Tencent's in X-TC-Action (and
// everything else gets Tencent's error envelope).
type edges struct {
	tencent, aws http.Handler
}

func (e edges) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if awsjson.IsAWS(r) {
		e.aws.ServeHTTP(w, r)
		return
	}
	e.tencent.ServeHTTP(w, r)
}

func (s *Server) listen() error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Listen, err)
	}
	s.ln = limitConnections(ln, s.cfg.Limits.MaxConnections)
	if s.cfg.Dev {
		return nil
	}
	cfg, fp, generated, err := tlsConfig(&s.cfg)
	if err != nil {
		return err
	}
	if generated {
		fmt.Fprintf(s.cfg.Out, "Generated a self-signed TLS certificate in %s\nSHA-256 fingerprint: %s\n", s.cfg.DataDir, fp)
	}
	s.cfg.Log.Info("tls", "fingerprint", fp)
	s.ln, s.tls = tls.NewListener(s.ln, cfg), true
	return nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL returns the base URL clients use.
func (s *Server) URL() string {
	if s.tls {
		return "https://" + s.Addr()
	}
	return "http://" + s.Addr()
}

// RootCredentials returns the root account's credentials; the secret half is
// set only on the start that created them.
func (s *Server) RootCredentials() iam.RootCredentials { return s.rootCred }

// Serve answers requests until ctx is done, then drains in-flight requests
// (up to drain) and returns nil. It returns an error if serving fails.
func (s *Server) Serve(ctx context.Context, drain time.Duration) error {
	var wg sync.WaitGroup
	sweepCtx, stopSweep := context.WithCancel(context.Background())
	jobs := append([]func(context.Context){s.sweep, s.rotate, s.replicateJob}, s.auditJobs()...)
	if storeopen.IsPostgres(s.cfg.Store) {
		// Jobs that must run once in the cluster run on the lease holder.
		ttl := s.cfg.LeaseTTL
		if ttl <= 0 {
			ttl = 15 * time.Second
		}
		leader := &cluster.Leader{
			Lease: cluster.Lease{Store: s.store, Name: "jobs", Holder: s.holder, TTL: ttl},
			Jobs:  jobs, Log: s.cfg.Log, OnChange: s.leading.Store,
		}
		jobs = []func(context.Context){leader.Run}
	} else {
		s.leading.Store(true)
	}
	jobs = append(jobs, func(ctx context.Context) {
		s.notifier.Run(ctx, func(topic string) {
			if topic == topicRotation {
				s.Rotation.Kick()
				return
			}
			s.IAM.Invalidate()
		})
	})
	for _, run := range jobs {
		wg.Add(1)
		go func() { defer wg.Done(); run(sweepCtx) }()
	}
	defer func() { stopSweep(); wg.Wait() }()

	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.ln) }()
	defer s.serveMetrics()()
	s.cfg.Log.Info("serving", "addr", s.Addr(), "tls", s.tls, "regions", s.cfg.Regions, "root_key", s.root.Describe())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.Secrets.StopWaits() // long polls answer now rather than hold the drain
	sctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	if err := s.http.Shutdown(sctx); err != nil {
		return fmt.Errorf("drain: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// sweep purges secrets whose deletion window has passed, every SweepInterval.
func (s *Server) sweep(ctx context.Context) {
	t := time.NewTicker(s.cfg.SweepInterval)
	defer t.Stop()
	for {
		s.SweepNow(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SweepNow purges every secret whose deletion time has come, destroys
// the material of keys whose deletion time has come, rotates keys that are
// due, and re-wraps data keys under their key's newest version.
func (s *Server) SweepNow(ctx context.Context) {
	const batch = 100
	if n, err := s.KMS.Sweep(ctx, batch); err != nil {
		s.cfg.Log.Error("key sweep", "error", err)
	} else if n > 0 {
		s.cfg.Log.Info("key sweep", "keys", n)
	}
	for ctx.Err() == nil {
		n, err := s.KMS.Rewrap(ctx, 1000)
		if err != nil {
			s.cfg.Log.Error("key re-wrap", "error", err)
			break
		}
		if n > 0 {
			s.cfg.Log.Info("key re-wrap", "versions", n)
		}
		if n < 1000 {
			break
		}
	}
	for ctx.Err() == nil {
		n, err := s.Secrets.Sweep(ctx, batch)
		if err != nil {
			s.cfg.Log.Error("deletion sweep", "error", err)
			return
		}
		if n > 0 {
			s.cfg.Log.Info("deletion sweep", "purged", n)
		}
		if n < batch {
			return
		}
	}
}

// announce tells the other servers that IAM changed, so they drop their
// caches; it does not hold up the call that made the change.
func (s *Server) announce() {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.notifier.Publish(ctx, "iam"); err != nil {
			s.cfg.Log.Warn("announce an IAM change", "error", err.Error())
		}
	}()
}

// Leading reports whether this server runs the cluster's background jobs.
func (s *Server) Leading() bool { return s.leading.Load() }

// readyz answers 200 when the server can serve: the database answers (its
// schema was checked at start) and the root key opens the key-check
// value; 503 with the reason otherwise.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	var check string
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		check, err = tx.Meta(ctx, metaRootCheck)
		return err
	})
	if err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("not ready: the database does not answer\n"))
		return
	}
	b, err := base64.StdEncoding.DecodeString(check)
	if err == nil {
		_, err = s.root.Unwrap(ctx, b, keys.AAD("coffer/root-check"))
	}
	if err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("not ready: the root key is unavailable\n"))
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// Close releases the listener and the store.
func (s *Server) Close() error {
	var errs []error
	if s.ln != nil {
		if err := s.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	if s.metricsLn != nil {
		_ = s.metricsLn.Close() // already closed when Serve ran
	}
	if s.auditWriter != nil {
		s.auditWriter.Close() // commits what is queued before the store closes
	}
	if s.store != nil {
		errs = append(errs, s.store.Close())
	}
	for _, c := range s.closers {
		errs = append(errs, c.Close())
	}
	s.closers = nil
	return errors.Join(errs...)
}

const metaRootCheck = "root-key-check"

// checkRootKey makes sure the root key is the one this database was created
// with, so a wrong key file fails at start, not at the first read.
func checkRootKey(ctx context.Context, st store.Store, r root.Provider) error {
	aad := keys.AAD("coffer/root-check")
	return st.Update(ctx, func(tx store.Tx) error {
		v, err := tx.Meta(ctx, metaRootCheck)
		if fault.Is(err, fault.NotFound) {
			b, err := r.Wrap(ctx, []byte("coffer"), aad)
			if err != nil {
				return fmt.Errorf("root key check: %w", err)
			}
			return tx.SetMeta(ctx, metaRootCheck, base64.StdEncoding.EncodeToString(b))
		} else if err != nil {
			return err
		}
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return fmt.Errorf("root key check value is corrupt: %w", err)
		}
		if _, err := r.Unwrap(ctx, b, aad); err != nil {
			return fmt.Errorf("the root key (%s) is not the one this database was created with: %w", r.Describe(), err)
		}
		return nil
	})
}

// auditJobs returns the audit log's background jobs: signing checkpoints,
// retention and, when configured, export.
func (s *Server) auditJobs() []func(context.Context) {
	cp := &audit.Checkpointer{Log: s.AuditLog, Keys: s.auditKeys, Interval: s.cfg.AuditCheckpointInterval, Clock: s.cfg.Clock, Logger: s.cfg.Log}
	ret := &audit.Retention{Log: s.AuditLog, Keys: s.auditKeys, Keep: s.cfg.AuditRetention, Clock: s.cfg.Clock, Logger: s.cfg.Log,
		Hold: usage.RolledSeq} // never remove events usage has not counted
	jobs := []func(context.Context){cp.Run, ret.Run, s.UsageRoller.Run}
	if s.cfg.AuditExport == "" {
		return jobs
	}
	var sink audit.Sink = &audit.WriterSink{W: s.cfg.Out, Keys: s.auditKeys, Clock: s.cfg.Clock}
	if s.cfg.AuditExport != "-" {
		sink = &audit.FileSink{Path: s.cfg.AuditExport, MaxBytes: s.cfg.AuditExportMaxBytes,
			MaxFiles: s.cfg.AuditExportMaxFiles, Keys: s.auditKeys, Clock: s.cfg.Clock}
	}
	x := &audit.Exporter{Log: s.AuditLog, Out: sink, Logger: s.cfg.Log}
	return append(jobs, func(ctx context.Context) {
		if err := x.Run(ctx); err != nil {
			s.cfg.Log.Error("audit export stopped", "error", err)
		}
		if f, ok := sink.(*audit.FileSink); ok {
			if err := f.Close(); err != nil {
				s.cfg.Log.Error("audit export", "error", err)
			}
		}
	})
}
