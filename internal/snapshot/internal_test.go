package snapshot

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/coffer-secrets/coffer/internal/keys/root/keyfile"
	"github.com/coffer-secrets/coffer/internal/store"
)

// sealChunks seals plain in chunks of size and returns the stream.
func sealChunks(tb testing.TB, key, digest, plain []byte, size int) []byte {
	tb.Helper()
	gcm, err := newGCM(key)
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	w := newChunkWriter(&buf, gcm, digest, size)
	if _, err := w.Write(plain); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// TestChunkSizes round-trips plaintexts around the chunk boundaries: a
// full last chunk is flagged final, an exact multiple gains no empty chunk
// that the reader would miss.
func TestChunkSizes(t *testing.T) {
	key, digest := make([]byte, 32), make([]byte, 32)
	const size = 16
	for _, n := range []int{0, 1, size - 1, size, size + 1, 2 * size, 3*size + 5} {
		plain := make([]byte, n)
		_, _ = rand.Read(plain)
		sealed := sealChunks(t, key, digest, plain, size)
		gcm, _ := newGCM(key)
		r := newChunkReader(bytes.NewReader(sealed), gcm, digest, size)
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("%d bytes: got %d bytes, %v", n, len(got), err)
		}
		if err := r.finish(); err != nil {
			t.Fatalf("%d bytes: finish: %v", n, err)
		}
		want := max(1, (n+size-1)/size)
		if chunks := r.counter; chunks != uint64(want) {
			t.Errorf("%d bytes: got %d chunks, want %d", n, chunks, want)
		}
	}
}

// TestRowsRoundTrip encodes rows of every value type and decodes them.
func TestRowsRoundTrip(t *testing.T) {
	tables := []TableHeader{
		{Name: "accounts", Columns: []string{"id", "name", "created_at"}, Rows: 2},
		{Name: "keys", Columns: []string{"id", "is_default"}, Rows: 1},
		{Name: "audit_head", Columns: []string{"id", "seq", "hash"}, Rows: 1},
	}
	rows := []store.Row{
		{Table: "accounts", Columns: tables[0].Columns, Values: []any{"1", "ünï", int64(-1 << 62)}},
		{Table: "accounts", Columns: tables[0].Columns, Values: []any{"2", "", nil}},
		{Table: "keys", Columns: tables[1].Columns, Values: []any{"k", true}},
		{Table: "audit_head", Columns: tables[2].Columns, Values: []any{int64(1), int64(1<<63 - 1), []byte{}}},
	}
	var buf bytes.Buffer
	w := newRowWriter(&buf, tables)
	for _, r := range rows {
		if err := w.write(r); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := w.close()
	if err != nil {
		t.Fatal(err)
	}
	d := newRowReader(bytes.NewReader(buf.Bytes()), tables)
	for i, want := range rows {
		got, err := d.next()
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		if got.Table != want.Table || len(got.Values) != len(want.Values) {
			t.Fatalf("row %d: got %+v, want %+v", i, got, want)
		}
		for j := range want.Values {
			if !equalValue(got.Values[j], want.Values[j]) {
				t.Fatalf("row %d value %d: got %#v, want %#v", i, j, got.Values[j], want.Values[j])
			}
		}
	}
	if _, err := d.next(); !errors.Is(err, io.EOF) || !bytes.Equal(d.digest, sum) {
		t.Fatalf("end: got %v, digest %x; want io.EOF, %x", err, d.digest, sum)
	}
}

func equalValue(a, b any) bool {
	if x, ok := a.([]byte); ok {
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y) && y != nil
	}
	return a == b
}

// FuzzRows feeds the row decoder damaged streams: it must refuse them
// with an error, without panicking or allocating without bound.
func FuzzRows(f *testing.F) {
	tables := []TableHeader{
		{Name: "accounts", Columns: []string{"id", "name", "created_at"}, Rows: 2},
		{Name: "keys", Columns: []string{"id", "is_default"}, Rows: 1},
	}
	var buf bytes.Buffer
	w := newRowWriter(&buf, tables)
	_ = w.write(store.Row{Table: "accounts", Columns: tables[0].Columns, Values: []any{"1", "a", int64(5)}})
	_ = w.write(store.Row{Table: "accounts", Columns: tables[0].Columns, Values: []any{"2", "b", nil}})
	_ = w.write(store.Row{Table: "keys", Columns: tables[1].Columns, Values: []any{"k", false}})
	_, _ = w.close()
	f.Add(buf.Bytes())
	f.Add([]byte{1, 5, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		d := newRowReader(bytes.NewReader(b), tables)
		for range 10 {
			if _, err := d.next(); err != nil {
				return
			}
		}
		t.Fatalf("decoded more rows than the header allows")
	})
}

// FuzzVerify feeds Verify damaged files: it must refuse them with an
// error, never panic.
func FuzzVerify(f *testing.F) {
	rk, err := keyfile.Open(filepath.Join(f.TempDir(), "root.key"), true)
	if err != nil {
		f.Fatal(err)
	}
	h := newHeader(Header{Backend: "sqlite"}, map[string]int64{}, rk.Describe())
	prefix, err := encodePrefix(h)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(prefix)
	f.Add([]byte(magic + "\x00\x00\x00\x02{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := Verify(context.Background(), bytes.NewReader(b), rk); err == nil {
			t.Fatal("Verify accepted a file nobody saved")
		}
	})
}
