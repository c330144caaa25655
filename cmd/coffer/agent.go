package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	sdk "github.com/coffer-secrets/coffer/client"
)

func newAgentCmd() *cobra.Command {
	conn := &connFlags{}
	var configPath, logFormat, logLevel string
	var once bool
	cmd := &cobra.Command{
		Use:   "agent --config agent.json",
		Short: "Keep files rendered from secrets up to date, and reload their users",
		Long: `Run a sidecar that renders Go templates from secrets to files, written
atomically with mode 0600 (or the template's mode), and re-renders them when
a secret they read gets a new current version; after a file changes it runs
the template's command and/or sends its signal to a process. It runs until
SIGTERM or SIGINT, then exits 0. docs/agent.md describes the config file and
the template functions. It logs secret names, never values.`,
		Example: `  coffer agent --config /etc/coffer/agent.json
  coffer agent --config agent.json --once    # render and exit (an init container)`,
		Args: noArgs,
		RunE: withClient(conn, func(cmd *cobra.Command, c *sdk.Client, _ *printer, _ []string) error {
			if configPath == "" {
				return usageErr(errors.New("--config is required"))
			}
			log, err := newLogger(logFormat, logLevel)
			if err != nil {
				return usageErr(err)
			}
			cfg, err := loadAgentConfig(configPath)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, os.Interrupt)
			defer stop()
			return runAgent(ctx, c, cfg, log, once)
		}),
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr(err) })
	conn.register(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&configPath, "config", "", "agent config file (JSON)")
	f.BoolVar(&once, "once", false, "render every template once and exit")
	f.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	return cmd
}

// agent keeps the templates rendered. Its loop is the only goroutine that
// renders; watch callbacks only queue secret names.
type agent struct {
	cache    *sdk.Cache
	log      *slog.Logger
	r        *renderer
	tmpls    []*agentTemplate
	watching map[string]func() // secret name → stop

	mu      sync.Mutex
	pending map[string]bool
	wake    chan struct{}
}

func runAgent(ctx context.Context, c *sdk.Client, cfg *agentConfig, log *slog.Logger, once bool) error {
	poll := cfg.Cache.PollInterval.Duration
	if poll == 0 {
		poll = 10 * time.Second
	}
	cache := sdk.NewCache(c, sdk.CacheOptions{TTL: cfg.Cache.TTL.Duration, PollInterval: poll,
		OnError: func(name string, err error) { log.Warn("secret refresh failed", "secret", name, "err", err) }})
	defer cache.Close()
	a := &agent{cache: cache, log: log, r: &renderer{cache: cache}, watching: map[string]func(){},
		pending: map[string]bool{}, wake: make(chan struct{}, 1)}
	defer a.unwatchAll()
	for _, t := range cfg.Templates {
		at, err := a.r.parse(t)
		if err != nil {
			return err
		}
		a.tmpls = append(a.tmpls, at)
	}
	for _, t := range a.tmpls {
		if err := a.apply(ctx, t, true); err != nil {
			return err
		}
	}
	if once {
		return nil
	}
	log.Info("agent running", "templates", len(a.tmpls))
	return a.loop(ctx)
}

func (a *agent) loop(ctx context.Context) error {
	for {
		a.watch()
		select {
		case <-ctx.Done():
			a.log.Info("agent stopping")
			return nil
		case <-a.wake:
		}
		changed := a.takePending()
		for _, t := range a.tmpls {
			if !usesAny(t, changed) {
				continue
			}
			if err := a.apply(ctx, t, false); err != nil {
				a.log.Error("render failed; the file is left as it was", "destination", t.cfg.Destination, "err", apiErr(err))
			}
		}
	}
}

func usesAny(t *agentTemplate, names map[string]bool) bool {
	for n := range names {
		if t.deps[n] {
			return true
		}
	}
	return false
}

// apply renders t and, when the file changes, writes it and runs the
// template's reload action. The first render reloads only a file that
// existed with other contents: a new file's reader has not started yet.
func (a *agent) apply(ctx context.Context, t *agentTemplate, first bool) error {
	out, err := a.r.render(ctx, t)
	if err != nil {
		return err
	}
	defer clear(out)
	old, readErr := os.ReadFile(t.cfg.Destination)
	existed := readErr == nil
	same := existed && bytes.Equal(old, out)
	clear(old)
	if same {
		return os.Chmod(t.cfg.Destination, t.cfg.mode)
	}
	if readErr != nil && !errors.Is(readErr, fs.ErrNotExist) {
		return failed(readErr)
	}
	if err := writeFileAtomic(t.cfg.Destination, out, t.cfg.mode); err != nil {
		return failed(err)
	}
	a.log.Info("rendered", "destination", t.cfg.Destination, "secrets", t.depNames())
	if !first || existed {
		a.reload(ctx, t.cfg)
	}
	return nil
}

// reload runs the template's command, then sends its signal. Failures are
// logged: the file is written either way.
func (a *agent) reload(ctx context.Context, t templateConfig) {
	if len(t.Command) > 0 {
		ctx, cancel := context.WithTimeout(ctx, t.CommandTimeout.Duration)
		cmd := exec.CommandContext(ctx, t.Command[0], t.Command[1:]...)
		cmd.Env, cmd.Stdout, cmd.Stderr = childEnv(os.Environ(), nil, false), os.Stderr, os.Stderr
		err := cmd.Run()
		cancel()
		if err != nil {
			a.log.Error("reload command failed", "destination", t.Destination, "command", t.Command[0], "err", err)
		} else {
			a.log.Info("reload command ran", "destination", t.Destination, "command", t.Command[0])
		}
	}
	if t.Signal != "" {
		if err := sendSignal(t); err != nil {
			a.log.Error("reload signal failed", "destination", t.Destination, "signal", t.Signal, "err", err)
		} else {
			a.log.Info("reload signal sent", "destination", t.Destination, "signal", t.Signal)
		}
	}
}

// sendSignal signals the process the template names, by pid or pid file.
func sendSignal(t templateConfig) error {
	pid := t.Pid
	if t.PidFile != "" {
		b, err := os.ReadFile(t.PidFile)
		if err != nil {
			return err
		}
		if pid, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil || pid <= 0 {
			return fmt.Errorf("pid file %s holds no process id", t.PidFile)
		}
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Signal(signalNames[strings.ToUpper(t.Signal)])
}

// watch makes the watched secrets those the templates read.
func (a *agent) watch() {
	want := map[string]bool{}
	for _, t := range a.tmpls {
		for n := range t.deps {
			want[n] = true
		}
	}
	for n, stop := range a.watching {
		if !want[n] {
			stop()
			delete(a.watching, n)
		}
	}
	for n := range want {
		if a.watching[n] == nil {
			a.watching[n] = a.cache.Watch(n, func(sdk.Change) { a.queue(n) })
		}
	}
}

func (a *agent) unwatchAll() {
	for n, stop := range a.watching {
		stop()
		delete(a.watching, n)
	}
}

// queue notes a changed secret and wakes the loop; it never blocks.
func (a *agent) queue(name string) {
	a.mu.Lock()
	a.pending[name] = true
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

func (a *agent) takePending() map[string]bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.pending
	a.pending = map[string]bool{}
	return p
}
