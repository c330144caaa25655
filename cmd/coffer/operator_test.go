package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/coffer-secrets/coffer/internal/keys/root/keyfile"
	"github.com/coffer-secrets/coffer/internal/rekey"
)

// TestOperatorRekey: `coffer operator rekey` on a stopped data directory
// moves everything to a new key file; the server then starts with
// --root-key file:NEW and reads what was written before, and refuses to
// start on the old key alone.
func TestOperatorRekey(t *testing.T) {
	const id, key, account = "AKIDcofferREKEY000000000000000000000", "cofferRekeySecret00000000000000000000000", "100000000009"
	dir := t.TempDir()
	env := rootEnv(id, key, account)
	serve := []string{"server", "--dev", "--listen", "127.0.0.1:0", "--data", dir}
	d := startCoffer(t, env, serve...)
	newClient(t, d.URL, id, key, nil).must("CreateSecret", map[string]any{"SecretName": "kept", "VersionId": "v1", "SecretString": "still here"})
	d.stop()

	newPath := filepath.Join(t.TempDir(), "new.key")
	var stderr bytes.Buffer
	rekeyCmd := func(args ...string) ([]byte, error) {
		cmd := exec.Command(cofferBin, append([]string{"operator", "rekey", "--data", dir}, args...)...)
		stderr.Reset()
		cmd.Env, cmd.Stderr = environ(nil), &stderr
		return cmd.Output()
	}
	if _, err := rekeyCmd(); exitCodeOf(err) != exitUsage {
		t.Fatalf("rekey without --to: %v (%s), want exit %d", err, &stderr, exitUsage)
	}
	if _, err := rekeyCmd("--to", "file:"+newPath); exitCodeOf(err) != exitFailed {
		t.Fatalf("rekey to a missing key file: %v (%s), want exit %d", err, &stderr, exitFailed)
	}
	if _, err := os.Stat(newPath); err == nil {
		t.Fatal("rekey created the new key file; it must only use an existing one")
	}
	if _, err := keyfile.Open(newPath, true); err != nil {
		t.Fatal(err)
	}

	out, err := rekeyCmd("--to", "file:"+newPath, "-o", "json")
	var rep rekey.Report
	if err != nil || json.Unmarshal(out, &rep) != nil || rep.Rewrapped == 0 || rep.CheckValues != 1 || rep.AuditKeys != 3 || rep.AccessKeys != 1 { // audit HMAC, audit signer, webhook signer
		t.Fatalf("rekey: %v, printed %s\n%s", err, out, &stderr)
	}
	out, err = rekeyCmd("--to", "file:"+newPath)
	if err != nil || !regexp.MustCompile(`(?m)^re-wrapped now +0$`).Match(out) {
		t.Fatalf("second rekey: %v, printed\n%s\n%s", err, out, &stderr)
	}

	wantRefusal(t, env, "not the one this database was created with", serve...)
	d = startCoffer(t, env, append(serve, "--root-key", "file:"+newPath)...)
	got := newClient(t, d.URL, id, key, nil).must("GetSecretValue", map[string]any{"SecretName": "kept", "VersionId": "v1"})
	if got["SecretString"] != "still here" {
		t.Fatalf("after the rotation: %v", got)
	}
	d.stop()
}
