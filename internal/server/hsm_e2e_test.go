package server_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-secrets/coffer/internal/iam"
	"github.com/coffer-secrets/coffer/internal/keys/root/pkcs11/softhsmtest"
	"github.com/coffer-secrets/coffer/internal/server"
)

const (
	hsmPINEnv   = "COFFER_TEST_HSM_PIN" // the variable the specs name with pin-env
	hsmKeyLabel = "coffer-root"
)

// hsmSpec is the --root-key spec an operator writes for the root key in tok.
func hsmSpec(tok softhsmtest.Token, create bool) string {
	return fmt.Sprintf("pkcs11:module=%s;token=%s;label=%s;pin-env=%s;create=%t", tok.Module, tok.Label, hsmKeyLabel, hsmPINEnv, create)
}

// hsmFixture is what TestHSMRootKey writes before the restart.
type hsmFixture struct {
	binary string // SecretBinary, base64
	cmk    string // KeyId of a customer master key
	blob   string // a KMS Encrypt of "hello" under cmk
	user   key    // a sub-user allowed to read hsm-string and call GetRegions
}

// TestHSMRootKey runs the whole server on a root key held in a SoftHSM2
// token: secrets, a CMK, a secret under it, a KMS ciphertext and a
// sub-user's access key written on first start read back after a restart
// on the same token without create=true; the key never left the token,
// no key file stood in for it, and another token's key is refused.
func TestHSMRootKey(t *testing.T) {
	tok := softhsmtest.NewToken(t)
	t.Setenv(hsmPINEnv, tok.PIN)
	dir, logs := t.TempDir(), &hygBuffer{}
	start := func(create bool) *testServer {
		t.Helper()
		return mxStartServer(t, func(c *server.Config) {
			c.DataDir, c.RootKey = dir, hsmSpec(tok, create)
			c.Log, c.Out = slog.New(slog.NewTextHandler(logs, nil)), logs
		})
	}
	s := start(true)
	f := hsmWrite(t, s)
	s.stop()
	s = start(false)
	hsmCheck(t, s, f)
	s.stop()

	if _, err := os.Stat(filepath.Join(dir, "root.key")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("root.key in the data directory: %v, want none", err)
	}
	k := tok.Key(t, hsmKeyLabel)
	if k.Count != 1 || !k.Sensitive || k.Extractable || !k.AlwaysSensitive || !k.NeverExtractable || k.ValueReadable || k.ValueLen != 32 {
		t.Errorf("the root key in the token: %+v, want one sensitive, never extractable AES-256 key whose value cannot be read", k)
	}
	if strings.Contains(logs.String(), tok.PIN) {
		t.Error("the server's logs show the PIN")
	}

	// A root key in another token, even one made on the spot, does not open the database.
	other := softhsmtest.NewToken(t)
	t.Setenv(hsmPINEnv, other.PIN)
	if srv, err := server.Open(context.Background(), hsmConfig(dir, hsmSpec(other, true), logs)); err == nil {
		srv.Close()
		t.Error("the server started on another token's key")
	} else if !strings.Contains(err.Error(), "not the one this database was created with") {
		t.Errorf("start on another token's key: %v, want a wrong root key error", err)
	}
}

// hsmConfig is a development server's configuration on dir with rootKey.
func hsmConfig(dir, rootKey string, logs *hygBuffer) server.Config {
	return server.Config{
		Listen: "127.0.0.1:0", DataDir: dir, Regions: []string{testRegion}, Dev: true,
		Root:    iam.RootInput{AccountID: testAccount, KeyID: testKeyID, Secret: testSecret},
		RootKey: rootKey, Log: slog.New(slog.NewTextHandler(logs, nil)), Out: logs,
	}
}

