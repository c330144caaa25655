package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// startRotationServer starts a development server whose rotation worker
// gives up quickly: two attempts per step, 10 ms apart.
func startRotationServer(t *testing.T) *cliServer {
	t.Helper()
	d := startCoffer(t, rootEnv(envKeyID, envSecret, envAccount), "server", "--dev", "--listen", "127.0.0.1:0", "--data", t.TempDir(),
		"--rotation-interval", "50ms", "--rotation-retry", "10ms", "--rotation-attempts", "2")
	t.Cleanup(func() {
		select {
		case <-d.exited:
		default:
			d.stop()
		}
	})
	return &cliServer{d: d, env: []string{
		"COFFER_ADDR=" + d.URL, "COFFER_SECRET_ID=" + envKeyID, "COFFER_SECRET_KEY=" + envSecret,
		"XDG_CONFIG_HOME=" + t.TempDir(),
	}}
}

// jsonOf decodes a command's JSON output.
func jsonOf(t *testing.T, out string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("json output %q: %v", out, err)
	}
	return m
}

// TestSecretRotateRandom gives a secret the coffer:random rotator, rotates
// it and waits, then reads the schedule and history.
func TestSecretRotateRandom(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t)
	s.must(t, "", "secret", "create", "tok", "--value", "initial")
	out := s.must(t, "", "secret", "rotation-set", "tok", "--enable", "--rotator", "coffer:random", "--days", "45")
	if !strings.HasPrefix(out, "Rotation of tok is on, every 45 days; next at ") {
		t.Errorf("rotation-set: got %q", out)
	}
	if out := s.must(t, "", "secret", "rotate", "tok", "--wait"); !strings.HasPrefix(out, "Rotated tok (flow ") {
		t.Errorf("rotate --wait: got %q", out)
	}
	if got := s.must(t, "", "secret", "get", "tok"); got == "initial\n" || len(got) < 20 {
		t.Errorf("get after the rotation: got %q, want a new random value", got)
	}
	m := jsonOf(t, s.must(t, "", "secret", "rotate", "tok", "--wait", "-o", "json"))
	if m["SecretName"] != "tok" || m["State"] != "succeeded" || m["TaskStatus"] != float64(1) || m["FlowID"] == nil {
		t.Errorf("rotate --wait -o json: got %v", m)
	}
	flow := m["FlowID"].(float64)
	if out := s.must(t, "", "flow", jsonNumber(flow)); out != "Flow "+jsonNumber(flow)+": succeeded (success)\n" {
		t.Errorf("flow: got %q", out)
	}

	table := s.must(t, "", "secret", "rotation", "tok")
	for _, want := range []string{"Rotation:          on, every 45 days", "Last rotated:", "Next rotation:", "Earlier versions:  "} {
		if !strings.Contains(table, want) {
			t.Errorf("rotation: got %q, want a line %q", table, want)
		}
	}
	m = jsonOf(t, s.must(t, "", "secret", "rotation", "tok", "-o", "json"))
	if m["EnableRotation"] != true || m["Frequency"] != float64(45) || m["LatestRotateTime"] == "" {
		t.Errorf("rotation -o json: got %v", m)
	}
	if ids, _ := m["VersionIDs"].([]any); len(ids) != 2 || ids[1] != "SSM_Current" {
		t.Errorf("rotation -o json: VersionIDs %v, want the first rotated version and SSM_Current", m["VersionIDs"])
	}
	if out := s.must(t, "", "secret", "rotation-set", "tok", "--disable"); out != "Rotation of tok is off\n" {
		t.Errorf("rotation-set --disable: got %q", out)
	}
}

