package audit

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// Record is one item of an audit stream: an event, a checkpoint, or (last
// from a store) the store's note of its head. Exactly one is set.
type Record struct {
	Line       int // the record's line in an exported file; 0 elsewhere
	Event      *Event
	Checkpoint *Checkpoint
	Head       *ChainHead
}

// seq returns the sequence number the record is at.
func (r Record) seq() int64 {
	switch {
	case r.Event != nil:
		return r.Event.Seq
	case r.Checkpoint != nil:
		return r.Checkpoint.Seq
	case r.Head != nil:
		return r.Head.Seq
	}
	return 0
}

// MalformedError reports an export line that does not decode.
type MalformedError struct {
	Line   int
	Reason string // names the line, never its content
}

func (e *MalformedError) Error() string { return e.Reason }

// eventLine is an event as exported: every field, hashes in hex, the time
// both for people (RFC 3339, UTC) and for the hash (unix milliseconds).
type eventLine struct {
	Type          string   `json:"type"`
	Seq           int64    `json:"seq"`
	Time          string   `json:"time"`
	TimeMS        int64    `json:"time_ms"`
	Account       string   `json:"account"`
	PrincipalID   string   `json:"principal_id"`
	PrincipalName string   `json:"principal_name"`
	PrincipalKind string   `json:"principal_kind"`
	Session       string   `json:"session"`
	AccessKeyID   string   `json:"access_key_id"`
	SourceIP      string   `json:"source_ip"`
	UserAgent     string   `json:"user_agent"`
	Region        string   `json:"region"`
	Family        string   `json:"family"`
	Action        string   `json:"action"`
	ReadOnly      bool     `json:"read_only"`
	Resource      string   `json:"resource"`
	VersionID     string   `json:"version_id"`
	RequestID     string   `json:"request_id"`
	ErrorCode     string   `json:"error_code"`
	Params        string   `json:"params"`
	PrevHash      string   `json:"prev_hash"`
	Hash          string   `json:"hash"`
	Base64        []string `json:"base64,omitempty"` // fields that are not UTF-8, given in base64
}

// text returns the line's text fields by name, for the base64 escape.
func (l *eventLine) text() []struct {
	name string
	p    *string
} {
	return []struct {
		name string
		p    *string
	}{
		{"account", &l.Account}, {"principal_id", &l.PrincipalID}, {"principal_name", &l.PrincipalName},
		{"principal_kind", &l.PrincipalKind}, {"session", &l.Session}, {"access_key_id", &l.AccessKeyID},
		{"source_ip", &l.SourceIP}, {"user_agent", &l.UserAgent}, {"region", &l.Region},
		{"family", &l.Family}, {"action", &l.Action}, {"resource", &l.Resource},
		{"version_id", &l.VersionID}, {"request_id", &l.RequestID}, {"error_code", &l.ErrorCode},
		{"params", &l.Params},
	}
}

type checkpointLine struct {
	Type      string `json:"type"`
	Seq       int64  `json:"seq"`
	Time      string `json:"time"`
	TimeMS    int64  `json:"time_ms"`
	Head      string `json:"head"`
	KeyID     string `json:"key_id"`
	Signature string `json:"signature"`
}

// MarshalRecord returns the export line of an event or a checkpoint,
// without its newline. Text that is not UTF-8 (JSON cannot carry it) is
// given in base64 and named in the line's "base64" list, so the line still
// hashes as the event did. It returns an error for any other record.
func MarshalRecord(r Record) ([]byte, error) {
	switch {
	case r.Event != nil:
		return json.Marshal(eventToLine(r.Event))
	case r.Checkpoint != nil:
		c := r.Checkpoint
		return json.Marshal(checkpointLine{Type: "checkpoint", Seq: c.Seq, Time: rfc3339(c.Time), TimeMS: c.Time.UnixMilli(),
			Head: hex.EncodeToString(c.Head), KeyID: c.KeyID, Signature: hex.EncodeToString(c.Signature)})
	}
	return nil, fault.E("audit.MarshalRecord", fault.Invalid, "only events and checkpoints are exported")
}

