package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestRunPassesSecrets(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t)
	s.must(t, "pa55-w0rd", "secret", "create", "db-password", "--value-stdin")
	s.must(t, `{"user":"app","port":5432,"opts":{"ssl":true}}`, "secret", "create", "db-config", "--value-stdin")
	dir := t.TempDir()
	out := filepath.Join(dir, "env")
	script := `printf '%s|%s|%s|%s|%s|%s' "$DB_PASSWORD" "$PW" "$USER" "$P" "$OPTS" "${COFFER_SECRET_KEY:-none}" > ` + out + `; exit 7`
	r := cli(t, s.env, "", "run", "--secret", "db-password", "--secret", "db-password=PW", "--secret", "db-config:user",
		"--secret", "db-config:port=P", "--secret", "db-config:opts=OPTS", "--", "sh", "-c", script)
	if r.code != 7 {
		t.Fatalf("exit: got %d, want the command's 7\nstderr: %s", r.code, r.stderr)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := `pa55-w0rd|pa55-w0rd|app|5432|{"ssl":true}|none`; string(got) != want {
		t.Errorf("the command's environment: got %q, want %q", got, want)
	}
	for _, v := range []string{"pa55-w0rd", "5432", envSecret} {
		if strings.Contains(r.stdout+r.stderr, v) {
			t.Errorf("coffer run printed %q:\nstdout: %s\nstderr: %s", v, r.stdout, r.stderr)
		}
	}
	r = cli(t, s.env, "", "run", "--pass-credentials", "-s", "db-password", "--", "sh", "-c", `test "$COFFER_SECRET_KEY" = "`+envSecret+`"`)
	if r.code != 0 {
		t.Errorf("--pass-credentials: the command did not see COFFER_SECRET_KEY (exit %d)", r.code)
	}
}

func TestRunFailures(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t)
	s.must(t, "not json", "secret", "create", "plain", "--value-stdin")
	s.must(t, `{"a":1}`, "secret", "create", "obj", "--value-stdin")
	for _, tt := range []struct {
		name string
		code int
		want string
		args []string
	}{
		{"missing secret", exitNotFound, "ResourceNotFound", []string{"run", "-s", "nope", "--", "true"}},
		{"not json", 1, "not a JSON object", []string{"run", "-s", "plain:k", "--", "true"}},
		{"missing key", 1, "has no key b", []string{"run", "-s", "obj:b", "--", "true"}},
		{"bad variable", exitUsage, "not a valid environment variable", []string{"run", "-s", "obj=1X", "--", "true"}},
		{"no command", exitUsage, "give the command", []string{"run", "-s", "obj"}},
		{"no secret", exitUsage, "at least one --secret", []string{"run", "--", "true"}},
		{"command not found", exitCannotRun, "no-such-command", []string{"run", "-s", "obj", "--", "no-such-command"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := wantExit(t, s.env, tt.code, tt.want, tt.args...)
			if strings.Contains(r.stderr, "not json") {
				t.Errorf("an error quoted the value: %s", r.stderr)
			}
		})
	}
}

// TestRunForwardsSignals: SIGTERM to coffer run reaches the command, whose
// status coffer exits with.
func TestRunForwardsSignals(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t)
	s.must(t, "v", "secret", "create", "sig", "--value-stdin")
	dir := t.TempDir()
	ready, got := filepath.Join(dir, "ready"), filepath.Join(dir, "got")
	script := `trap 'echo term > ` + got + `; exit 42' TERM; echo ready > ` + ready + `; while :; do sleep 0.05; done`
	cmd := exec.Command(cofferBin, "run", "-s", "sig", "--", "sh", "-c", script)
	cmd.Env = cliEnviron(s.env)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	eventually(t, "the command starts", func() bool { _, err := os.Stat(ready); return err == nil })
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 42 {
		t.Errorf("exit: got %d (%v), want the command's 42", code, err)
	}
	if b, _ := os.ReadFile(got); string(b) != "term\n" {
		t.Errorf("the command's trap: got %q, want it to have run", b)
	}
}