func jsonNumber(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// TestSecretRotateFails: a rotation whose webhook cannot be reached is
// rolled back, and --wait exits 1.
func TestSecretRotateFails(t *testing.T) {
	t.Parallel()
	s := startRotationServer(t)
	s.must(t, "", "secret", "create", "hooked", "--value", "kept")
	s.must(t, "", "secret", "rotation-set", "hooked", "--disable", "--rotator", "https://"+closedAddr(t)+"/rotate")
	r := wantExit(t, s.env, 1, "failed", "secret", "rotate", "hooked", "--wait")
	if r.stdout != "" {
		t.Errorf("rotate --wait of a failing rotation: stdout %q", r.stdout)
	}
	if got := s.must(t, "", "secret", "get", "hooked"); got != "kept\n" {
		t.Errorf("after the failed rotation: got %q, want the value kept", got)
	}
	m := jsonOf(t, s.must(t, "", "secret", "rotate", "hooked", "-o", "json"))
	flow := jsonNumber(m["FlowID"].(float64))
	wantExit(t, s.env, 1, "flow "+flow+" failed", "flow", flow, "--wait")
	if out := s.must(t, "", "flow", flow); !strings.HasPrefix(out, "Flow "+flow+": failed (") {
		t.Errorf("flow of a failed rotation: got %q", out)
	}
}

// TestSecretRollout rolls an earlier version out to root, abandons it,
// then rolls it out again and promotes it.
func TestSecretRollout(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t)
	s.must(t, "", "secret", "create", "ro", "--value", "one", "--version-id", "v1")
	s.must(t, "", "secret", "put", "ro", "--value", "two", "--version-id", "v2")
	current := func() string { return s.must(t, "", "secret", "get", "ro", "--version-id", "SSM_Current") }

	out := s.must(t, "", "secret", "rollout", "start", "ro", "--version", "v1", "--user", "root", "--tag", "ring=0", "--percent", "10")
	if out != "Rolling out version v1 of ro to users root; callers tagged ring=0; 10% of the other callers\n" {
		t.Errorf("rollout start: got %q", out)
	}
	if got := current(); got != "one\n" {
		t.Errorf("root during the roll-out: got %q, want one", got)
	}
	if out := s.must(t, "", "secret", "rollout", "abandon", "ro"); out != "Abandoned the roll-out of ro\n" {
		t.Errorf("rollout abandon: got %q", out)
	}
	if got := current(); got != "two\n" {
		t.Errorf("after abandoning: got %q, want two", got)
	}
	wantExit(t, s.env, 1, "FailedOperation", "secret", "rollout", "promote", "ro")

	m := jsonOf(t, s.must(t, "", "secret", "rollout", "start", "ro", "--version", "v1", "--role", "canary", "--user", "root", "-o", "json"))
	if m["SecretName"] != "ro" || m["VersionId"] != "v1" || m["StartTime"] == "" {
		t.Errorf("rollout start -o json: got %v", m)
	}
	if users, _ := m["Users"].([]any); len(users) != 1 || users[0] != "root" {
		t.Errorf("rollout start -o json: Users %v, want [root]", m["Users"])
	}
	if out := s.must(t, "", "secret", "rollout", "promote", "ro"); out != "Promoted the roll-out of ro: its version is current\n" {
		t.Errorf("rollout promote: got %q", out)
	}
	if got := current(); got != "one\n" {
		t.Errorf("after promoting: got %q, want one", got)
	}
	m = jsonOf(t, s.must(t, "", "secret", "watch", "ro", "--version", "v2", "--wait", "0s", "-o", "json"))
	if m["VersionId"] != "v1" || m["Changed"] != true {
		t.Errorf("watch after promoting: got %v, want v1 current", m)
	}
}

// TestSecretWatch: watch returns the new version id soon after a put, and
// the known one when the wait ends without a change.
func TestSecretWatch(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t)
	s.must(t, "", "secret", "create", "w", "--value", "one")

	type result struct {
		out  string
		err  error
		done time.Time
	}
	res := make(chan result, 1)
	cmd := exec.Command(cofferBin, "secret", "watch", "w", "--version", "SSM_Current", "--wait", "12s")
	cmd.Env = cliEnviron(s.env)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := cmd.Wait()
		res <- result{stdout.String(), err, time.Now()}
	}()
	time.Sleep(300 * time.Millisecond) // let it start waiting; a put before that is seen as well
	s.must(t, "", "secret", "put", "w", "--value", "two", "--version-id", "v2")
	put := time.Now()
	select {
	case r := <-res:
		if r.err != nil || r.out != "v2\n" {
			t.Errorf("watch: got %q, %v (stderr %q); want v2", r.out, r.err, stderr.String())
		}
		if d := r.done.Sub(put); d > 2*time.Second {
			t.Errorf("watch returned %v after the put, want at once", d)
		}
	case <-time.After(waitLimit):
		_ = cmd.Process.Kill()
		t.Fatal("watch did not return after a put")
	}

	start := time.Now()
	m := jsonOf(t, s.must(t, "", "secret", "watch", "w", "--wait", "1s", "-o", "json"))
	if m["VersionId"] != "v2" || m["Changed"] != false || time.Since(start) < time.Second {
		t.Errorf("watch with nothing happening: got %v after %v; want v2, unchanged, after a second", m, time.Since(start))
	}
}

