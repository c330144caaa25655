package audit_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/keys/root/keyfile"
	"github.com/coffer-secrets/coffer/internal/store"
	"github.com/coffer-secrets/coffer/internal/store/sqlite"
	"github.com/coffer-secrets/coffer/internal/store/sqlite/sqlitetest"
)

// plaintext is the secret value test requests carry; it must never show up
// in an event, an export or a log.
const plaintext = "correct-horse-battery-staple-4711"

var chainT0 = time.Date(2026, 1, 10, 8, 0, 0, 0, time.UTC)

// testClock is a clock tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// chainFixture is a real SQLite store with audit keys sealed by a key file.
type chainFixture struct {
	dir   string
	st    store.Store
	log   *audit.Log
	keys  *audit.Keys
	clock *testClock
	n     int // events appended so far
}

func mustChain(tb testing.TB) *chainFixture {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	sqlitetest.Seed(tb, dir) // the tampering tests open dir/coffer.db themselves
	st, err := sqlite.Open(ctx, filepath.Join(dir, "coffer.db"))
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	rk, err := keyfile.Open(filepath.Join(dir, "root.key"), true)
	if err != nil {
		tb.Fatalf("root key: %v", err)
	}
	keys, err := audit.LoadKeys(ctx, st, rk)
	if err != nil {
		tb.Fatalf("LoadKeys: %v", err)
	}
	clock := &testClock{t: chainT0}
	return &chainFixture{dir: dir, st: st, log: &audit.Log{Store: st, Clock: clock.Now}, keys: keys, clock: clock}
}

// event returns the next test event: a GetSecretValue or PutSecretValue at
// one minute after the one before, its parameters redacted as the gate does.
func (f *chainFixture) event() *audit.Event {
	f.n++
	action := "GetSecretValue"
	body := fmt.Sprintf(`{"SecretName":"db-%d"}`, f.n%3)
	if f.n%4 == 0 {
		action = "PutSecretValue"
		body = fmt.Sprintf(`{"SecretName":"db-%d","SecretString":%q}`, f.n%3, plaintext)
	}
	return &audit.Event{
		Time: chainT0.Add(time.Duration(f.n) * time.Minute), Account: "100000000001",
		PrincipalID: "100000000001", PrincipalName: "root", PrincipalKind: "root",
		AccessKeyID: "AKIDtest", SourceIP: "192.0.2.7", UserAgent: "coffer-test/1",
		Region: "ap-guangzhou", Family: "ssm", Action: action, ReadOnly: action == "GetSecretValue",
		Resource: fmt.Sprintf("db-%d", f.n%3), RequestID: fmt.Sprintf("req-%d", f.n),
		Params: (&audit.Redactor{Key: f.keys.HMAC}).Params([]byte(body)),
	}
}

// mustAppend appends n events in one transaction.
func (f *chainFixture) mustAppend(tb testing.TB, n int) {
	tb.Helper()
	evs := make([]*audit.Event, n)
	for i := range evs {
		evs[i] = f.event()
	}
	ctx := context.Background()
	if err := f.st.Update(ctx, func(tx store.Tx) error { return f.log.Append(ctx, tx, evs...) }); err != nil {
		tb.Fatalf("append: %v", err)
	}
}

func (f *chainFixture) mustCheckpoint(tb testing.TB) *audit.Checkpoint {
	tb.Helper()
	cp, err := (&audit.Checkpointer{Log: f.log, Keys: f.keys, Clock: f.clock.Now}).CheckpointNow(context.Background())
	if err != nil {
		tb.Fatalf("CheckpointNow: %v", err)
	}
	return cp
}

// mustBuild appends batches of events with a checkpoint after each: 20
// events, checkpoints at 5, 12 and 20.
func (f *chainFixture) mustBuild(tb testing.TB) {
	tb.Helper()
	for _, n := range []int{5, 7, 8} {
		f.mustAppend(tb, n)
		f.mustCheckpoint(tb)
	}
}

// mustExec runs SQL on the store's file behind its back.
func (f *chainFixture) mustExec(tb testing.TB, stmts ...string) {
	tb.Helper()
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(f.dir, "coffer.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		tb.Fatalf("sql.Open: %v", err)
	}
	defer raw.Close()
	for _, s := range stmts {
		if _, err := raw.Exec(s); err != nil {
			tb.Fatalf("%s: %v", s, err)
		}
	}
}

