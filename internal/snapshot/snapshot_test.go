package snapshot_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/keys/root"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/snapshot"
	"github.com/coffer-secrets/coffer/internal/snapshot/snapshottest"
	"github.com/coffer-secrets/coffer/internal/store"
)

// TestRoundTripAcrossBackends fills a SQLite store with every kind of
// record, saves it, and restores it into a new SQLite store and into a new
// PostgreSQL database, then from PostgreSQL back into SQLite: every table
// matches the source row by row, and the secrets and a sub-user's access
// key read back through the services.
func TestRoundTripAcrossBackends(t *testing.T) {
	rk := MustRoot(t)
	src := MustSQLite(t)
	w := fillServices(t, src, rk)
	snapshottest.Fill(t, src)
	counts, want := snapshottest.DumpAll(t, src)
	for _, table := range store.SnapshotTables {
		if counts[table.Name] == 0 {
			t.Fatalf("the source has no rows in %s", table.Name)
		}
	}
	file := MustSave(t, src, rk, "sqlite")

	t.Run("sqlite", func(t *testing.T) {
		dst := MustSQLite(t)
		rep := MustRestore(t, dst, file, rk)
		wantReport(t, rep, counts, len(file))
		_, got := snapshottest.DumpAll(t, dst)
		snapshottest.WantSameRows(t, got, want)
		wantWorld(t, dst, rk, w)
	})
	t.Run("postgres and back", func(t *testing.T) {
		pg := MustPostgres(t)
		MustRestore(t, pg, file, rk)
		_, got := snapshottest.DumpAll(t, pg)
		snapshottest.WantSameRows(t, got, want)

		back := MustSave(t, pg, rk, "postgres")
		lite := MustSQLite(t)
		rep := MustRestore(t, lite, back, rk)
		if rep.Header.Backend != "postgres" {
			t.Errorf("backend: got %q, want postgres", rep.Header.Backend)
		}
		_, got = snapshottest.DumpAll(t, lite)
		snapshottest.WantSameRows(t, got, want)
		wantWorld(t, pg, rk, w) // reading values moves AccessedAt: last
		wantWorld(t, lite, rk, w)
	})
}

func wantReport(t *testing.T, rep snapshot.Report, counts map[string]int64, size int) {
	t.Helper()
	var rows int64
	for _, table := range rep.Header.Tables {
		if table.Rows != counts[table.Name] {
			t.Errorf("table %s: report says %d rows, want %d", table.Name, table.Rows, counts[table.Name])
		}
		rows += table.Rows
	}
	if rep.Rows != rows || rep.Bytes != int64(size) || len(rep.SHA256) != 64 {
		t.Errorf("report: got %d rows, %d bytes, digest %q; want %d rows, %d bytes, a SHA-256", rep.Rows, rep.Bytes, rep.SHA256, rows, size)
	}
	if h := rep.Header; h.Format != snapshot.Format || h.Schema != store.SnapshotSchema || h.Created.IsZero() || h.RootKey == "" {
		t.Errorf("header: got %+v", h)
	}
}

