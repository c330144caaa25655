// Package storetest is the conformance suite of the store port: every
// backend's tests call Run, so SQLite, PostgreSQL and any later store keep
// one contract. It owns the contract's tests and their fixtures, nothing else.
package storetest

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// Run runs the conformance suite against a backend. open returns a fresh,
// empty store for each sub-test and registers its own cleanup (t.Cleanup).
// Failures are reported through t.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Secret/RoundTrip", testSecretRoundTrip},
		{"Secret/NotFound", testSecretNotFound},
		{"Secret/Exists", testSecretExists},
		{"Secret/Update", testSecretUpdate},
		{"Secret/UpdateConflict", testSecretUpdateConflict},
		{"Secret/Touch", testSecretTouch},
		{"Secret/Delete", testSecretDelete},
		{"Secret/SetAccessed", testSecretSetAccessed},
		{"List/Filters", testListFilters},
		{"List/SearchExactFirst", testListSearchExactFirst},
		{"List/SearchFollowsChanges", testSearchFollowsChanges},
		{"List/Order", testListOrder},
		{"List/Paging", testListPaging},
		{"List/Cursors", testSecretCursors},
		{"List/SortBy", testListSortBy},
		{"List/After", testListAfter},
		{"List/Scope", testListScope},
		{"SecretsDue", testSecretsDue},
		{"Changes", testChanges},
		{"CountSecrets", testCountSecrets},
		{"Replication/RoundTrip", testReplicationRoundTrip},
		{"Replication/Update", testReplicationUpdate},
		{"Replication/Empty", testReplicationEmpty},
		{"Replication/SyncedAtRange", testReplicationSyncedAtRange},
		{"Replication/Secrets", testReplicatedSecrets},
		{"Replication/SecretsFollowChanges", testReplicatedSecretsFollowChanges},
		{"Replication/SetReplicas", testSetReplicas},
		{"Version/RoundTrip", testVersionRoundTrip},
		{"Version/Seq", testVersionSeq},
		{"Version/Exists", testVersionExists},
		{"Version/NotFound", testVersionNotFound},
		{"Version/Stages", testVersionStages},
		{"Version/Update", testVersionUpdate},
		{"Version/Delete", testVersionDelete},
		{"Version/List", testVersionList},
		{"Version/StageHolders", testStageHolders},
		{"Revisions", testRevisions},
		{"Version/SetStages", testSetStages},
		{"Key/RoundTrip", testKeyRoundTrip},
		{"Key/Exists", testKeyExists},
		{"Key/Update", testKeyUpdate},
		{"Key/List", testKeyList},
		{"Key/Rotation", testKeyRotationFields},
		{"Key/Due", testKeysDue},
		{"Key/All", testAllKeys},
		{"Key/Versions", testVersionsByKey},
		{"AccessKey/Rekey", testAccessKeysRekey},
		{"Account", testAccount},
		{"AccessKey/RoundTrip", testAccessKey},
		{"AccessKey/List", testAccessKeyList},
		{"AccessKey/Description", testAccessKeyDescription},
		{"AccessKey/Delete", testAccessKeyDelete},
		{"Accounts", testAccounts},
		{"IAM/Entity/RoundTrip", testEntityRoundTrip},
		{"IAM/Entity/Exists", testEntityExists},
		{"IAM/Entity/Update", testEntityUpdate},
		{"IAM/Entity/List", testEntityList},
		{"IAM/Entity/DeleteUser", testDeleteUser},
		{"IAM/Entity/DeleteGroupAndRole", testDeleteGroupAndRole},
		{"IAM/Policy/RoundTrip", testPolicyRoundTrip},
		{"IAM/Policy/Exists", testPolicyExists},
		{"IAM/Policy/Update", testPolicyUpdate},
		{"IAM/Policy/List", testPolicyList},
		{"IAM/Policy/Delete", testPolicyDelete},
		{"IAM/PolicyVersions", testPolicyVersions},
		{"IAM/Attachments", testAttachments},
		{"IAM/Memberships", testMemberships},
		{"IAM/Scope", testIAMScope},
		{"Meta", testMeta},
		{"Audit/RoundTrip", testAuditRoundTrip},
		{"Audit/Head", testAuditHead},
		{"Audit/Exists", testAuditExists},
		{"Audit/Filters", testAuditFilters},
		{"Audit/Window", testAuditWindow},
		{"Audit/Paging", testAuditPaging},
		{"Audit/Delete", testAuditDelete},
		{"Audit/Checkpoints", testAuditCheckpoints},
		{"Usage/AddCalls", testUsageAddCalls},
		{"Usage/CallsQuery", testUsageCallsQuery},
		{"Usage/SecretHours", testUsageSecretHours},
		{"Usage/SecretCounts", testUsageSecretCounts},
		{"Rotation/Run/RoundTrip", testRunRoundTrip},
		{"Rotation/Run/Update", testRunUpdate},
		{"Rotation/Runs", testRunsOfSecret},
		{"Rotation/RunsDue", testRunsDue},
		{"Rotation/SecretsDue", testSecretsRotationDue},
		{"Rotation/RunIDsAfterLoad", testRunIDsAfterLoad},
		{"Rotation/Database/RoundTrip", testDatabaseRoundTrip},
		{"Rotation/Database/List", testDatabaseList},
		{"Rotation/Database/UpdateDelete", testDatabaseUpdateDelete},
		{"Tx/RollbackOnError", testRollbackOnError},
		{"Tx/RollbackOnPanic", testRollbackOnPanic},
		{"Tx/ReadOwnWrites", testReadOwnWrites},
		{"Tx/FailedMethodLeavesNoTrace", testFailedMethodLeavesNoTrace},
		{"Tx/ViewReadOnly", testViewReadOnly},
		{"Tx/ConcurrentUpdates", testConcurrentUpdates},
		{"Property/Versions", testPropertyVersions},
		{"Property/Paging", testPropertyPaging},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, open(t))
		})
	}
}

