package server_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/keys/root"
	"github.com/coffer-secrets/coffer/internal/server"
)

// flakyRoot is a root-key provider that can be made unreachable, as a
// network HSM or cloud KMS can be.
type flakyRoot struct {
	root.Provider
	down atomic.Bool
}

var errHSMDown = errors.New("HSM unreachable")

func (f *flakyRoot) Wrap(ctx context.Context, pt, aad []byte) ([]byte, error) {
	if f.down.Load() {
		return nil, fault.Wrap("test.Wrap", fault.Unavailable, "the root key provider is unreachable", errHSMDown)
	}
	return f.Provider.Wrap(ctx, pt, aad)
}

func (f *flakyRoot) Unwrap(ctx context.Context, ct, aad []byte) ([]byte, error) {
	if f.down.Load() {
		return nil, fault.Wrap("test.Unwrap", fault.Unavailable, "the root key provider is unreachable", errHSMDown)
	}
	return f.Provider.Unwrap(ctx, ct, aad)
}

// TestFaultRootKeyProviderUnreachable: while the root-key provider cannot be
// reached, a write that needs a new CMK (the first secret of a region)
// fails with ServiceUnavailable and creates nothing; what the server already
// holds unwrapped keeps working; when the provider is back, so is the server.
func TestFaultRootKeyProviderUnreachable(t *testing.T) {
	flaky := &flakyRoot{}
	s := mxStartServer(t, func(c *server.Config) {
		c.RootWrap = func(p root.Provider) root.Provider { flaky.Provider = p; return flaky }
	})
	gz, sh := s.client(testRegion), s.client("ap-shanghai")
	gz.must("CreateSecret", map[string]any{"SecretName": "before", "SecretString": "v"})
	flaky.down.Store(true)

	sh.fails("ServiceUnavailable", "CreateSecret", map[string]any{"SecretName": "new-region", "SecretString": "v"})
	if got := gz.must("GetSecretValue", map[string]any{"SecretName": "before", "VersionId": "SSM_Current"}); got["SecretString"] != "v" {
		t.Fatalf("a cached key stopped working: %v", got)
	}
	gz.must("PutSecretValue", map[string]any{"SecretName": "before", "VersionId": "v2", "SecretString": "w"})

	flaky.down.Store(false)
	sh.fails("ResourceNotFound", "DescribeSecret", map[string]any{"SecretName": "new-region"}) // nothing half-made
	sh.must("CreateSecret", map[string]any{"SecretName": "new-region", "SecretString": "v"})
	if got := sh.must("GetSecretValue", map[string]any{"SecretName": "new-region", "VersionId": "SSM_Current"}); got["SecretString"] != "v" {
		t.Fatalf("after recovery: %v", got)
	}
}
