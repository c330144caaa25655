// Package snapshot saves a whole Coffer database to one file, and restores
// it into a new database of either backend: a consistent, encrypted,
// verifiable copy of every record (secrets, versions, keys as the root key
// wraps them, IAM, audit, usage, settings), taken while the server runs.
//
// Consistency comes from the store: store.Snapshotter.Dump reads every
// table in one read transaction (SQLite's WAL snapshot, PostgreSQL's
// REPEATABLE READ READ ONLY), and writers go on meanwhile. The rows are in
// the neutral format of store.SnapshotTables, so a snapshot of SQLite
// restores into PostgreSQL and back.
//
// # File format (Format 1)
//
//	magic    "coffer-snapshot\n"
//	header   uint32 big-endian length, then the Header as JSON: format,
//	         schema version, creation time, source backend, root-key
//	         description, compression, cipher, chunk size, and each
//	         table's columns and row count
//	key      uint32 big-endian length, then a fresh 256-bit data key
//	         wrapped by the root key (root.Provider.Wrap), with additional
//	         data binding the SHA-256 of magic and header
//	chunks   the row stream (rows.go), gzip-compressed, then sealed with
//	         AES-256-GCM under the data key in chunks of ChunkSize (64 KiB)
//	         plaintext bytes (chunk.go): a counter nonce, the SHA-256 of
//	         everything before the chunks as additional data, and a flag
//	         on the last chunk, so a reordered, altered or cut file fails
//
// The row stream ends with the SHA-256 of the rows, checked on reading,
// and a reader checks every table's row count against the header. Only
// the root key that saved a snapshot (or a provider that unwraps what it
// wrapped, such as a root.Chain during a root-key rotation) can read it:
// keep the root key, backed up apart from the snapshots.
//
// Restore loads into a new, empty database (migrated, no records) in one
// transaction: nothing is kept unless the whole file verifies. A snapshot
// of a newer schema version than this binary's is refused.
package snapshot

import (
	"compress/gzip"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/keys/aead"
	"github.com/coffer-secrets/coffer/internal/keys/root"
	"github.com/coffer-secrets/coffer/internal/store"
)

// ErrCorrupt is wrapped by every error that says a file is damaged,
// truncated or was altered.
var ErrCorrupt = errors.New("the snapshot is corrupt or was altered")

func corrupt(msg string) error {
	return &fault.Error{Op: "snapshot", Kind: fault.Invalid, Msg: msg, Err: ErrCorrupt}
}

// Report describes a snapshot saved, restored or verified.
type Report struct {
	Header Header `json:"header"`
	// Rows is the number of rows of every table.
	Rows int64 `json:"rows"`
	// Bytes is the size of the file.
	Bytes int64 `json:"bytes"`
	// SHA256 is the hex SHA-256 of the row stream, the plaintext.
	SHA256 string `json:"sha256"`
}

// Save writes a snapshot of st to w. The caller sets meta's Backend, Note
// and Created (the current time when zero); Save sets the rest. It
// returns a fault.Unsupported error when st is no store.Snapshotter, the
// root provider's error when it cannot wrap the data key, and otherwise
// the store's or w's error. On failure w holds part of a file, which
// Restore and Verify refuse.
func Save(ctx context.Context, st store.Store, w io.Writer, rk root.Provider, meta Header) (Report, error) {
	snap, ok := st.(store.Snapshotter)
	if !ok {
		return Report{}, fault.E("snapshot.Save", fault.Unsupported, "this store cannot be snapshotted")
	}
	key, err := aead.NewKey()
	if err != nil {
		return Report{}, err
	}
	defer clear(key)
	cw := &countingWriter{w: w}
	s := &saver{w: cw, root: rk, key: key, meta: meta}
	if err := snap.Dump(ctx, func(counts map[string]int64) error { return s.begin(ctx, counts) }, s.row); err != nil {
		return Report{}, err
	}
	sum, err := s.finish()
	if err != nil {
		return Report{}, err
	}
	return Report{Header: s.header, Rows: s.header.Rows(), Bytes: cw.n, SHA256: hex.EncodeToString(sum)}, nil
}

// saver writes the file as Dump calls it back.
type saver struct {
	w      io.Writer
	root   root.Provider
	key    []byte
	meta   Header
	header Header
	chunks *chunkWriter
	zw     *gzip.Writer
	rows   *rowWriter
}