// tb is what the helpers need of *testing.T and *rapid.T.
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
}

// Account, region and time fixtures.
const (
	acctA   = "100000000001"
	acctB   = "100000000002"
	regionX = "ap-guangzhou"
	regionY = "ap-shanghai"
)

// at returns a fixed instant plus minutes. Its sub-millisecond digits check
// that a store keeps at least milliseconds; the suite ignores the rest.
func at(minutes int) time.Time {
	base := time.Date(2024, 5, 6, 7, 8, 9, 123_456_789, time.UTC)
	return base.Add(time.Duration(minutes) * time.Minute)
}

// mustUpdate runs fn in an Update transaction and fails the test on error.
func mustUpdate(t tb, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// mustView runs fn in a View transaction and fails the test on error.
func mustView(t tb, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// wantKind fails the test unless err is a fault error of kind want.
func wantKind(t tb, what string, err error, want fault.Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: got nil error, want %v", what, want)
	}
	if got := fault.KindOf(err); got != want {
		t.Fatalf("%s: got kind %v (%v), want %v", what, got, err, want)
	}
}

// wantOK fails the test if err is not nil.
func wantOK(t tb, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wantEqual fails the test unless got and want are deeply equal.
func wantEqual[T any](t tb, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\ngot  %+v\nwant %+v", what, got, want)
	}
}

// ms is t as the suite compares it: truncated to milliseconds, in UTC.
func ms(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.UnixMilli(t.Truncate(time.Millisecond).UnixMilli()).UTC()
}

// bytesOrNil treats an empty byte slice and nil alike.
func bytesOrNil(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

func normSecret(s *store.Secret) store.Secret {
	c := *s
	c.DeleteAt, c.CreatedAt = ms(c.DeleteAt), ms(c.CreatedAt)
	c.UpdatedAt, c.AccessedAt = ms(c.UpdatedAt), ms(c.AccessedAt)
	r := &c.Rotation
	r.Begin, r.Next, r.Last = ms(r.Begin), ms(r.Next), ms(r.Last)
	if len(c.Tags) == 0 {
		c.Tags = nil
	}
	c.Replicas = nil
	for _, rep := range s.Replicas {
		rep.SyncedAt = ms(rep.SyncedAt)
		c.Replicas = append(c.Replicas, rep)
	}
	return c
}

func normVersion(v *store.Version) store.Version {
	c := *v
	c.CreatedAt = ms(c.CreatedAt)
	c.Ciphertext, c.WrappedKey = bytesOrNil(c.Ciphertext), bytesOrNil(c.WrappedKey)
	c.Stages = stageSet(c.Stages)
	return c
}

// stageSet returns stages sorted and without repeats, nil when empty:
// the suite compares stages as sets.
func stageSet(stages []string) []string {
	if len(stages) == 0 {
		return nil
	}
	s := slices.Clone(stages)
	slices.Sort(s)
	return slices.Compact(s)
}

func normKey(k *store.Key) store.Key {
	c := *k
	c.DeleteAt, c.CreatedAt = ms(c.DeleteAt), ms(c.CreatedAt)
	c.Rotation.Next, c.Rotation.Last = ms(c.Rotation.Next), ms(c.Rotation.Last)
	c.Material = nil
	for _, m := range k.Material {
		c.Material = append(c.Material, store.KeyMaterial{
			Version: m.Version, Wrapped: bytesOrNil(m.Wrapped), CreatedAt: ms(m.CreatedAt),
		})
	}
	return c
}

func normAccessKey(k *store.AccessKey) store.AccessKey {
	c := *k
	c.Sealed = bytesOrNil(c.Sealed)
	c.CreatedAt, c.LastUsedAt = ms(c.CreatedAt), ms(c.LastUsedAt)
	return c
}

// wantSecret fails the test unless got and want hold the same record.
func wantSecret(t tb, what string, got, want *store.Secret) {
	t.Helper()
	wantEqual(t, what, normSecret(got), normSecret(want))
}

func wantVersion(t tb, what string, got, want *store.Version) {
	t.Helper()
	wantEqual(t, what, normVersion(got), normVersion(want))
}

func wantKey(t tb, what string, got, want *store.Key) {
	t.Helper()
	wantEqual(t, what, normKey(got), normKey(want))
}

// names returns the names of secrets, in order.
func names(secrets []*store.Secret) []string {
	out := []string{}
	for _, s := range secrets {
		out = append(out, s.Name)
	}
	return out
}
