package server_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/coffer-secrets/coffer/internal/server"
)

type keyMeta struct {
	KeyId, Alias, KeyState, Description, Owner string
	KeyRotationEnabled                         bool
	DeletionDate                               uint64
	KeyVersions                                int
}

func describeKeyAs(t *testing.T, s *testServer, id string) keyMeta {
	t.Helper()
	var out struct{ KeyMetadata keyMeta }
	s.mustAs(t, rootKey, "", "kms", "DescribeKey", map[string]any{"KeyId": id}, &out)
	return out.KeyMetadata
}

// TestKMSKeyLifecycle walks every KMS action through the official Tencent
// client, and each key state's effect on the secrets under the key.
func TestKMSKeyLifecycle(t *testing.T) {
	clock := &mxClock{}
	s := mxStartServer(t, func(c *server.Config) { c.Clock = clock.now })
	ctx := t.Context()
	c := tcClient(s, rootKey, "")
	var created struct{ KeyId, KeyState string }
	if err := tcSend(t, c, "kms", "CreateKey", map[string]any{"Alias": "app", "Description": "app secrets"}, &created); err != nil {
		t.Fatal(err)
	}
	if created.KeyState != "Enabled" || len(created.KeyId) != 36 {
		t.Fatalf("created %+v", created)
	}
	if code := tcCode(tcSend(t, c, "kms", "CreateKey", map[string]any{"Alias": "app"}, nil)); code != "InvalidParameterValue.AliasAlreadyExists" {
		t.Fatalf("alias taken: %q", code)
	}
	if code := tcCode(tcSend(t, c, "kms", "CreateKey", map[string]any{"Alias": "-bad"}, nil)); code != "InvalidParameterValue.InvalidAlias" {
		t.Fatalf("bad alias: %q", code)
	}
	key := created.KeyId

	// A secret under the key, through both APIs: KmsKeyType CUSTOMER.
	if err := tcSend(t, c, "ssm", "CreateSecret", map[string]any{"SecretName": "under-cmk", "VersionId": "v1", "SecretString": "cmk-value", "KmsKeyId": key}, nil); err != nil {
		t.Fatal(err)
	}
	if err := tcSend(t, c, "ssm", "CreateSecret", map[string]any{"SecretName": "under-default", "VersionId": "v1", "SecretString": "x"}, nil); err != nil {
		t.Fatal(err)
	}
	var d struct{ KmsKeyId, KmsKeyType, KmsKeyState string }
	if err := tcSend(t, c, "ssm", "DescribeSecret", map[string]any{"SecretName": "under-cmk"}, &d); err != nil || d.KmsKeyType != "CUSTOMER" || d.KmsKeyId != key {
		t.Fatalf("describe under a CMK: %+v %v", d, err)
	}
	if err := tcSend(t, c, "ssm", "DescribeSecret", map[string]any{"SecretName": "under-default"}, &d); err != nil || d.KmsKeyType != "DEFAULT" {
		t.Fatalf("describe under the default key: %+v %v", d, err)
	}
	a := awsClient(s, rootKey, "")
	desc, err := a.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("under-cmk")})
	if err != nil || aws.ToString(desc.KmsKeyId) != key {
		t.Fatalf("AWS describe: %v %v", desc, err)
	}

	read := func() (string, string) {
		var v struct{ SecretString string }
		err := tcSend(t, c, "ssm", "GetSecretValue", map[string]any{"SecretName": "under-cmk", "VersionId": "v1"}, &v)
		_, awsErr := a.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("under-cmk")})
		if (err == nil) != (awsErr == nil) {
			t.Fatalf("the APIs disagree: %v / %v", err, awsErr)
		}
		return tcCode(err), awsCode(awsErr)
	}
	if code, _ := read(); code != "" {
		t.Fatalf("read under an enabled key: %q", code)
	}

	// Encrypt / Decrypt / GenerateDataKey / ReEncrypt with a context.
	var enc struct{ CiphertextBlob, KeyId string }
	ctxJSON := `{"app":"billing"}`
	if err := tcSend(t, c, "kms", "Encrypt", map[string]any{"KeyId": "app", "Plaintext": base64.StdEncoding.EncodeToString([]byte("hello")), "EncryptionContext": ctxJSON}, &enc); err != nil || enc.KeyId != key {
		t.Fatalf("encrypt: %v %+v", err, enc)
	}
	var dec struct{ KeyId, Plaintext string }
	if err := tcSend(t, c, "kms", "Decrypt", map[string]any{"CiphertextBlob": enc.CiphertextBlob, "EncryptionContext": ctxJSON}, &dec); err != nil || dec.Plaintext != base64.StdEncoding.EncodeToString([]byte("hello")) {
		t.Fatalf("decrypt: %v %+v", err, dec)
	}
	if code := tcCode(tcSend(t, c, "kms", "Decrypt", map[string]any{"CiphertextBlob": enc.CiphertextBlob, "EncryptionContext": `{"app":"other"}`}, nil)); code != "InvalidParameterValue.InvalidCiphertext" {
		t.Fatalf("decrypt with another context: %q", code)
	}
	var dk struct{ Plaintext, CiphertextBlob string }
	if err := tcSend(t, c, "kms", "GenerateDataKey", map[string]any{"KeyId": key, "KeySpec": "AES_256"}, &dk); err != nil {
		t.Fatal(err)
	}
	if raw, _ := base64.StdEncoding.DecodeString(dk.Plaintext); len(raw) != 32 {
		t.Fatalf("data key of %d bytes", len(raw))
	}
	if err := tcSend(t, c, "kms", "Decrypt", map[string]any{"CiphertextBlob": dk.CiphertextBlob}, &dec); err != nil || dec.Plaintext != dk.Plaintext {
		t.Fatalf("decrypt the data key: %v", err)
	}
	var other struct{ KeyId string }
	if err := tcSend(t, c, "kms", "CreateKey", map[string]any{"Alias": "other"}, &other); err != nil {
		t.Fatal(err)
	}
	var re struct {
		CiphertextBlob, KeyId, SourceKeyId string
		ReEncrypted                        bool
	}
	if err := tcSend(t, c, "kms", "ReEncrypt", map[string]any{"CiphertextBlob": enc.CiphertextBlob, "SourceEncryptionContext": ctxJSON, "DestinationKeyId": other.KeyId}, &re); err != nil || re.KeyId != other.KeyId || re.SourceKeyId != key {
		t.Fatalf("re-encrypt: %v %+v", err, re)
	}
	if err := tcSend(t, c, "kms", "Decrypt", map[string]any{"CiphertextBlob": re.CiphertextBlob}, &dec); err != nil || dec.Plaintext != base64.StdEncoding.EncodeToString([]byte("hello")) {
		t.Fatalf("decrypt the re-encrypted blob: %v", err)
	}

	// Listing: user keys, and the default key among the service's.
	var list struct {
		Keys       []struct{ KeyId string }
		TotalCount int
	}
	if err := tcSend(t, c, "kms", "ListKeys", nil, &list); err != nil || list.TotalCount != 2 {
		t.Fatalf("ListKeys %+v %v", list, err)
	}
	if err := tcSend(t, c, "kms", "ListKeys", map[string]any{"Role": 1}, &list); err != nil || list.TotalCount != 1 {
		t.Fatalf("ListKeys of services %+v %v", list, err)
	}

	// Disabled: nothing under the key can be read or written, in each API's words.
	if err := tcSend(t, c, "kms", "DisableKey", map[string]any{"KeyId": key}, nil); err != nil {
		t.Fatal(err)
	}
	if tc, aw := read(); tc != "FailedOperation.AccessKmsError" || aw != "DecryptionFailure" {
		t.Fatalf("read under a disabled key: %q / %q", tc, aw)
	}
	if code := tcCode(tcSend(t, c, "ssm", "PutSecretValue", map[string]any{"SecretName": "under-cmk", "VersionId": "v2", "SecretString": "x"}, nil)); code != "FailedOperation.AccessKmsError" {
		t.Fatalf("write under a disabled key: %q", code)
	}
	if code := tcCode(tcSend(t, c, "kms", "Encrypt", map[string]any{"KeyId": key, "Plaintext": "aGk="}, nil)); code != "ResourceUnavailable.CmkDisabled" {
		t.Fatalf("encrypt with a disabled key: %q", code)
	}
	// Enabled again: readable again.
	if err := tcSend(t, c, "kms", "EnableKey", map[string]any{"KeyId": key}, nil); err != nil {
		t.Fatal(err)
	}
	if tc, _ := read(); tc != "" {
		t.Fatalf("read after re-enabling: %q", tc)
	}

	// Deletion: only from Disabled, 7–30 days, cancellable back to Disabled.
	if code := tcCode(tcSend(t, c, "kms", "ScheduleKeyDeletion", map[string]any{"KeyId": key, "PendingWindowInDays": 7}, nil)); code != "ResourceUnavailable.CmkShouldBeDisabled" {
		t.Fatalf("delete an enabled key: %q", code)
	}
	if code := tcCode(tcSend(t, c, "kms", "ScheduleKeyDeletion", map[string]any{"KeyId": key, "PendingWindowInDays": 6}, nil)); code != "InvalidParameter.InvalidPendingWindowInDays" {
		t.Fatalf("a 6-day window: %q", code)
	}
	tcSend(t, c, "kms", "DisableKey", map[string]any{"KeyId": key}, nil)
	var sched struct{ DeletionDate uint64 }
	if err := tcSend(t, c, "kms", "ScheduleKeyDeletion", map[string]any{"KeyId": key, "PendingWindowInDays": 7}, &sched); err != nil || sched.DeletionDate == 0 {
		t.Fatalf("schedule: %v", err)
	}
	if m := describeKeyAs(t, s, key); m.KeyState != "PendingDelete" || m.DeletionDate != sched.DeletionDate {
		t.Fatalf("pending: %+v", m)
	}
	if code := tcCode(tcSend(t, c, "kms", "UpdateAlias", map[string]any{"KeyId": key, "Alias": "renamed"}, nil)); code != "ResourceUnavailable.CmkStateNotSupport" {
		t.Fatalf("rename a key pending deletion: %q", code)
	}
	if code := tcCode(tcSend(t, c, "kms", "Decrypt", map[string]any{"CiphertextBlob": enc.CiphertextBlob, "EncryptionContext": ctxJSON}, nil)); code != "ResourceUnavailable.KeyPendingDelete" {
		t.Fatalf("decrypt with a key pending deletion: %q", code)
	}
	if err := tcSend(t, c, "kms", "CancelKeyDeletion", map[string]any{"KeyId": key}, nil); err != nil || describeKeyAs(t, s, key).KeyState != "Disabled" {
		t.Fatalf("cancel: %v", err)
	}
	if code := tcCode(tcSend(t, c, "kms", "CancelKeyDeletion", map[string]any{"KeyId": key}, nil)); code != "ResourceUnavailable.CmkNotPendingDelete" {
		t.Fatalf("cancel twice: %q", code)
	}
	// The window passes: the material is destroyed and the secret is
	// crypto-shredded for good.
	tcSend(t, c, "kms", "ScheduleKeyDeletion", map[string]any{"KeyId": key, "PendingWindowInDays": 7}, nil)
	clock.advance(7*24*time.Hour + time.Minute)
	s.SweepNow(ctx)
	clock.advance(-(7*24*time.Hour + time.Minute)) // back within the signature window
	if code := tcCode(tcSend(t, c, "kms", "DescribeKey", map[string]any{"KeyId": key}, nil)); code != "ResourceUnavailable.CmkNotFound" {
		t.Fatalf("a deleted key: %q", code)
	}
	if tc, aw := read(); tc != "FailedOperation.AccessKmsError" || aw != "DecryptionFailure" {
		t.Fatalf("read after crypto-shredding: %q / %q", tc, aw)
	}
	if err := tcSend(t, c, "ssm", "DescribeSecret", map[string]any{"SecretName": "under-cmk"}, &d); err != nil || d.KmsKeyState != "Deleted" {
		t.Fatalf("describe after crypto-shredding: %+v %v", d, err)
	}
	if r := s.awsRaw(t, "DescribeSecret", map[string]any{"SecretId": "under-cmk"}); !strings.Contains(r.body, `"KmsKeyState":"Deleted"`) || !strings.Contains(r.body, key) {
		t.Fatalf("AWS describe after crypto-shredding: %s", r.body)
	}
	// The default key cannot be disabled: it is used by the service.
	var svc struct {
		Keys []struct{ KeyId string }
	}
	tcSend(t, c, "kms", "ListKeys", map[string]any{"Role": 1}, &svc)
	if code := tcCode(tcSend(t, c, "kms", "DisableKey", map[string]any{"KeyId": svc.Keys[0].KeyId}, nil)); code != "FailedOperation.CmkUsedByCloudProduct" {
		t.Fatalf("disable the default key: %q", code)
	}
	// Another account's key is unknown here.
	b, err := s.IAM.CreateAccount(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if _, code, _ := s.callAs(t, key2(b.KeyID, b.Secret), "", "kms", "DescribeKey", map[string]any{"KeyId": other.KeyId}); code != "ResourceUnavailable.CmkNotFound" {
		t.Fatalf("another account's key: %q", code)
	}
}

