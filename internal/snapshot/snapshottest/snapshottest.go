// Package snapshottest is the conformance suite of store.Snapshotter: each
// backend's tests call Run, so every backend dumps and loads the neutral
// format alike. It also holds the helpers the snapshot tests share: Fill
// (a record in every table) and DumpAll.
package snapshottest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// Run runs the suite. open returns a fresh, empty store that implements
// store.Snapshotter for each sub-test and registers its own cleanup.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T) store.Store)
	}{
		{"Empty", testEmpty},
		{"RoundTrip", testRoundTrip},
		{"ReadBack", testReadBack},
		{"RefuseNonEmpty", testRefuseNonEmpty},
		{"BadRows", testBadRows},
		{"SourceError", testSourceError},
		{"OlderColumns", testOlderColumns},
		{"Counters", testCounters},
		{"CallbackErrors", testCallbackErrors},
		{"Consistent", testConsistent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

// Snap returns st's Snapshotter, failing the test when it has none.
func Snap(tb testing.TB, st store.Store) store.Snapshotter {
	tb.Helper()
	s, ok := st.(store.Snapshotter)
	if !ok {
		tb.Fatalf("%T does not implement store.Snapshotter", st)
	}
	return s
}

// DumpAll dumps st and returns its row counts and rows. It fails the test
// when the rows do not match the counts.
func DumpAll(tb testing.TB, st store.Store) (map[string]int64, []store.Row) {
	tb.Helper()
	var counts map[string]int64
	var rows []store.Row
	err := Snap(tb, st).Dump(context.Background(), func(n map[string]int64) error {
		counts = n
		return nil
	}, func(r store.Row) error {
		rows = append(rows, store.Row{Table: r.Table, Columns: slices.Clone(r.Columns), Values: slices.Clone(r.Values)})
		return nil
	})
	if err != nil {
		tb.Fatalf("Dump: %v", err)
	}
	got := map[string]int64{}
	for _, r := range rows {
		got[r.Table]++
	}
	for _, table := range store.SnapshotTables {
		if got[table.Name] != counts[table.Name] {
			tb.Fatalf("Dump: table %s: %d rows, counted %d", table.Name, got[table.Name], counts[table.Name])
		}
	}
	return counts, rows
}

// Load loads rows into st.
func Load(st store.Store, rows []store.Row) error {
	i := 0
	return st.(store.Snapshotter).Load(context.Background(), func() (store.Row, error) {
		if i == len(rows) {
			return store.Row{}, io.EOF
		}
		i++
		return rows[i-1], nil
	})
}

// WantSameRows fails the test, naming the first difference, unless got and
// want hold the same rows in the same order.
func WantSameRows(tb testing.TB, got, want []store.Row) {
	tb.Helper()
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			tb.Fatalf("row %d:\ngot  %s\nwant %s", i, Describe(got[i]), Describe(want[i]))
		}
	}
	if len(got) != len(want) {
		tb.Fatalf("got %d rows, want %d", len(got), len(want))
	}
}

// Describe prints a row with the Go type of each value.
func Describe(r store.Row) string {
	s := r.Table + "("
	for i, c := range r.Columns {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s=%#v", c, r.Values[i])
	}
	return s + ")"
}

func testEmpty(t *testing.T, open func(t *testing.T) store.Store) {
	counts, rows := DumpAll(t, open(t))
	for _, table := range store.SnapshotTables {
		want := int64(0)
		if table.Seeded {
			want = counts[table.Name] // whatever the migrations seed
		}
		if got := counts[table.Name]; got != want {
			t.Errorf("table %s: got %d rows in a new store, want %d", table.Name, got, want)
		}
	}
	if len(counts) != len(store.SnapshotTables) {
		t.Errorf("counts: got %d tables, want %d", len(counts), len(store.SnapshotTables))
	}
	for _, r := range rows {
		if table, _, _ := store.SnapshotTable(r.Table); !table.Seeded {
			t.Errorf("new store holds %s", Describe(r))
		}
	}
}

func testRoundTrip(t *testing.T, open func(t *testing.T) store.Store) {
	src := open(t)
	Fill(t, src)
	counts, rows := DumpAll(t, src)
	for _, table := range store.SnapshotTables {
		if counts[table.Name] == 0 {
			t.Errorf("Fill left table %s empty", table.Name)
		}
	}
	for i := 1; i < len(rows); i++ {
		_, a, _ := store.SnapshotTable(rows[i-1].Table)
		_, b, _ := store.SnapshotTable(rows[i].Table)
		if a > b {
			t.Fatalf("row %d of %s comes after a row of %s", i, rows[i].Table, rows[i-1].Table)
		}
	}
	dst := open(t)
	if err := Load(dst, rows); err != nil {
		t.Fatalf("Load: %v", err)
	}
	_, again := DumpAll(t, dst)
	WantSameRows(t, again, rows)
}

