package snapshottest

import (
	"context"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/store"
)

// Fill stores a record, or several, in every table of
// store.SnapshotTables through the store's own methods, with the values
// that tend to go wrong on the way between backends: zero times (NULL),
// empty and binary blobs, flags both ways, large and negative numbers,
// text outside ASCII, and keys whose byte order differs from a locale's
// order. The records are consistent with each other (foreign keys hold).
func Fill(tb testing.TB, st store.Store) {
	tb.Helper()
	ctx := context.Background()
	err := st.Update(ctx, func(tx store.Tx) error {
		for _, fill := range []func(context.Context, store.Tx) error{
			fillAccounts, fillKeys, fillSecrets, fillMeta, fillIAM, fillAudit, fillUsage, fillRotation,
		} {
			if err := fill(ctx, tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("fill: %v", err)
	}
}

// Account is the account Fill stores most records in.
const Account = "100000000042"

var t0 = time.Date(2026, 3, 1, 12, 30, 45, 123e6, time.UTC)

func fillAccounts(ctx context.Context, tx store.Tx) error {
	for _, a := range []*store.Account{
		{ID: Account, Name: "snapshots", CreatedAt: t0},
		{ID: "100000000043", Name: "ünïcødé 账户"}, // never created: a NULL time
	} {
		if err := tx.InsertAccount(ctx, a); err != nil {
			return err
		}
	}
	for _, k := range []*store.AccessKey{
		{ID: "AKIDsnapshotROOT", Account: Account, Principal: Account, Sealed: []byte{0, 1, 2, 0xff},
			Status: store.AccessKeyActive, CreatedAt: t0, LastUsedAt: t0.Add(time.Hour)},
		{ID: "AKIDsnapshotUSER", Account: Account, Principal: "200001", Sealed: []byte("sealed"),
			Status: store.AccessKeyInactive, Description: "ci key", CreatedAt: t0},
	} {
		if err := tx.InsertAccessKey(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

func fillKeys(ctx context.Context, tx store.Tx) error {
	k := &store.Key{ID: "cmk-1", Account: Account, Region: "ap-guangzhou", Alias: "default", Description: "the default key",
		State: store.KeyEnabled, Default: true, CreatedAt: t0,
		Material: []store.KeyMaterial{{Version: 1, Wrapped: []byte("wrapped-1"), CreatedAt: t0},
			{Version: 2, Wrapped: []byte("wrapped-2"), CreatedAt: t0.Add(24 * time.Hour)}},
		Rotation: store.KeyRotation{Enabled: true, Days: 90, Next: t0.AddDate(0, 3, 0), Last: t0}}
	if err := tx.InsertKey(ctx, k); err != nil {
		return err
	}
	return tx.InsertKey(ctx, &store.Key{ID: "cmk-2", Account: Account, Region: "ap-shanghai",
		State: store.KeyPendingDeletion, DeleteAt: t0.AddDate(0, 0, 7), CreatedAt: t0,
		Material: []store.KeyMaterial{{Version: 1, Wrapped: []byte{}, CreatedAt: t0}}})
}

func fillSecrets(ctx context.Context, tx store.Tx) error {
	secs := []*store.Secret{
		{ID: "sec-a", Account: Account, Region: "ap-guangzhou", Name: "db/password", Description: "the database",
			Type: store.TypeDatabase, KeyID: "cmk-1", Status: store.StatusEnabled, CreatedAt: t0, UpdatedAt: t0,
			AccessedAt: t0.Add(time.Minute), CreatedBy: Account, Config: `{"port":5432}`, Product: "Mysql",
			ResourceID: "cdb-1", Tags: []store.Tag{{Key: "team", Value: "core"}, {Key: "Env", Value: "prod"}},
			Rotation: store.Rotation{Enabled: true, Days: 30, Begin: t0, Next: t0.AddDate(0, 1, 0), Last: t0, Rotator: "db-1"},
			Policy:   `{"Version":"2012-10-17"}`, Tagged: true, Replicas: fillReplicas},
		{ID: "sec-b", Account: Account, Region: "ap-guangzhou", Name: "Binary", Type: store.TypeUserDefined,
			KeyID: "cmk-1", Status: store.StatusPendingDelete, DeleteAt: t0.AddDate(0, 0, 7), CreatedBy: Account},
		// sec-a's replica in the region its first replica names.
		{ID: "sec-c", Account: Account, Region: "ap-shanghai", Name: "db/password", Type: store.TypeDatabase,
			KeyID: "cmk-2", Status: store.StatusEnabled, CreatedAt: t0, UpdatedAt: t0, CreatedBy: Account,
			PrimaryRegion: "ap-guangzhou"},
	}
	for _, s := range secs {
		if err := tx.InsertSecret(ctx, s); err != nil {
			return err
		}
	}
	vers := []*store.Version{
		{SecretID: "sec-a", ID: "v1", Stages: []string{"SSM_PREVIOUS"}, Ciphertext: []byte("c1"), WrappedKey: []byte("w1"),
			KeyID: "cmk-1", KeyVersion: 1, Token: "tok-1", CreatedAt: t0},
		{SecretID: "sec-a", ID: "v2", Stages: []string{"SSM_CURRENT", "AWSCURRENT"}, Ciphertext: []byte("c2"),
			WrappedKey: []byte("w2"), KeyID: "cmk-1", KeyVersion: 2, CreatedAt: t0.Add(time.Hour)},
		{SecretID: "sec-b", ID: "v1", Binary: true, Ciphertext: []byte{0, 0xfe, 0}, WrappedKey: []byte("w3"),
			KeyID: "cmk-1", KeyVersion: 2},
	}
	for _, v := range vers {
		if err := tx.InsertVersion(ctx, v); err != nil {
			return err
		}
	}
	return nil
}

// fillReplicas are sec-a's replicas: one in sync, one that failed before
// it ever synced (a zero time inside the JSON).
var fillReplicas = []store.Replica{
	{Region: "ap-shanghai", KeyID: "cmk-2", Status: "InSync", Revision: 1 << 40, SyncedAt: t0.Add(time.Second)},
	{Region: "eu-frankfurt", Status: "Failed", Message: "密钥不可用: \"cmk\" <disabled>"},
}

func fillMeta(ctx context.Context, tx store.Tx) error {
	// "B" sorts before "a" byte by byte, after it in most locales.
	for _, k := range []string{"a", "B", "root-check", "über", "z"} {
		if err := tx.SetMeta(ctx, k, "value of "+k); err != nil {
			return err
		}
	}
	return nil
}

func fillIAM(ctx context.Context, tx store.Tx) error {
	for _, e := range []*store.Entity{
		{Account: Account, Kind: store.EntityUser, ID: "200001", Name: "alice", Attrs: []byte(`{"remark":"x"}`), CreatedAt: t0, UpdatedAt: t0},
		{Account: Account, Kind: store.EntityGroup, ID: "200001", Name: "readers", Attrs: []byte(`{}`), CreatedAt: t0},
		{Account: Account, Kind: store.EntityRole, ID: "4611686018427387905", Name: "deployer", Attrs: []byte(`{"trust":"{}"}`)},
	} {
		if err := tx.InsertEntity(ctx, e); err != nil {
			return err
		}
	}
	p := &store.Policy{Account: Account, ID: "300001", Name: "read", Description: "read secrets", DefaultVersion: 2,
		NextVersion: 3, Tags: []store.Tag{{Key: "owner", Value: "sec"}}, CreatedAt: t0, UpdatedAt: t0}
	if err := tx.InsertPolicy(ctx, p); err != nil {
		return err
	}
	for v := int64(1); v <= 2; v++ {
		if err := tx.InsertPolicyVersion(ctx, &store.PolicyVersion{PolicyID: "300001", Version: v,
			Document: `{"version":"2.0","statement":[]}`, CreatedAt: t0}); err != nil {
			return err
		}
	}
	for _, a := range []*store.Attachment{
		{Account: Account, PolicyID: "300001", Kind: store.EntityGroup, EntityID: "200001", AttachedAt: t0},
		{Account: Account, PolicyID: "1", Kind: store.EntityRole, EntityID: "4611686018427387905"}, // a preset policy
	} {
		if err := tx.Attach(ctx, a); err != nil {
			return err
		}
	}
	return tx.AddMember(ctx, &store.Membership{Account: Account, GroupID: "200001", UserID: "200001", AddedAt: t0})
}

// fillAudit appends two events to the chain, whatever it holds, and a
// checkpoint.
func fillAudit(ctx context.Context, tx store.Tx) error {
	seq, head, err := tx.AuditHead(ctx)
	if err != nil {
		return err
	}
	evs := []*store.Event{
		{Seq: seq + 1, Time: t0, Account: Account, PrincipalID: Account, PrincipalName: "root", PrincipalKind: "root",
			AccessKeyID: "AKIDsnapshotROOT", SourceIP: "192.0.2.1", UserAgent: "test", Region: "ap-guangzhou",
			Family: "ssm", Action: "CreateSecret", Resource: "db/password", VersionID: "v1", RequestID: "req-1",
			Params: `{"SecretName":"db/password"}`, PrevHash: append([]byte{}, head...), Hash: []byte("h1")},
		{Seq: seq + 2, Account: Account, Family: "coffer", Action: "Sweep", ReadOnly: true, ErrorCode: "InternalError",
			Params: `{}`, PrevHash: []byte("h1"), Hash: []byte("h2")},
	}
	if err := tx.InsertEvents(ctx, evs); err != nil {
		return err
	}
	if err := tx.SetAuditHead(ctx, seq+2, []byte("h2")); err != nil {
		return err
	}
	return tx.InsertCheckpoint(ctx, &store.Checkpoint{Seq: seq + 2, Head: []byte("h2"), Time: t0, KeyID: "abcd", Signature: []byte("sig")})
}

func fillUsage(ctx context.Context, tx store.Tx) error {
	hour := t0.Truncate(time.Hour)
	err := tx.AddCalls(ctx, []store.CallCount{
		{Hour: hour, Account: Account, Region: "ap-guangzhou", Family: "ssm", Action: "GetSecretValue", Result: "ok", Calls: 1 << 40},
		{Hour: hour, Account: Account, Region: "ap-guangzhou", Family: "ssm", Action: "GetSecretValue", Result: "ResourceNotFound", Calls: 3},
	})
	if err != nil {
		return err
	}
	return tx.SetSecretHours(ctx, []store.SecretHours{{Hour: hour, Account: Account, Region: "ap-guangzhou", Secrets: 2}})
}

// fillRotation stores a run in progress (a retry pending) and an ended
// one with a zero NextAt, and two databases whose ids sort differently
// byte by byte and in most locales.
func fillRotation(ctx context.Context, tx store.Tx) error {
	runs := []*store.RotationRun{
		{Account: Account, Region: "ap-guangzhou", SecretID: "sec-a", SecretName: "db/password", Kind: "create",
			Rotator: "random", VersionID: "v1", State: store.RunSucceeded, Detail: `{}`, StartedAt: t0, UpdatedAt: t0,
			EndedAt: t0.Add(time.Second)},
		{Account: Account, Region: "ap-guangzhou", SecretID: "sec-a", SecretName: "db/password", Kind: "rotate",
			Rotator: "db-1", VersionID: "v3", Step: "testSecret", State: store.RunRunning, Attempts: 2,
			Error: "connection refused", Detail: `{"user":"app_b"}`, NextAt: t0.Add(time.Minute), StartedAt: t0,
			UpdatedAt: t0.Add(time.Second)},
	}
	for _, r := range runs {
		if err := tx.InsertRotationRun(ctx, r); err != nil {
			return err
		}
	}
	for _, d := range []*store.Database{
		{ID: "db-1", Account: Account, Region: "ap-guangzhou", Engine: "postgresql", Host: "db.internal", Port: 5432,
			AdminSecret: "db/admin", Options: `{"sslmode":"verify-full"}`, Description: "ünïcødé", CreatedAt: t0},
		{ID: "DB-2", Account: Account, Region: "ap-guangzhou", Engine: "mysql", Host: "192.0.2.7", Port: 3306,
			AdminSecret: "mysql/admin", Options: `{}`}, // never created: a NULL time
	} {
		if err := tx.InsertDatabase(ctx, d); err != nil {
			return err
		}
	}
	return nil
}
