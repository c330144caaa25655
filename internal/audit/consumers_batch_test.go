package audit_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/store"
	"github.com/coffer-secrets/coffer/internal/store/sqlite"
)

// TestConsumersCountBatchReads: a BatchGetSecretValue that read several
// secrets credits each of them with the version it read.
func TestConsumersCountBatchReads(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "coffer.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l := &audit.Log{Store: st}
	t0 := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	evs := []*audit.Event{
		{Time: t0, Account: "1", PrincipalID: "u1", AccessKeyID: "k1", Region: "r", Action: "GetSecretValue", Resource: "a", VersionID: "v1"},
		{Time: t0.Add(time.Minute), Account: "1", PrincipalID: "u2", AccessKeyID: "k2", Region: "r", Action: "BatchGetSecretValue", Resource: "b,a", VersionID: "w1,v2"},
		{Time: t0.Add(2 * time.Minute), Account: "1", PrincipalID: "u3", AccessKeyID: "k3", Region: "r", Action: "BatchGetSecretValue", Resource: "b", VersionID: "w1"},
		{Time: t0.Add(3 * time.Minute), Account: "1", PrincipalID: "u4", AccessKeyID: "k4", Region: "r", Action: "GetSecretValue", Resource: "a", VersionID: "v1", ErrorCode: "ResourceNotFound"},
	}
	if err := st.Update(ctx, func(tx store.Tx) error { return l.Append(ctx, tx, evs...) }); err != nil {
		t.Fatal(err)
	}
	got, err := (&audit.Lookup{Store: st}).Consumers(ctx, "1", "r", "a", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].PrincipalID != "u2" || !slices.Equal(got[0].VersionIDs, []string{"v2"}) ||
		got[1].PrincipalID != "u1" || !slices.Equal(got[1].VersionIDs, []string{"v1"}) {
		t.Fatalf("consumers of a = %+v; want u2 (v2, by batch) then u1 (v1)", got)
	}
}