func key2(id, secret string) key { return key{id, secret} }

// TestKMSRotationRewrapUnderLoad: rotating a key while clients read and
// write the secrets under it, then re-wrapping every data key to the new
// version, fails no read and loses no version.
func TestKMSRotationRewrapUnderLoad(t *testing.T) {
	s := startServer(t, "")
	ctx := t.Context()
	c := tcClient(s, rootKey, "")
	var k struct{ KeyId string }
	if err := tcSend(t, c, "kms", "CreateKey", map[string]any{"Alias": "rot"}, &k); err != nil {
		t.Fatal(err)
	}
	const secretsN = 20
	for i := range secretsN {
		if err := tcSend(t, c, "ssm", "CreateSecret", map[string]any{"SecretName": fmt.Sprintf("r%02d", i), "VersionId": "v0", "SecretString": "value-0", "KmsKeyId": k.KeyId}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := tcSend(t, c, "kms", "EnableKeyRotation", map[string]any{"KeyId": k.KeyId, "RotateDays": 30}, nil); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var reads, failures atomic.Int64
	var written sync.Map // secret → last version acknowledged
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := tcClient(s, rootKey, "")
			for n := 1; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("r%02d", (n*7+w)%secretsN)
				if w%2 == 0 {
					v := fmt.Sprintf("w%d-%d", w, n)
					if err := tcSend(t, cl, "ssm", "PutSecretValue", map[string]any{"SecretName": name, "VersionId": v, "SecretString": "value-" + v}, nil); err != nil {
						failures.Add(1)
						t.Errorf("write %s %s: %v", name, v, err)
						return
					}
					written.Store(name+"/"+v, true)
					continue
				}
				var out struct{ SecretString string }
				if err := tcSend(t, cl, "ssm", "GetSecretValue", map[string]any{"SecretName": name, "VersionId": "v0"}, &out); err != nil || out.SecretString != "value-0" {
					failures.Add(1)
					t.Errorf("read %s: %v %q", name, err, out.SecretString)
					return
				}
				reads.Add(1)
			}
		}()
	}
	for range 3 {
		if err := tcSend(t, c, "kms", "RotateKeyOnDemand", map[string]any{"KeyId": k.KeyId}, nil); err != nil {
			t.Fatal(err)
		}
		s.SweepNow(ctx) // re-wraps while the clients run
	}
	for reads.Load() < 50 && failures.Load() == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	s.SweepNow(ctx)
	var st struct {
		KeyRotationEnabled                                 bool
		KeyVersions, SecretVersions, SecretVersionsPending int
	}
	if err := tcSend(t, c, "kms", "GetKeyRotationStatus", map[string]any{"KeyId": k.KeyId}, &st); err != nil {
		t.Fatal(err)
	}
	if !st.KeyRotationEnabled || st.KeyVersions != 4 || st.SecretVersionsPending != 0 || st.SecretVersions < secretsN {
		t.Fatalf("after rotation and re-wrap: %+v", st)
	}
	// Every acknowledged version is still there and readable.
	written.Range(func(key, _ any) bool {
		name, v, _ := strings.Cut(key.(string), "/")
		var out struct{ SecretString string }
		if err := tcSend(t, c, "ssm", "GetSecretValue", map[string]any{"SecretName": name, "VersionId": v}, &out); err != nil {
			if tcCode(err) == "ResourceNotFound" {
				return true // pruned: a secret keeps its newest versions only
			}
			t.Errorf("version %s of %s: %v", v, name, err)
		} else if out.SecretString != "value-"+v {
			t.Errorf("version %s of %s reads %q", v, name, out.SecretString)
		}
		return true
	})
}
