package audit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/store"
)

// mustExportAll exports until the exporter has nothing left.
func mustExportAll(tb testing.TB, x *audit.Exporter) {
	tb.Helper()
	for {
		n, err := x.ExportNow(context.Background())
		if err != nil {
			tb.Fatalf("ExportNow: %v", err)
		}
		if n == 0 {
			return
		}
	}
}

func (f *chainFixture) fileSink(name string, maxBytes int64, maxFiles int) *audit.FileSink {
	return &audit.FileSink{Path: filepath.Join(f.dir, name), MaxBytes: maxBytes, MaxFiles: maxFiles, Keys: f.keys, Clock: f.clock.Now}
}

func mustReadLines(tb testing.TB, path string) []string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// eventSeqs returns the seqs of the event lines, in order.
func eventSeqs(tb testing.TB, lines []string) []int64 {
	tb.Helper()
	var out []int64
	for _, l := range lines {
		r, err := audit.ParseRecord([]byte(l))
		if err != nil {
			tb.Fatalf("line %q: %v", l, err)
		}
		if r.Event != nil {
			out = append(out, r.Event.Seq)
		}
	}
	return out
}

func wantSeqs(tb testing.TB, got []int64, from, to int64) {
	tb.Helper()
	if int64(len(got)) != to-from+1 {
		tb.Fatalf("got %d events %v, want %d to %d", len(got), got, from, to)
	}
	for i, s := range got {
		if s != from+int64(i) {
			tb.Fatalf("got events %v, want %d to %d once each, in order", got, from, to)
		}
	}
}

func mustVerifyFile(tb testing.TB, f *chainFixture, path string) audit.Report {
	tb.Helper()
	file, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer file.Close()
	return mustVerify(tb, audit.FileSource(file), f)
}

func TestExportFileVerifiesAndHoldsNoSecret(t *testing.T) {
	f := mustChain(t)
	f.mustBuild(t)
	sink := f.fileSink("audit.jsonl", 0, 0)
	mustExportAll(t, &audit.Exporter{Log: f.log, Out: sink})
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(f.dir, "audit.jsonl")
	rep := mustVerifyFile(t, f, path)
	wantIntact(t, rep, 20, 1, 20)
	if rep.Checkpoints != 3 {
		t.Errorf("got %d checkpoints, want 3", rep.Checkpoints)
	}
	b, _ := os.ReadFile(path)
	if bytes.Contains(b, []byte(plaintext)) {
		t.Fatal("the export holds a secret value")
	}
	if !bytes.Contains(b, []byte(`\"SecretString\":\"hmac-sha256:`)) {
		t.Fatal("the export lacks the redacted SecretString")
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("got mode %v, want 0600", st.Mode().Perm())
	}
}

func TestExporterResumesWithoutDuplicates(t *testing.T) {
	f := mustChain(t)
	f.mustAppend(t, 6)
	f.mustCheckpoint(t)
	sink := f.fileSink("audit.jsonl", 0, 0)
	mustExportAll(t, &audit.Exporter{Log: f.log, Out: sink})
	sink.Close()

	// A restart: new exporter, new sink, same file, more events.
	f.mustAppend(t, 5)
	f.mustCheckpoint(t)
	f.mustAppend(t, 3)
	sink = f.fileSink("audit.jsonl", 0, 0)
	mustExportAll(t, &audit.Exporter{Log: f.log, Out: sink, From: 2}) // From only counts for an empty file
	sink.Close()

	path := filepath.Join(f.dir, "audit.jsonl")
	lines := mustReadLines(t, path)
	wantSeqs(t, eventSeqs(t, lines), 1, 14)
	rep := mustVerifyFile(t, f, path)
	wantIntact(t, rep, 14, 1, 14)
	if rep.Checkpoints != 2 {
		t.Errorf("got %d checkpoints, want 2", rep.Checkpoints)
	}
}

func TestExporterResumesAfterACheckpointLine(t *testing.T) {
	f := mustChain(t)
	f.mustAppend(t, 4)
	f.mustCheckpoint(t)
	sink := f.fileSink("audit.jsonl", 0, 0)
	mustExportAll(t, &audit.Exporter{Log: f.log, Out: sink})
	sink.Close()
	lines := mustReadLines(t, filepath.Join(f.dir, "audit.jsonl"))
	if !strings.HasPrefix(lines[len(lines)-1], `{"type":"checkpoint","seq":4,`) {
		t.Fatalf("the export ends with %q, want the checkpoint at 4", lines[len(lines)-1])
	}
	f.mustAppend(t, 2)
	f.mustCheckpoint(t)
	sink = f.fileSink("audit.jsonl", 0, 0)
	mustExportAll(t, &audit.Exporter{Log: f.log, Out: sink})
	sink.Close()
	lines = mustReadLines(t, filepath.Join(f.dir, "audit.jsonl"))
	if got, want := len(lines), 8; got != want {
		t.Fatalf("got %d lines, want %d (6 events, 2 checkpoints)", got, want)
	}
	wantIntact(t, mustVerifyFile(t, f, filepath.Join(f.dir, "audit.jsonl")), 6, 1, 6)
}

