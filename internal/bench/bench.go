// Package bench is Coffer's load generator, in the spirit of pgbench and
// redis-benchmark: it sets up secrets, sends a mix of signed SSM or Secrets
// Manager requests over N keep-alive connections for a duration or a count,
// and reports throughput, errors by code and latency percentiles.
package bench

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Config is one benchmark run. Run reads it and never changes it.
type Config struct {
	Endpoint  string // the server's base URL, http:// or https://
	Protocol  Protocol
	SecretID  string
	SecretKey SecretKey
	Region    string      // "" means ap-guangzhou
	TLS       *tls.Config // for an https endpoint; nil trusts the system roots

	Mix         Mix
	Connections int           // workers, each with its own keep-alive connection
	Duration    time.Duration // measure this long, or…
	Requests    int64         // …this many requests (exactly one of the two)
	Warmup      time.Duration // run this long first, unmeasured
	Rate        float64       // requests a second over all connections; 0 is as fast as they go
	Timeout     time.Duration // per request; 0 means 10 s

	Setup     int    // secrets bench-<Run>-<i> to create, or reuse, before the run
	Size      int    // bytes of each value, set-up and put; 0 means 1024
	Run       string // names the secrets; "" means "default"
	Cleanup   bool   // delete the set-up secrets after the run
	PageSize  int    // ListSecrets page size; 0 means 100
	ListPages int    // Tencent ListSecrets reads one of the first ListPages pages at random; 0 means 1

	Progress          io.Writer     // where the progress line goes; nil for none
	ProgressInterval  time.Duration // 0 means 1 s
	ProgressOverwrite bool          // redraw one line, for a terminal, rather than print a line a tick
}

// Defaults for the zero fields of Config.
const (
	DefaultTimeout  = 10 * time.Second
	DefaultSize     = 1024
	DefaultRun      = "default"
	DefaultPageSize = 100
	DefaultRegion   = "ap-guangzhou"
)

// keepVersions is how many versions a Tencent put workload leaves on a
// secret before it deletes the oldest: with the initial version that leaves
// room under Tencent's 10 for puts in flight on the same secret.
const keepVersions = 4

// ErrConfig is wrapped by the errors Run returns for settings it cannot
// work with, as opposed to a server it could not set up.
var ErrConfig = errors.New("bench")

var runName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// check reports the first setting Run cannot work with.
func (c *Config) check() error {
	switch {
	case c.Connections < 1:
		return errors.New("connections must be at least 1")
	case (c.Duration > 0) == (c.Requests > 0):
		return errors.New("give a duration or a request count, not both or neither")
	case c.Duration < 0 || c.Requests < 0 || c.Warmup < 0 || c.Rate < 0 || c.Timeout < 0:
		return errors.New("durations, counts and the rate cannot be negative")
	case c.Mix.total() == 0:
		return errors.New("the mix has no operation")
	case c.Mix.needsSecrets() && c.Setup < 1:
		return errors.New("get, put and describe need set-up secrets: --setup N")
	case c.Setup < 0 || c.Size < 0 || c.PageSize < 0 || c.ListPages < 0:
		return errors.New("setup, size, page size and pages cannot be negative")
	case c.Run != "" && !runName.MatchString(c.Run):
		return fmt.Errorf("run name %q: want 1-64 of A-Z a-z 0-9 _ -", c.Run)
	case c.SecretID == "" || c.SecretKey == "":
		return errors.New("a secret id and a secret key are required")
	}
	return nil
}

// withDefaults returns c with its zero fields set.
func (c Config) withDefaults() Config {
	c.Timeout = orDefault(c.Timeout, DefaultTimeout)
	c.Size = orDefault(c.Size, DefaultSize)
	c.PageSize = orDefault(c.PageSize, DefaultPageSize)
	c.ListPages = orDefault(c.ListPages, 1)
	c.ProgressInterval = orDefault(c.ProgressInterval, time.Second)
	c.Run = orDefault(c.Run, DefaultRun)
	c.Region = orDefault(c.Region, DefaultRegion)
	return c
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Names returns the names of the first n set-up secrets of run, as Run
// creates them.
func Names(run string, n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = "bench-" + run + "-" + strconv.Itoa(i)
	}
	return names
}

