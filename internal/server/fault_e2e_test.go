package server_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/server"
	"github.com/coffer-secrets/coffer/internal/signature/sigv4"
	tc3sig "github.com/coffer-secrets/coffer/internal/signature/tc3"
	"github.com/coffer-secrets/coffer/internal/store"
)

// The fault tests: each injects a real fault into a running server (a
// SQLite trigger or a renamed table, a full file system, CMK material the
// root key cannot open, a clock jump), checks that calls fail in the
// caller's protocol and change nothing, then clears the fault and checks
// the same server recovers without a restart. docs/reliability.md lists
// them. Names start with ft so they cannot collide with other test files.

// ftReply is one answer read off the wire, in either protocol.
type ftReply struct {
	status int
	code   string // Tencent Error.Code or AWS __type; "" on success
	body   string
}

// ftTC sends a TC3-signed SSM call in region, signed at now.
func ftTC(t *testing.T, s *testServer, region, action string, params any, now time.Time) ftReply {
	t.Helper()
	b, _ := json.Marshal(params)
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-TC-Action", action)
	req.Header.Set("X-TC-Version", "2019-09-23")
	req.Header.Set("X-TC-Region", region)
	tc3sig.SignRequest(req, b, testKeyID, []byte(testSecret), "ssm", now)
	status, raw := ftDo(t, req)
	var out struct {
		Response struct{ Error struct{ Code string } }
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s: response is not JSON: %q", action, raw)
	}
	return ftReply{status, out.Response.Error.Code, string(raw)}
}

// ftAWS sends a SigV4-signed Secrets Manager call in region, signed at now.
func ftAWS(t *testing.T, s *testServer, region, action string, params any, now time.Time) ftReply {
	t.Helper()
	b, _ := json.Marshal(params)
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "secretsmanager."+action)
	sigv4.SignRequest(req, b, testKeyID, []byte(testSecret), region, "secretsmanager", now)
	status, raw := ftDo(t, req)
	r := ftReply{status: status, body: string(raw)}
	if status != http.StatusOK {
		var e struct {
			Type string `json:"__type"`
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatalf("%s: error body is not JSON: %q", action, raw)
		}
		r.code = e.Type
	}
	return r
}

func ftDo(t *testing.T, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", req.Header.Get("X-TC-Action")+req.Header.Get("X-Amz-Target"), err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, raw
}

// ftCall is one call made while a fault lasts, and the answer it must get.
type ftCall struct {
	aws            bool
	region, action string
	params         map[string]any
	code           string // Tencent code or AWS __type; "" for success
	status         int    // AWS status, checked when not 0
}

// ftRun sends each call at now and checks its answer. No answer may carry
// internal error text (the fault's own marker) or a value in leak.
func ftRun(t *testing.T, s *testServer, now time.Time, calls []ftCall, leak ...string) {
	t.Helper()
	for _, c := range calls {
		var r ftReply
		if c.aws {
			r = ftAWS(t, s, c.region, c.action, c.params, now)
		} else {
			r = ftTC(t, s, c.region, c.action, c.params, now)
		}
		what := fmt.Sprintf("%s %s (aws %v)", c.region, c.action, c.aws)
		if r.code != c.code {
			t.Errorf("%s: got code %q, want %q: %s", what, r.code, c.code, r.body)
		}
		if c.status != 0 && r.status != c.status {
			t.Errorf("%s: got status %d, want %d", what, r.status, c.status)
		}
		for _, v := range append(leak, "ft-fault", "sqlite", "SQL") {
			if c.code != "" && strings.Contains(r.body, v) {
				t.Errorf("%s: error body holds %q: %s", what, v, r.body)
			}
		}
	}
}

// ftDB opens a second connection to a running server's database, the way
// an operator's tool or a failing disk would reach it.
func ftDB(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "coffer.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1) // one connection, so PRAGMAs and checkpoints apply to it
	t.Cleanup(func() { db.Close() })
	return db
}