// testReadBack checks loaded records read back through the store's methods.
func testReadBack(t *testing.T, open func(t *testing.T) store.Store) {
	src, dst := open(t), open(t)
	Fill(t, src)
	_, rows := DumpAll(t, src)
	if err := Load(dst, rows); err != nil {
		t.Fatalf("Load: %v", err)
	}
	ctx := context.Background()
	read := func(st store.Store) (got []any) {
		err := st.View(ctx, func(tx store.Tx) error {
			sec, err := tx.Secret(ctx, Account, "ap-guangzhou", "db/password")
			if err != nil {
				return err
			}
			replica, err := tx.Secret(ctx, Account, "ap-shanghai", "db/password")
			if err != nil {
				return err
			}
			vs, err := tx.Versions(ctx, sec.ID)
			if err != nil {
				return err
			}
			key, err := tx.Key(ctx, Account, "ap-guangzhou", "cmk-1")
			if err != nil {
				return err
			}
			users, err := tx.Entities(ctx, Account, store.EntityUser)
			if err != nil {
				return err
			}
			evs, err := tx.Events(ctx, store.EventQuery{})
			if err != nil {
				return err
			}
			got = append(got, sec, replica, vs, key, users, evs)
			return nil
		})
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		return got
	}
	if got, want := read(dst), read(src); !reflect.DeepEqual(got, want) {
		t.Fatalf("records after Load:\ngot  %+v\nwant %+v", got, want)
	}
}

func testRefuseNonEmpty(t *testing.T, open func(t *testing.T) store.Store) {
	src, dst := open(t), open(t)
	Fill(t, src)
	_, rows := DumpAll(t, src)
	err := dst.Update(context.Background(), func(tx store.Tx) error {
		return tx.SetMeta(context.Background(), "only", "this")
	})
	if err != nil {
		t.Fatal(err)
	}
	_, before := DumpAll(t, dst)
	err = Load(dst, rows)
	if got, want := fault.KindOf(err), fault.WrongState; err == nil || got != want {
		t.Fatalf("Load into a store with a record: got %v (%v), want kind %v", err, got, want)
	}
	_, after := DumpAll(t, dst)
	WantSameRows(t, after, before)
}