// runner is one Run: the settings, the connection pool, the prepared
// bodies, and the state workers share.
type runner struct {
	cfg    Config
	proto  Protocol
	url    string
	client *http.Client
	sign   *signer
	names  []string
	value  string

	regionHdr []string // X-TC-Region

	gets, describes, lists []payload // prepared once: they never change

	nonce string        // tells this run's versions and tokens from others'
	seq   atomic.Int64  // put and create sequence numbers
	rings []versionRing // per secret, for Tencent puts; nil otherwise

	start, measureStart time.Time
	stop                chan struct{}
	stopOnce            sync.Once
	remaining           atomic.Int64 // requests left to measure, in count mode
	ticket              atomic.Int64 // the next request slot, with a rate
	period              time.Duration
	completed           atomic.Int64 // requests answered, warm-up and housekeeping included
	workers             []*worker
}

func newRunner(cfg Config) (*runner, error) {
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("%w: endpoint %q: want http://host:port or https://host:port", ErrConfig, cfg.Endpoint)
	}
	r := &runner{
		cfg: cfg, proto: cfg.Protocol, url: u.Scheme + "://" + u.Host + "/",
		client: newClient(cfg), names: Names(cfg.Run, cfg.Setup),
		value: randomText(cfg.Size), nonce: randomHex(8), stop: make(chan struct{}), regionHdr: []string{cfg.Region},
		sign: &signer{proto: cfg.Protocol, id: cfg.SecretID, secret: cfg.SecretKey, host: u.Host, region: cfg.Region},
	}
	if cfg.Protocol == Tencent && cfg.Mix[Put] > 0 {
		r.rings = make([]versionRing, cfg.Setup)
	}
	r.prepare()
	return r, nil
}

// prepare builds and hashes the bodies that never change.
func (r *runner) prepare() {
	build := func(a action, n int, args func(i int) (string, int)) []payload {
		ps := make([]payload, n)
		for i := range ps {
			name, offset := args(i)
			r.sign.prepare(&ps[i], r.proto.body(nil, a, name, "", "", offset, r.cfg.PageSize))
		}
		return ps
	}
	byName := func(i int) (string, int) { return r.names[i], 0 }
	if r.cfg.Mix[Get] > 0 {
		r.gets = build(actGet, len(r.names), byName)
	}
	if r.cfg.Mix[Describe] > 0 {
		r.describes = build(actDescribe, len(r.names), byName)
	}
	if r.cfg.Mix[List] > 0 {
		r.lists = build(actList, r.cfg.ListPages, func(i int) (string, int) { return "", i * r.cfg.PageSize })
	}
}

// newClient returns a client whose transport keeps one connection per
// worker alive and speaks HTTP/1.1 only: with HTTP/2 every worker would
// share one connection.
func newClient(cfg Config) *http.Client {
	var p http.Protocols
	p.SetHTTP1(true)
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     cfg.TLS,
		TLSHandshakeTimeout: 5 * time.Second,
		MaxIdleConns:        cfg.Connections,
		MaxIdleConnsPerHost: cfg.Connections,
		MaxConnsPerHost:     cfg.Connections,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		Protocols:           &p,
	}
	return &http.Client{Transport: tr, Timeout: cfg.Timeout}
}

// Run sets up the secrets, runs the workload and returns its report. It
// returns an error, and no report, when the settings are wrong or the
// set-up fails (an unreachable server, refused credentials); the first
// kind wraps ErrConfig. Errors during
// the run are counted in the report, not returned. Cancelling ctx during the
// run ends it early with a report of what was measured (Interrupted).
func Run(ctx context.Context, cfg Config) (*Report, error) {
	r, err := newRunner(cfg)
	if err != nil {
		return nil, err
	}
	defer r.client.CloseIdleConnections()
	rep := r.newReport()
	if rep.Setup, err = r.setup(ctx); err != nil {
		return nil, err
	}
	rep.Interrupted = r.measure(ctx)
	r.fill(rep)
	rep.Client.LoadEnd = loadAverage()
	rep.Cleanup = r.teardown(context.WithoutCancel(ctx))
	return rep, nil
}

// randomText returns n random letters and digits: a value that needs no
// JSON escaping.
func randomText(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
