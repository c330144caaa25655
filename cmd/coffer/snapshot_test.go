package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-secrets/coffer/internal/keys/root/keyfile"
	"github.com/coffer-secrets/coffer/internal/snapshot"
)

// snapshotCmd runs coffer operator snapshot args and returns stdout,
// stderr and the exit status.
func snapshotCmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(cofferBin, append([]string{"operator", "snapshot"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Env, cmd.Stdout, cmd.Stderr = environ(nil), &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), exitCodeOf(err)
}

// TestOperatorSnapshot saves a snapshot of a running server's data
// directory, restores it into a new one, and reads a secret from a server
// started there; verify refuses a damaged copy.
func TestOperatorSnapshot(t *testing.T) {
	const id, key, account = "AKIDcofferSNAP0000000000000000000000", "cofferSnapSecret000000000000000000000000", "100000000011"
	env := rootEnv(id, key, account)
	src := t.TempDir()
	d := startCoffer(t, env, "server", "--dev", "--listen", "127.0.0.1:0", "--data", src)
	c := newClient(t, d.URL, id, key, nil)
	c.must("CreateSecret", map[string]any{"SecretName": "kept", "VersionId": "v1", "SecretString": "in the snapshot"})

	file := filepath.Join(t.TempDir(), "coffer.snap")
	out, errOut, code := snapshotCmd(t, "save", file, "--data", src, "--note", "nightly")
	if code != 0 || !strings.Contains(out, "saved") || !strings.Contains(out, "secrets") {
		t.Fatalf("save while the server runs: exit %d\n%s%s", code, out, errOut)
	}
	c.must("CreateSecret", map[string]any{"SecretName": "later", "VersionId": "v1", "SecretString": "after the snapshot"})
	if _, _, code := snapshotCmd(t, "save", file, "--data", src); code != exitFailed {
		t.Errorf("save over an existing file: exit %d, want %d", code, exitFailed)
	}
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("snapshot file: %v, %v; want mode 0600", st.Mode().Perm(), err)
	}

	out, errOut, code = snapshotCmd(t, "verify", file, "--data", src, "-o", "json")
	var rep snapshot.Report
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Header.Note != "nightly" || rep.Rows == 0 {
		t.Fatalf("verify: exit %d, report %+v\n%s%s", code, rep, out, errOut)
	}

	dst := filepath.Join(t.TempDir(), "restored")
	if err := os.MkdirAll(dst, 0o700); err != nil {
		t.Fatal(err)
	}
	copyFile(t, filepath.Join(src, "root.key"), filepath.Join(dst, "root.key"))
	out, errOut, code = snapshotCmd(t, "restore", file, "--data", dst)
	if code != 0 || !strings.Contains(out, "restored") || errOut != "" {
		t.Fatalf("restore: exit %d\n%s%s", code, out, errOut)
	}
	if _, errOut, code := snapshotCmd(t, "restore", file, "--data", dst); code == 0 || !strings.Contains(errOut, "not empty") {
		t.Errorf("restore into the restored directory: exit %d, %s; want a refusal saying it is not empty", code, errOut)
	}

	d2 := startCoffer(t, env, "server", "--dev", "--listen", "127.0.0.1:0", "--data", dst)
	c2 := newClient(t, d2.URL, id, key, nil)
	got := c2.must("GetSecretValue", map[string]any{"SecretName": "kept", "VersionId": "v1"})
	if got["SecretString"] != "in the snapshot" {
		t.Fatalf("after restore: got %v", got["SecretString"])
	}
	c2.fails("ResourceNotFound", "DescribeSecret", map[string]any{"SecretName": "later"})
	d2.stop()
	d.stop()

	wantSnapshotRefused(t, file, src)
}

// wantSnapshotRefused checks verify exits 1 on a damaged copy of file and
// with another root key, and restore keeps nothing of a damaged copy.
func wantSnapshotRefused(t *testing.T, file, dataDir string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0x04 // in the last chunk's tag: past the header, whatever its size
	bad := filepath.Join(t.TempDir(), "bad.snap")
	if err := os.WriteFile(bad, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := snapshotCmd(t, "verify", bad, "--data", dataDir); code != exitProblem || !strings.Contains(errOut, "corrupt") {
		t.Errorf("verify of a damaged file: exit %d, %s; want exit %d saying it is corrupt", code, errOut, exitProblem)
	}
	empty := t.TempDir()
	copyFile(t, filepath.Join(dataDir, "root.key"), filepath.Join(empty, "root.key"))
	if _, _, code := snapshotCmd(t, "restore", bad, "--data", empty); code != exitProblem {
		t.Errorf("restore of a damaged file: exit %d, want %d", code, exitProblem)
	}
	if _, err := os.Stat(filepath.Join(empty, "coffer.db")); err == nil {
		t.Error("a failed restore left a database behind")
	}
	other := filepath.Join(t.TempDir(), "other.key")
	if _, err := keyfile.Open(other, true); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := snapshotCmd(t, "verify", file, "--root-key", "file:"+other); code != exitProblem || !strings.Contains(errOut, "root key") {
		t.Errorf("verify with another root key: exit %d, %s; want exit %d naming the root key", code, errOut, exitProblem)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
