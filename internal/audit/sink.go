package audit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
)

// segment is an output that must verify on its own: a file, or a stream.
type segment struct {
	open bool        // it holds a record the next event follows
	last int64       // the seq of the last record written, in any segment
	tail *Checkpoint // the last checkpoint written, in any segment
}

// follows reports whether r continues the segment: an event right after
// its last record, or a checkpoint at it.
func (s *segment) follows(r Record) bool {
	if !s.open {
		return true
	}
	if r.Event != nil {
		return r.Event.Seq == s.last+1
	}
	return r.seq() == s.last
}

// write writes r as an export line to w, after the checkpoint the segment
// must open with when r is its first event and past genesis: the last
// checkpoint written when it fits, else one signed with k. It returns how
// many bytes it wrote.
func (s *segment) write(w io.Writer, r Record, k *Keys, clock func() time.Time) (int64, error) {
	var n int64
	if e := r.Event; e != nil && !s.open && e.Seq > 1 {
		hdr := s.tail
		if hdr == nil || hdr.Seq != e.Seq-1 || !bytes.Equal(hdr.Head, e.PrevHash) {
			if k == nil {
				return 0, fault.E("audit.Sink", fault.Invalid, fmt.Sprintf("starting an export at seq %d needs the audit keys", e.Seq))
			}
			hdr = Sign(k, e.Seq-1, e.PrevHash, now(clock))
		}
		m, err := s.write(w, Record{Checkpoint: hdr}, k, clock)
		if err != nil {
			return m, err
		}
		n = m
	}
	b, err := MarshalRecord(r)
	if err != nil {
		return n, err
	}
	m, err := w.Write(append(b, '\n'))
	if err != nil {
		return n + int64(m), err
	}
	s.open, s.last = true, r.seq()
	if r.Checkpoint != nil {
		s.tail = r.Checkpoint
	}
	return n + int64(m), nil
}

// DefaultMaxFiles is how many rotated files a FileSink keeps when MaxFiles is 0.
const DefaultMaxFiles = 10

// FileSink writes an export to the file at Path, made durable (fsync) once
// per batch. Once the file reaches MaxBytes it is renamed Path.1 (Path.1
// becomes Path.2, and so on; past MaxFiles the oldest is removed) and a new
// file begins. Each file verifies on its own: one that does not start at
// the chain's genesis opens with a checkpoint at the seq before its first
// event, the last one written when it fits, else one signed with Keys.
type FileSink struct {
	Path     string
	MaxBytes int64 // 0: never rotate
	MaxFiles int   // DefaultMaxFiles when 0
	Keys     *Keys
	Clock    func() time.Time

	f    *os.File
	w    *bufio.Writer
	size int64
	seg  segment
	last Record
}

// Last returns the last record in the file, or in Path.1 when the file is
// empty. A line cut short by a crash is removed first. It returns an error
// when the file cannot be read or its last line does not decode.
func (s *FileSink) Last() (Record, error) {
	if err := s.openFile(); err != nil {
		return Record{}, err
	}
	return s.last, nil
}

// Write appends recs and syncs the file. After an error the sink reopens
// the file, so Last tells what was written.
func (s *FileSink) Write(recs []Record) (err error) {
	if err := s.openFile(); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			s.closeFile()
		}
	}()
	for _, r := range recs {
		if s.MaxBytes > 0 && s.size >= s.MaxBytes || !s.seg.follows(r) {
			if err := s.rotate(); err != nil {
				return err
			}
		}
		n, err := s.seg.write(s.w, r, s.Keys, s.Clock)
		s.size += n
		if err != nil {
			return fmt.Errorf("write %s: %w", s.Path, err)
		}
		s.last = r
	}
	return s.sync()
}

// Close closes the file.
func (s *FileSink) Close() error {
	if s.f == nil {
		return nil
	}
	err := s.sync()
	s.closeFile()
	return err
}

func (s *FileSink) sync() error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", s.Path, err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", s.Path, err)
	}
	return nil
}

func (s *FileSink) closeFile() {
	if s.f != nil {
		_ = s.f.Close()
	}
	s.f, s.w = nil, nil
}