func ftExec(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// ftDigest is every row of the tables that hold secret state, sorted, so
// two digests are equal only if nothing a client can see changed.
func ftDigest(t *testing.T, db *sql.DB) string {
	t.Helper()
	var out []string
	for _, table := range []string{"secrets", "secret_tags", "versions", "version_stages", "keys", "key_material"} {
		rows, err := db.Query("SELECT * FROM " + table)
		if err != nil {
			t.Fatalf("digest %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			row := table
			for i, c := range cols {
				if c != "accessed_at" { // a read records the day of access; that is not a change
					row += fmt.Sprintf(" %s=%v", c, vals[i])
				}
			}
			out = append(out, row)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

// ftVerifyChain verifies the running server's audit chain from the start.
func ftVerifyChain(t *testing.T, s *testServer) {
	t.Helper()
	ctx := context.Background()
	var pub []byte
	var head int64
	if err := s.AuditLog.Store.View(ctx, func(tx store.Tx) error {
		var err error
		if pub, err = audit.PublicKey(ctx, tx); err != nil {
			return err
		}
		head, _, err = tx.AuditHead(ctx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(ctx, audit.StoreSource(s.AuditLog.Store), pub)
	if err != nil || rep.Problem != nil || rep.LastSeq < head {
		t.Fatalf("audit chain: %+v, %v; want events through %d, no problem", rep, err, head)
	}
}

// ftValue reads the current value of name over Tencent's API.
func ftValue(t *testing.T, s *testServer, region, name string, now time.Time) string {
	t.Helper()
	r := ftTC(t, s, region, "GetSecretValue", map[string]any{"SecretName": name, "VersionId": "SSM_Current"}, now)
	if r.code != "" {
		t.Fatalf("GetSecretValue(%s) in %s: %s", name, region, r.body)
	}
	var out struct{ Response struct{ SecretString string } }
	_ = json.Unmarshal([]byte(r.body), &out)
	return out.Response.SecretString
}

// ftWrites are the writes tried while the store refuses them; every one
// would change the state if it got through.
func ftWrites(code, awsCode string, status int) []ftCall {
	return []ftCall{
		{false, testRegion, "PutSecretValue", map[string]any{"SecretName": "ft", "VersionId": "v2", "SecretString": "ft-new"}, code, 0},
		{false, testRegion, "UpdateSecret", map[string]any{"SecretName": "ft", "VersionId": "v1", "SecretString": "ft-upd"}, code, 0},
		{false, testRegion, "CreateSecret", map[string]any{"SecretName": "ft-other", "SecretString": "x"}, code, 0},
		{false, testRegion, "UpdateDescription", map[string]any{"SecretName": "ft", "Description": "changed"}, code, 0},
		{false, testRegion, "DisableSecret", map[string]any{"SecretName": "ft"}, code, 0},
		{true, testRegion, "PutSecretValue", map[string]any{"SecretId": "ft", "SecretString": "ft-aws", "ClientRequestToken": "00000000-0000-4000-8000-0000000000f1"}, awsCode, status},
		{true, testRegion, "CreateSecret", map[string]any{"Name": "ft-aws", "SecretString": "x", "ClientRequestToken": "00000000-0000-4000-8000-0000000000f2"}, awsCode, status},
		{true, testRegion, "TagResource", map[string]any{"SecretId": "ft", "Tags": []map[string]string{{"Key": "k", "Value": "v"}}}, awsCode, status},
	}
}

// ftRecovered checks that every write of ftWrites now goes through.
func ftRecovered(t *testing.T, s *testServer) {
	t.Helper()
	var ok []ftCall
	for _, c := range ftWrites("", "", 0) {
		if c.action != "DisableSecret" {
			ok = append(ok, c)
		}
	}
	ftRun(t, s, time.Now(), ok)
	if got := ftValue(t, s, testRegion, "ft", time.Now()); got != "ft-aws" {
		t.Errorf("after recovery: current value %q, want %q", got, "ft-aws")
	}
}

// ftSetup starts a server in dir with one secret "ft" (version v1).
func ftSetup(t *testing.T, dir string) *testServer {
	t.Helper()
	s := startServer(t, dir)
	if r := ftTC(t, s, testRegion, "CreateSecret", map[string]any{"SecretName": "ft", "VersionId": "v1", "SecretString": "ft-old"}, time.Now()); r.code != "" {
		t.Fatalf("CreateSecret: %s", r.body)
	}
	// The first read of a day records the day (LastAccessedDate), a write:
	// done here, so the reads made during a fault are pure reads.
	ftValue(t, s, testRegion, "ft", time.Now())
	return s
}

// TestFaultStoreRejectsWrites: triggers make every write to the secret
// tables fail, as a store that refuses writes would. Reads still work,
// writes fail with InternalError / InternalServiceError (an unclassified
// store failure: the trigger's SQLITE_CONSTRAINT is not an I/O error) and
// no internal text, nothing changes, and dropping the triggers is enough.
func TestFaultStoreRejectsWrites(t *testing.T) {
	dir := t.TempDir()
	s := ftSetup(t, dir)
	db := ftDB(t, dir)
	before := ftDigest(t, db)
	var triggers []string
	for _, table := range []string{"secrets", "versions", "version_stages", "secret_tags"} {
		for _, op := range []string{"INSERT", "UPDATE", "DELETE"} {
			name := fmt.Sprintf("ft_%s_%s", table, strings.ToLower(op))
			ftExec(t, db, fmt.Sprintf(`CREATE TRIGGER %s BEFORE %s ON %s BEGIN SELECT RAISE(ABORT, 'ft-fault store down'); END`, name, op, table))
			triggers = append(triggers, name)
		}
	}
	ftRun(t, s, time.Now(), ftWrites("InternalError", "InternalServiceError", 500), "ft-new", "ft-upd", "ft-aws")
	if got := ftValue(t, s, testRegion, "ft", time.Now()); got != "ft-old" {
		t.Errorf("during the fault: value %q, want ft-old", got)
	}
	if after := ftDigest(t, db); after != before {
		t.Errorf("the failed writes changed the store:\n got %s\nwant %s", after, before)
	}
	ftVerifyChain(t, s)
	for _, name := range triggers {
		ftExec(t, db, "DROP TRIGGER "+name)
	}
	ftRecovered(t, s)
	ftVerifyChain(t, s)
}

// TestFaultStoreUnreadable: the secrets table disappears (renamed away
// under the running server), so every call that reads a secret fails;
// renaming it back is enough to recover.
func TestFaultStoreUnreadable(t *testing.T) {
	dir := t.TempDir()
	s := ftSetup(t, dir)
	db := ftDB(t, dir)
	before := ftDigest(t, db)
	ftExec(t, db, `ALTER TABLE secrets RENAME TO ft_fault_secrets`)
	calls := append(ftWrites("InternalError", "InternalServiceError", 500),
		ftCall{false, testRegion, "GetSecretValue", map[string]any{"SecretName": "ft", "VersionId": "v1"}, "InternalError", 0},
		ftCall{false, testRegion, "DescribeSecret", map[string]any{"SecretName": "ft"}, "InternalError", 0},
		ftCall{false, testRegion, "ListSecrets", map[string]any{}, "InternalError", 0},
		ftCall{true, testRegion, "GetSecretValue", map[string]any{"SecretId": "ft"}, "InternalServiceError", 500},
	)
	ftRun(t, s, time.Now(), calls, "ft-old", "ft-new", "ft-upd", "ft-aws")
	// A batch answers 200 and reports each secret's error in the body.
	batch := ftAWS(t, s, testRegion, "BatchGetSecretValue", map[string]any{"SecretIdList": []string{"ft"}}, time.Now())
	if batch.status != 200 || !strings.Contains(batch.body, `"ErrorCode":"InternalServiceError"`) || strings.Contains(batch.body, "ft-old") {
		t.Errorf("BatchGetSecretValue: %d %s, want 200 with an InternalServiceError entry", batch.status, batch.body)
	}
	ftExec(t, db, `ALTER TABLE ft_fault_secrets RENAME TO secrets`)
	if after := ftDigest(t, db); after != before {
		t.Errorf("the failed calls changed the store:\n got %s\nwant %s", after, before)
	}
	ftVerifyChain(t, s)
	if got := ftValue(t, s, testRegion, "ft", time.Now()); got != "ft-old" {
		t.Errorf("after recovery: value %q, want ft-old", got)
	}
	ftRecovered(t, s)
	ftVerifyChain(t, s)
}

// ftMountTmpfs mounts a tmpfs of size bytes on dir, or skips the test when
// this system cannot (not root, no mount): except on CI, where it fails.
func ftMountTmpfs(t *testing.T, dir string, size int) {
	t.Helper()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0700", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		msg := fmt.Sprintf("cannot mount a tmpfs to fill (needs root and mount): %v: %s", err, out)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
}

// ftFill writes a file in dir until the file system is full and returns
// its path.
func ftFill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "ft-filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return path
			}
			t.Fatalf("fill: %v", err)
		}
	}
}

// TestFaultStoreFull: the data directory's file system fills up while the
// server runs. The database's WAL is truncated first, so the next commit
// needs new blocks. Every call that must commit (writes, and reads, whose
// audit event must be durable) fails with ServiceUnavailable / 503;
// freeing space is enough to recover.
func TestFaultStoreFull(t *testing.T) {
	dir := t.TempDir()
	ftMountTmpfs(t, dir, 16<<20) // before the server starts, so it is unmounted after it stops
	s := ftSetup(t, dir)
	db := ftDB(t, dir)
	before := ftDigest(t, db)
	var busy, logPages, done int
	if err := db.QueryRow(`PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logPages, &done); err != nil || busy != 0 {
		t.Fatalf("truncate the WAL: busy %d, %v", busy, err)
	}
	filler := ftFill(t, dir)
	calls := append(ftWrites("ServiceUnavailable", "ServiceUnavailable", 503),
		ftCall{false, testRegion, "GetSecretValue", map[string]any{"SecretName": "ft", "VersionId": "v1"}, "ServiceUnavailable", 0},
		ftCall{true, testRegion, "GetSecretValue", map[string]any{"SecretId": "ft"}, "ServiceUnavailable", 503},
	)
	ftRun(t, s, time.Now(), calls, "ft-old", "ft-new", "ft-upd", "ft-aws")
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if after := ftDigest(t, db); after != before {
		t.Errorf("the failed calls changed the store:\n got %s\nwant %s", after, before)
	}
	ftVerifyChain(t, s)
	if got := ftValue(t, s, testRegion, "ft", time.Now()); got != "ft-old" {
		t.Errorf("after recovery: value %q, want ft-old", got)
	}
	ftRecovered(t, s)
	ftVerifyChain(t, s)
}

// TestFaultRootKeyCannotUnwrap: after a restart, CMK material is unwrapped
// by the root key on first use. The wrapped material of the ap-shanghai
// default CMK is altered, so the root-key provider's Unwrap fails for it
// (as an HSM or KMS refusing a key would): calls in ap-shanghai fail with
// FailedOperation.AccessKmsError / DecryptionFailure, ap-guangzhou is
// unaffected, nothing changes, and putting the material back is enough —
// a failed unwrap is not cached. Losing the root key file itself does not
// affect a running server, which read the key at start.
func TestFaultRootKeyCannotUnwrap(t *testing.T) {
	dir := t.TempDir()
	first := startServer(t, dir)
	for _, region := range []string{testRegion, "ap-shanghai"} {
		if r := ftTC(t, first, region, "CreateSecret", map[string]any{"SecretName": "ft", "VersionId": "v1", "SecretString": "ft-old"}, time.Now()); r.code != "" {
			t.Fatalf("CreateSecret in %s: %s", region, r.body)
		}
	}
	first.stop()
	s := startServer(t, dir)

	keyFile := filepath.Join(dir, "root.key")
	keyBytes, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(keyFile); err != nil { // the running server holds the key already
		t.Fatal(err)
	}

	db := ftDB(t, dir)
	const sel = `key_id IN (SELECT id FROM keys WHERE region = 'ap-shanghai')`
	var wrapped []byte
	if err := db.QueryRow(`SELECT wrapped FROM key_material WHERE ` + sel).Scan(&wrapped); err != nil {
		t.Fatalf("the ap-shanghai CMK material: %v", err)
	}
	ftExec(t, db, `UPDATE key_material SET wrapped = CAST(zeroblob(length(wrapped)) AS BLOB) WHERE `+sel)
	before := ftDigest(t, db)

	const kms, dec = "FailedOperation.AccessKmsError", "DecryptionFailure"
	ftRun(t, s, time.Now(), []ftCall{
		{false, "ap-shanghai", "GetSecretValue", map[string]any{"SecretName": "ft", "VersionId": "v1"}, kms, 0},
		{false, "ap-shanghai", "PutSecretValue", map[string]any{"SecretName": "ft", "VersionId": "v2", "SecretString": "ft-new"}, kms, 0},
		{false, "ap-shanghai", "CreateSecret", map[string]any{"SecretName": "ft-other", "SecretString": "ft-new"}, kms, 0},
		{true, "ap-shanghai", "GetSecretValue", map[string]any{"SecretId": "ft"}, dec, 400},
		{true, "ap-shanghai", "PutSecretValue", map[string]any{"SecretId": "ft", "SecretString": "ft-aws", "ClientRequestToken": "00000000-0000-4000-8000-0000000000f3"}, "EncryptionFailure", 400},
	}, "ft-old", "ft-new", "ft-aws")
	if got := ftValue(t, s, testRegion, "ft", time.Now()); got != "ft-old" {
		t.Errorf("ap-guangzhou during the fault: value %q, want ft-old", got)
	}
	if after := ftDigest(t, db); after != before {
		t.Errorf("the failed calls changed the store:\n got %s\nwant %s", after, before)
	}
	ftVerifyChain(t, s)

	if _, err := db.Exec(`UPDATE key_material SET wrapped = ? WHERE `+sel, wrapped); err != nil {
		t.Fatal(err)
	}
	if got := ftValue(t, s, "ap-shanghai", "ft", time.Now()); got != "ft-old" {
		t.Errorf("ap-shanghai after recovery: value %q, want ft-old", got)
	}
	ftRun(t, s, time.Now(), []ftCall{
		{false, "ap-shanghai", "PutSecretValue", map[string]any{"SecretName": "ft", "VersionId": "v2", "SecretString": "ft-new"}, "", 0},
	})
	ftVerifyChain(t, s)
	if err := os.WriteFile(keyFile, keyBytes, 0o600); err != nil { // so the cleanup's Close and any reopen find it
		t.Fatal(err)
	}
}

// TestFaultClockJump: the server clock jumps a day back, then a day forward.
// While it is off, requests signed at the real time are refused as
// expired in both protocols, and nothing changes; a jump backwards does not
// purge a secret early; the audit chain, whose events then have
// non-monotonic times, still verifies.
func TestFaultClockJump(t *testing.T) {
	clk := &mxClock{}
	s := mxStartServer(t, func(c *server.Config) { c.Clock = clk.now })
	db := ftDB(t, s.dir)
	for _, name := range []string{"ft", "ft-del"} {
		if r := ftTC(t, s, testRegion, "CreateSecret", map[string]any{"SecretName": name, "VersionId": "v1", "SecretString": "ft-old"}, time.Now()); r.code != "" {
			t.Fatalf("CreateSecret: %s", r.body)
		}
	}
	for _, p := range []map[string]any{{"SecretName": "ft-del"}, {"SecretName": "ft-del", "RecoveryWindowInDays": 1}} {
		action := map[bool]string{false: "DisableSecret", true: "DeleteSecret"}[len(p) == 2]
		if r := ftTC(t, s, testRegion, action, p, time.Now()); r.code != "" {
			t.Fatalf("%s: %s", action, r.body)
		}
	}
	before := ftDigest(t, db)

	const expired, invalid = "AuthFailure.SignatureExpire", "InvalidSignatureException"
	jumped := func() []ftCall {
		return []ftCall{
			{false, testRegion, "GetSecretValue", map[string]any{"SecretName": "ft", "VersionId": "v1"}, expired, 0},
			{false, testRegion, "PutSecretValue", map[string]any{"SecretName": "ft", "VersionId": "v2", "SecretString": "ft-new"}, expired, 0},
			{true, testRegion, "GetSecretValue", map[string]any{"SecretId": "ft"}, invalid, 400},
			{true, testRegion, "PutSecretValue", map[string]any{"SecretId": "ft", "SecretString": "ft-aws", "ClientRequestToken": "00000000-0000-4000-8000-0000000000f4"}, invalid, 400},
		}
	}
	for _, jump := range []time.Duration{-24 * time.Hour, 24 * time.Hour} {
		clk.advance(jump)
		ftRun(t, s, time.Now(), jumped(), "ft-old", "ft-new", "ft-aws")
		s.SweepNow(t.Context()) // a day back must not purge ft-del early; a day forward is its window
		if jump > 0 {
			before = ftDigestWithout(t, db, before, "ft-del")
		}
		// A client whose clock agrees with the server's is let in.
		if got := ftValue(t, s, testRegion, "ft", clk.now()); got != "ft-old" {
			t.Errorf("clock %v: value %q, want ft-old", jump, got)
		}
		clk.advance(-jump)
		if after := ftDigest(t, db); after != before {
			t.Errorf("clock %v changed the store:\n got %s\nwant %s", jump, after, before)
		}
	}
	ftRecovered(t, s)
	ftVerifyChain(t, s)
}

// ftDigestWithout handles the one change a day forward may make: the
// secret pending deletion with a one-day window is purged. It checks the
// secret is gone and returns the digest to expect from now on.
func ftDigestWithout(t *testing.T, db *sql.DB, before, name string) string {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM secrets WHERE name = ?`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("a day forward: %s (one-day window) was not purged", name)
	}
	return ftDigest(t, db)
}
