package main

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/coffer-secrets/coffer/internal/bench"
)

// benchFlags are coffer bench's flags that need parsing before they make a
// bench.Config.
type benchFlags struct {
	cfg                           bench.Config
	endpoint, secretKey, protocol string
	mix, cacert, output           string
	cpuProfile                    string
	insecure, quiet               bool
	maxErrorRate                  float64
}

func newBenchCmd() *cobra.Command {
	f := &benchFlags{}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load a running Coffer server and report throughput and latency",
		Long: `Send signed requests to a running Coffer server and report what it measured,
in the spirit of pgbench and redis-benchmark (docs/bench.md).

It creates --setup secrets bench-<run>-<i> of --size bytes (reusing those
that exist), then sends a --mix of GetSecretValue, PutSecretValue,
ListSecrets and DescribeSecret over --connections keep-alive connections for
--duration or --requests, after an unmeasured --warmup. A progress line goes
to standard error once a second; the report (-o text or json) to standard
output: requests, errors by code, throughput and latency min/p50/p90/p99/max
per operation and in total.

The server and credentials come from flags or the environment (COFFER_ADDR,
COFFER_SECRET_ID, COFFER_SECRET_KEY, COFFER_REGION, COFFER_CACERT).

Exit status: 0 done, 1 more errors than --max-error-rate (or no answer at
all), 2 could not run (set-up failed, server unreachable), 3 usage.`,
		Example: `  coffer bench --endpoint http://127.0.0.1:8443 --mix get=100 -c 32 -d 30s --warmup 2s
  coffer bench --protocol aws --mix get=90,put=5,list=3,describe=2 -n 100000 -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { tuneGC(); return runBench(cmd, f) },
	}
	cmd.AddCommand(newBenchSeedCmd())
	fs := cmd.Flags()
	c := &f.cfg
	fs.StringVar(&f.endpoint, "endpoint", "", "server URL, e.g. https://127.0.0.1:8443 (env COFFER_ADDR; default https://127.0.0.1:8443)")
	fs.StringVar(&f.endpoint, "addr", "", "same as --endpoint")
	_ = fs.MarkHidden("addr")
	fs.StringVar(&c.SecretID, "secret-id", "", "access key id (env COFFER_SECRET_ID)")
	fs.StringVar(&f.secretKey, "secret-key", "", "secret key (env COFFER_SECRET_KEY; the flag shows in ps and shell history)")
	fs.StringVar(&c.Region, "region", "", "region (env COFFER_REGION; default ap-guangzhou)")
	fs.StringVar(&f.cacert, "cacert", "", "PEM file of a CA to trust besides the system roots, e.g. the server's self-signed certificate (env COFFER_CACERT)")
	fs.BoolVar(&f.insecure, "insecure", false, "do not verify the server's TLS certificate")
	fs.StringVar(&f.protocol, "protocol", "tc3", "tc3 (Tencent SSM, TC3-HMAC-SHA256) or aws (Secrets Manager, SigV4)")
	fs.StringVar(&f.mix, "mix", "get=90,put=5,list=3,describe=2", "operations and their weights: get, put, list, describe")
	fs.IntVarP(&c.Connections, "connections", "c", 32, "connections, one worker each")
	fs.DurationVarP(&c.Duration, "duration", "d", 0, "measure this long (default 10s unless --requests)")
	fs.Int64VarP(&c.Requests, "requests", "n", 0, "measure this many requests instead of a duration")
	fs.DurationVar(&c.Warmup, "warmup", 0, "run this long first, unmeasured")
	fs.Float64Var(&c.Rate, "rate", 0, "cap on requests a second over all connections (0 none)")
	fs.DurationVar(&c.Timeout, "timeout", bench.DefaultTimeout, "timeout of each request")
	fs.IntVar(&c.Setup, "setup", 100, "secrets to create (or reuse) before the run")
	fs.IntVar(&c.Size, "size", bench.DefaultSize, "bytes of each secret value")
	fs.StringVar(&c.Run, "run", bench.DefaultRun, "run name: the secrets are bench-<run>-<i>")
	fs.BoolVar(&c.Cleanup, "cleanup", false, "delete the secrets after the run")
	fs.IntVar(&c.PageSize, "page-size", bench.DefaultPageSize, "ListSecrets page size")
	fs.IntVar(&c.ListPages, "list-pages", 1, "ListSecrets reads one of the first N pages at random (tc3; aws reads the first)")
	fs.StringVarP(&f.output, "output", "o", "text", "report format: text or json")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "no progress line")
	fs.Float64Var(&f.maxErrorRate, "max-error-rate", 0.01, "exit 1 when more than this fraction of requests fail")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write the client's own CPU profile to this file (to check it is not the bottleneck)")
	return cmd
}

func runBench(cmd *cobra.Command, f *benchFlags) error {
	cfg, err := f.config(cmd)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { <-ctx.Done(); stop() }() // a second interrupt ends the process
	warnings(cmd.ErrOrStderr(), cfg)
	if f.cpuProfile != "" {
		out, err := os.Create(f.cpuProfile)
		if err != nil {
			return failed(err)
		}
		defer out.Close()
		if err := pprof.StartCPUProfile(out); err != nil {
			return failed(err)
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		if errors.Is(err, bench.ErrConfig) {
			return usageErr(err)
		}
		return failed(err)
	}
	if f.output == "json" {
		err = rep.WriteJSON(cmd.OutOrStdout())
	} else {
		err = rep.WriteText(cmd.OutOrStdout())
	}
	if err != nil {
		return failed(err)
	}
	return verdict(rep, f.maxErrorRate)
}

// verdict fails when the run measured nothing or too many errors.
func verdict(rep *bench.Report, maxRate float64) error {
	switch {
	case rep.Total.Requests == 0:
		return &exitError{code: exitProblem, err: errors.New("no request was answered")}
	case rep.ErrorRate > maxRate:
		return &exitError{code: exitProblem, err: fmt.Errorf("%.2f%% of requests failed, more than --max-error-rate %.2f%%", 100*rep.ErrorRate, 100*maxRate)}
	}
	return nil
}

// config weighs flags over the environment and checks what bench.Run
// would only find out later. It returns usage errors.
func (f *benchFlags) config(cmd *cobra.Command) (bench.Config, error) {
	c := f.cfg
	var err error
	if c.Protocol, err = bench.ParseProtocol(f.protocol); err != nil {
		return c, usageErr(err)
	}
	if c.Mix, err = bench.ParseMix(f.mix); err != nil {
		return c, usageErr(err)
	}
	if f.output != "text" && f.output != "json" {
		return c, usageErr(fmt.Errorf("--output is text or json, not %q", f.output))
	}
	changed := cmd.Flags().Changed
	if changed("duration") && changed("requests") {
		return c, usageErr(errors.New("give --duration or --requests, not both"))
	}
	if c.Duration == 0 && c.Requests == 0 {
		c.Duration = 10 * time.Second
	}
	c.Endpoint = endpointURL(cmp.Or(f.endpoint, os.Getenv("COFFER_ADDR"), "https://127.0.0.1:8443"))
	c.SecretID = cmp.Or(c.SecretID, os.Getenv("COFFER_SECRET_ID"))
	c.SecretKey = bench.SecretKey(cmp.Or(f.secretKey, os.Getenv("COFFER_SECRET_KEY")))
	c.Region = cmp.Or(c.Region, os.Getenv("COFFER_REGION"), bench.DefaultRegion)
	if c.SecretID == "" || c.SecretKey == "" {
		return c, usageErr(errors.New("no credentials: give --secret-id and --secret-key, or set COFFER_SECRET_ID and COFFER_SECRET_KEY"))
	}
	if c.TLS, err = f.tlsConfig(); err != nil {
		return c, err
	}
	if !f.quiet {
		c.Progress = cmd.ErrOrStderr()
		c.ProgressOverwrite = isTerminal(c.Progress)
	}
	return c, nil
}

// endpointURL adds https:// to a bare host:port.
func endpointURL(s string) string {
	if !strings.Contains(s, "://") {
		return "https://" + s
	}
	return s
}

func (f *benchFlags) tlsConfig() (*tls.Config, error) {
	cacert := cmp.Or(f.cacert, os.Getenv("COFFER_CACERT"))
	if f.insecure && cacert != "" {
		return nil, usageErr(errors.New("--insecure and --cacert exclude each other"))
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: f.insecure}
	if cacert == "" {
		return cfg, nil
	}
	pem, err := os.ReadFile(cacert)
	if err != nil {
		return nil, failed(fmt.Errorf("CA file: %w", err))
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, failed(fmt.Errorf("CA file %s holds no PEM certificate", cacert))
	}
	cfg.RootCAs = pool
	return cfg, nil
}

// warnings points out settings that will show as errors rather than load.
func warnings(w io.Writer, c bench.Config) {
	switch {
	case c.Mix[bench.Put] == 0:
	case c.Protocol == bench.Tencent && c.Setup < c.Connections:
		fmt.Fprintf(w, "coffer bench: warning: %d secrets for %d connections: concurrent puts on one secret may pass Tencent's 10 versions (LimitExceeded); use --setup %d or more\n", c.Setup, c.Connections, c.Connections)
	case c.Protocol == bench.AWS:
		fmt.Fprintf(w, "coffer bench: warning: Secrets Manager keeps at most 100 versions a secret and has no call to delete one: about %d puts succeed before LimitExceededException\n", 99*c.Setup)
	}
}

// isTerminal reports whether w is a terminal, where the progress line
// redraws itself rather than scrolling.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