func mustVerify(tb testing.TB, src audit.Source, f *chainFixture) audit.Report {
	tb.Helper()
	rep, err := audit.Verify(context.Background(), src, f.keys.Public)
	if err != nil {
		tb.Fatalf("Verify: %v", err)
	}
	return rep
}

func wantIntact(tb testing.TB, rep audit.Report, events int, first, last int64) {
	tb.Helper()
	if rep.Problem != nil {
		tb.Fatalf("got problem %v, want none", rep.Problem)
	}
	if rep.Events != events || rep.FirstSeq != first || rep.LastSeq != last {
		tb.Fatalf("got %d events (seq %d to %d), want %d (seq %d to %d)", rep.Events, rep.FirstSeq, rep.LastSeq, events, first, last)
	}
}

func wantProblem(tb testing.TB, rep audit.Report, kind audit.Kind, seq int64, line int) {
	tb.Helper()
	p := rep.Problem
	if p == nil {
		tb.Fatalf("got no problem (%d events), want %v at seq %d line %d", rep.Events, kind, seq, line)
	}
	if p.Kind != kind || p.Seq != seq || p.Line != line {
		tb.Fatalf("got %v, want %v at seq %d line %d", p, kind, seq, line)
	}
	if strings.Contains(p.Detail, plaintext) || strings.Contains(p.Detail, "hmac-sha256:") {
		tb.Fatalf("problem detail %q shows parameter contents", p.Detail)
	}
}

func TestVerifyIntactStore(t *testing.T) {
	f := mustChain(t)
	f.mustBuild(t)
	rep := mustVerify(t, audit.StoreSource(f.st), f)
	wantIntact(t, rep, 20, 1, 20)
	if rep.Checkpoints != 3 {
		t.Errorf("got %d checkpoints, want 3", rep.Checkpoints)
	}
}

func TestVerifyEmptyStore(t *testing.T) {
	f := mustChain(t)
	wantIntact(t, mustVerify(t, audit.StoreSource(f.st), f), 0, 0, 0)
}

func TestVerifyStoreTampering(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(tb testing.TB, f *chainFixture)
		kind   audit.Kind
		seq    int64
	}{
		{"edit action", sqlTamper(`UPDATE audit_events SET action = 'X' WHERE seq = 5`), audit.Altered, 5},
		{"edit params", sqlTamper(`UPDATE audit_events SET params = '{}' WHERE seq = 8`), audit.Altered, 8},
		{"edit time", sqlTamper(`UPDATE audit_events SET time = time + 1 WHERE seq = 9`), audit.Altered, 9},
		{"edit read_only", sqlTamper(`UPDATE audit_events SET read_only = 1 - read_only WHERE seq = 1`), audit.Altered, 1},
		{"edit prev_hash", sqlTamper(`UPDATE audit_events SET prev_hash = zeroblob(32) WHERE seq = 6`), audit.Altered, 6},
		{"delete a row", sqlTamper(`DELETE FROM audit_events WHERE seq = 7`), audit.Missing, 7},
		{"delete rows", sqlTamper(`DELETE FROM audit_events WHERE seq BETWEEN 7 AND 9`), audit.Missing, 7},
		{"delete the last row", sqlTamper(`DELETE FROM audit_events WHERE seq = 20`), audit.Missing, 20},
		{"delete the first row", sqlTamper(`DELETE FROM audit_events WHERE seq = 1`), audit.BadStart, 2},
		{"swap two rows", sqlTamper(
			`UPDATE audit_events SET seq = -1 WHERE seq = 4`,
			`UPDATE audit_events SET seq = 4 WHERE seq = 5`,
			`UPDATE audit_events SET seq = 5 WHERE seq = -1`), audit.Reordered, 4},
		{"forge a checkpoint signature", sqlTamper(
			`UPDATE audit_checkpoints SET signature = zeroblob(64) WHERE seq = 12`), audit.BadCheckpoint, 12},
		{"move a checkpoint", sqlTamper(`UPDATE audit_checkpoints SET head = zeroblob(32) WHERE seq = 5`), audit.BadCheckpoint, 5},
		{"rewrite an event and its hash", rewriteEvent(10), audit.Altered, 11},
		{"rewrite the tail and its hashes", rewriteTail(13), audit.BadCheckpoint, 20},
		{"append past the head", appendPastHead, audit.Altered, 21},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustChain(t)
			f.mustBuild(t)
			tt.tamper(t, f)
			wantProblem(t, mustVerify(t, audit.StoreSource(f.st), f), tt.kind, tt.seq, 0)
		})
	}
}

