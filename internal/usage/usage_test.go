package usage_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/store"
	"github.com/coffer-secrets/coffer/internal/store/sqlite"
	"github.com/coffer-secrets/coffer/internal/usage"
)

const acct = "100000000001"

// t0 is 10:58:30 on 2 November 2026, UTC: a few events later the hour turns.
var t0 = time.Date(2026, 11, 2, 10, 58, 30, 0, time.UTC)

func mustStore(tb testing.TB) store.Store {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "coffer.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// eventLog appends events to a store's audit table, numbering them on.
type eventLog struct {
	st  store.Store
	seq int64
}

// add stores n ssm events of action at one time, failed with errorCode
// unless it is "".
func (l *eventLog) add(tb testing.TB, account string, at time.Time, action, errorCode string, n int) {
	tb.Helper()
	evs := make([]*store.Event, n)
	for i := range evs {
		l.seq++
		evs[i] = &store.Event{Seq: l.seq, Time: at, Account: account, Region: "ap-guangzhou",
			Family: "ssm", Action: action, ErrorCode: errorCode}
	}
	mustUpdate(tb, l.st, func(tx store.Tx) error { return tx.InsertEvents(context.Background(), evs) })
}

func mustUpdate(tb testing.TB, st store.Store, fn func(tx store.Tx) error) {
	tb.Helper()
	if err := st.Update(context.Background(), fn); err != nil {
		tb.Fatal(err)
	}
}

func calls(tb testing.TB, st store.Store) []store.CallCount {
	tb.Helper()
	var out []store.CallCount
	err := st.View(context.Background(), func(tx store.Tx) error {
		var err error
		out, err = tx.Calls(context.Background(), store.UsageQuery{})
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func count(hour time.Time, account, action, result string, n int64) store.CallCount {
	return store.CallCount{Hour: hour, Account: account, Region: "ap-guangzhou", Family: "ssm",
		Action: action, Result: result, Calls: n}
}

func wantEqual[T any](tb testing.TB, what string, got, want T) {
	tb.Helper()
	if !reflect.DeepEqual(got, want) {
		tb.Fatalf("%s:\ngot  %+v\nwant %+v", what, got, want)
	}
}

func TestRollSplitsHours(t *testing.T) {
	st := mustStore(t)
	l := &eventLog{st: st}
	l.add(t, acct, t0, "GetSecretValue", "", 3)
	l.add(t, acct, t0.Add(time.Minute), "GetSecretValue", "", 2)   // 10:59:30
	l.add(t, acct, t0.Add(2*time.Minute), "GetSecretValue", "", 4) // 11:00:30
	l.add(t, acct, t0.Add(90*time.Second-time.Millisecond), "GetSecretValue", "ResourceNotFound", 1)
	l.add(t, "", t0, "GetSecretValue", "AuthFailure.SignatureFailure", 1)
	r := &usage.Roller{Store: st, Clock: func() time.Time { return t0 }}
	if err := r.RollNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	h10, h11 := t0.Truncate(time.Hour), t0.Truncate(time.Hour).Add(time.Hour)
	want := []store.CallCount{
		count(h10, "", "GetSecretValue", "AuthFailure.SignatureFailure", 1),
		count(h10, acct, "GetSecretValue", "ResourceNotFound", 1),
		count(h10, acct, "GetSecretValue", "ok", 5),
		count(h11, acct, "GetSecretValue", "ok", 4),
	}
	wantEqual(t, "calls", calls(t, st), want)
	if err := r.RollNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "calls after a second roll-up", calls(t, st), want)
	l.add(t, acct, t0.Add(3*time.Minute), "GetSecretValue", "", 1)
	if err := r.RollNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	want[3].Calls = 5
	wantEqual(t, "calls after a new event", calls(t, st), want)
}

// crashing is a store whose Update runs fn and then fails, so nothing
// commits: a process that dies before its commit.
type crashing struct{ store.Store }

var errCrash = errors.New("crash before commit")

func (c crashing) Update(ctx context.Context, fn func(store.Tx) error) error {
	err := c.Store.Update(ctx, func(tx store.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return errCrash
	})
	return err
}

// TestRollExactlyOnce checks a roll-up that crashes before its commit
// counts nothing, and the next counts every event once, over several
// batches.
func TestRollExactlyOnce(t *testing.T) {
	st := mustStore(t)
	l := &eventLog{st: st}
	l.add(t, acct, t0, "DescribeSecret", "", 4500) // three batches
	err := (&usage.Roller{Store: crashing{st}}).RollNow(context.Background())
	if !errors.Is(err, errCrash) {
		t.Fatalf("crashed roll-up: got %v, want %v", err, errCrash)
	}
	wantEqual(t, "calls after a crash", len(calls(t, st)), 0)
	r := &usage.Roller{Store: st, Clock: func() time.Time { return t0 }}
	for range 2 {
		if err := r.RollNow(context.Background()); err != nil {
			t.Fatal(err)
		}
		wantEqual(t, "calls", calls(t, st), []store.CallCount{count(t0.Truncate(time.Hour), acct, "DescribeSecret", "ok", 4500)})
	}
	var seq int64
	err = st.View(context.Background(), func(tx store.Tx) error {
		seq, err = usage.RolledSeq(context.Background(), tx)
		return err
	})
	if err != nil || seq != 4500 {
		t.Fatalf("RolledSeq: got %d, %v, want 4500", seq, err)
	}
}

// TestSample checks the last sample of an hour wins, down to 0 when an
// account's secrets are gone, and a new hour gets its own sample.
func TestSample(t *testing.T) {
	st := mustStore(t)
	now := t0
	r := &usage.Roller{Store: st, Clock: func() time.Time { return now }}
	insert := func(id string) {
		mustUpdate(t, st, func(tx store.Tx) error {
			return tx.InsertSecret(context.Background(), &store.Secret{ID: id, Account: acct, Region: "ap-guangzhou", Name: id, Status: store.StatusEnabled})
		})
	}
	insert("a")
	insert("b")
	mustSample(t, r)
	mustUpdate(t, st, func(tx store.Tx) error { return tx.DeleteSecret(context.Background(), "a") })
	mustSample(t, r)
	now = now.Add(time.Minute) // 10:59:30
	mustUpdate(t, st, func(tx store.Tx) error { return tx.DeleteSecret(context.Background(), "b") })
	mustSample(t, r)
	now = now.Add(time.Minute) // 11:00:30
	insert("c")
	mustSample(t, r)
	rep, err := (&usage.Reader{Store: st}).Report(context.Background(), acct, t0.Truncate(time.Hour), t0.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	h10 := t0.Truncate(time.Hour)
	wantEqual(t, "secret rows", rep.Secrets, []usage.SecretRow{
		{Time: h10, Region: "ap-guangzhou", SecretHours: 0},
		{Time: h10.Add(time.Hour), Region: "ap-guangzhou", SecretHours: 1},
	})
	wantEqual(t, "secret-hours", rep.TotalSecretHours, int64(1))
}

func mustSample(t *testing.T, r *usage.Roller) {
	t.Helper()
	if err := r.Sample(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestReportBy(t *testing.T) {
	st := mustStore(t)
	h := time.Date(2026, 11, 30, 22, 0, 0, 0, time.UTC)
	mustUpdate(t, st, func(tx store.Tx) error {
		ctx := context.Background()
		err := tx.AddCalls(ctx, []store.CallCount{
			count(h, acct, "GetSecretValue", "ok", 1), count(h.Add(time.Hour), acct, "GetSecretValue", "ok", 2),
			count(h.Add(2*time.Hour), acct, "GetSecretValue", "ok", 4), count(h.Add(2*time.Hour), acct, "RotateSecret", "ok", 1),
			count(h.Add(2*time.Hour), acct, "RotateSecret", "InternalError", 1), count(h, "100000000002", "GetSecretValue", "ok", 8),
		})
		if err != nil {
			return err
		}
		return tx.SetSecretHours(ctx, []store.SecretHours{
			{Hour: h, Account: acct, Region: "ap-guangzhou", Secrets: 3},
			{Hour: h.Add(time.Hour), Account: acct, Region: "ap-guangzhou", Secrets: 5},
			{Hour: h.Add(2 * time.Hour), Account: acct, Region: "ap-guangzhou", Secrets: 7},
		})
	})
	rep, err := (&usage.Reader{Store: st}).Report(context.Background(), acct, h, h.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "totals", [4]int64{rep.TotalCalls, rep.APICalls, rep.TotalSecretHours, rep.Rotations}, [4]int64{9, 9, 15, 1})
	nov, dec := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	month := rep.By(usage.ByMonth)
	wantEqual(t, "calls by month", month.Calls, []usage.CallRow{
		{Time: nov, Region: "ap-guangzhou", Family: "ssm", Action: "GetSecretValue", Result: "ok", Calls: 3},
		{Time: dec, Region: "ap-guangzhou", Family: "ssm", Action: "GetSecretValue", Result: "ok", Calls: 4},
		{Time: dec, Region: "ap-guangzhou", Family: "ssm", Action: "RotateSecret", Result: "InternalError", Calls: 1},
		{Time: dec, Region: "ap-guangzhou", Family: "ssm", Action: "RotateSecret", Result: "ok", Calls: 1},
	})
	wantEqual(t, "secrets by day", rep.By(usage.ByDay).Secrets, []usage.SecretRow{
		{Time: nov.AddDate(0, 0, 29), Region: "ap-guangzhou", SecretHours: 8},
		{Time: dec, Region: "ap-guangzhou", SecretHours: 7},
	})
	wantEqual(t, "actions", rep.Actions, []usage.ActionTotal{
		{Family: "ssm", Action: "GetSecretValue", Result: "ok", Calls: 7},
		{Family: "ssm", Action: "RotateSecret", Result: "InternalError", Calls: 1},
		{Family: "ssm", Action: "RotateSecret", Result: "ok", Calls: 1},
	})
	if _, err := (&usage.Reader{Store: st}).Report(context.Background(), "", h, h.Add(time.Hour)); err == nil {
		t.Fatal("a report of no account: got nil error")
	}
}

func TestStatement(t *testing.T) {
	nov := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	rep := usage.Report{Account: acct, Calls: []usage.CallRow{
		{Time: nov.Add(5 * time.Hour), Family: "ssm", Action: "GetSecretValue", Result: "ok", Calls: 25000},
		{Time: nov.Add(6 * time.Hour), Family: "secretsmanager", Action: "RotateSecret", Result: "ok", Calls: 3},
		{Time: nov.Add(6 * time.Hour), Family: "secretsmanager", Action: "RotateSecret", Result: "InternalError", Calls: 2},
		{Time: nov.Add(7 * time.Hour), Family: "coffer", Action: "PurgeSecret", Result: "ok", Calls: 100},
		{Time: nov.AddDate(0, 1, 0), Family: "ssm", Action: "GetSecretValue", Result: "ok", Calls: 99999}, // December
		{Time: nov.Add(-time.Hour), Family: "ssm", Action: "GetSecretValue", Result: "ok", Calls: 99999},  // October
	}, Secrets: []usage.SecretRow{
		{Time: nov, SecretHours: 730}, {Time: nov.Add(time.Hour), SecretHours: 365},
		{Time: nov.AddDate(0, 1, 0), SecretHours: 99999},
	}}
	p := usage.PriceList{Currency: "USD", SecretMonth: 0.40, PerTenThousandCalls: 0.05, PerRotation: 0.10}
	got := p.Statement(rep, nov.AddDate(0, 0, 20)) // any time in the month
	want := usage.Statement{Account: acct, Month: "2026-11", Currency: "USD",
		SecretHours: 1095, APICalls: 25005, Rotations: 3,
		Items: []usage.LineItem{
			{Item: "secrets", Quantity: 1.5, Unit: "secret-month", UnitPrice: 0.40, Amount: 0.60},
			{Item: "api_calls", Quantity: 2.5005, Unit: "10k calls", UnitPrice: 0.05, Amount: 0.13},
			{Item: "rotations", Quantity: 3, Unit: "rotation", UnitPrice: 0.10, Amount: 0.30},
		},
		Total: 1.03,
	}
	wantEqual(t, "statement", got, want)
}

func TestLoadPrices(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, body string
		ok         bool
	}{
		{"good", `{"currency":"EUR","secret_month":0.4,"per_10k_calls":0.05,"per_rotation":0}`, true},
		{"unknown member", `{"currency":"EUR","secret_months":0.4}`, false},
		{"negative", `{"currency":"EUR","secret_month":-1}`, false},
		{"no currency", `{"secret_month":1}`, false},
		{"two values", `{"currency":"EUR"} {}`, false},
	} {
		path := filepath.Join(dir, tc.name+".json")
		if err := os.WriteFile(path, []byte(tc.body), 0o600); err != nil {
			t.Fatal(err)
		}
		p, err := usage.LoadPrices(path)
		if (err == nil) != tc.ok {
			t.Errorf("%s: got %+v, %v; want ok %v", tc.name, p, err, tc.ok)
		}
	}
}