func TestExporterDropsATornLine(t *testing.T) {
	f := mustChain(t)
	f.mustAppend(t, 5)
	sink := f.fileSink("audit.jsonl", 0, 0)
	mustExportAll(t, &audit.Exporter{Log: f.log, Out: sink})
	sink.Close()
	path := filepath.Join(f.dir, "audit.jsonl")
	file, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	file.WriteString(`{"type":"event","seq":6,"ti`) // a crash in the middle of a write
	file.Close()

	f.mustAppend(t, 3)
	sink = f.fileSink("audit.jsonl", 0, 0)
	mustExportAll(t, &audit.Exporter{Log: f.log, Out: sink})
	sink.Close()
	wantSeqs(t, eventSeqs(t, mustReadLines(t, path)), 1, 8)
	wantIntact(t, mustVerifyFile(t, f, path), 8, 1, 8)
}

func TestFileSinkRotatesIntoFilesThatVerifyAlone(t *testing.T) {
	f := mustChain(t)
	for range 6 {
		f.mustAppend(t, 5)
		f.mustCheckpoint(t)
	}
	sink := f.fileSink("audit.jsonl", 2500, 3)
	mustExportAll(t, &audit.Exporter{Log: f.log, Out: sink})
	sink.Close()

	base := filepath.Join(f.dir, "audit.jsonl")
	paths := []string{base + ".3", base + ".2", base + ".1", base} // oldest first
	if _, err := os.Stat(base + ".4"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v, want audit.jsonl.4 removed (MaxFiles 3)", err)
	}
	var all []int64
	for _, p := range paths {
		lines := mustReadLines(t, p)
		seqs := eventSeqs(t, lines)
		if len(seqs) == 0 {
			t.Fatalf("%s holds no event", p)
		}
		if seqs[0] > 1 && !strings.HasPrefix(lines[0], fmt.Sprintf(`{"type":"checkpoint","seq":%d,`, seqs[0]-1)) {
			t.Errorf("%s starts with %.40q, want a checkpoint at %d", p, lines[0], seqs[0]-1)
		}
		wantIntact(t, mustVerifyFile(t, f, p), len(seqs), seqs[0], seqs[len(seqs)-1])
		all = append(all, seqs...)
	}
	wantSeqs(t, all, all[0], 30)
}

func TestFileSinkRotationResumes(t *testing.T) {
	f := mustChain(t)
	base := filepath.Join(f.dir, "audit.jsonl")
	for range 4 {
		f.mustAppend(t, 4)
		sink := f.fileSink("audit.jsonl", 1500, 20)
		mustExportAll(t, &audit.Exporter{Log: f.log, Out: sink})
		sink.Close()
	}
	var all []int64
	files := 0
	for i := 20; i >= 0; i-- {
		p := base
		if i > 0 {
			p = fmt.Sprintf("%s.%d", base, i)
		}
		if _, err := os.Stat(p); err != nil {
			continue
		}
		files++
		seqs := eventSeqs(t, mustReadLines(t, p))
		wantIntact(t, mustVerifyFile(t, f, p), len(seqs), seqs[0], seqs[len(seqs)-1])
		all = append(all, seqs...)
	}
	if files < 3 {
		t.Fatalf("got %d files, want the export rotated at least twice", files)
	}
	wantSeqs(t, all, 1, 16)
}

