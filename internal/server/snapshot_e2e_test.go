package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/keys/root/keyfile"
	"github.com/coffer-secrets/coffer/internal/snapshot"
	"github.com/coffer-secrets/coffer/internal/store"
	"github.com/coffer-secrets/coffer/internal/store/sqlite"
)

// TestSnapshotRestoresIntoNewServer saves a snapshot of a running
// server's database, restores it into a new data directory, and reads
// everything back through the Tencent SDK from a server started there: the
// secrets (string and binary, every version), and a sub-user whose access
// key and policy still work. What was written after the snapshot is not
// there, and the audit chain verifies.
func TestSnapshotRestoresIntoNewServer(t *testing.T) {
	s := startServer(t, "")
	root := tcClient(s, rootKey, "")
	blob := make([]byte, 3000)
	_, _ = rand.Read(blob)
	creates := []map[string]any{
		{"SecretName": "app-db", "VersionId": "v1", "SecretString": "s3cr3t"},
		{"SecretName": "app-cert", "VersionId": "v1", "SecretBinary": base64.StdEncoding.EncodeToString(blob)},
		{"SecretName": "ops-token", "VersionId": "v1", "SecretString": "not alice's"},
	}
	for _, p := range creates {
		if err := tcSend(t, root, "ssm", "CreateSecret", p, nil); err != nil {
			t.Fatalf("CreateSecret %v: %v", p["SecretName"], err)
		}
	}
	if err := tcSend(t, root, "ssm", "PutSecretValue", map[string]any{"SecretName": "app-db", "VersionId": "v2", "SecretString": "rotated"}, nil); err != nil {
		t.Fatal(err)
	}
	alice := addReader(t, root)

	// The server keeps running while a second handle on its database saves.
	file := saveRunning(t, s.dir)
	if err := tcSend(t, root, "ssm", "CreateSecret", map[string]any{"SecretName": "after", "SecretString": "x"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := tcSend(t, tcClient(s, alice, ""), "ssm", "GetSecretValue", map[string]any{"SecretName": "app-db", "VersionId": "v2"}, nil); err != nil {
		t.Fatalf("the first server after the snapshot: %v", err)
	}

	dst := restoreInto(t, s.dir, file)
	s2 := startServer(t, dst)
	root2 := tcClient(s2, rootKey, "")
	want := map[[2]string]string{
		{"app-db", "v1"}: "s3cr3t", {"app-db", "v2"}: "rotated", {"ops-token", "v1"}: "not alice's",
	}
	for nv, value := range want {
		var got struct{ SecretString string }
		err := tcSend(t, root2, "ssm", "GetSecretValue", map[string]any{"SecretName": nv[0], "VersionId": nv[1]}, &got)
		if err != nil || got.SecretString != value {
			t.Errorf("restored %s %s: got %q, %v; want %q", nv[0], nv[1], got.SecretString, err, value)
		}
	}
	var bin struct{ SecretBinary string }
	err := tcSend(t, root2, "ssm", "GetSecretValue", map[string]any{"SecretName": "app-cert", "VersionId": "v1"}, &bin)
	if got, _ := base64.StdEncoding.DecodeString(bin.SecretBinary); err != nil || !bytes.Equal(got, blob) {
		t.Errorf("restored binary secret: %v, %d bytes; want the %d bytes saved", err, len(got), len(blob))
	}
	if code := tcCode(tcSend(t, root2, "ssm", "DescribeSecret", map[string]any{"SecretName": "after"}, nil)); code != "ResourceNotFound" {
		t.Errorf("a secret created after the snapshot: got %q, want ResourceNotFound", code)
	}
	a2 := tcClient(s2, alice, "")
	if err := tcSend(t, a2, "ssm", "GetSecretValue", map[string]any{"SecretName": "app-db", "VersionId": "v2"}, nil); err != nil {
		t.Errorf("alice's key and policy after restore: %v", err)
	}
	if code := tcCode(tcSend(t, a2, "ssm", "GetSecretValue", map[string]any{"SecretName": "ops-token", "VersionId": "v1"}, nil)); code != "UnauthorizedOperation" {
		t.Errorf("alice outside her policy after restore: got %q, want UnauthorizedOperation", code)
	}
	s2.stop()
	wantChain(t, dst)
}

// addReader adds a sub-user allowed to read app-* secrets and returns its key.
func addReader(t *testing.T, c *common.Client) key {
	t.Helper()
	var added struct {
		Uin                 uint64
		SecretId, SecretKey string
	}
	if err := tcSend(t, c, "cam", "AddUser", map[string]any{"Name": "alice", "UseApi": 1}, &added); err != nil {
		t.Fatal(err)
	}
	doc := `{"version":"2.0","statement":[{"effect":"allow","action":["ssm:GetSecretValue"],` +
		`"resource":"qcs::ssm:` + testRegion + `:uin/` + testAccount + `:secret/creatorUin/` + testAccount + `/app-*"}]}`
	var pol struct{ PolicyId uint64 }
	if err := tcSend(t, c, "cam", "CreatePolicy", map[string]any{"PolicyName": "app-read", "PolicyDocument": doc}, &pol); err != nil {
		t.Fatal(err)
	}
	if err := tcSend(t, c, "cam", "AttachUserPolicy", map[string]any{"PolicyId": pol.PolicyId, "AttachUin": added.Uin}, nil); err != nil {
		t.Fatal(err)
	}
	return key{added.SecretId, added.SecretKey}
}

// saveRunning saves a snapshot of the database in dir, which a server
// is using, through a second handle on it.
func saveRunning(t *testing.T, dir string) []byte {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "coffer.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rk, err := keyfile.Open(filepath.Join(dir, "root.key"), false)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := snapshot.Save(ctx, st, &buf, rk, snapshot.Header{Backend: "sqlite"}); err != nil {
		t.Fatalf("Save: %v", err)
	}
	return buf.Bytes()
}

// restoreInto restores file into a new data directory holding a copy of
// the root key in srcDir, and returns the directory.
func restoreInto(t *testing.T, srcDir string, file []byte) string {
	t.Helper()
	ctx := context.Background()
	dst := t.TempDir()
	b, err := os.ReadFile(filepath.Join(srcDir, "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "root.key"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	rk, err := keyfile.Open(filepath.Join(dst, "root.key"), false)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(dst, "coffer.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := snapshot.Restore(ctx, st, bytes.NewReader(file), rk); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	return dst
}

// wantChain verifies the audit chain of the database in dir.
func wantChain(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "coffer.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var pub []byte
	err = st.View(ctx, func(tx store.Tx) error {
		pub, err = audit.PublicKey(ctx, tx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(ctx, audit.StoreSource(st), pub)
	if err != nil || rep.Problem != nil || rep.Events == 0 {
		t.Fatalf("audit chain after restore: %+v, %v", rep, err)
	}
}
