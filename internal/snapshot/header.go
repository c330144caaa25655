package snapshot

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/keys"
	"github.com/coffer-secrets/coffer/internal/store"
)

// Format is the version of the file format this package writes and reads.
const Format = 1

const (
	magic        = "coffer-snapshot\n"
	compression  = "gzip"
	cipherName   = "AES-256-GCM"
	chunkSize    = 64 << 10
	maxChunkSize = 1 << 20
	maxHeader    = 1 << 20
	maxWrapped   = 64 << 10
)

// Header describes a snapshot. It is stored in clear at the start of the
// file, and authenticated: the data key's wrapping and every chunk are
// bound to it.
type Header struct {
	Format  int       `json:"format"`
	Schema  int       `json:"schema"` // store.SnapshotSchema of the rows
	Created time.Time `json:"created"`
	// Backend is the store the snapshot was taken from: sqlite, postgres.
	Backend string `json:"backend"`
	// Note is the operator's, free text.
	Note string `json:"note,omitempty"`
	// RootKey describes the root-key provider that wrapped the data key,
	// so an operator knows which key a restore needs.
	RootKey     string        `json:"root_key"`
	Compression string        `json:"compression"`
	Cipher      string        `json:"cipher"`
	ChunkSize   int           `json:"chunk_size"`
	Tables      []TableHeader `json:"tables"`
}

// TableHeader is one table of a snapshot: its columns, in the order the
// rows hold their values, and how many rows it has.
type TableHeader struct {
	Name    string   `json:"name"`
	Columns []string `json:"columns"`
	Rows    int64    `json:"rows"`
}

// Rows returns the number of rows of every table.
func (h Header) Rows() int64 {
	var n int64
	for _, t := range h.Tables {
		n += t.Rows
	}
	return n
}

// newHeader completes the caller's header with the format's fields and the
// tables' counts.
func newHeader(meta Header, counts map[string]int64, rootKey string) Header {
	h := Header{Format: Format, Schema: store.SnapshotSchema, Created: meta.Created, Backend: meta.Backend,
		Note: meta.Note, RootKey: rootKey, Compression: compression, Cipher: cipherName, ChunkSize: chunkSize}
	if h.Created.IsZero() {
		h.Created = time.Now()
	}
	h.Created = h.Created.UTC().Truncate(time.Millisecond)
	for _, t := range store.SnapshotTables {
		h.Tables = append(h.Tables, TableHeader{Name: t.Name, Columns: t.ColumnNames(), Rows: counts[t.Name]})
	}
	return h
}

// encodePrefix returns the magic, the header's length and the header.
func encodePrefix(h Header) ([]byte, error) {
	js, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	b := append([]byte(magic), 0, 0, 0, 0)
	binary.BigEndian.PutUint32(b[len(magic):], uint32(len(js)))
	return append(b, js...), nil
}

// keyAAD binds the wrapped data key to the prefix: the header cannot
// change without the key failing to unwrap.
func keyAAD(prefix []byte) []byte {
	sum := sha256.Sum256(prefix)
	return keys.AAD("coffer/snapshot-key", hex.EncodeToString(sum[:]))
}

// appendKey appends the wrapped data key, with its length, to prefix.
func appendKey(prefix, wrapped []byte) []byte {
	b := binary.BigEndian.AppendUint32(slices.Clip(prefix), uint32(len(wrapped)))
	return append(b, wrapped...)
}

// streamDigest is what every chunk is bound to: the whole clear part of
// the file.
func streamDigest(clear []byte) []byte {
	sum := sha256.Sum256(clear)
	return sum[:]
}

// readPrefix reads the clear part of a file: the header, checked, and the
// wrapped data key. It returns the prefix up to the header and all of it.
func readPrefix(r io.Reader) (h Header, prefix, clear, wrapped []byte, err error) {
	b := make([]byte, len(magic)+4)
	if _, err := io.ReadFull(r, b); err != nil {
		return h, nil, nil, nil, truncated(err)
	}
	if string(b[:len(magic)]) != magic {
		return h, nil, nil, nil, corrupt("the file does not start as a Coffer snapshot")
	}
	js, err := readBlock(r, binary.BigEndian.Uint32(b[len(magic):]), maxHeader, "header")
	if err != nil {
		return h, nil, nil, nil, err
	}
	if err := json.Unmarshal(js, &h); err != nil {
		return h, nil, nil, nil, corrupt("the header cannot be parsed")
	}
	if err := h.check(); err != nil {
		return h, nil, nil, nil, err
	}
	prefix = append(b, js...)
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return h, nil, nil, nil, truncated(err)
	}
	if wrapped, err = readBlock(r, binary.BigEndian.Uint32(n[:]), maxWrapped, "wrapped key"); err != nil {
		return h, nil, nil, nil, err
	}
	return h, prefix, appendKey(prefix, wrapped), wrapped, nil
}

func readBlock(r io.Reader, n uint32, limit int, what string) ([]byte, error) {
	if n == 0 || n > uint32(limit) {
		return nil, corrupt(fmt.Sprintf("the %s's length is out of range", what))
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, truncated(err)
	}
	return b, nil
}

// check refuses a header this binary cannot read, or that cannot be right.
func (h Header) check() error {
	switch {
	case h.Format != Format:
		return fault.E("snapshot", fault.Unsupported, fmt.Sprintf(
			"snapshot format %d is not one this binary reads (format %d)", h.Format, Format))
	case h.Schema > store.SnapshotSchema:
		return fault.E("snapshot", fault.Unsupported, fmt.Sprintf(
			"snapshot schema version %d is newer than this binary's %d: restore it with the release that saved it, or a later one",
			h.Schema, store.SnapshotSchema))
	case h.Schema < 1:
		return corrupt("the header's schema version is out of range")
	case h.Compression != compression || h.Cipher != cipherName:
		return fault.E("snapshot", fault.Unsupported, fmt.Sprintf(
			"snapshot compression %q or cipher %q is not one this binary reads", h.Compression, h.Cipher))
	case h.ChunkSize < 1 || h.ChunkSize > maxChunkSize:
		return corrupt("the header's chunk size is out of range")
	}
	return checkTables(h.Tables)
}

// checkTables refuses tables the store does not know, out of dependency
// order, or with unknown or repeated columns.
func checkTables(tables []TableHeader) error {
	last := -1
	for _, t := range tables {
		table, pos, ok := store.SnapshotTable(t.Name)
		if !ok || pos <= last || t.Rows < 0 {
			return corrupt(fmt.Sprintf("the header's table %q is unknown, repeated or out of order", t.Name))
		}
		last = pos
		for i, c := range t.Columns {
			if _, ok := table.Column(c); !ok || slices.Index(t.Columns, c) != i {
				return corrupt(fmt.Sprintf("the header's column %s.%s is unknown or repeated", t.Name, c))
			}
		}
	}
	return nil
}
