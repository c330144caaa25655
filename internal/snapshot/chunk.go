package snapshot

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/coffer-secrets/coffer/internal/keys/aead"
)

// The encrypted stream is a run of chunks, each
//
//	flag    1 byte: 0 for a chunk that more chunks follow, 1 for the last
//	length  uint32, big-endian: the length of sealed
//	sealed  AES-256-GCM of up to ChunkSize plaintext bytes under the data key
//
// The nonce of chunk i (from 0) is 4 zero bytes then i as a big-endian
// uint64; the additional data is the SHA-256 of everything before the
// chunks, then the flag. A chunk moved, dropped, repeated or re-flagged
// fails authentication; a file cut at a chunk boundary lacks the last
// chunk; bytes after the last chunk are refused.
const (
	flagMore  = 0
	flagFinal = 1
	frameSize = 5 // flag and length
)

// newGCM returns AES-256-GCM under key.
func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != aead.KeySize {
		return nil, fmt.Errorf("data key is %d bytes, want %d", len(key), aead.KeySize)
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

func nonce(counter uint64) []byte {
	n := make([]byte, 12)
	binary.BigEndian.PutUint64(n[4:], counter)
	return n
}

func chunkAAD(digest []byte, flag byte) []byte {
	return append(append(make([]byte, 0, len(digest)+1), digest...), flag)
}

// chunkWriter seals what is written to it in chunks. A full chunk is
// sealed only once more data arrives, so Close can flag the last one.
type chunkWriter struct {
	w       io.Writer
	gcm     cipher.AEAD
	digest  []byte
	size    int
	buf     []byte
	sealed  []byte
	counter uint64
}

func newChunkWriter(w io.Writer, gcm cipher.AEAD, digest []byte, size int) *chunkWriter {
	return &chunkWriter{w: w, gcm: gcm, digest: digest, size: size, buf: make([]byte, 0, size)}
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if len(c.buf) == c.size {
			if err := c.emit(flagMore); err != nil {
				return n - len(p), err
			}
		}
		k := copy(c.buf[len(c.buf):c.size], p)
		c.buf, p = c.buf[:len(c.buf)+k], p[k:]
	}
	return n, nil
}

// Close seals the last chunk; it does not close the underlying writer.
func (c *chunkWriter) Close() error { return c.emit(flagFinal) }

func (c *chunkWriter) emit(flag byte) error {
	c.sealed = c.gcm.Seal(c.sealed[:0], nonce(c.counter), c.buf, chunkAAD(c.digest, flag))
	var frame [frameSize]byte
	frame[0] = flag
	binary.BigEndian.PutUint32(frame[1:], uint32(len(c.sealed)))
	if _, err := c.w.Write(frame[:]); err != nil {
		return err
	}
	if _, err := c.w.Write(c.sealed); err != nil {
		return err
	}
	c.counter++
	c.buf = c.buf[:0]
	return nil
}

// chunkReader opens the chunks chunkWriter sealed. It is an io.ByteReader
// too, so a decompressor reading it reads no further than it needs.
type chunkReader struct {
	r       io.Reader
	gcm     cipher.AEAD
	digest  []byte
	max     int // the longest sealed chunk
	sealed  []byte
	buf     []byte // the current chunk's plaintext
	pos     int
	counter uint64
	final   bool // the last chunk was read
	err     error
}

func newChunkReader(r io.Reader, gcm cipher.AEAD, digest []byte, size int) *chunkReader {
	return &chunkReader{r: r, gcm: gcm, digest: digest, max: size + gcm.Overhead()}
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for c.pos == len(c.buf) {
		if err := c.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, c.buf[c.pos:])
	c.pos += n
	return n, nil
}

func (c *chunkReader) ReadByte() (byte, error) {
	for c.pos == len(c.buf) {
		if err := c.next(); err != nil {
			return 0, err
		}
	}
	c.pos++
	return c.buf[c.pos-1], nil
}

// next reads and opens the next chunk; io.EOF after the last one.
func (c *chunkReader) next() error {
	if c.err == nil {
		c.err = c.open()
	}
	return c.err
}

func (c *chunkReader) open() error {
	if c.final {
		return io.EOF
	}
	var frame [frameSize]byte
	if _, err := io.ReadFull(c.r, frame[:]); err != nil {
		return truncated(err)
	}
	flag, n := frame[0], binary.BigEndian.Uint32(frame[1:])
	if flag > flagFinal || n < uint32(c.gcm.Overhead()) || n > uint32(c.max) {
		return corrupt(fmt.Sprintf("chunk %d has a malformed frame", c.counter))
	}
	if cap(c.sealed) < int(n) {
		c.sealed = make([]byte, c.max)
	}
	c.sealed = c.sealed[:n]
	if _, err := io.ReadFull(c.r, c.sealed); err != nil {
		return truncated(err)
	}
	buf, err := c.gcm.Open(c.buf[:0], nonce(c.counter), c.sealed, chunkAAD(c.digest, flag))
	if err != nil {
		return corrupt(fmt.Sprintf("chunk %d fails authentication", c.counter))
	}
	c.buf, c.pos = buf, 0
	c.counter++
	c.final = flag == flagFinal
	return nil
}

// finish checks the stream ended where the plaintext's reader stopped:
// the last chunk was read, all of it, and nothing follows it.
func (c *chunkReader) finish() error {
	if c.err != nil && !errors.Is(c.err, io.EOF) {
		return c.err
	}
	if !c.final {
		return corrupt("the encrypted stream ends before its last chunk")
	}
	if c.pos != len(c.buf) {
		return corrupt("data follows the end of the rows")
	}
	var b [1]byte
	if n, _ := io.ReadFull(c.r, b[:]); n > 0 {
		return corrupt("data follows the last chunk")
	}
	return nil
}

// truncated maps a short read: the file ends too soon.
func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return corrupt("the file is truncated")
	}
	return err
}
