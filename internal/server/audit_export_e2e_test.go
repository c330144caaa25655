package server_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/server"
	"github.com/coffer-secrets/coffer/internal/store"
	"github.com/coffer-secrets/coffer/internal/store/sqlite"
)

// TestAuditExportAndVerify runs a server that exports its audit log, then
// checks the store and the export both verify, and that neither holds the
// values written.
func TestAuditExportAndVerify(t *testing.T) {
	dir := t.TempDir()
	export := filepath.Join(dir, "audit.jsonl")
	s := mxStartServer(t, func(c *server.Config) {
		c.DataDir = dir
		c.AuditExport = export
		c.AuditCheckpointInterval = 20 * time.Millisecond
	})
	c := s.client(testRegion)
	const value = "export-plaintext-0c41"
	c.must("CreateSecret", map[string]any{"SecretName": "ex", "SecretString": value})
	for range 5 {
		c.must("GetSecretValue", map[string]any{"SecretName": "ex", "VersionId": "SSM_Current"})
	}
	c.fails("ResourceNotFound", "DescribeSecret", map[string]any{"SecretName": "nope"})
	var head int64
	if err := s.AuditLog.Store.View(t.Context(), func(tx store.Tx) error {
		var err error
		head, _, err = tx.AuditHead(t.Context())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	s.stop() // the exporter flushes and the checkpointer signs at shutdown

	var pub []byte
	st := openStore(t, dir)
	if err := st.View(context.Background(), func(tx store.Tx) error {
		var err error
		pub, err = audit.PublicKey(context.Background(), tx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(context.Background(), audit.StoreSource(st), pub)
	if err != nil || rep.Problem != nil || rep.LastSeq != head || rep.Checkpoints == 0 {
		t.Fatalf("store: %+v, %v; want %d events and a checkpoint, no problem", rep, err, head)
	}
	f, err := os.Open(export)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err = audit.Verify(context.Background(), audit.FileSource(f), pub)
	if err != nil || rep.Problem != nil || rep.LastSeq != head {
		t.Fatalf("export: %+v, %v; want events through %d, no problem", rep, err, head)
	}
	b, _ := os.ReadFile(export)
	if bytes.Contains(b, []byte(value)) {
		t.Fatal("the export holds a secret value")
	}
}

// openStore opens the SQLite store of a stopped server's data directory.
func openStore(t *testing.T, dir string) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "coffer.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
