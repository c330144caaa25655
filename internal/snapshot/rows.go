package snapshot

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"

	"github.com/coffer-secrets/coffer/internal/store"
)

// The row stream, the plaintext that is compressed and encrypted:
//
//	stream = row* end digest
//	row    = table value*     one value per column the header lists for the table
//	table  = uvarint          1 + the table's index in the header's tables
//	end    = uvarint 0
//	digest = 32 bytes         SHA-256 of every byte of the stream before it
//	value  = tag payload
//
// Tags: 0 NULL, 1 text (uvarint length, UTF-8 bytes), 2 integer (zig-zag
// varint), 3 false, 4 true, 5 blob (uvarint length, bytes). A table's rows
// are contiguous, and tables come in the header's order.
const (
	tagNull = iota
	tagText
	tagInt
	tagFalse
	tagTrue
	tagBlob
)

// maxValue bounds one text or blob value, so a damaged length cannot make
// the reader allocate without limit. Coffer's largest values (secret
// values, policy documents, audit parameters) are far smaller.
const maxValue = 64 << 20

// rowWriter encodes rows and hashes what it writes.
type rowWriter struct {
	w      *bufio.Writer
	h      hash.Hash
	tables []TableHeader
	pos    int     // the index of the current table
	rows   []int64 // rows written, per table
	buf    []byte
}

func newRowWriter(w io.Writer, tables []TableHeader) *rowWriter {
	return &rowWriter{w: bufio.NewWriterSize(w, 64<<10), h: sha256.New(), tables: tables, rows: make([]int64, len(tables))}
}

// write encodes r. It fails when r does not fit the header: a backend that
// dumps other rows than it counted.
func (e *rowWriter) write(r store.Row) error {
	i := slices.IndexFunc(e.tables[e.pos:], func(t TableHeader) bool { return t.Name == r.Table })
	if i < 0 {
		return fmt.Errorf("row of table %s out of order", r.Table)
	}
	e.pos += i
	t := e.tables[e.pos]
	if !slices.Equal(r.Columns, t.Columns) || len(r.Values) != len(t.Columns) {
		return fmt.Errorf("row of table %s has other columns than counted", r.Table)
	}
	if e.rows[e.pos]++; e.rows[e.pos] > t.Rows {
		return fmt.Errorf("table %s has more rows than counted", r.Table)
	}
	b := binary.AppendUvarint(e.buf[:0], uint64(e.pos+1))
	for i, v := range r.Values {
		var err error
		if b, err = appendValue(b, v); err != nil {
			return fmt.Errorf("column %s.%s: %w", r.Table, r.Columns[i], err)
		}
	}
	e.buf = b
	return e.emit(b)
}

func (e *rowWriter) emit(b []byte) error {
	e.h.Write(b)
	_, err := e.w.Write(b)
	return err
}

func appendValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, tagNull), nil
	case string:
		if len(v) > maxValue {
			return nil, fmt.Errorf("value of %d bytes exceeds %d", len(v), maxValue)
		}
		return append(binary.AppendUvarint(append(b, tagText), uint64(len(v))), v...), nil
	case int64:
		return binary.AppendVarint(append(b, tagInt), v), nil
	case bool:
		if v {
			return append(b, tagTrue), nil
		}
		return append(b, tagFalse), nil
	case []byte:
		if len(v) > maxValue {
			return nil, fmt.Errorf("value of %d bytes exceeds %d", len(v), maxValue)
		}
		return append(binary.AppendUvarint(append(b, tagBlob), uint64(len(v))), v...), nil
	}
	return nil, fmt.Errorf("value of type %T", v)
}

// close writes the end and the digest, flushes, and returns the digest.
// It fails when a table has fewer rows than counted.
func (e *rowWriter) close() ([]byte, error) {
	for i, t := range e.tables {
		if e.rows[i] != t.Rows {
			return nil, fmt.Errorf("table %s has %d rows, counted %d", t.Name, e.rows[i], t.Rows)
		}
	}
	if err := e.emit([]byte{0}); err != nil {
		return nil, err
	}
	sum := e.h.Sum(nil)
	if _, err := e.w.Write(sum); err != nil {
		return nil, err
	}
	return sum, e.w.Flush()
}

// rowReader decodes the row stream, checking it against the header: rows
// per table, the order of the tables, the digest, and nothing after it.
type rowReader struct {
	r       *bufio.Reader
	h       hash.Hash
	pending []byte // bytes read but not hashed yet
	tables  []TableHeader
	pos     int
	rows    []int64
	digest  []byte // set at the end
	readErr error  // the last failure to read a byte
	// tail, when set, checks what comes after the rows' stream.
	tail func() error
}

