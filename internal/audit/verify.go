package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"

	"github.com/coffer-secrets/coffer/internal/store"
)

// Kind classifies a problem Verify finds.
type Kind uint8

// The problems Verify reports.
const (
	Altered       Kind = iota + 1 // an event (or an export line) does not match its hash
	Missing                       // events are absent from the middle or the end of the chain
	Reordered                     // an event is out of its place
	BadCheckpoint                 // a checkpoint's signature or head does not hold
	BadStart                      // the chain's first event is not where the chain starts
)

var kindNames = [...]string{
	Altered: "altered", Missing: "missing", Reordered: "reordered",
	BadCheckpoint: "bad checkpoint", BadStart: "bad start",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Problem is the first thing wrong with a chain, and where.
type Problem struct {
	Seq    int64 // the event or checkpoint at fault; for Missing, the first missing event
	Line   int   // the line of an exported file, 0 for a store
	Kind   Kind
	Detail string // names sequence numbers and fields, never their contents
}

func (p *Problem) String() string {
	s := fmt.Sprintf("%s at seq %d", p.Kind, p.Seq)
	if p.Line > 0 {
		s += fmt.Sprintf(" (line %d)", p.Line)
	}
	return s + ": " + p.Detail
}

// Report sums up a verification. Problem is nil when the chain holds.
type Report struct {
	Events, Checkpoints int   // how many were checked
	FirstSeq, LastSeq   int64 // the first and last events checked; 0 when none
	Problem             *Problem
}

// Verify checks the chain src yields: contiguous sequence numbers, each
// event's hash and its link to the one before, each checkpoint's signature
// (by pub) and head, and the chain's start (genesis, or a checkpoint right
// before the first event that retention kept). It stops at the first
// problem and reports it. It returns an error only when src cannot be read.
func Verify(ctx context.Context, src Source, pub ed25519.PublicKey) (Report, error) {
	c := &chainCheck{pub: pub}
	var gap *gapScan
	err := src.Scan(ctx, func(r Record) error {
		if gap != nil {
			return gap.look(r)
		}
		if c.Problem = c.add(r); c.Problem == nil {
			return nil
		}
		if c.gapTo > 0 {
			gap = &gapScan{p: c.Problem, found: c.gapTo}
			return nil
		}
		return errStop
	})
	var bad *MalformedError
	switch {
	case errors.As(err, &bad) && c.Problem == nil:
		c.Problem = &Problem{Seq: c.last + 1, Line: bad.Line, Kind: Altered, Detail: bad.Reason}
	case err != nil && !errors.Is(err, errStop) && !errors.As(err, &bad):
		return c.Report, err
	case err == nil && c.Problem == nil:
		c.Problem = c.end()
	}
	return c.Report, nil
}

var errStop = errors.New("stop")

// gapScan reads on past a gap in the sequence: when the missing events
// come later the events were reordered, not removed.
type gapScan struct {
	p     *Problem
	found int64 // the event that came where the gap starts
}

func (g *gapScan) look(r Record) error {
	if e := r.Event; e != nil && e.Seq >= g.p.Seq && e.Seq < g.found {
		g.p.Kind, g.p.Seq = Reordered, g.found
		g.p.Detail = fmt.Sprintf("event %d comes before event %d", g.found, e.Seq)
		return errStop
	}
	return nil
}

// chainCheck follows a chain record by record.
type chainCheck struct {
	Report
	pub     ed25519.PublicKey
	started bool   // the chain's origin is established
	last    int64  // the last event checked (or the resume point)
	hash    []byte // its hash
	pending []*Checkpoint
	gapTo   int64 // set with a Missing problem: the event found after the gap
}

// resume continues a chain known to end at (seq, hash).
func (c *chainCheck) resume(seq int64, hash []byte) {
	c.started, c.last, c.hash = true, seq, hash
}

func (c *chainCheck) add(r Record) *Problem {
	switch {
	case r.Event != nil:
		return c.event(r.Event, r.Line)
	case r.Checkpoint != nil:
		return c.checkpoint(r.Checkpoint, r.Line)
	case r.Head != nil:
		return c.head(r.Head)
	}
	return nil
}

func (c *chainCheck) event(e *Event, line int) *Problem {
	var p *Problem
	if c.started {
		p = c.follow(e, line)
	} else {
		p = c.start(e, line)
	}
	if p != nil {
		return p
	}
	for len(c.pending) > 0 && c.pending[0].Seq <= e.Seq {
		cp := c.pending[0]
		c.pending = c.pending[1:]
		if !bytes.Equal(cp.Head, e.Hash) {
			return &Problem{Seq: cp.Seq, Line: line, Kind: BadCheckpoint,
				Detail: fmt.Sprintf("the checkpoint at seq %d does not match event %d's hash", cp.Seq, e.Seq)}
		}
	}
	if c.FirstSeq == 0 {
		c.FirstSeq = e.Seq
	}
	c.last, c.hash, c.LastSeq = e.Seq, e.Hash, e.Seq
	c.Events++
	return nil
}

// start checks the first event: it follows genesis, or the head of a
// checkpoint at the sequence number right before it.
func (c *chainCheck) start(e *Event, line int) *Problem {
	prev, from := genesis, "genesis"
	if e.Seq != 1 {
		prev, from = nil, fmt.Sprintf("a checkpoint at seq %d", e.Seq-1)
		for _, cp := range c.pending {
			if cp.Seq == e.Seq-1 {
				prev = cp.Head
			}
		}
	}
	for len(c.pending) > 0 && c.pending[0].Seq < e.Seq {
		c.pending = c.pending[1:]
	}
	c.started = true
	if prev == nil {
		return &Problem{Seq: e.Seq, Line: line, Kind: BadStart,
			Detail: fmt.Sprintf("the chain starts at event %d with no checkpoint at seq %d: earlier events are missing", e.Seq, e.Seq-1)}
	}
	if bytes.Equal(Hash(e.PrevHash, e), e.Hash) && !bytes.Equal(e.PrevHash, prev) {
		return &Problem{Seq: e.Seq, Line: line, Kind: BadStart, Detail: fmt.Sprintf("event %d does not follow %s", e.Seq, from)}
	}
	return link(e, prev, line)
}

// follow checks an event after the first.
func (c *chainCheck) follow(e *Event, line int) *Problem {
	switch {
	case e.Seq <= c.last:
		return &Problem{Seq: e.Seq, Line: line, Kind: Reordered,
			Detail: fmt.Sprintf("event %d comes after event %d", e.Seq, c.last)}
	case e.Seq > c.last+1:
		c.gapTo = e.Seq
		return &Problem{Seq: c.last + 1, Line: line, Kind: Missing,
			Detail: missing(c.last+1, e.Seq-1)}
	}
	return link(e, c.hash, line)
}

// link checks e's own hash and that it follows prev, and tells an edited
// field from an event moved to another place.
func link(e *Event, prev []byte, line int) *Problem {
	self := bytes.Equal(Hash(e.PrevHash, e), e.Hash)
	linked := bytes.Equal(e.PrevHash, prev)
	p := &Problem{Seq: e.Seq, Line: line}
	switch {
	case self && linked:
		return nil
	case linked:
		p.Kind, p.Detail = Altered, fmt.Sprintf("event %d does not match its hash: a field was edited", e.Seq)
	case !self && bytes.Equal(Hash(prev, e), e.Hash):
		p.Kind, p.Detail = Altered, fmt.Sprintf("event %d: prev_hash was edited", e.Seq)
	case !self:
		p.Kind, p.Detail = Reordered, fmt.Sprintf("event %d holds an event from another position", e.Seq)
	default:
		p.Kind, p.Detail = Altered, fmt.Sprintf("event %d does not follow the event before it: one of them was rewritten", e.Seq)
	}
	return p
}

func (c *chainCheck) checkpoint(cp *Checkpoint, line int) *Problem {
	bad := func(detail string) *Problem {
		return &Problem{Seq: cp.Seq, Line: line, Kind: BadCheckpoint, Detail: detail}
	}
	if err := VerifyCheckpoint(c.pub, cp); err != nil {
		return bad(fmt.Sprintf("the checkpoint at seq %d is not signed by the audit key", cp.Seq))
	}
	if cp.Seq < 1 || len(cp.Head) != HashSize {
		return bad("the checkpoint is malformed")
	}
	c.Checkpoints++
	switch {
	case c.started && cp.Seq < c.last:
		return &Problem{Seq: cp.Seq, Line: line, Kind: Reordered,
			Detail: fmt.Sprintf("the checkpoint at seq %d comes after event %d", cp.Seq, c.last)}
	case c.started && cp.Seq == c.last:
		if !bytes.Equal(cp.Head, c.hash) {
			return bad(fmt.Sprintf("the checkpoint at seq %d does not match event %d's hash", cp.Seq, cp.Seq))
		}
		return nil
	}
	if !c.started { // only the latest checkpoint before the first event matters
		for len(c.pending) > 0 && c.pending[0].Seq < cp.Seq {
			c.pending = c.pending[1:]
		}
	}
	c.pending = append(c.pending, cp)
	return nil
}

func missing(from, to int64) string {
	if from == to {
		return fmt.Sprintf("event %d is missing", from)
	}
	return fmt.Sprintf("events %d to %d are missing", from, to)
}

// head checks a store's own record of its head against the events.
func (c *chainCheck) head(h *ChainHead) *Problem {
	switch {
	case h.Seq == c.last && c.Events > 0:
		if !bytes.Equal(h.Hash, c.hash) {
			return &Problem{Seq: h.Seq, Kind: Altered, Detail: fmt.Sprintf("the chain head does not match event %d's hash", h.Seq)}
		}
	case c.Events == 0 && h.Seq > 0:
		for _, cp := range c.pending {
			if cp.Seq == h.Seq && bytes.Equal(cp.Head, h.Hash) {
				c.pending = nil // every event was removed by retention
				return nil
			}
		}
		return &Problem{Seq: h.Seq, Kind: Missing, Detail: fmt.Sprintf("the chain head is at seq %d but no event is left", h.Seq)}
	case h.Seq > c.last:
		return &Problem{Seq: c.last + 1, Kind: Missing, Detail: missing(c.last+1, h.Seq)}
	case h.Seq < c.last:
		return &Problem{Seq: h.Seq + 1, Kind: Altered, Detail: fmt.Sprintf("events %d to %d lie past the chain head", h.Seq+1, c.last)}
	}
	return nil
}

// end checks what is left once every record was read: a checkpoint past
// the last event means events were cut from the end.
func (c *chainCheck) end() *Problem {
	if c.Events > 0 && len(c.pending) > 0 {
		cp := c.pending[len(c.pending)-1]
		return &Problem{Seq: c.last + 1, Kind: Missing,
			Detail: missing(c.last+1, cp.Seq) + ": a checkpoint vouches for it"}
	}
	return nil
}

// Source yields an audit chain's records: events in sequence order, each
// checkpoint after the event it covers (or before the first event when it
// covers an earlier one).
type Source interface {
	// Scan calls fn with each record in order until fn returns an error,
	// and returns that error, a *MalformedError for a record that does not
	// decode, or the error reading the source.
	Scan(ctx context.Context, fn func(Record) error) error
}

// ChainHead is a store's own, unsigned note of the chain's last event.
type ChainHead struct {
	Seq  int64
	Hash []byte
}

// storePage is how many events or checkpoints a store source reads at once.
const storePage = 1000

type storeSource struct{ st store.Store }

// StoreSource returns a Source reading st's chain from one consistent
// snapshot, a page at a time, and last the chain head st recorded.
func StoreSource(st store.Store) Source { return storeSource{st} }

func (s storeSource) Scan(ctx context.Context, fn func(Record) error) error {
	return s.st.View(ctx, func(tx store.Tx) error {
		seq, hash, err := tx.AuditHead(ctx)
		if err != nil {
			return err
		}
		if err := mergeChain(ctx, tx, 0, 0, 0, fn); err != nil {
			return err
		}
		return fn(Record{Head: &ChainHead{Seq: seq, Hash: hash}})
	})
}

// mergeChain calls fn with the events after afterSeq, at most limit of
// them (all when limit is 0), and the checkpoints from cpFrom, merged by
// sequence number: a checkpoint comes after its event. When the limit cuts
// the events short, checkpoints past the last event read are left out.
func mergeChain(ctx context.Context, tx store.Tx, afterSeq, cpFrom int64, limit int, fn func(Record) error) error {
	page := storePage
	if limit > 0 && limit < page {
		page = limit
	}
	evs := pager[*Event]{after: afterSeq, seq: func(e *Event) int64 { return e.Seq },
		fetch: func(after int64) ([]*Event, error) {
			return tx.Events(ctx, store.EventQuery{AfterSeq: after, Limit: page})
		}}
	cps := pager[*Checkpoint]{after: cpFrom - 1, seq: func(c *Checkpoint) int64 { return c.Seq },
		fetch: func(after int64) ([]*Checkpoint, error) { return tx.Checkpoints(ctx, after+1, storePage) }}
	for read := 0; limit <= 0 || read < limit; {
		e, c, err := peek2(&evs, &cps)
		switch {
		case err != nil:
		case c != nil && (e == nil || c.Seq < e.Seq):
			err = fn(Record{Checkpoint: cps.next()})
		case e != nil:
			read++
			err = fn(Record{Event: evs.next()})
		default:
			return nil
		}
		if err != nil {
			return err
		}
	}
	if c, err := cps.peek(); err != nil || c == nil || c.Seq != evs.after {
		return err
	}
	return fn(Record{Checkpoint: cps.next()})
}

func peek2(evs *pager[*Event], cps *pager[*Checkpoint]) (*Event, *Checkpoint, error) {
	e, err := evs.peek()
	if err != nil {
		return nil, nil, err
	}
	c, err := cps.peek()
	return e, c, err
}

// pager reads a seq-ordered table a page at a time.
type pager[T any] struct {
	fetch func(after int64) ([]T, error)
	seq   func(T) int64
	after int64
	page  []T
	done  bool
}

func (p *pager[T]) peek() (T, error) {
	var zero T
	if len(p.page) == 0 && !p.done {
		page, err := p.fetch(p.after)
		if err != nil {
			return zero, err
		}
		p.page, p.done = page, len(page) == 0
	}
	if len(p.page) == 0 {
		return zero, nil
	}
	return p.page[0], nil
}

func (p *pager[T]) next() T {
	v := p.page[0]
	p.page = p.page[1:]
	p.after = p.seq(v)
	return v
}

// maxLine bounds an export line; a longer one is malformed.
const maxLine = 1 << 20

type fileSource struct{ r io.Reader }

// FileSource returns a Source reading an export in JSON lines (see
// MarshalRecord) from r.
func FileSource(r io.Reader) Source { return fileSource{r} }

func (s fileSource) Scan(ctx context.Context, fn func(Record) error) error {
	br := bufio.NewReaderSize(s.r, 64<<10)
	for n := 1; ; n++ {
		line, err := readLine(br)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if errors.Is(err, errLongLine) {
			return &MalformedError{Line: n, Reason: fmt.Sprintf("line %d is too long", n)}
		}
		if err != nil {
			return err
		}
		r, err := ParseRecord(line)
		if err != nil {
			return &MalformedError{Line: n, Reason: fmt.Sprintf("line %d is not a valid export record", n)}
		}
		r.Line = n
		if err := fn(r); err != nil {
			return err
		}
		if n%storePage == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

var errLongLine = errors.New("line too long")

// readLine returns the next line without its newline; io.EOF at the end.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxLine {
			return nil, errLongLine
		}
		switch {
		case err == nil:
			return line[:len(line)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) > 0:
			return line, nil
		default:
			return nil, err
		}
	}
}