func testBadRows(t *testing.T, open func(t *testing.T) store.Store) {
	acct := store.Row{Table: "accounts", Columns: []string{"id", "name", "created_at"}, Values: []any{"1", "a", nil}}
	tests := []struct {
		name string
		row  store.Row
	}{
		{"unknown table", store.Row{Table: "passwords", Columns: []string{"id"}, Values: []any{"1"}}},
		{"unknown column", store.Row{Table: "meta", Columns: []string{"key", "colour"}, Values: []any{"k", "v"}}},
		{"repeated column", store.Row{Table: "meta", Columns: []string{"key", "key"}, Values: []any{"k", "v"}}},
		{"wrong type", store.Row{Table: "meta", Columns: []string{"key", "value"}, Values: []any{"k", int64(1)}}},
		{"flag as number", store.Row{Table: "keys", Columns: []string{"id", "is_default"}, Values: []any{"k", int64(1)}}},
		{"int as int32", store.Row{Table: "counters", Columns: []string{"name", "value"}, Values: []any{"c", int32(1)}}},
		{"values short", store.Row{Table: "meta", Columns: []string{"key", "value"}, Values: []any{"k"}}},
		{"out of order", store.Row{Table: "accounts", Columns: []string{"id", "name"}, Values: []any{"2", "b"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := open(t)
			_, before := DumpAll(t, dst)
			rows := []store.Row{acct, {Table: "meta", Columns: []string{"key", "value"}, Values: []any{"a", "b"}}, tt.row}
			if tt.name != "out of order" {
				rows = []store.Row{acct, tt.row}
			}
			err := Load(dst, rows)
			if got, want := fault.KindOf(err), fault.Invalid; err == nil || got != want {
				t.Fatalf("Load: got %v (%v), want kind %v", err, got, want)
			}
			_, after := DumpAll(t, dst)
			WantSameRows(t, after, before)
		})
	}
}

// testSourceError checks a failing source aborts the load, keeping nothing,
// and its error comes back as is.
func testSourceError(t *testing.T, open func(t *testing.T) store.Store) {
	src := open(t)
	Fill(t, src)
	_, rows := DumpAll(t, src)
	for _, at := range []int{0, 1, len(rows) / 2, len(rows)} {
		dst := open(t)
		_, before := DumpAll(t, dst)
		boom := errors.New("snapshot chunk 7 is corrupt")
		i := 0
		err := Snap(t, dst).Load(context.Background(), func() (store.Row, error) {
			if i == at {
				return store.Row{}, boom
			}
			i++
			return rows[i-1], nil
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Load failing after %d rows: got %v, want the source's error", at, err)
		}
		_, after := DumpAll(t, dst)
		WantSameRows(t, after, before)
	}
}

// testOlderColumns loads rows without the columns later migrations added:
// they take their defaults.
func testOlderColumns(t *testing.T, open func(t *testing.T) store.Store) {
	dst := open(t)
	rows := []store.Row{
		{Table: "accounts", Columns: []string{"id", "name", "created_at"}, Values: []any{"1", "old", int64(1)}},
		{Table: "access_keys", Columns: []string{"id", "account", "principal", "sealed", "status", "created_at", "last_used_at"},
			Values: []any{"AKID1", "1", "1", []byte("s"), "Active", nil, nil}},
		oldSecretRow(),
	}
	if err := Load(dst, rows); err != nil {
		t.Fatalf("Load: %v", err)
	}
	var k *store.AccessKey
	var sec *store.Secret
	err := dst.View(context.Background(), func(tx store.Tx) error {
		var err error
		if k, err = tx.AccessKey(context.Background(), "AKID1"); err != nil {
			return err
		}
		sec, err = tx.SecretByID(context.Background(), "s1")
		return err
	})
	if err != nil || k.Description != "" || string(k.Sealed) != "s" {
		t.Fatalf("AccessKey: got %+v, %v; want description \"\"", k, err)
	}
	if sec.Name != "db" || sec.Policy != "" || sec.Tagged || sec.Replicas != nil || sec.PrimaryRegion != "" {
		t.Fatalf("Secret: got %+v; want no policy, not Tagged, no Replicas, no PrimaryRegion", sec)
	}
}

// oldSecretRow is a secret as a schema 1 snapshot holds it: none of the
// columns later migrations added to secrets.
func oldSecretRow() store.Row {
	r := store.Row{Table: "secrets"}
	for _, c := range []struct {
		name  string
		value any
	}{
		{"id", "s1"}, {"account", "1"}, {"region", "r"}, {"name", "db"}, {"description", ""},
		{"type", int64(0)}, {"key_id", "k"}, {"status", "Enabled"}, {"delete_at", nil},
		{"created_at", int64(1)}, {"updated_at", int64(1)}, {"accessed_at", nil}, {"created_by", "1"},
		{"config", ""}, {"product", ""}, {"resource_id", ""}, {"rotation_enabled", false},
		{"rotation_days", int64(0)}, {"rotation_begin", nil}, {"rotation_next", nil},
		{"rotation_last", nil}, {"rotator", ""}, {"revision", int64(1)},
	} {
		r.Columns, r.Values = append(r.Columns, c.name), append(r.Values, c.value)
	}
	return r
}

// testCounters checks a loaded counter goes on from its value: no Seq is
// handed out twice.
func testCounters(t *testing.T, open func(t *testing.T) store.Store) {
	src := open(t)
	Fill(t, src)
	_, rows := DumpAll(t, src)
	var seq int64
	for _, r := range rows {
		if r.Table == "versions" {
			seq = max(seq, r.Values[slices.Index(r.Columns, "seq")].(int64))
		}
	}
	dst := open(t)
	if err := Load(dst, rows); err != nil {
		t.Fatalf("Load: %v", err)
	}
	ctx := context.Background()
	v := &store.Version{SecretID: "sec-a", ID: "v-next", Ciphertext: []byte("c"), WrappedKey: []byte("w"), KeyID: "cmk-1", KeyVersion: 1}
	if err := dst.Update(ctx, func(tx store.Tx) error { return tx.InsertVersion(ctx, v) }); err != nil {
		t.Fatalf("InsertVersion: %v", err)
	}
	if v.Seq <= seq {
		t.Fatalf("Seq after Load: got %d, want above %d", v.Seq, seq)
	}
}

func testCallbackErrors(t *testing.T, open func(t *testing.T) store.Store) {
	st := open(t)
	Fill(t, st)
	boom := errors.New("disk full")
	err := Snap(t, st).Dump(context.Background(), func(map[string]int64) error { return boom },
		func(store.Row) error { return nil })
	if !errors.Is(err, boom) {
		t.Errorf("Dump with a failing counts callback: got %v, want its error", err)
	}
	n := 0
	err = Snap(t, st).Dump(context.Background(), func(map[string]int64) error { return nil },
		func(store.Row) error {
			if n++; n == 5 {
				return boom
			}
			return nil
		})
	if !errors.Is(err, boom) || n != 5 {
		t.Errorf("Dump with a failing row callback: got %v after %d rows, want its error after 5", err, n)
	}
}

// testConsistent dumps while writers add secrets, each with its version in
// the same transaction: the dump never holds one without the other, and
// the writers are not held up meanwhile.
func testConsistent(t *testing.T, open func(t *testing.T) store.Store) {
	st := open(t)
	Fill(t, st)
	ctx := context.Background()
	const writers, more = 3, 8
	var wrote atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := writePair(ctx, st, fmt.Sprintf("w%d-%d", w, i)); err != nil {
					t.Errorf("write: %v", err)
					return
				}
				wrote.Add(1)
			}
		})
	}
	for wrote.Load() < 5 { // the writers are under way
		time.Sleep(time.Millisecond)
	}
	// The dump waits, inside its read transaction, for more writes to
	// commit: they must not wait for it, nor show in it. A write may
	// commit before the dump's snapshot yet count after it began: one per
	// writer at most.
	var during int64
	counts, rows := dumpSlowly(t, st, func() { during = wrote.Load() }, func() {
		for deadline := time.Now().Add(10 * time.Second); wrote.Load() < during+more && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
	})
	after := wrote.Load()
	close(stop)
	wg.Wait()
	if after < during+more {
		t.Errorf("writes stalled while the dump ran (%d before, %d after)", during, after)
	}
	if n := wantPairs(t, counts, rows); n > during+writers {
		t.Errorf("the dump holds %d written secrets, but only %d had committed when it began", n, during)
	}
}