// openFile opens the file for appending, dropping a torn last line, and
// learns where the export stands from its last record (or Path.1's).
func (s *FileSink) openFile() error {
	if s.f != nil {
		return nil
	}
	f, err := os.OpenFile(s.Path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open export: %w", err)
	}
	line, size, err := lastLine(f)
	if err == nil {
		_, err = f.Seek(size, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("read %s: %w", s.Path, err)
	}
	s.f, s.w, s.size, s.seg, s.last = f, bufio.NewWriterSize(f, 64<<10), size, segment{}, Record{}
	if line == nil {
		return s.learnFrom(s.Path + ".1")
	}
	return s.learn(line, true)
}

// learnFrom learns the export's position from the last line of the
// rotated file at path, if any: the current file is empty.
func (s *FileSink) learnFrom(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	line, _, err := lastLine(f)
	if err != nil || line == nil {
		return err
	}
	return s.learn(line, false)
}

func (s *FileSink) learn(line []byte, open bool) error {
	r, err := ParseRecord(line)
	if err != nil {
		return fmt.Errorf("the last line of the export does not decode: %w", err)
	}
	s.seg.open, s.seg.last, s.last = open, r.seq(), r
	if r.Checkpoint != nil {
		s.seg.tail = r.Checkpoint
	}
	return nil
}

// lastLine returns the last complete line of f without its newline, nil
// when there is none, and the size of f once a torn line after it (a
// crash in the middle of a write) is cut off.
func lastLine(f *os.File) ([]byte, int64, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	size := st.Size()
	n := min(size, maxLine+2)
	base := size - n // where buf starts in the file
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, base); err != nil {
		return nil, 0, err
	}
	end := bytes.LastIndexByte(buf, '\n')
	if end < 0 && base > 0 {
		return nil, 0, errors.New("the last line is too long")
	}
	if cut := base + int64(end) + 1; cut < size {
		if err := f.Truncate(cut); err != nil {
			return nil, 0, err
		}
		size = cut
	}
	if end < 0 {
		return nil, size, nil
	}
	start := bytes.LastIndexByte(buf[:end], '\n') + 1
	if start == 0 && base > 0 {
		return nil, 0, errors.New("the last line is too long")
	}
	return buf[start:end], size, nil
}

// rotate moves the file to Path.1, shifting older ones up, and starts a
// new one.
func (s *FileSink) rotate() error {
	if err := s.sync(); err != nil {
		return err
	}
	s.closeFile()
	keep := s.MaxFiles
	if keep <= 0 {
		keep = DefaultMaxFiles
	}
	name := func(i int) string { return s.Path + "." + strconv.Itoa(i) }
	if err := os.Remove(name(keep)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("rotate export: %w", err)
	}
	for i := keep - 1; i >= 1; i-- {
		if err := os.Rename(name(i), name(i+1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("rotate export: %w", err)
		}
	}
	if err := os.Rename(s.Path, name(1)); err != nil {
		return fmt.Errorf("rotate export: %w", err)
	}
	f, err := os.OpenFile(s.Path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("rotate export: %w", err)
	}
	s.f, s.w, s.size, s.seg.open = f, bufio.NewWriterSize(f, 64<<10), 0, false
	return syncDir(filepath.Dir(s.Path))
}

// syncDir makes renames in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// WriterSink writes an export to a stream such as standard output. A
// stream cannot be read back: an exporter writing to one resumes after the
// last record the sink wrote in this process, and starts from its From in
// a new one. The stream opens with a checkpoint (signed with Keys) when it
// does not start at genesis.
type WriterSink struct {
	W     io.Writer
	Keys  *Keys
	Clock func() time.Time

	seg  segment
	last Record
}

// Last returns the last record written, a zero Record before any.
func (s *WriterSink) Last() (Record, error) { return s.last, nil }

// Write writes recs with one Write call.
func (s *WriterSink) Write(recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	var buf bytes.Buffer
	for _, r := range recs {
		if !s.seg.follows(r) {
			s.seg.open = false // a stream cannot rotate: it shows the gap
		}
		if _, err := s.seg.write(&buf, r, s.Keys, s.Clock); err != nil {
			return err
		}
	}
	if _, err := s.W.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write export: %w", err)
	}
	s.last = recs[len(recs)-1]
	return nil
}