func sqlTamper(stmts ...string) func(testing.TB, *chainFixture) {
	return func(tb testing.TB, f *chainFixture) { f.mustExec(tb, stmts...) }
}

// rewriteEvent edits event seq and recomputes its hash, as a forger who
// knows the hash function would.
func rewriteEvent(seq int64) func(testing.TB, *chainFixture) {
	return func(tb testing.TB, f *chainFixture) {
		e := mustEvent(tb, f, seq)
		e.Action = "DeleteSecret"
		f.mustExec(tb, fmt.Sprintf(`UPDATE audit_events SET action = 'DeleteSecret', hash = x'%x' WHERE seq = %d`, audit.Hash(e.PrevHash, e), seq))
	}
}

// rewriteTail edits event seq and rechains every event after it (and the
// head), so only the signed checkpoint can tell.
func rewriteTail(seq int64) func(testing.TB, *chainFixture) {
	return func(tb testing.TB, f *chainFixture) {
		prev := mustEvent(tb, f, seq-1).Hash
		var stmts []string
		for s := seq; s <= 20; s++ {
			e := mustEvent(tb, f, s)
			if s == seq {
				e.Resource = "other"
			}
			e.PrevHash = prev
			e.Hash = audit.Hash(prev, e)
			prev = e.Hash
			stmts = append(stmts, fmt.Sprintf(`UPDATE audit_events SET resource = '%s', prev_hash = x'%x', hash = x'%x' WHERE seq = %d`, e.Resource, e.PrevHash, e.Hash, s))
		}
		stmts = append(stmts, fmt.Sprintf(`UPDATE audit_head SET hash = x'%x'`, prev))
		f.mustExec(tb, stmts...)
	}
}

func appendPastHead(tb testing.TB, f *chainFixture) {
	last := mustEvent(tb, f, 20)
	e := f.event()
	e.Seq, e.PrevHash = 21, last.Hash
	e.Hash = audit.Hash(e.PrevHash, e)
	// Insert through a transaction that skips the audit log (and its head).
	err := f.st.Update(context.Background(), func(tx store.Tx) error { return tx.InsertEvents(context.Background(), []*audit.Event{e}) })
	if err != nil {
		tb.Fatalf("insert: %v", err)
	}
}

func mustEvent(tb testing.TB, f *chainFixture, seq int64) *audit.Event {
	tb.Helper()
	var evs []*audit.Event
	err := f.st.View(context.Background(), func(tx store.Tx) error {
		var err error
		evs, err = tx.Events(context.Background(), store.EventQuery{AfterSeq: seq - 1, Limit: 1})
		return err
	})
	if err != nil || len(evs) != 1 || evs[0].Seq != seq {
		tb.Fatalf("event %d: %v", seq, err)
	}
	return evs[0]
}

// mustExport exports f's whole chain as JSON lines.
func mustExport(tb testing.TB, f *chainFixture) []string {
	tb.Helper()
	var buf bytes.Buffer
	x := &audit.Exporter{Log: f.log, Out: &audit.WriterSink{W: &buf, Keys: f.keys}}
	for {
		n, err := x.ExportNow(context.Background())
		if err != nil {
			tb.Fatalf("ExportNow: %v", err)
		}
		if n == 0 {
			break
		}
	}
	return strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
}

func fileSource(lines []string) audit.Source {
	return audit.FileSource(strings.NewReader(strings.Join(lines, "\n") + "\n"))
}

// lineOf returns the 1-based line holding the record at seq of the given type.
func lineOf(tb testing.TB, lines []string, typ string, seq int64) int {
	tb.Helper()
	want := fmt.Sprintf(`{"type":%q,"seq":%d,`, typ, seq)
	for i, l := range lines {
		if strings.HasPrefix(l, want) {
			return i + 1
		}
	}
	tb.Fatalf("no %s %d in the export", typ, seq)
	return 0
}

func TestVerifyExport(t *testing.T) {
	f := mustChain(t)
	f.mustBuild(t)
	lines := mustExport(t, f)
	if got, want := len(lines), 23; got != want {
		t.Fatalf("got %d lines, want %d", got, want)
	}
	rep := mustVerify(t, fileSource(lines), f)
	wantIntact(t, rep, 20, 1, 20)
	if rep.Checkpoints != 3 {
		t.Errorf("got %d checkpoints, want 3", rep.Checkpoints)
	}
}