// begin writes the clear part of the file, once the counts are known.
func (s *saver) begin(ctx context.Context, counts map[string]int64) error {
	s.header = newHeader(s.meta, counts, s.root.Describe())
	prefix, err := encodePrefix(s.header)
	if err != nil {
		return err
	}
	wrapped, err := s.root.Wrap(ctx, s.key, keyAAD(prefix))
	if err != nil {
		return fmt.Errorf("wrap the snapshot's data key: %w", err)
	}
	clearPart := appendKey(prefix, wrapped)
	if _, err := s.w.Write(clearPart); err != nil {
		return err
	}
	gcm, err := newGCM(s.key)
	if err != nil {
		return err
	}
	s.chunks = newChunkWriter(s.w, gcm, streamDigest(clearPart), chunkSize)
	s.zw = gzip.NewWriter(s.chunks)
	s.rows = newRowWriter(s.zw, s.header.Tables)
	return nil
}

func (s *saver) row(r store.Row) error {
	if err := s.rows.write(r); err != nil {
		return fault.Wrap("snapshot.Save", fault.Internal, "the store's rows do not match its counts", err)
	}
	return nil
}

// finish ends the rows, the compression and the chunks, and returns the
// rows' digest.
func (s *saver) finish() ([]byte, error) {
	sum, err := s.rows.close()
	if err != nil {
		return nil, fault.Wrap("snapshot.Save", fault.Internal, "the store's rows do not match its counts", err)
	}
	if err := s.zw.Close(); err != nil {
		return nil, err
	}
	return sum, s.chunks.Close()
}

// countingWriter counts what it writes.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Restore loads the snapshot r holds into st, which must be a new, empty
// database. It verifies the whole file on the way, in the one transaction
// that loads it, so it keeps nothing when any check fails. It returns a
// fault error: Unsupported when st is no store.Snapshotter or the file is
// of a newer format or schema; KeyUnavailable when rk cannot unwrap the
// data key (another root key, or an altered header); Invalid, wrapping
// ErrCorrupt, when the file is damaged, truncated or altered; WrongState
// when st holds records; or the store's error.
func Restore(ctx context.Context, st store.Store, r io.Reader, rk root.Provider) (Report, error) {
	snap, ok := st.(store.Snapshotter)
	if !ok {
		return Report{}, fault.E("snapshot.Restore", fault.Unsupported, "this store cannot be restored into")
	}
	rd, err := open(ctx, r, rk)
	if err != nil {
		return Report{}, err
	}
	if err := snap.Load(ctx, rd.rows.next); err != nil {
		return Report{}, err
	}
	return rd.report()
}

// Verify reads the snapshot r holds as Restore would, storing nothing. It
// returns the errors of Restore that concern the file.
func Verify(ctx context.Context, r io.Reader, rk root.Provider) (Report, error) {
	rd, err := open(ctx, r, rk)
	if err != nil {
		return Report{}, err
	}
	for {
		_, err := rd.rows.next()
		if errors.Is(err, io.EOF) {
			return rd.report()
		}
		if err != nil {
			return Report{}, err
		}
	}
}

// reader reads a snapshot file.
type reader struct {
	header Header
	file   *countingReader
	chunks *chunkReader
	zr     *gzip.Reader
	rows   *rowReader
}

// open reads the clear part of a file, unwraps the data key and sets up
// the readers of the rows.
func open(ctx context.Context, r io.Reader, rk root.Provider) (*reader, error) {
	cr := &countingReader{r: r}
	h, prefix, clearPart, wrapped, err := readPrefix(cr)
	if err != nil {
		return nil, err
	}
	key, err := rk.Unwrap(ctx, wrapped, keyAAD(prefix))
	if err != nil {
		if fault.Is(err, fault.Unavailable) {
			return nil, err
		}
		return nil, fault.Wrap("snapshot", fault.KeyUnavailable, "cannot unwrap the snapshot's data key: "+
			"the root key is not the one the snapshot was saved with ("+h.RootKey+"), or the header was altered", err)
	}
	defer clear(key)
	gcm, err := newGCM(key)
	if err != nil {
		return nil, corrupt("the data key is malformed")
	}
	rd := &reader{header: h, file: cr, chunks: newChunkReader(cr, gcm, streamDigest(clearPart), h.ChunkSize)}
	if rd.zr, err = gzip.NewReader(rd.chunks); err != nil {
		return nil, streamError(err)
	}
	rd.zr.Multistream(false)
	rd.rows = newRowReader(rd.zr, h.Tables)
	rd.rows.tail = rd.chunks.finish
	return rd, nil
}

// report describes a file read to its end.
func (rd *reader) report() (Report, error) {
	if rd.rows.digest == nil {
		return Report{}, corrupt("the rows were not read to their end")
	}
	return Report{Header: rd.header, Rows: rd.header.Rows(), Bytes: rd.file.n,
		SHA256: hex.EncodeToString(rd.rows.digest)}, nil
}

// countingReader counts what it reads.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
