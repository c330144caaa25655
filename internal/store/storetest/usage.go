package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/store"
)

// hour returns the start of the suite's n-th hour, UTC.
func hour(n int) time.Time {
	return time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Hour)
}

func calls(h int, account, region, action, result string, n int64) store.CallCount {
	return store.CallCount{Hour: hour(h), Account: account, Region: region, Family: "ssm",
		Action: action, Result: result, Calls: n}
}

func addCalls(t tb, s store.Store, counts ...store.CallCount) {
	t.Helper()
	mustUpdate(t, s, func(tx store.Tx) error { return tx.AddCalls(context.Background(), counts) })
}

func getCalls(t tb, s store.Store, q store.UsageQuery) []store.CallCount {
	t.Helper()
	var got []store.CallCount
	mustView(t, s, func(tx store.Tx) error {
		var err error
		got, err = tx.Calls(context.Background(), q)
		return err
	})
	return got
}

func getSecretHours(t tb, s store.Store, q store.UsageQuery) []store.SecretHours {
	t.Helper()
	var got []store.SecretHours
	mustView(t, s, func(tx store.Tx) error {
		var err error
		got, err = tx.SecretHoursIn(context.Background(), q)
		return err
	})
	return got
}

// testUsageAddCalls checks counts add up within one AddCalls, across calls
// in one transaction and across transactions, and stay apart by every key.
func testUsageAddCalls(t *testing.T, s store.Store) {
	addCalls(t, s, calls(0, acctA, regionX, "GetSecretValue", "ok", 2),
		calls(0, acctA, regionX, "GetSecretValue", "ok", 1))
	mustUpdate(t, s, func(tx store.Tx) error {
		ctx := context.Background()
		if err := tx.AddCalls(ctx, []store.CallCount{calls(0, acctA, regionX, "GetSecretValue", "ok", 4)}); err != nil {
			return err
		}
		return tx.AddCalls(ctx, []store.CallCount{calls(0, acctA, regionX, "GetSecretValue", "ResourceNotFound", 1)})
	})
	addCalls(t, s, calls(0, acctA, regionX, "GetSecretValue", "ok", 10),
		calls(1, acctA, regionX, "GetSecretValue", "ok", 1),
		calls(0, acctA, regionY, "GetSecretValue", "ok", 1),
		calls(0, acctB, regionX, "GetSecretValue", "ok", 1))
	addCalls(t, s) // nothing to add is no error
	other := calls(0, acctA, regionX, "GetSecretValue", "ok", 3)
	other.Family = "secretsmanager"
	addCalls(t, s, other)
	wantEqual(t, "Calls", getCalls(t, s, store.UsageQuery{}), []store.CallCount{
		other, // family secretsmanager sorts before ssm
		calls(0, acctA, regionX, "GetSecretValue", "ResourceNotFound", 1),
		calls(0, acctA, regionX, "GetSecretValue", "ok", 17),
		calls(0, acctA, regionY, "GetSecretValue", "ok", 1),
		calls(0, acctB, regionX, "GetSecretValue", "ok", 1),
		calls(1, acctA, regionX, "GetSecretValue", "ok", 1),
	})
}

// testUsageCallsQuery checks the account filter, the [From, To) window and
// the order (hour first, then account).
func testUsageCallsQuery(t *testing.T, s store.Store) {
	addCalls(t, s, calls(3, acctB, regionX, "ListSecret", "ok", 1),
		calls(0, acctA, regionX, "ListSecret", "ok", 1),
		calls(1, acctA, regionX, "ListSecret", "ok", 2),
		calls(2, acctA, regionX, "ListSecret", "ok", 3),
		calls(1, acctB, regionX, "ListSecret", "ok", 4))
	wantEqual(t, "A [1, 3)", getCalls(t, s, store.UsageQuery{Account: acctA, From: hour(1), To: hour(3)}),
		[]store.CallCount{calls(1, acctA, regionX, "ListSecret", "ok", 2), calls(2, acctA, regionX, "ListSecret", "ok", 3)})
	wantEqual(t, "all from 1", getCalls(t, s, store.UsageQuery{From: hour(1)}), []store.CallCount{
		calls(1, acctA, regionX, "ListSecret", "ok", 2), calls(1, acctB, regionX, "ListSecret", "ok", 4),
		calls(2, acctA, regionX, "ListSecret", "ok", 3), calls(3, acctB, regionX, "ListSecret", "ok", 1)})
	wantEqual(t, "B to 2", getCalls(t, s, store.UsageQuery{Account: acctB, To: hour(2)}),
		[]store.CallCount{calls(1, acctB, regionX, "ListSecret", "ok", 4)})
	wantEqual(t, "empty window", len(getCalls(t, s, store.UsageQuery{From: hour(5), To: hour(9)})), 0)
}

// testUsageSecretHours checks a sample replaces the one of its hour,
// account and region, and the filters and order of SecretHoursIn.
func testUsageSecretHours(t *testing.T, s store.Store) {
	sample := func(h int, account, region string, n int64) store.SecretHours {
		return store.SecretHours{Hour: hour(h), Account: account, Region: region, Secrets: n}
	}
	set := func(rows ...store.SecretHours) {
		mustUpdate(t, s, func(tx store.Tx) error { return tx.SetSecretHours(context.Background(), rows) })
	}
	set(sample(1, acctA, regionX, 5), sample(0, acctA, regionX, 2), sample(0, acctB, regionX, 7))
	set(sample(1, acctA, regionX, 3), sample(1, acctA, regionY, 1))
	set()
	wantEqual(t, "all", getSecretHours(t, s, store.UsageQuery{}), []store.SecretHours{
		sample(0, acctA, regionX, 2), sample(0, acctB, regionX, 7),
		sample(1, acctA, regionX, 3), sample(1, acctA, regionY, 1)})
	wantEqual(t, "A from 1", getSecretHours(t, s, store.UsageQuery{Account: acctA, From: hour(1), To: hour(2)}),
		[]store.SecretHours{sample(1, acctA, regionX, 3), sample(1, acctA, regionY, 1)})
	wantEqual(t, "B to 1", getSecretHours(t, s, store.UsageQuery{Account: acctB, To: hour(1)}),
		[]store.SecretHours{sample(0, acctB, regionX, 7)})
}

// testUsageSecretCounts checks SecretCounts counts every secret, whatever
// its status, by account and region, with a zero Hour.
func testUsageSecretCounts(t *testing.T, s store.Store) {
	var empty []store.SecretHours
	mustView(t, s, func(tx store.Tx) error {
		var err error
		empty, err = tx.SecretCounts(context.Background())
		return err
	})
	wantEqual(t, "empty store", len(empty), 0)
	pending := bareSecret("s3", acctA, regionX, "c")
	pending.Status = store.StatusPendingDelete
	insertSecrets(t, s, bareSecret("s1", acctA, regionX, "a"), bareSecret("s2", acctA, regionX, "b"),
		pending, bareSecret("s4", acctA, regionY, "a"), bareSecret("s5", acctB, regionX, "a"))
	var got []store.SecretHours
	mustView(t, s, func(tx store.Tx) error {
		var err error
		got, err = tx.SecretCounts(context.Background())
		return err
	})
	wantEqual(t, "SecretCounts", got, []store.SecretHours{
		{Account: acctA, Region: regionX, Secrets: 3},
		{Account: acctA, Region: regionY, Secrets: 1},
		{Account: acctB, Region: regionX, Secrets: 1}})
}