func TestExporterRunFollowsTheLog(t *testing.T) {
	f := mustChain(t)
	w := &audit.Writer{Log: f.log}
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sink := f.fileSink("audit.jsonl", 0, 0)
	done := make(chan error, 1)
	go func() { done <- (&audit.Exporter{Log: f.log, Out: sink, Poll: time.Hour}).Run(ctx) }()

	path := filepath.Join(f.dir, "audit.jsonl")
	for i := range 12 {
		if err := w.Record(ctx, f.event()); err != nil {
			t.Fatal(err)
		}
		if i == 5 {
			f.mustCheckpoint(t) // wakes the exporter too
		}
	}
	waitFor(t, func() bool { b, _ := os.ReadFile(path); return bytes.Count(b, []byte(`"type":"event"`)) == 12 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	sink.Close()
	rep := mustVerifyFile(t, f, path)
	wantIntact(t, rep, 12, 1, 12)
	if rep.Checkpoints != 1 {
		t.Errorf("got %d checkpoints, want 1", rep.Checkpoints)
	}
}

func TestExporterStopsAtABrokenChain(t *testing.T) {
	f := mustChain(t)
	f.mustAppend(t, 8)
	f.mustExec(t, `UPDATE audit_events SET action = 'X' WHERE seq = 6`)
	var logs bytes.Buffer
	sink := f.fileSink("audit.jsonl", 0, 0)
	x := &audit.Exporter{Log: f.log, Out: sink, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	if _, err := x.ExportNow(context.Background()); !errors.Is(err, audit.ErrChainBroken) {
		t.Fatalf("got %v, want ErrChainBroken", err)
	}
	if err := x.Run(context.Background()); !errors.Is(err, audit.ErrChainBroken) {
		t.Fatalf("Run: got %v, want ErrChainBroken", err)
	}
	sink.Close()
	wantSeqs(t, eventSeqs(t, mustReadLines(t, filepath.Join(f.dir, "audit.jsonl"))), 1, 5)
}

func TestExportStartsFromRetentionCheckpoint(t *testing.T) {
	f := mustChain(t)
	f.mustAppend(t, 10)
	f.clock.Set(chainT0.Add(time.Hour + 6*time.Minute))
	mustPrune(t, f, time.Hour, 5)

	sink := f.fileSink("audit.jsonl", 0, 0)
	mustExportAll(t, &audit.Exporter{Log: f.log, Out: sink})
	sink.Close()
	path := filepath.Join(f.dir, "audit.jsonl")
	lines := mustReadLines(t, path)
	if !strings.HasPrefix(lines[0], `{"type":"checkpoint","seq":5,`) {
		t.Fatalf("the export starts with %.40q, want the checkpoint at 5", lines[0])
	}
	wantIntact(t, mustVerifyFile(t, f, path), 5, 6, 10)
}

func TestExporterRotatesAcrossARetentionGap(t *testing.T) {
	f := mustChain(t)
	f.mustAppend(t, 4)
	sink := f.fileSink("audit.jsonl", 0, 0)
	mustExportAll(t, &audit.Exporter{Log: f.log, Out: sink})
	sink.Close()

	// The exporter was down while events 5 to 9 came and went.
	f.mustAppend(t, 8)
	f.clock.Set(chainT0.Add(time.Hour + 10*time.Minute))
	mustPrune(t, f, time.Hour, 9)
	var logs bytes.Buffer
	sink = f.fileSink("audit.jsonl", 0, 0)
	mustExportAll(t, &audit.Exporter{Log: f.log, Out: sink, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	sink.Close()

	base := filepath.Join(f.dir, "audit.jsonl")
	wantIntact(t, mustVerifyFile(t, f, base+".1"), 4, 1, 4)
	wantIntact(t, mustVerifyFile(t, f, base), 3, 10, 12)
	if !strings.Contains(logs.String(), "removed before they were exported") {
		t.Errorf("got log %q, want a warning about the gap", logs.String())
	}
}

func TestWriterSinkFrom(t *testing.T) {
	f := mustChain(t)
	f.mustAppend(t, 9)
	var buf bytes.Buffer
	mustExportAll(t, &audit.Exporter{Log: f.log, Out: &audit.WriterSink{W: &buf, Keys: f.keys}, From: 5})
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if !strings.HasPrefix(lines[0], `{"type":"checkpoint","seq":5,`) {
		t.Fatalf("the stream starts with %.40q, want a checkpoint at 5", lines[0])
	}
	wantIntact(t, mustVerify(t, fileSource(lines), f), 4, 6, 9)
}

func TestWriterSinkNeedsKeysPastGenesis(t *testing.T) {
	f := mustChain(t)
	f.mustAppend(t, 3)
	var buf bytes.Buffer
	_, err := (&audit.Exporter{Log: f.log, Out: &audit.WriterSink{W: &buf}, From: 1}).ExportNow(context.Background())
	if err == nil {
		t.Fatal("got no error, want one: the stream cannot start past genesis unsigned")
	}
}

func TestExportLineRoundTrip(t *testing.T) {
	f := mustChain(t)
	e := f.event()
	e.UserAgent = "agent\xff\xfe" // not UTF-8: HTTP lets clients send it
	e.SourceIP = `<script>&"`
	ctx := context.Background()
	if err := f.st.Update(ctx, func(tx store.Tx) error { return f.log.Append(ctx, tx, e) }); err != nil {
		t.Fatal(err)
	}
	lines := mustExport(t, f)
	if !strings.Contains(lines[0], `"base64":["user_agent"]`) {
		t.Fatalf("got %s, want user_agent in base64", lines[0])
	}
	r, err := audit.ParseRecord([]byte(lines[0]))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Event; got.UserAgent != e.UserAgent || got.SourceIP != e.SourceIP || !got.Time.Equal(e.Time) || !bytes.Equal(got.Hash, e.Hash) {
		t.Fatalf("got %+v, want %+v", got, e)
	}
	wantIntact(t, mustVerify(t, fileSource(lines), f), 1, 1, 1)
}

func FuzzParseRecord(f *testing.F) {
	c := mustChain(f)
	c.mustAppend(f, 3)
	c.mustCheckpoint(f)
	for _, l := range mustExport(f, c) {
		f.Add([]byte(l))
	}
	f.Add([]byte(`{"type":"event"}`))
	f.Add([]byte(`{"type":"event","base64":["params"],"params":"!!"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := audit.ParseRecord(line)
		if err != nil {
			return
		}
		again, err := audit.MarshalRecord(r)
		if err != nil || !bytes.Equal(again, line) {
			t.Fatalf("ParseRecord accepted %q, which marshals back as %q (%v)", line, again, err)
		}
	})
}