func writePair(ctx context.Context, st store.Store, id string) error {
	return st.Update(ctx, func(tx store.Tx) error {
		s := &store.Secret{ID: id, Account: Account, Region: "ap-guangzhou", Name: id, KeyID: "cmk-1",
			Status: store.StatusEnabled, CreatedAt: time.Now()}
		if err := tx.InsertSecret(ctx, s); err != nil {
			return err
		}
		return tx.InsertVersion(ctx, &store.Version{SecretID: id, ID: "v1", Stages: []string{"SSM_CURRENT"},
			Ciphertext: []byte("c"), WrappedKey: []byte("w"), KeyID: "cmk-1", KeyVersion: 1})
	})
}

// dumpSlowly dumps st, calling started once it has the counts and wait at
// its first row, and pausing on each row, so writers commit while it reads.
func dumpSlowly(t *testing.T, st store.Store, started, wait func()) (map[string]int64, []store.Row) {
	var counts map[string]int64
	var rows []store.Row
	err := Snap(t, st).Dump(context.Background(), func(n map[string]int64) error {
		counts = n
		started()
		return nil
	}, func(r store.Row) error {
		if len(rows) == 0 {
			wait()
		}
		time.Sleep(time.Millisecond)
		rows = append(rows, store.Row{Table: r.Table, Columns: r.Columns, Values: slices.Clone(r.Values)})
		return nil
	})
	if err != nil {
		t.Fatalf("Dump: %v", err)
	}
	return counts, rows
}

// wantPairs checks every secret the writers added has its version and its
// stage in rows, and every version its secret, and the counts match the
// rows. It returns how many of the writers' secrets rows holds.
func wantPairs(t *testing.T, counts map[string]int64, rows []store.Row) int64 {
	t.Helper()
	ids := map[string]map[string]int{}
	got := map[string]int64{}
	for _, r := range rows {
		got[r.Table]++
		if r.Table != "secrets" && r.Table != "versions" && r.Table != "version_stages" {
			continue
		}
		id := r.Values[0].(string)
		if r.Table == "secrets" {
			id = r.Values[slices.Index(r.Columns, "id")].(string)
		}
		if ids[id] == nil {
			ids[id] = map[string]int{}
		}
		ids[id][r.Table]++
	}
	var written int64
	for id, n := range ids {
		if !strings.HasPrefix(id, "w") { // a secret of Fill's
			continue
		}
		written++
		if n["secrets"] != 1 || n["versions"] == 0 || n["version_stages"] == 0 {
			t.Errorf("secret %s: %v rows in the dump, want the secret with its versions and stages", id, n)
		}
	}
	if !reflect.DeepEqual(got, nonZero(counts)) {
		t.Errorf("rows per table: got %v, counted %v", got, counts)
	}
	return written
}

func nonZero(m map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}