func eventToLine(e *Event) *eventLine {
	l := &eventLine{Type: "event", Seq: e.Seq, Time: rfc3339(e.Time), TimeMS: e.Time.UnixMilli(),
		Account: e.Account, PrincipalID: e.PrincipalID, PrincipalName: e.PrincipalName,
		PrincipalKind: e.PrincipalKind, Session: e.Session, AccessKeyID: e.AccessKeyID,
		SourceIP: e.SourceIP, UserAgent: e.UserAgent, Region: e.Region, Family: e.Family,
		Action: e.Action, ReadOnly: e.ReadOnly, Resource: e.Resource, VersionID: e.VersionID,
		RequestID: e.RequestID, ErrorCode: e.ErrorCode, Params: e.Params,
		PrevHash: hex.EncodeToString(e.PrevHash), Hash: hex.EncodeToString(e.Hash)}
	for _, f := range l.text() {
		if !utf8.ValidString(*f.p) {
			*f.p = base64.StdEncoding.EncodeToString([]byte(*f.p))
			l.Base64 = append(l.Base64, f.name)
		}
	}
	return l
}

func rfc3339(t time.Time) string { return t.UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano) }

// ParseRecord decodes an export line (without its newline). It accepts
// only the exact bytes MarshalRecord writes, so a line cannot say one thing
// to a reader and another to the verifier (a repeated key, an extra field,
// a time that disagrees with time_ms). It returns a fault.Invalid error
// for anything else.
func ParseRecord(line []byte) (Record, error) {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(line, &head); err != nil {
		return Record{}, malformed("not JSON")
	}
	var r Record
	var err error
	switch head.Type {
	case "event":
		r.Event, err = parseEvent(line)
	case "checkpoint":
		r.Checkpoint, err = parseCheckpoint(line)
	default:
		return Record{}, malformed("unknown record type")
	}
	if err != nil {
		return Record{}, err
	}
	if again, _ := MarshalRecord(r); !bytes.Equal(again, line) {
		return Record{}, malformed("not in canonical form")
	}
	return r, nil
}

func malformed(why string) error {
	return fault.E("audit.ParseRecord", fault.Invalid, "malformed export line: "+why)
}

func parseEvent(line []byte) (*Event, error) {
	var l eventLine
	if err := json.Unmarshal(line, &l); err != nil {
		return nil, malformed("bad event")
	}
	for _, name := range l.Base64 {
		if err := unescape(&l, name); err != nil {
			return nil, err
		}
	}
	prev, err1 := hex.DecodeString(l.PrevHash)
	hash, err2 := hex.DecodeString(l.Hash)
	if err1 != nil || err2 != nil {
		return nil, malformed("bad hash")
	}
	return &Event{Seq: l.Seq, Time: time.UnixMilli(l.TimeMS).UTC(), Account: l.Account,
		PrincipalID: l.PrincipalID, PrincipalName: l.PrincipalName, PrincipalKind: l.PrincipalKind,
		Session: l.Session, AccessKeyID: l.AccessKeyID, SourceIP: l.SourceIP, UserAgent: l.UserAgent,
		Region: l.Region, Family: l.Family, Action: l.Action, ReadOnly: l.ReadOnly,
		Resource: l.Resource, VersionID: l.VersionID, RequestID: l.RequestID,
		ErrorCode: l.ErrorCode, Params: l.Params, PrevHash: prev, Hash: hash}, nil
}

func unescape(l *eventLine, name string) error {
	for _, f := range l.text() {
		if f.name == name {
			b, err := base64.StdEncoding.DecodeString(*f.p)
			if err != nil {
				return malformed("bad base64")
			}
			*f.p = string(b)
			return nil
		}
	}
	return malformed("unknown base64 field")
}

func parseCheckpoint(line []byte) (*Checkpoint, error) {
	var l checkpointLine
	if err := json.Unmarshal(line, &l); err != nil {
		return nil, malformed("bad checkpoint")
	}
	head, err1 := hex.DecodeString(l.Head)
	sig, err2 := hex.DecodeString(l.Signature)
	if err1 != nil || err2 != nil {
		return nil, malformed("bad hex")
	}
	return &Checkpoint{Seq: l.Seq, Head: head, Time: time.UnixMilli(l.TimeMS).UTC(), KeyID: l.KeyID, Signature: sig}, nil
}