// hsmWrite writes the fixture through the APIs and IAM.
func hsmWrite(t *testing.T, s *testServer) hsmFixture {
	t.Helper()
	f := hsmFixture{binary: base64.StdEncoding.EncodeToString([]byte{0, 0xff, 0x10, 'h', 's', 'm', 0x80})}
	c := tcClient(s, rootKey, "")
	var created struct{ KeyId string }
	if err := tcSend(t, c, "kms", "CreateKey", map[string]any{"Alias": "hsm-app"}, &created); err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	f.cmk = created.KeyId
	var enc struct{ CiphertextBlob string }
	for _, call := range []struct {
		service, action string
		params          map[string]any
		out             any
	}{
		{"ssm", "CreateSecret", map[string]any{"SecretName": "hsm-string", "VersionId": "v1", "SecretString": "string-value"}, nil},
		{"ssm", "CreateSecret", map[string]any{"SecretName": "hsm-binary", "VersionId": "v1", "SecretBinary": f.binary}, nil},
		{"ssm", "CreateSecret", map[string]any{"SecretName": "hsm-cmk", "VersionId": "v1", "SecretString": "cmk-value", "KmsKeyId": f.cmk}, nil},
		{"kms", "Encrypt", map[string]any{"KeyId": f.cmk, "Plaintext": base64.StdEncoding.EncodeToString([]byte("hello"))}, &enc},
	} {
		if err := tcSend(t, c, call.service, call.action, call.params, call.out); err != nil {
			t.Fatalf("%s %s: %v", call.service, call.action, err)
		}
	}
	f.blob = enc.CiphertextBlob
	u, k := s.addUser(t, testAccount, "hsm-reader")
	s.grant(t, testAccount, u, "hsm-read", `{"version":"2.0","statement":[
	 {"effect":"allow","action":"ssm:GetSecretValue","resource":"qcs::ssm:`+testRegion+`:uin/`+testAccount+`:secret/creatorUin/`+testAccount+`/hsm-string"},
	 {"effect":"allow","action":"ssm:GetRegions","resource":"*"}]}`)
	f.user = k
	return f
}

// hsmCheck reads the fixture back after the restart.
func hsmCheck(t *testing.T, s *testServer, f hsmFixture) {
	t.Helper()
	m := newMX(t, s, testRegion)
	m.wantString("hsm-string", "v1", "string-value")
	m.wantString("hsm-cmk", "v1", "cmk-value")
	if got := mxStr(t, m.value("hsm-binary", "v1"), "SecretBinary"); got != f.binary {
		t.Errorf("hsm-binary: SecretBinary %q, want %q", got, f.binary)
	}
	if d := m.describe("hsm-cmk"); d["KmsKeyId"] != f.cmk || d["KmsKeyType"] != "CUSTOMER" {
		t.Errorf("hsm-cmk: KmsKeyId %v, KmsKeyType %v; want %s, CUSTOMER", d["KmsKeyId"], d["KmsKeyType"], f.cmk)
	}
	if k := describeKeyAs(t, s, f.cmk); k.Alias != "hsm-app" || k.KeyState != "Enabled" {
		t.Errorf("the CMK after the restart: %+v", k)
	}
	var dec struct{ Plaintext string }
	if err := tcSend(t, tcClient(s, rootKey, ""), "kms", "Decrypt", map[string]any{"CiphertextBlob": f.blob}, &dec); err != nil || dec.Plaintext != base64.StdEncoding.EncodeToString([]byte("hello")) {
		t.Errorf("Decrypt of a ciphertext made before the restart: %q, %v", dec.Plaintext, err)
	}
	user := tcClient(s, f.user, "")
	if err := tcSend(t, user, "ssm", "GetRegions", nil, nil); err != nil {
		t.Errorf("the sub-user's GetRegions: %v", err)
	}
	var v struct{ SecretString string }
	if err := tcSend(t, user, "ssm", "GetSecretValue", map[string]any{"SecretName": "hsm-string", "VersionId": "v1"}, &v); err != nil || v.SecretString != "string-value" {
		t.Errorf("the sub-user reads hsm-string: %q, %v", v.SecretString, err)
	}
	if code := tcCode(tcSend(t, user, "ssm", "GetSecretValue", map[string]any{"SecretName": "hsm-binary", "VersionId": "v1"}, nil)); code != "UnauthorizedOperation" {
		t.Errorf("the sub-user reads hsm-binary, outside its policy: %q, want UnauthorizedOperation", code)
	}
}

// TestHSMWrongPIN: with a wrong PIN the server does not start, says why,
// shows neither PIN, and neither creates a key in the token nor falls back
// to a key file.
func TestHSMWrongPIN(t *testing.T) {
	tok := softhsmtest.NewToken(t)
	const wrong = "wrong-pin-3e9b17"
	t.Setenv(hsmPINEnv, wrong)
	dir, logs := t.TempDir(), &hygBuffer{}
	srv, err := server.Open(context.Background(), hsmConfig(dir, hsmSpec(tok, true), logs))
	if err == nil {
		srv.Close()
		t.Fatal("a server with a wrong HSM PIN started")
	}
	if !strings.Contains(err.Error(), "wrong PIN") {
		t.Errorf("Open: %v, want a wrong PIN error", err)
	}
	for _, pin := range []string{wrong, tok.PIN} {
		if strings.Contains(err.Error()+logs.String(), pin) {
			t.Errorf("the error or the logs show a PIN: %v", err)
		}
	}
	for _, name := range []string{"root.key", "coffer.db"} {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s in the data directory: %v, want none", name, err)
		}
	}
	if k := tok.Key(t, hsmKeyLabel); k.Count != 0 {
		t.Errorf("the token holds %d root keys after a failed login, want 0", k.Count)
	}
}
