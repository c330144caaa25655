package server_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/keys/root/keyfile"
	"github.com/coffer-secrets/coffer/internal/rekey"
	"github.com/coffer-secrets/coffer/internal/server"
	"github.com/coffer-secrets/coffer/internal/store"
	"github.com/coffer-secrets/coffer/internal/store/sqlite"
)

// rekeyFixture is what a deployment holds before its root key rotates.
type rekeyFixture struct {
	cmk     string
	blob    string // a KMS Encrypt result made under the old root key
	user    key    // a sub-user's access key
	written sync.Map
}

const rekeyContext = `{"purpose":"rekey"}`

// TestRekeyUnderLoad rotates the root key the documented way: restart
// with --root-key NEW --root-key-previous OLD, re-wrap while clients read
// and write (no call may fail), restart with NEW alone. Afterwards every
// secret version, the sub-user's key, a KMS ciphertext made before the
// rotation and the audit chain (signed before and after) all check out,
// and the old key alone no longer opens the database.
func TestRekeyUnderLoad(t *testing.T) {
	dir := t.TempDir()
	aPath, bPath := filepath.Join(dir, "a.key"), filepath.Join(dir, "b.key")
	config := func(rootKey, previous string) server.Config {
		cfg := devConfig(dir)
		cfg.RootKey, cfg.RootKeyPrevious = rootKey, previous
		cfg.AuditCheckpointInterval = 20 * time.Millisecond
		return cfg
	}
	s := serveConfig(t, config("file:"+aPath, ""))
	f := writeRekeyFixture(t, s)
	time.Sleep(50 * time.Millisecond) // a checkpoint signed under the old root key
	s.stop()

	newKey, err := keyfile.Open(bPath, true)
	if err != nil {
		t.Fatal(err)
	}
	oldKey, err := keyfile.Open(aPath, false)
	if err != nil {
		t.Fatal(err)
	}
	// The operator's own handle on the database, as coffer operator rekey
	// opens it beside the running server.
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "coffer.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s = serveConfig(t, config("file:"+bPath, "file:"+aPath))
	rep := rekeyUnderLoad(t, s, f, st, oldKey, newKey)
	// Three sealed keys: the audit HMAC and signing keys, and the key that
	// signs rotation webhook calls.
	if rep.Keys < 2 || rep.AccessKeys < 2 || rep.AuditKeys != 3 || rep.CheckValues != 1 || rep.Rewrapped < rep.Keys+rep.AccessKeys+4 {
		t.Errorf("rekey report %+v: want at least the CMK, the default key, two access keys, the three sealed keys and the check value moved", rep)
	}
	s.stop()

	if srv, err := server.Open(context.Background(), config("file:"+aPath, "")); err == nil {
		srv.Close()
		t.Fatal("a server with only the old root key started after the rotation")
	} else if !strings.Contains(err.Error(), "not the one this database was created with") {
		t.Fatalf("old key alone: %v", err)
	}
	s = serveConfig(t, config("file:"+bPath, ""))
	rekeyCheckAfter(t, s, f)
	time.Sleep(50 * time.Millisecond) // a checkpoint signed under the new root key
	s.stop()
	rekeyAuditIntact(t, dir)
}

