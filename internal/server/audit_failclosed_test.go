package server_test

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// breakAudit makes every insert into the audit log fail, as a full or
// broken audit store would, and returns the function that repairs it.
func breakAudit(t *testing.T, dir string) (repair func()) {
	t.Helper()
	// The server's background jobs write too: wait for the lock rather than fail.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "coffer.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TRIGGER audit_down BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit store down'); END`); err != nil {
		t.Fatal(err)
	}
	return func() {
		if _, err := db.Exec(`DROP TRIGGER audit_down`); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAuditFailsClosed: while the audit log cannot be written, no value is
// handed out and no write happens; when it recovers, so does the server,
// without a restart.
func TestAuditFailsClosed(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	c := s.client(testRegion)
	const value = "fail-closed-plaintext-3b9e"
	c.must("CreateSecret", map[string]any{"SecretName": "fc", "VersionId": "v1", "SecretString": value})
	repair := breakAudit(t, dir)

	for _, tc := range []struct {
		action string
		params map[string]any
	}{
		{"GetSecretValue", map[string]any{"SecretName": "fc", "VersionId": "v1"}},
		{"PutSecretValue", map[string]any{"SecretName": "fc", "VersionId": "v2", "SecretString": "x"}},
		{"UpdateSecret", map[string]any{"SecretName": "fc", "VersionId": "v1", "SecretString": "y"}},
		{"CreateSecret", map[string]any{"SecretName": "fc2", "SecretString": "z"}},
		{"UpdateDescription", map[string]any{"SecretName": "fc", "Description": "changed"}},
		{"DisableSecret", map[string]any{"SecretName": "fc"}},
		{"DescribeSecret", map[string]any{"SecretName": "fc"}},
	} {
		r := s.raw(tc.action, mustJSON(t, tc.params), testSecret, nowUTC(), nil)
		if got := r.code(); got != "ServiceUnavailable" {
			t.Errorf("%s with the audit log down: code %q, want ServiceUnavailable", tc.action, got)
		}
		if raw := mustJSON(t, r.Body); strings.Contains(string(raw), value) {
			t.Errorf("%s with the audit log down returned the value", tc.action)
		}
	}
	aws := s.awsRaw(t, "GetSecretValue", map[string]any{"SecretId": "fc"})
	if aws.status != 503 || strings.Contains(aws.body, value) {
		t.Errorf("AWS GetSecretValue with the audit log down: %d %s", aws.status, aws.errType)
	}

	repair()
	// Nothing changed, and the server serves again.
	got := c.must("GetSecretValue", map[string]any{"SecretName": "fc", "VersionId": "v1"})
	if got["SecretString"] != value {
		t.Fatalf("after repair: value changed")
	}
	if d := c.must("DescribeSecret", map[string]any{"SecretName": "fc"}); d["Description"] != "" || d["Status"] != "Enabled" {
		t.Fatalf("after repair: description %q, status %q", d["Description"], d["Status"])
	}
	if v := c.must("ListSecretVersionIds", map[string]any{"SecretName": "fc"}); len(v["Versions"].([]any)) != 1 {
		t.Fatalf("after repair: versions %v", v["Versions"])
	}
	c.fails("ResourceNotFound", "DescribeSecret", map[string]any{"SecretName": "fc2"})
}
