package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdk "github.com/coffer-secrets/coffer/client"
)

// TestAgentRerendersOnChange: the agent renders a template, and after a
// PutSecretValue re-renders it within a couple of seconds and runs the
// reload command; another template signals a process by pid file.
func TestAgentRerendersOnChange(t *testing.T) { // not parallel: it times the re-render
	s := startCLIServer(t)
	c := s.root(t)
	put(t, c, "db-password", "first-pass")
	put(t, c, "db-config", `{"host":"db.internal","port":5432}`)
	dir := t.TempDir()
	dest, reloads := filepath.Join(dir, "app.env"), filepath.Join(dir, "reloads")
	writeTemp(t, dir, "app.env.tmpl",
		"PASSWORD={{ secret \"db-password\" }}\nHOST={{ (secretJSON \"db-config\").host }}\nB64={{ secret \"db-password\" | base64 }}\n")
	hupped, pidFile := filepath.Join(dir, "hupped"), filepath.Join(dir, "app.pid")
	startTrapper(t, hupped, pidFile)
	cfg := writeAgentConfig(t, dir, map[string]any{
		"cache": map[string]any{"poll_interval": "100ms"},
		"templates": []map[string]any{
			{"source": "app.env.tmpl", "destination": dest, "command": []string{"sh", "-c", "echo ran >> " + reloads}},
			{"contents": `{{ secret "db-password" }}`, "destination": filepath.Join(dir, "pw"), "mode": "0640",
				"signal": "SIGHUP", "pid_file": pidFile},
		},
	})
	d := launch(t, s.env, "agent", "--config", cfg)

	eventually(t, "the first render", func() bool { return readString(dest) != "" })
	if got, want := readString(dest), "PASSWORD=first-pass\nHOST=db.internal\nB64=Zmlyc3QtcGFzcw==\n"; got != want {
		t.Fatalf("rendered: got %q, want %q", got, want)
	}
	wantMode(t, dest, 0o600)
	eventually(t, "the second file", func() bool { return readString(filepath.Join(dir, "pw")) == "first-pass" })
	wantMode(t, filepath.Join(dir, "pw"), 0o640)
	if readString(reloads) != "" || readString(hupped) != "" {
		t.Errorf("the first render of new files reloaded: %q %q", readString(reloads), readString(hupped))
	}

	start := time.Now()
	put(t, c, "db-password", "second-pass")
	eventually(t, "the re-render after the put", func() bool { return strings.HasPrefix(readString(dest), "PASSWORD=second-pass\n") })
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("re-rendered %v after the put, want within a couple of seconds", d)
	}
	eventually(t, "the reload command", func() bool { return readString(reloads) == "ran\n" })
	eventually(t, "the SIGHUP to the pid file's process", func() bool { return readString(hupped) == "hup\n" })
	wantMode(t, dest, 0o600)

	d.stop() // exits 0 on SIGTERM
	for _, v := range []string{"first-pass", "second-pass", envSecret} {
		if strings.Contains(d.stdout.String()+d.stderr.String(), v) {
			t.Errorf("the agent logged %q:\n%s", v, d.stderr)
		}
	}
	if !strings.Contains(d.stderr.String(), "reload command ran") {
		t.Errorf("log: no reload line:\n%s", d.stderr)
	}
}

func TestAgentOnceAndBadConfig(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t)
	put(t, s.root(t), "k", "v")
	dir := t.TempDir()
	dest := filepath.Join(dir, "out")
	once := writeAgentConfig(t, dir, map[string]any{"templates": []map[string]any{{"contents": `k={{ secret "k" }}`, "destination": dest}}})
	cli(t, s.env, "", "agent", "--config", once, "--once").ok(t)
	if got := readString(dest); got != "k=v" {
		t.Errorf("--once: got %q", got)
	}
	for _, tt := range []struct {
		name string
		cfg  map[string]any
		code int
		want string
	}{
		{"no templates", map[string]any{"templates": []any{}}, exitFailed, "no templates"},
		{"unknown field", map[string]any{"tempaltes": []any{}}, exitFailed, "unknown field"},
		{"no destination", map[string]any{"templates": []map[string]any{{"contents": "x"}}}, exitFailed, "destination"},
		{"signal without pid", map[string]any{"templates": []map[string]any{{"contents": "x", "destination": dest, "signal": "SIGHUP"}}}, exitFailed, "pid"},
		{"bad template", map[string]any{"templates": []map[string]any{{"contents": "{{ nope }}", "destination": dest}}}, exitFailed, "nope"},
		{"missing secret", map[string]any{"templates": []map[string]any{{"contents": `{{ secret "absent" }}`, "destination": dest}}}, exitNotFound, "ResourceNotFound"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantExit(t, s.env, tt.code, tt.want, "agent", "--config", writeAgentConfig(t, t.TempDir(), tt.cfg))
		})
	}
	wantExit(t, s.env, exitUsage, "--config is required", "agent")
}

func put(t *testing.T, c *sdk.Client, name, value string) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.PutSecretValue(ctx, sdk.PutSecretValueInput{Name: name, Value: sdk.Text(value)}); sdk.IsNotFound(err) {
		_, err = c.CreateSecret(ctx, sdk.CreateSecretInput{Name: name, Value: sdk.Text(value)})
		if err != nil {
			t.Fatal(err)
		}
	} else if err != nil {
		t.Fatal(err)
	}
}

func writeAgentConfig(t *testing.T, dir string, cfg map[string]any) string {
	t.Helper()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return writeTemp(t, dir, "agent.json", string(b))
}

// startTrapper starts a process that appends "hup" to file on SIGHUP and
// writes its pid to pidFile.
func startTrapper(t *testing.T, file, pidFile string) {
	t.Helper()
	ready := pidFile + ".ready"
	cmd := exec.Command("sh", "-c", `trap 'echo hup >> `+file+`' HUP; echo $$ > `+pidFile+`.tmp; mv `+pidFile+`.tmp `+pidFile+`; : > `+ready+`; while :; do sleep 0.05; done`)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	eventually(t, "the trapping process starts", func() bool { _, err := os.Stat(ready); return err == nil })
}

func readString(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

func wantMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != want {
		t.Errorf("%s: got mode %v, %v; want %04o", filepath.Base(path), st.Mode().Perm(), err, want)
	}
}