// TestRefusesDamage saves one snapshot and damages it in every way: each
// copy is refused, by Verify and by Restore, which then keeps nothing.
func TestRefusesDamage(t *testing.T) {
	rk := MustRoot(t)
	src := MustSQLite(t)
	fillServices(t, src, rk)
	snapshottest.Fill(t, src)
	file := MustSave(t, src, rk, "sqlite")
	if _, err := snapshot.Verify(context.Background(), bytes.NewReader(file), rk); err != nil {
		t.Fatalf("Verify of the intact file: %v", err)
	}
	clearEnd, chunks := layout(t, file)
	if len(chunks) < 3 {
		t.Fatalf("the file has %d chunks; the tests want several", len(chunks))
	}

	t.Run("flipped byte", func(t *testing.T) {
		for _, at := range flipPositions(file, clearEnd, chunks) {
			bad := bytes.Clone(file)
			bad[at] ^= 0x01
			wantRefused(t, fmt.Sprintf("byte %d flipped", at), bad, rk, anyKind)
		}
		bad := bytes.Clone(file)
		bad[len(bad)/2] ^= 0x80
		wantRestoreRefused(t, bad, rk)
	})
	t.Run("truncated", func(t *testing.T) {
		cuts := []int{0, 1, 16, 19, clearEnd - 1, clearEnd, clearEnd + 3, chunks[1], chunks[len(chunks)-1], len(file) - 1}
		for _, n := range cuts {
			wantRefused(t, fmt.Sprintf("cut at %d of %d", n, len(file)), file[:n], rk, fault.Invalid)
		}
		wantRestoreRefused(t, file[:chunks[len(chunks)-1]], rk)
	})
	t.Run("appended", func(t *testing.T) {
		wantRefused(t, "a byte appended", append(bytes.Clone(file), 0), rk, fault.Invalid)
		wantRefused(t, "the file twice", append(bytes.Clone(file), file...), rk, fault.Invalid)
		wantRestoreRefused(t, append(bytes.Clone(file), '\n'), rk)
	})
	t.Run("chunks moved", func(t *testing.T) {
		a, b := file[chunks[0]:chunks[1]], file[chunks[1]:chunks[2]]
		swapped := slicesConcat(file[:chunks[0]], b, a, file[chunks[2]:])
		wantRefused(t, "two chunks swapped", swapped, rk, fault.Invalid)
		dropped := slicesConcat(file[:chunks[0]], file[chunks[1]:])
		wantRefused(t, "a chunk dropped", dropped, rk, fault.Invalid)
		repeated := slicesConcat(file[:chunks[1]], a, file[chunks[1]:])
		wantRefused(t, "a chunk repeated", repeated, rk, fault.Invalid)
		last := file[chunks[len(chunks)-1]:]
		early := slicesConcat(file[:chunks[1]], last) // the last chunk after the first
		wantRefused(t, "the last chunk moved up", early, rk, fault.Invalid)
	})
	t.Run("wrong root key", func(t *testing.T) {
		wantRefused(t, "another root key", file, MustRoot(t), fault.KeyUnavailable)
		wantRestoreRefused(t, file, MustRoot(t))
	})
	t.Run("header edited", func(t *testing.T) {
		for _, edit := range [][2]string{
			{`"backend":"sqlite"`, `"backend":"sqlitf"`},
			{`"rows":`, `"rows": `}, // the same JSON, other bytes
			{`"created":"20`, `"created":"19`},
			{`"backend":"sqlite"`, `"backend":"sqlite","note":"x"`},
		} {
			bad := editHeader(t, file, edit[0], edit[1])
			wantRefused(t, "header edit "+edit[1], bad, rk, fault.KeyUnavailable)
		}
		wantRestoreRefused(t, editHeader(t, file, `"backend":"sqlite"`, `"backend":"SQLite"`), rk)
	})
	t.Run("newer schema", func(t *testing.T) {
		newer := fmt.Sprintf(`"schema":%d`, store.SnapshotSchema+1)
		bad := editHeader(t, file, fmt.Sprintf(`"schema":%d`, store.SnapshotSchema), newer)
		err := wantRefused(t, "a newer schema", bad, rk, fault.Unsupported)
		if !strings.Contains(err.Error(), "newer") {
			t.Errorf("newer schema: got %v, want it to say newer", err)
		}
		wantRefused(t, "a newer format", editHeader(t, file, `"format":1`, `"format":2`), rk, fault.Unsupported)
	})
}

// anyKind accepts any refusal of a flipped byte: Invalid for the file's
// structure and chunks, KeyUnavailable for the header and the wrapped key,
// Unsupported when the flip lands on a version number.
const anyKind = fault.Kind(255)