// Sink is where an Exporter writes: an output that can say where it ended.
type Sink interface {
	// Last returns the last event or checkpoint the sink holds, or a zero
	// Record when it holds none (or cannot be read back, as a stream).
	Last() (Record, error)
	// Write appends recs in order and returns once they are durable.
	Write(recs []Record) error
}

// DefaultExportBatch bounds how many events the exporter reads at once.
const DefaultExportBatch = 500

// DefaultExportPoll is how long the exporter waits for new events before
// looking anyway (events appended by another process do not wake it).
const DefaultExportPoll = time.Second

// Exporter copies the chain to a sink as it grows: every event and every
// checkpoint at or after it, once and in order, checking the chain as it
// goes so it never copies (or signs over) a broken one. It is not safe for
// concurrent use; run one per sink.
type Exporter struct {
	Log    *Log
	Out    Sink
	From   int64         // when Out is empty, export the events after From; 0 for all
	Poll   time.Duration // DefaultExportPoll when 0
	Logger *slog.Logger  // failures and gaps are logged here; discarded when nil

	pos     exportPos
	changed <-chan struct{}
}

// exportPos is how far the export got and what it has checked.
type exportPos struct {
	chain  *chainCheck
	cpFrom int64       // the first checkpoint seq not yet considered
	held   *Checkpoint // the latest checkpoint past the events, held back until an event follows it
}

// ErrChainBroken is wrapped by the errors of the exporter and of retention
// when the chain in the store does not verify: they stop rather than copy
// a forgery or sign over it.
var ErrChainBroken = errors.New("the audit chain does not verify")

// Run exports until ctx is done, then returns nil. A failure to read the
// store or to write the sink is logged and retried after Poll, resuming
// from what the sink holds. It returns an error wrapping ErrChainBroken
// when the chain does not verify.
func (x *Exporter) Run(ctx context.Context) error {
	for {
		err := x.run(ctx)
		if ctx.Err() != nil {
			return x.flush()
		}
		if errors.Is(err, ErrChainBroken) {
			return err
		}
		x.logError("audit export", err)
		if !sleep(ctx, x.poll()) {
			return nil
		}
	}
}

// flush exports what was committed up to now, when the exporter stops: a
// server that drained its requests leaves none of their events behind.
func (x *Exporter) flush() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		n, err := x.ExportNow(ctx)
		if err != nil || n < DefaultExportBatch {
			return err
		}
	}
}

func (x *Exporter) run(ctx context.Context) error {
	if err := x.resume(ctx); err != nil {
		return err
	}
	for {
		if x.changed == nil {
			x.changed = x.Log.Changed()
		}
		n, err := x.ExportNow(ctx)
		if err != nil {
			return err
		}
		if n == DefaultExportBatch {
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-x.changed:
			x.changed = nil
		case <-time.After(x.poll()):
		}
	}
}

// resume sets the position from the last record the sink holds, or from
// From when it holds none. It returns the store's or the sink's error.
func (x *Exporter) resume(ctx context.Context) error {
	last, err := x.Out.Last()
	if err != nil {
		return fmt.Errorf("read the export's end: %w", err)
	}
	return x.Log.Store.View(ctx, func(tx store.Tx) error {
		pub, err := PublicKey(ctx, tx)
		if err != nil {
			return err
		}
		x.pos = exportPos{chain: &chainCheck{pub: pub}}
		switch {
		case last.Event != nil:
			x.pos.chain.resume(last.Event.Seq, last.Event.Hash)
			x.pos.cpFrom = last.Event.Seq
		case last.Checkpoint != nil:
			x.pos.chain.resume(last.Checkpoint.Seq, last.Checkpoint.Head)
			x.pos.cpFrom = last.Checkpoint.Seq + 1
		case x.From > 0:
			return x.startAt(ctx, tx)
		}
		return nil
	})
}

