package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdk "github.com/coffer-secrets/coffer/client"
)

// cliServer is a development server the client commands talk to, and the
// environment that points them at it as the root user.
type cliServer struct {
	d   *daemon
	env []string
}

// startCLIServer starts `coffer server --dev` with the env root key.
func startCLIServer(t *testing.T) *cliServer {
	t.Helper()
	d := startCoffer(t, rootEnv(envKeyID, envSecret, envAccount), "server", "--dev", "--listen", "127.0.0.1:0", "--data", t.TempDir())
	t.Cleanup(func() {
		select {
		case <-d.exited:
		default:
			d.stop()
		}
	})
	return &cliServer{d: d, env: []string{
		"COFFER_ADDR=" + d.URL, "COFFER_SECRET_ID=" + envKeyID, "COFFER_SECRET_KEY=" + envSecret,
		"XDG_CONFIG_HOME=" + t.TempDir(), // no user config file
	}}
}

// root returns an SDK client of the server as root.
func (s *cliServer) root(t *testing.T) *sdk.Client {
	t.Helper()
	c, err := sdk.New(sdk.Options{Endpoint: s.d.URL, Credentials: sdk.StaticCredentials(envKeyID, envSecret)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// with returns the server's environment with extra set (later wins).
func (s *cliServer) with(extra ...string) []string {
	return append(append([]string(nil), s.env...), extra...)
}

// cliResult is what one run of the binary printed and its exit status.
type cliResult struct {
	stdout, stderr string
	code           int
}

// cli runs the binary with env (and no other COFFER_ variable) and stdin,
// and waits for it.
func cli(t *testing.T, env []string, stdin string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, cofferBin, args...)
	cmd.Env = cliEnviron(env)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := cliResult{stdout: out.String(), stderr: errOut.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("coffer %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// cliEnviron is the test's environment without COFFER_ variables, plus env.
func cliEnviron(env []string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "COFFER_") && !strings.HasPrefix(kv, "XDG_CONFIG_HOME=") {
			out = append(out, kv)
		}
	}
	return append(out, env...)
}

// ok requires exit status 0 and returns stdout.
func (r cliResult) ok(t *testing.T, args ...string) string {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("coffer %s: exit %d, want 0\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// must runs a command that must succeed and returns its stdout.
func (s *cliServer) must(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	return cli(t, s.env, stdin, args...).ok(t, args...)
}

// wantExit runs a command and requires exit status code, with stderr
// mentioning want.
func wantExit(t *testing.T, env []string, code int, want string, args ...string) cliResult {
	t.Helper()
	r := cli(t, env, "", args...)
	if r.code != code || !strings.Contains(r.stderr, want) {
		t.Errorf("coffer %s: got exit %d, stderr %q; want exit %d mentioning %q", strings.Join(args, " "), r.code, r.stderr, code, want)
	}
	return r
}

// writeTemp writes a file in dir and returns its path.
func writeTemp(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// eventually polls cond every few milliseconds until it holds, failing
// after waitLimit.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, waitLimit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