// wantRefused checks Verify refuses file with an error of kind (any kind
// for anyKind) and returns the error.
func wantRefused(t *testing.T, what string, file []byte, rk root.Provider, kind fault.Kind) error {
	t.Helper()
	_, err := snapshot.Verify(context.Background(), bytes.NewReader(file), rk)
	if err == nil {
		t.Fatalf("%s: Verify accepted the file", what)
	}
	if got := fault.KindOf(err); kind != anyKind && got != kind {
		t.Fatalf("%s: got %v (%v), want kind %v", what, err, got, kind)
	}
	if fault.KindOf(err) == fault.Invalid && !errors.Is(err, snapshot.ErrCorrupt) {
		t.Fatalf("%s: got %v, want it to wrap ErrCorrupt", what, err)
	}
	return err
}

// wantRestoreRefused checks Restore refuses file and keeps nothing.
func wantRestoreRefused(t *testing.T, file []byte, rk root.Provider) {
	t.Helper()
	dst := MustSQLite(t)
	_, before := snapshottest.DumpAll(t, dst)
	if _, err := snapshot.Restore(context.Background(), dst, bytes.NewReader(file), rk); err == nil {
		t.Fatal("Restore accepted a damaged file")
	}
	_, after := snapshottest.DumpAll(t, dst)
	snapshottest.WantSameRows(t, after, before)
}

// layout returns where the clear part of file ends and where each chunk
// starts.
func layout(t *testing.T, file []byte) (int, []int) {
	t.Helper()
	const magic = len("coffer-snapshot\n")
	h := int(binary.BigEndian.Uint32(file[magic:]))
	k := int(binary.BigEndian.Uint32(file[magic+4+h:]))
	at := magic + 4 + h + 4 + k
	clearEnd := at
	var chunks []int
	for at < len(file) {
		chunks = append(chunks, at)
		at += 5 + int(binary.BigEndian.Uint32(file[at+1:]))
	}
	if at != len(file) {
		t.Fatalf("chunks end at %d of %d", at, len(file))
	}
	return clearEnd, chunks
}

// flipPositions is every byte of the clear part but the header's JSON, of
// which it takes a sample, every byte of each chunk's frame, and a sample
// of the sealed bytes, the first and last of each included.
func flipPositions(file []byte, clearEnd int, chunks []int) []int {
	const magic = len("coffer-snapshot\n")
	jsonEnd := magic + 4 + int(binary.BigEndian.Uint32(file[magic:]))
	var at []int
	for i := range clearEnd {
		if i < magic+4 || i >= jsonEnd-1 || i%13 == 0 {
			at = append(at, i)
		}
	}
	for i, c := range chunks {
		end := len(file)
		if i+1 < len(chunks) {
			end = chunks[i+1]
		}
		for j := c; j < c+5; j++ {
			at = append(at, j)
		}
		for j := c + 5; j < end; j += 4099 {
			at = append(at, j)
		}
		at = append(at, end-1)
	}
	return at
}

// editHeader replaces old with new in the header, fixing its length.
func editHeader(t *testing.T, file []byte, old, new string) []byte {
	t.Helper()
	const magic = len("coffer-snapshot\n")
	h := int(binary.BigEndian.Uint32(file[magic:]))
	js := file[magic+4 : magic+4+h]
	if !bytes.Contains(js, []byte(old)) {
		t.Fatalf("the header lacks %s: %s", old, js)
	}
	js = bytes.Replace(js, []byte(old), []byte(new), 1)
	out := binary.BigEndian.AppendUint32(bytes.Clone(file[:magic]), uint32(len(js)))
	return slicesConcat(out, js, file[magic+4+h:])
}