// TestSecretSSH creates an SSH key pair secret and reads it back, the
// private key to a 0600 file only.
func TestSecretSSH(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t)
	out := s.must(t, "", "secret", "ssh", "create", "deploy-key", "--key-name", "deploy", "--description", "CI deploys")
	if !strings.HasPrefix(out, "Created SSH key pair secret deploy-key, key skey-") || !strings.HasSuffix(out, " (deploy)\n") {
		t.Errorf("ssh create: got %q", out)
	}
	m := jsonOf(t, s.must(t, "", "secret", "ssh", "create", "rsa-key", "--algorithm", "rsa", "--bits", "2048", "-o", "json"))
	if m["SecretName"] != "rsa-key" || !strings.HasPrefix(m["SSHKeyID"].(string), "skey-") {
		t.Errorf("ssh create -o json: got %v", m)
	}

	dir := t.TempDir()
	keyFile := filepath.Join(dir, "id_deploy")
	writeTemp(t, dir, "id_deploy", "old contents")
	if err := os.Chmod(keyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	pub := s.must(t, "", "secret", "ssh", "get", "deploy-key", "--private-key-file", keyFile)
	if strings.Contains(pub, "PRIVATE KEY") || strings.Count(pub, "\n") != 1 || !strings.HasPrefix(pub, "ssh-ed25519 ") {
		t.Fatalf("ssh get: got %q, want the public key line only", pub)
	}
	wantPrivateKeyFile(t, keyFile, pub)

	m = jsonOf(t, s.must(t, "", "secret", "ssh", "get", "deploy-key", "-o", "json"))
	if m["PublicKey"] != strings.TrimSuffix(pub, "\n") || m["SSHKeyName"] != "deploy" || m["SSHKeyDescription"] != "CI deploys" || m["PrivateKey"] != nil {
		t.Errorf("ssh get -o json: got %v, want the public key and no private key", m)
	}
	if out := s.must(t, "", "secret", "ssh", "get", "rsa-key", "--show-private"); !strings.HasPrefix(out, "ssh-rsa ") || !strings.Contains(out, "PRIVATE KEY-----") {
		t.Errorf("ssh get --show-private: got %q, want the public and private keys", out)
	}
}

// wantPrivateKeyFile checks that file holds, with mode 0600, the private
// key of the public key line pub.
func wantPrivateKeyFile(t *testing.T, file, pub string) {
	t.Helper()
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("private key file mode: got %v, want 0600", st.Mode().Perm())
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(b)
	if err != nil {
		t.Fatalf("private key file: %v", err)
	}
	want, _, _, _, err := ssh.ParseAuthorizedKey([]byte(pub))
	if err != nil || !bytes.Equal(want.Marshal(), signer.PublicKey().Marshal()) {
		t.Errorf("the private key in the file is not the public key's (%v)", err)
	}
}

func TestDBCommands(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t)
	if out := s.must(t, "", "db", "list"); strings.TrimSpace(out) != "ID  ENGINE  HOST  PORT  ADMIN SECRET  CREATED" {
		t.Errorf("db list on an empty server: got %q, want the header only", out)
	}
	if out := s.must(t, "", "db", "list", "-o", "json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("db list -o json on an empty server: got %q, want []", out)
	}
	s.must(t, "", "secret", "create", "pg-admin", "--value", `{"UserName":"postgres","Password":"x"}`)
	out := s.must(t, "", "db", "register", "orders", "--engine", "postgresql", "--host", "db.invalid", "--admin-secret", "pg-admin", "--skip-check")
	if out != "Registered database orders (postgresql at db.invalid:5432)\n" {
		t.Errorf("db register: got %q", out)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(s.must(t, "", "db", "list", "-o", "json")), &list); err != nil || len(list) != 1 ||
		list[0]["InstanceID"] != "orders" || list[0]["ProductName"] != "PostgreSQL" || list[0]["AdminSecret"] != "pg-admin" {
		t.Errorf("db list -o json: got %v, %v", list, err)
	}
	if out := s.must(t, "", "db", "deregister", "orders"); out != "Deregistered database orders\n" {
		t.Errorf("db deregister: got %q", out)
	}
	wantExit(t, s.env, exitNotFound, "ResourceNotFound", "db", "deregister", "orders")
}