// startAt positions an empty export after event From, whose hash it takes
// from the event or from a checkpoint at its seq.
func (x *Exporter) startAt(ctx context.Context, tx store.Tx) error {
	evs, err := tx.Events(ctx, store.EventQuery{AfterSeq: x.From - 1, Limit: 1})
	if err != nil {
		return err
	}
	if len(evs) == 1 && evs[0].Seq == x.From {
		x.pos.chain.resume(x.From, evs[0].Hash)
		x.pos.cpFrom = x.From
		return nil
	}
	cps, err := tx.Checkpoints(ctx, x.From, 1)
	if err != nil {
		return err
	}
	if len(cps) == 1 && cps[0].Seq == x.From {
		x.pos.held = cps[0]
		x.pos.cpFrom = x.From + 1
		return nil
	}
	return fault.E("audit.Exporter", fault.NotFound, fmt.Sprintf("no event or checkpoint at seq %d to export from", x.From))
}

// ExportNow exports what the store holds past the position, up to one
// batch of events, and returns how many events it wrote. It returns an
// error wrapping ErrChainBroken when the chain does not verify, or the
// store's or the sink's error.
func (x *Exporter) ExportNow(ctx context.Context) (int, error) {
	if x.pos.chain == nil {
		if err := x.resume(ctx); err != nil {
			return 0, err
		}
	}
	after := x.pos.chain.last
	if h := x.pos.held; h != nil && h.Seq > after {
		after = h.Seq
	}
	var out []Record
	err := x.Log.Store.View(ctx, func(tx store.Tx) error {
		return mergeChain(ctx, tx, after, x.pos.cpFrom, DefaultExportBatch, func(r Record) error {
			recs, err := x.accept(r)
			out = append(out, recs...)
			return err
		})
	})
	if err != nil && !errors.Is(err, ErrChainBroken) {
		x.pos.chain = nil // resume from the sink next time
		return 0, err
	}
	n, werr := x.write(out)
	if werr != nil {
		x.pos.chain = nil
		return n, werr
	}
	return n, err
}

// write writes out (what verified) and returns how many events it held.
func (x *Exporter) write(out []Record) (int, error) {
	if len(out) == 0 {
		return 0, nil
	}
	n := 0
	for _, r := range out {
		if r.Event != nil {
			n++
		}
	}
	return n, x.Out.Write(out)
}

// accept checks r against the chain so far and returns what to write for
// it: nothing for a checkpoint held back, a held checkpoint and the event
// that follows it, or r.
func (x *Exporter) accept(r Record) ([]Record, error) {
	p := &x.pos
	if c := r.Checkpoint; c != nil {
		p.cpFrom = c.Seq + 1
		if p.chain.started && c.Seq <= p.chain.last {
			if err := p.check(r); err != nil {
				return nil, err
			}
			return []Record{r}, nil
		}
		p.held = c // past the events: it may start what follows
		return nil, nil
	}
	e := r.Event
	if p.chain.started && e.Seq != p.chain.last+1 && p.held != nil && p.held.Seq == e.Seq-1 {
		x.logGap(p.chain.last+1, e.Seq-1)
		p.chain = &chainCheck{pub: p.chain.pub}
	}
	var out []Record
	if h := p.held; h != nil && h.Seq == e.Seq-1 {
		out = append(out, Record{Checkpoint: h})
		if err := p.check(out[0]); err != nil {
			return nil, err
		}
	}
	p.held = nil
	if p.cpFrom < e.Seq {
		p.cpFrom = e.Seq
	}
	if err := p.check(r); err != nil {
		return out, err
	}
	return append(out, r), nil
}

// check feeds r to the chain check; a problem breaks the export.
func (p *exportPos) check(r Record) error {
	if prob := p.chain.add(r); prob != nil {
		return broken("audit.Exporter", prob)
	}
	return nil
}

func (x *Exporter) logGap(from, to int64) {
	if x.Logger != nil {
		x.Logger.Warn("audit export: events were removed before they were exported", "from_seq", from, "to_seq", to)
	}
}

func (x *Exporter) logError(msg string, err error) {
	if x.Logger != nil {
		x.Logger.Error(msg, "error", err)
	}
}

func (x *Exporter) poll() time.Duration {
	if x.Poll > 0 {
		return x.Poll
	}
	return DefaultExportPoll
}

// sleep waits d and reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