func newRowReader(r io.Reader, tables []TableHeader) *rowReader {
	return &rowReader{r: bufio.NewReaderSize(r, 64<<10), h: sha256.New(), tables: tables, rows: make([]int64, len(tables))}
}

// next returns the next row, or io.EOF after the last once the stream
// checks out, up to its tail: so a Load that reads to io.EOF commits only
// a whole, intact file. It returns a corrupt-snapshot error otherwise.
func (d *rowReader) next() (store.Row, error) {
	if d.digest != nil {
		return store.Row{}, io.EOF
	}
	n, err := d.uvarint()
	if err != nil {
		return store.Row{}, err
	}
	if n == 0 {
		return store.Row{}, d.end()
	}
	if n > uint64(len(d.tables)) || int(n-1) < d.pos {
		return store.Row{}, corrupt("the rows name an unknown table, or tables out of order")
	}
	d.pos = int(n - 1)
	t := d.tables[d.pos]
	if d.rows[d.pos]++; d.rows[d.pos] > t.Rows {
		return store.Row{}, corrupt(fmt.Sprintf("table %s has more rows than the header says", t.Name))
	}
	values := make([]any, len(t.Columns))
	for i := range values {
		if values[i], err = d.value(); err != nil {
			return store.Row{}, err
		}
	}
	return store.Row{Table: t.Name, Columns: t.Columns, Values: values}, nil
}

func (d *rowReader) value() (any, error) {
	tag, err := d.ReadByte()
	if err != nil {
		return nil, streamError(err)
	}
	switch tag {
	case tagNull:
		return nil, nil
	case tagFalse, tagTrue:
		return tag == tagTrue, nil
	case tagInt:
		return d.varint()
	case tagText, tagBlob:
		b, err := d.bytes()
		if err != nil || tag == tagBlob {
			return b, err
		}
		return string(b), nil
	}
	return nil, corrupt(fmt.Sprintf("unknown value tag %d", tag))
}

func (d *rowReader) bytes() ([]byte, error) {
	n, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	if n > maxValue {
		return nil, corrupt("a value's length is out of range")
	}
	d.flush()
	b := make([]byte, n)
	if _, err := io.ReadFull(d.r, b); err != nil {
		return nil, streamError(err)
	}
	d.h.Write(b)
	return b, nil
}

func (d *rowReader) uvarint() (uint64, error) {
	v, err := binary.ReadUvarint(d)
	return v, d.varintError(err)
}

func (d *rowReader) varint() (int64, error) {
	v, err := binary.ReadVarint(d)
	return v, d.varintError(err)
}

// varintError maps an error of encoding/binary's varint readers: the
// stream's, or an overflow of its own.
func (d *rowReader) varintError(err error) error {
	if err == nil {
		return nil
	}
	if d.readErr == nil {
		return corrupt("a number in the rows is out of range")
	}
	return streamError(err)
}

// ReadByte reads one byte of the stream, to be hashed.
func (d *rowReader) ReadByte() (byte, error) {
	b, err := d.r.ReadByte()
	if err != nil {
		d.readErr = err
		return 0, err
	}
	if d.pending = append(d.pending, b); len(d.pending) >= 4096 {
		d.flush()
	}
	return b, nil
}

func (d *rowReader) flush() {
	d.h.Write(d.pending)
	d.pending = d.pending[:0]
}

// end checks the counts, the digest and that nothing follows it.
func (d *rowReader) end() error {
	for i, t := range d.tables {
		if d.rows[i] != t.Rows {
			return corrupt(fmt.Sprintf("table %s has %d rows, the header says %d", t.Name, d.rows[i], t.Rows))
		}
	}
	d.flush()
	want := d.h.Sum(nil)
	got := make([]byte, len(want))
	if _, err := io.ReadFull(d.r, got); err != nil {
		return streamError(err)
	}
	if !hmac.Equal(got, want) {
		return corrupt("the SHA-256 of the rows does not match")
	}
	if _, err := d.r.ReadByte(); !errors.Is(err, io.EOF) {
		if err != nil {
			return streamError(err)
		}
		return corrupt("data follows the rows' digest")
	}
	if d.tail != nil {
		if err := d.tail(); err != nil {
			return err
		}
	}
	d.digest = want
	return io.EOF
}

// streamError maps a failure to read the stream: an early end, or a
// damaged compressed stream, is a corrupt snapshot; a corrupt-snapshot
// error from below stays as it is, and so does a failure to read the file.
func streamError(err error) error {
	var flateErr flate.CorruptInputError
	switch {
	case errors.Is(err, ErrCorrupt):
		return err
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return corrupt("the rows end too soon")
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader), errors.As(err, &flateErr):
		return corrupt("the compressed rows are damaged")
	}
	return fmt.Errorf("read the snapshot: %w", err)
}