// TestRotationExitCodes checks the documented exit statuses of the new
// commands.
func TestRotationExitCodes(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t)
	s.must(t, "v", "secret", "create", "plain", "--value-stdin")
	for _, tt := range []struct {
		code int
		want string
		args []string
	}{
		{exitNotFound, "ResourceNotFound", []string{"secret", "rotate", "missing"}},
		{exitNotFound, "ResourceNotFound", []string{"secret", "rotation", "missing"}},
		{exitNotFound, "ResourceNotFound", []string{"secret", "rotation-set", "missing", "--enable", "--rotator", "coffer:random"}},
		{exitNotFound, "ResourceNotFound", []string{"secret", "rollout", "start", "missing", "--version", "v1", "--user", "root"}},
		{exitNotFound, "ResourceNotFound", []string{"secret", "rollout", "start", "plain", "--version", "nope", "--user", "root"}},
		{exitNotFound, "ResourceNotFound", []string{"secret", "rollout", "promote", "missing"}},
		{exitNotFound, "ResourceNotFound", []string{"secret", "watch", "missing", "--wait", "0s"}},
		{exitNotFound, "ResourceNotFound", []string{"secret", "ssh", "get", "missing"}},
		{exitNotFound, "ResourceNotFound", []string{"flow", "987654"}},
		{1, "FailedOperation.RotationForbidden", []string{"secret", "rotate", "plain"}},
		{1, "InvalidParameterValue", []string{"secret", "rotation-set", "plain", "--enable", "--rotator", "coffer:nope"}},
		{1, "InvalidParameterValue", []string{"secret", "ssh", "get", "plain"}},
		{exitUsage, "unknown flag", []string{"secret", "rotate", "plain", "--nope"}},
		{exitUsage, "give one secret name", []string{"secret", "rotate"}},
		{exitUsage, "--enable or --disable", []string{"secret", "rotation-set", "plain"}},
		{exitUsage, "--enable or --disable", []string{"secret", "rotation-set", "plain", "--enable", "--disable"}},
		{exitUsage, "--days", []string{"secret", "rotation-set", "plain", "--enable", "--days", "7"}},
		{exitUsage, "--begin", []string{"secret", "rotation-set", "plain", "--enable", "--begin", "tomorrow"}},
		{exitUsage, "--version", []string{"secret", "rollout", "start", "plain", "--user", "root"}},
		{exitUsage, "name the callers", []string{"secret", "rollout", "start", "plain", "--version", "SSM_Current"}},
		{exitUsage, "--percent", []string{"secret", "rollout", "start", "plain", "--version", "SSM_Current", "--percent", "101"}},
		{exitUsage, "KEY=VALUE", []string{"secret", "rollout", "start", "plain", "--version", "SSM_Current", "--tag", "ring"}},
		{exitUsage, "unknown command", []string{"secret", "rollout", "frobnicate"}},
		{exitUsage, "not negative", []string{"secret", "watch", "plain", "--wait", "-1s"}},
		{exitUsage, "--algorithm", []string{"secret", "ssh", "create", "k", "--algorithm", "dsa"}},
		{exitUsage, "--show-private", []string{"secret", "ssh", "get", "plain", "--private-key-file", "-"}},
		{exitUsage, "give one flow id", []string{"flow"}},
		{exitUsage, "not a positive number", []string{"flow", "abc"}},
		{exitUsage, "unknown flag", []string{"flow", "1", "--nope"}},
		{exitUsage, "give --engine, --host, --admin-secret", []string{"db", "register", "x"}},
		{exitUsage, "--engine is postgresql or mysql", []string{"db", "register", "x", "--engine", "oracle", "--host", "h", "--admin-secret", "a"}},
		{exitUsage, "--tls", []string{"db", "register", "x", "--engine", "mysql", "--host", "h", "--admin-secret", "a", "--tls", "maybe"}},
		{exitUsage, "unknown flag", []string{"db", "list", "--nope"}},
		{exitUsage, "unknown command", []string{"db", "frobnicate"}},
		{exitNotFound, "ResourceNotFound", []string{"db", "register", "x", "--engine", "mysql", "--host", "h", "--admin-secret", "missing", "--skip-check"}},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			if r := wantExit(t, s.env, tt.code, tt.want, tt.args...); r.stdout != "" {
				t.Errorf("stdout on failure: %q", r.stdout)
			}
		})
	}
	denied := subUser(t, s, "nobody")
	wantExit(t, denied, exitDenied, "UnauthorizedOperation", "secret", "rotate", "plain")
	wantExit(t, denied, exitDenied, "UnauthorizedOperation", "db", "list")
	wantExit(t, s.with("COFFER_ADDR=http://"+closedAddr(t)), exitUnavailable, "connect", "flow", "1")
}