// writeRekeyFixture writes a rotated CMK, secrets with two versions under
// it and under the default key, a KMS ciphertext and a sub-user allowed
// to read secrets.
func writeRekeyFixture(t *testing.T, s *testServer) *rekeyFixture {
	t.Helper()
	c := tcClient(s, rootKey, "")
	f := &rekeyFixture{}
	var k struct{ KeyId string }
	rekeyMust(t, c, "kms", "CreateKey", map[string]any{"Alias": "rekey"}, &k)
	f.cmk = k.KeyId
	rekeyMust(t, c, "kms", "RotateKeyOnDemand", map[string]any{"KeyId": f.cmk}, nil)
	var enc struct{ CiphertextBlob string }
	rekeyMust(t, c, "kms", "Encrypt", map[string]any{"KeyId": "rekey", "Plaintext": base64.StdEncoding.EncodeToString([]byte("before")), "EncryptionContext": rekeyContext}, &enc)
	f.blob = enc.CiphertextBlob
	for i := range 10 {
		name := fmt.Sprintf("r%02d", i)
		p := map[string]any{"SecretName": name, "VersionId": "v0", "SecretString": name + "/v0"}
		if i%2 == 0 {
			p["KmsKeyId"] = f.cmk
		}
		rekeyMust(t, c, "ssm", "CreateSecret", p, nil)
		rekeyMust(t, c, "ssm", "PutSecretValue", map[string]any{"SecretName": name, "VersionId": "v1", "SecretString": name + "/v1"}, nil)
		f.written.Store(name+"/v0", true)
		f.written.Store(name+"/v1", true)
	}
	var user struct {
		Uin                 uint64
		SecretId, SecretKey string
	}
	rekeyMust(t, c, "cam", "AddUser", map[string]any{"Name": "app", "UseApi": 1}, &user)
	f.user = key{user.SecretId, user.SecretKey}
	var pol struct{ PolicyId uint64 }
	doc := `{"version":"2.0","statement":[{"effect":"allow","action":["ssm:GetSecretValue"],"resource":"*"}]}`
	rekeyMust(t, c, "cam", "CreatePolicy", map[string]any{"PolicyName": "read", "PolicyDocument": doc}, &pol)
	rekeyMust(t, c, "cam", "AttachUserPolicy", map[string]any{"PolicyId": pol.PolicyId, "AttachUin": user.Uin}, nil)
	rekeyWantValue(t, tcClient(s, f.user, ""), "r00", "v0")
	return f
}

func rekeyMust(t *testing.T, c *common.Client, service, action string, params map[string]any, out any) {
	t.Helper()
	if err := tcSend(t, c, service, action, params, out); err != nil {
		t.Fatalf("%s %s: %v", service, action, err)
	}
}

// rekeyWantValue reads version of name and checks it holds name/version.
func rekeyWantValue(t *testing.T, c *common.Client, name, version string) {
	t.Helper()
	if err := rekeyRead(t, c, name, version); err != nil {
		t.Fatal(err)
	}
}

func rekeyRead(t *testing.T, c *common.Client, name, version string) error {
	var out struct{ SecretString string }
	if err := tcSend(t, c, "ssm", "GetSecretValue", map[string]any{"SecretName": name, "VersionId": version}, &out); err != nil {
		return fmt.Errorf("read %s %s: %w", name, version, err)
	}
	if want := name + "/" + version; out.SecretString != want {
		return fmt.Errorf("read %s %s: got %q, want %q", name, version, out.SecretString, want)
	}
	return nil
}

// rekeyUnderLoad runs rekey.Run from oldKey to newKey on st, the server's
// database, while two clients write new secrets and two (the root and the
// sub-user) read, and checks that no call failed and that a second run has
// nothing left to do.
func rekeyUnderLoad(t *testing.T, s *testServer, f *rekeyFixture, st store.Store, oldKey, newKey *keyfile.File) rekey.Report {
	t.Helper()
	var ops, failures atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rekeyLoad(t, s, f, w, stop, &ops, &failures)
		}()
	}
	waitOps := func(n int64) {
		for deadline := time.Now().Add(20 * time.Second); ops.Load() < n && failures.Load() == 0 && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitOps(20)
	rep, err := rekey.Run(t.Context(), st, oldKey, newKey, nil)
	if err != nil {
		t.Errorf("rekey: %v", err)
	}
	waitOps(ops.Load() + 20) // the clients go on under the new key
	close(stop)
	wg.Wait()
	if failures.Load() > 0 {
		t.Fatalf("%d client calls failed during the rotation", failures.Load())
	}
	again, err := rekey.Run(t.Context(), st, oldKey, newKey, nil)
	if err != nil || again.Rewrapped != 0 {
		t.Fatalf("second rekey: %+v, %v; want nothing left to re-wrap", again, err)
	}
	return rep
}