func slicesConcat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestRestoreRefusesNonEmpty(t *testing.T) {
	rk := MustRoot(t)
	src := MustSQLite(t)
	fillServices(t, src, rk)
	file := MustSave(t, src, rk, "sqlite")
	_, before := snapshottest.DumpAll(t, src)
	_, err := snapshot.Restore(context.Background(), src, bytes.NewReader(file), rk)
	if got, want := fault.KindOf(err), fault.WrongState; err == nil || got != want || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("Restore into the source: got %v (%v), want kind %v saying it is not empty", err, got, want)
	}
	_, after := snapshottest.DumpAll(t, src)
	snapshottest.WantSameRows(t, after, before)
}

// TestSaveWhileWriting saves while writers create secrets through the
// service (each secret with its version in one transaction): the writers
// go on meanwhile, and the snapshot holds every secret it holds whole.
func TestSaveWhileWriting(t *testing.T) {
	rk := MustRoot(t)
	src := MustSQLite(t)
	fillServices(t, src, rk)
	svc, _, _ := newServices(src, rk)
	var created atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				v := secrets.StringValue("v")
				ev := &audit.Event{Account: sc.Account, Family: "ssm", Action: "CreateSecret", Params: "{}"}
				_, _, err := svc.Create(audit.With(context.Background(), ev), sc, secrets.CreateInput{Name: fmt.Sprintf("busy/%d-%d", w, i), Value: &v})
				if err != nil {
					t.Errorf("Create: %v", err)
					return
				}
				created.Add(1)
			}
		})
	}
	for created.Load() < 3 {
		time.Sleep(time.Millisecond)
	}
	// Save's first write comes inside its read transaction: it waits
	// there for more secrets to be created, which must not wait for it,
	// nor show in the snapshot. A secret may commit before the snapshot
	// yet count after it began: one per writer at most.
	const more = 8
	slow := &slowWriter{delay: 5 * time.Millisecond, first: func() int64 {
		n := created.Load()
		for deadline := time.Now().Add(10 * time.Second); created.Load() < n+more && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		return n
	}}
	rep, err := snapshot.Save(context.Background(), src, slow, rk, snapshot.Header{Backend: "sqlite"})
	after := created.Load()
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("Save: %v", err)
	}
	if after < slow.atFirst+more {
		t.Errorf("secrets were not created while Save ran (%d when it began, %d when it ended)", slow.atFirst, after)
	}
	dst := MustSQLite(t)
	MustRestore(t, dst, slow.buf.Bytes(), rk)
	if n := wantWhole(t, dst, rk, rep) - 6; n > slow.atFirst+3 {
		t.Errorf("the snapshot holds %d secrets created while Save ran, %d had been when it began", n, slow.atFirst)
	}
}

// wantWhole checks every secret of st has a current version whose value
// reads, and that st holds what the report counted. It returns the number
// of secrets.
func wantWhole(t *testing.T, st store.Store, rk root.Provider, rep snapshot.Report) int64 {
	t.Helper()
	counts, _ := snapshottest.DumpAll(t, st)
	for _, table := range rep.Header.Tables {
		if counts[table.Name] != table.Rows {
			t.Errorf("table %s: %d rows restored, %d saved", table.Name, counts[table.Name], table.Rows)
		}
	}
	ctx := context.Background()
	svc, _, _ := newServices(st, rk)
	all, _, err := svc.List(ctx, sc, secrets.ListInput{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 6 {
		t.Fatalf("restored %d secrets, want more than the 6 from before Save", len(all))
	}
	for _, sec := range all {
		if _, _, _, err := svc.GetValue(ctx, sc, sec.Name, secrets.Selector{Stage: secrets.StageCurrent}); err != nil {
			t.Errorf("secret %s without its current version: %v", sec.Name, err)
		}
	}
	return int64(len(all))
}

// slowWriter collects a file slowly, and notes first() when the first
// byte comes.
type slowWriter struct {
	buf     bytes.Buffer
	delay   time.Duration
	first   func() int64
	atFirst int64
}

func (w *slowWriter) Write(p []byte) (int, error) {
	if w.buf.Len() == 0 {
		w.atFirst = w.first()
	}
	time.Sleep(w.delay)
	return w.buf.Write(p)
}
