package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/keys/root/keyfile"
	"github.com/coffer-secrets/coffer/internal/store"
	"github.com/coffer-secrets/coffer/internal/store/sqlite"
)

// auditData is a data directory holding a chain of 10 events with
// checkpoints at 4 and 10, and an export of it.
type auditData struct {
	dir, export string
	keys        *audit.Keys
}

func mustAuditData(t *testing.T) *auditData {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "coffer.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rk, err := keyfile.Open(filepath.Join(dir, "root.key"), true)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := audit.LoadKeys(ctx, st, rk)
	if err != nil {
		t.Fatal(err)
	}
	log := &audit.Log{Store: st}
	red := &audit.Redactor{Key: keys.HMAC}
	for i, n := range []int{4, 6} {
		evs := make([]*audit.Event, n)
		for j := range evs {
			evs[j] = &audit.Event{Time: time.Date(2026, 1, 2, 3, i, j, 0, time.UTC), Account: "100000000001",
				Family: "ssm", Action: "PutSecretValue", Resource: "db",
				Params: red.Params([]byte(`{"SecretName":"db","SecretString":"hunter2-cli-secret"}`))}
		}
		if err := st.Update(ctx, func(tx store.Tx) error { return log.Append(ctx, tx, evs...) }); err != nil {
			t.Fatal(err)
		}
		if _, err := (&audit.Checkpointer{Log: log, Keys: keys}).CheckpointNow(ctx); err != nil {
			t.Fatal(err)
		}
	}
	export := filepath.Join(dir, "audit.jsonl")
	sink := &audit.FileSink{Path: export, Keys: keys}
	if _, err := (&audit.Exporter{Log: log, Out: sink}).ExportNow(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	return &auditData{dir: dir, export: export, keys: keys}
}

func (d *auditData) pub() string { return hex.EncodeToString(d.keys.Public) }

func (d *auditData) mustExec(t *testing.T, stmt string) {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(d.dir, "coffer.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(stmt); err != nil {
		t.Fatal(err)
	}
}

// runAudit runs `coffer audit args…` in process and returns its output and
// the status the process would exit with.
func runAudit(args ...string) (string, int) {
	cmd := newAuditCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		return out.String(), exitCode(err)
	}
	return out.String(), 0
}

func TestAuditVerifyCLI(t *testing.T) {
	d := mustAuditData(t)
	other := mustAuditData(t)
	tampered := mustAuditData(t)
	tampered.mustExec(t, `UPDATE audit_events SET action = 'X' WHERE seq = 5`)
	editedExport := filepath.Join(t.TempDir(), "edited.jsonl")
	b, err := os.ReadFile(d.export)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	lines[2], lines[3] = lines[3], lines[2] // events 3 and 4
	if err := os.WriteFile(editedExport, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"store intact", []string{"verify", "--data", d.dir}, 0, "audit chain intact: 10 events (seq 1 to 10), 2 checkpoints"},
		{"store pinned key", []string{"verify", "--data", d.dir, "--public-key", d.pub()}, 0, "intact"},
		{"store tampered", []string{"verify", "--data", tampered.dir}, 1, "altered at seq 5:"},
		{"store other key", []string{"verify", "--data", d.dir, "--public-key", other.pub()}, 1, "bad checkpoint at seq 4"},
		{"export intact", []string{"verify", "--file", d.export, "--public-key", d.pub()}, 0, "audit chain intact: 10 events"},
		{"export reordered", []string{"verify", "--file", editedExport, "--public-key", d.pub()}, 1, "reordered at seq 4 (line 3)"},
		{"no database", []string{"verify", "--data", filepath.Join(d.dir, "nope")}, 2, ""},
		{"no export", []string{"verify", "--file", filepath.Join(d.dir, "nope"), "--public-key", d.pub()}, 2, ""},
		{"export without key", []string{"verify", "--file", d.export}, 3, ""},
		{"both sources", []string{"verify", "--data", d.dir, "--file", d.export, "--public-key", d.pub()}, 3, ""},
		{"malformed key", []string{"verify", "--file", d.export, "--public-key", "abc"}, 3, ""},
		{"unknown flag", []string{"verify", "--frobnicate"}, 3, ""},
		{"stray argument", []string{"verify", "--data", d.dir, "extra"}, 3, ""},
		{"public key", []string{"public-key", "--data", d.dir}, 0, d.pub() + "\n"},
		{"public key, no database", []string{"public-key", "--data", filepath.Join(d.dir, "nope")}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := runAudit(tt.args...)
			if code != tt.code || !strings.Contains(out, tt.out) {
				t.Fatalf("got status %d and output %q, want %d and %q", code, out, tt.code, tt.out)
			}
			if strings.Contains(out, "hunter2-cli-secret") {
				t.Fatal("the output shows a secret value")
			}
		})
	}
	if _, err := os.Stat(filepath.Join(d.dir, "nope")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("verifying a missing data directory created it")
	}
}

func TestAuditVerifyBinary(t *testing.T) {
	d := mustAuditData(t)
	d.mustExec(t, `DELETE FROM audit_events WHERE seq = 7`)
	out, err := exec.Command(cofferBin, "audit", "verify", "--data", d.dir).Output()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("got %v, want exit status 1", err)
	}
	if want := "missing at seq 7"; !strings.Contains(string(out), want) {
		t.Fatalf("got output %q, want it to say %q", out, want)
	}
	out, err = exec.Command(cofferBin, "audit", "verify", "--file", d.export, "--public-key", d.pub()).Output()
	if err != nil {
		t.Fatalf("verify the export: %v\n%s", err, out)
	}
	if want := fmt.Sprintf("audit chain intact: 10 events (seq 1 to 10), 2 checkpoints signed by key %s\n", d.keys.KeyID); string(out) != want {
		t.Fatalf("got %q, want %q", out, want)
	}
}
