package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/store"
	"github.com/coffer-secrets/coffer/internal/store/sqlite"
)

func TestAuditSearchCLI(t *testing.T) {
	d := mustAuditData(t)
	out, code := runAudit("search", "--data", d.dir, "--account", "100000000001", "--since", "100000h", "--action", "PutSecretValue", "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	var evs []*audit.Event
	if err := json.Unmarshal([]byte(out), &evs); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(evs) != 10 || evs[0].Seq != 10 || evs[0].Action != "PutSecretValue" {
		t.Fatalf("got %d events (first %+v), want 10 newest first", len(evs), evs[0])
	}
	if strings.Contains(out, "hunter2-cli-secret") {
		t.Fatal("search printed a secret value")
	}
	if out, code := runAudit("search", "--data", d.dir, "--account", "999", "--since", "100000h"); code != 0 || strings.Count(out, "\n") != 1 {
		t.Fatalf("another account: exit %d, %q; want the header only", code, out)
	}
	if _, code := runAudit("search", "--data", d.dir); code != exitUsage {
		t.Fatalf("without --account: exit %d, want %d", code, exitUsage)
	}
}

func TestAuditConsumersCLI(t *testing.T) {
	d := mustAuditData(t)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(d.dir, "coffer.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	evs := []*audit.Event{
		{Time: now, Account: "100000000001", PrincipalID: "100000000001", PrincipalKind: "root", AccessKeyID: "AKIDa", Region: "r", Action: "GetSecretValue", Resource: "db", VersionID: "v1"},
		{Time: now, Account: "100000000001", PrincipalID: "100000000001", PrincipalKind: "root", AccessKeyID: "AKIDa", Region: "r", Action: "GetSecretValue", Resource: "db", VersionID: "v2"},
	}
	err = st.Update(ctx, func(tx store.Tx) error { return (&audit.Log{Store: st}).Append(ctx, tx, evs...) })
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, code := runAudit("consumers", "db", "--data", d.dir, "--account", "100000000001")
	if code != 0 || !strings.Contains(out, "Consumers:  1") || !strings.Contains(out, "v1,v2") || !strings.Contains(out, "AKIDa") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if _, code := runAudit("consumers", "--data", d.dir, "--account", "1"); code != exitUsage {
		t.Fatalf("without a secret: exit %d, want %d", code, exitUsage)
	}
}