// rekeyLoad is client w: 0 and 1 create secrets (under the CMK and the default
// key) with two versions each, 2 reads as the root, 3 as the sub-user.
func rekeyLoad(t *testing.T, s *testServer, f *rekeyFixture, w int, stop <-chan struct{}, ops, failures *atomic.Int64) {
	c := tcClient(s, rootKey, "")
	if w == 3 {
		c = tcClient(s, f.user, "")
	}
	for n := 0; ; n++ {
		select {
		case <-stop:
			return
		default:
		}
		var err error
		if w < 2 {
			err = rekeyWrite(t, c, f, fmt.Sprintf("w%d-%03d", w, n), n%2 == 0)
		} else {
			err = rekeyRead(t, c, fmt.Sprintf("r%02d", n%10), fmt.Sprintf("v%d", n%2))
		}
		if err != nil {
			failures.Add(1)
			t.Errorf("client %d: %v", w, err)
			return
		}
		ops.Add(1)
	}
}

func rekeyWrite(t *testing.T, c *common.Client, f *rekeyFixture, name string, underCMK bool) error {
	p := map[string]any{"SecretName": name, "VersionId": "v0", "SecretString": name + "/v0"}
	if underCMK {
		p["KmsKeyId"] = f.cmk
	}
	if err := tcSend(t, c, "ssm", "CreateSecret", p, nil); err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	f.written.Store(name+"/v0", true)
	if err := tcSend(t, c, "ssm", "PutSecretValue", map[string]any{"SecretName": name, "VersionId": "v1", "SecretString": name + "/v1"}, nil); err != nil {
		return fmt.Errorf("put %s v1: %w", name, err)
	}
	f.written.Store(name+"/v1", true)
	return nil
}

// rekeyCheckAfter checks, on a server holding only the new root key, every
// version written before and during the rotation, the sub-user's key, a
// KMS ciphertext made before it, and that new writes work.
func rekeyCheckAfter(t *testing.T, s *testServer, f *rekeyFixture) {
	t.Helper()
	c := tcClient(s, rootKey, "")
	n := 0
	f.written.Range(func(k, _ any) bool {
		name, version, _ := strings.Cut(k.(string), "/")
		if err := rekeyRead(t, c, name, version); err != nil {
			t.Error(err)
		}
		n++
		return true
	})
	if n < 40 {
		t.Errorf("checked %d versions, want the 20 written before and at least 20 during the rotation", n)
	}
	rekeyWantValue(t, tcClient(s, f.user, ""), "r01", "v1")
	var dec struct{ Plaintext string }
	rekeyMust(t, c, "kms", "Decrypt", map[string]any{"CiphertextBlob": f.blob, "EncryptionContext": rekeyContext}, &dec)
	if got, _ := base64.StdEncoding.DecodeString(dec.Plaintext); string(got) != "before" {
		t.Errorf("KMS Decrypt of a ciphertext made before the rotation: %q", got)
	}
	if err := rekeyWrite(t, c, f, "after", true); err != nil {
		t.Fatal(err)
	}
	rekeyWantValue(t, c, "after", "v1")
}

// rekeyAuditIntact verifies the audit chain, and the checkpoints signed
// before and after the rotation, as `coffer audit verify` does.
func rekeyAuditIntact(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "coffer.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var pub []byte
	if err := st.View(ctx, func(tx store.Tx) error {
		var err error
		pub, err = audit.PublicKey(ctx, tx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(ctx, audit.StoreSource(st), pub)
	if err != nil || rep.Problem != nil || rep.Events == 0 || rep.Checkpoints < 2 {
		t.Fatalf("audit verify: %+v, %v; want an intact chain with checkpoints from before and after", rep, err)
	}
}