func TestVerifyExportTampering(t *testing.T) {
	f := mustChain(t)
	f.mustBuild(t)
	lines := mustExport(t, f)
	at := func(typ string, seq int64) int { return lineOf(t, lines, typ, seq) }
	edit := func(n int, old, new string) []string {
		out := append([]string(nil), lines...)
		if !strings.Contains(out[n-1], old) {
			t.Fatalf("line %d holds no %q", n, old)
		}
		out[n-1] = strings.Replace(out[n-1], old, new, 1)
		return out
	}
	drop := func(n int) []string {
		return append(append([]string(nil), lines[:n-1]...), lines[n:]...)
	}
	swap := func(n, m int) []string {
		out := append([]string(nil), lines...)
		out[n-1], out[m-1] = out[m-1], out[n-1]
		return out
	}
	tests := []struct {
		name  string
		lines []string
		kind  audit.Kind
		seq   int64
		line  int
	}{
		{"edit a field", edit(at("event", 7), `"resource":"db-1"`, `"resource":"db-2"`), audit.Altered, 7, at("event", 7)},
		{"edit the time", edit(at("event", 3), `"time":"2026-01-10T08:03:00Z"`, `"time":"2026-01-10T09:03:00Z"`), audit.Altered, 3, at("event", 3)},
		{"break the JSON", edit(at("event", 9), `"seq":9,`, `"seq":9,,`), audit.Altered, 9, at("event", 9)},
		{"add a field", edit(at("event", 9), `"seq":9,`, `"seq":9,"note":"x",`), audit.Altered, 9, at("event", 9)},
		{"repeat a key", edit(at("event", 9), `"seq":9,`, `"seq":9,"action":"Nothing",`), audit.Altered, 9, at("event", 9)},
		{"delete a line", drop(at("event", 10)), audit.Missing, 10, at("event", 10)},
		{"swap two lines", swap(at("event", 2), at("event", 3)), audit.Reordered, 3, at("event", 2)},
		{"repeat a line", append(append([]string(nil), lines...), lines[at("event", 14)-1]), audit.Reordered, 14, len(lines) + 1},
		{"forge a checkpoint", edit(at("checkpoint", 12), `"signature":"`, `"signature":"00`), audit.BadCheckpoint, 12, at("checkpoint", 12)},
		{"delete the first line", drop(1), audit.BadStart, 2, 1},
		{"cut the end before a checkpoint", drop(at("event", 20)), audit.Missing, 20, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantProblem(t, mustVerify(t, fileSource(tt.lines), f), tt.kind, tt.seq, tt.line)
		})
	}
}

func TestVerifyExportNeedsTheRightKey(t *testing.T) {
	f := mustChain(t)
	f.mustBuild(t)
	other := mustChain(t)
	rep, err := audit.Verify(context.Background(), fileSource(mustExport(t, f)), other.keys.Public)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Problem == nil || rep.Problem.Kind != audit.BadCheckpoint || rep.Problem.Seq != 5 {
		t.Fatalf("got %v, want a bad checkpoint at seq 5", rep.Problem)
	}
}

func TestVerifyStoreAfterCheckpointsOnly(t *testing.T) {
	f := mustChain(t)
	f.mustAppend(t, 3)
	f.mustCheckpoint(t)
	f.mustAppend(t, 2)
	rep := mustVerify(t, audit.StoreSource(f.st), f)
	wantIntact(t, rep, 5, 1, 5)
}

func TestVerifyStopsOnContext(t *testing.T) {
	f := mustChain(t)
	f.mustAppend(t, 3)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := audit.Verify(ctx, audit.StoreSource(f.st), f.keys.Public); err == nil {
		t.Fatal("got no error from a canceled context")
	}
}

func FuzzVerifyFile(f *testing.F) {
	c := mustChain(f)
	c.mustBuild(f)
	lines := mustExport(f, c)
	f.Add([]byte(strings.Join(lines, "\n")))
	f.Add([]byte(strings.Join(lines[3:9], "\n") + "\n"))
	f.Add([]byte(lines[0] + "\n" + lines[0] + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := audit.Verify(context.Background(), audit.FileSource(bytes.NewReader(data)), c.keys.Public)
		if err != nil {
			t.Fatalf("Verify of an in-memory file failed: %v", err)
		}
		if rep.Problem == nil && rep.Events > 0 && rep.LastSeq-rep.FirstSeq+1 != int64(rep.Events) {
			t.Fatalf("verified %d events spanning seq %d to %d", rep.Events, rep.FirstSeq, rep.LastSeq)
		}
	})
}
