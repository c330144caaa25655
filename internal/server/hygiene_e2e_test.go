package server_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/server"
	"github.com/coffer-secrets/coffer/internal/store"
)

// hygBuffer is a log sink the server writes from many goroutines.
type hygBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *hygBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *hygBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// hygScanner holds the recognisable values and every form they may leak in.
type hygScanner struct {
	t     *testing.T
	forms map[string]string // form → the value it encodes, for messages
}

func newHygScanner(t *testing.T) *hygScanner {
	return &hygScanner{t: t, forms: map[string]string{}}
}

// add records v and its encodings: plaintext, standard and URL base64
// (the wire form of a binary value), and hex.
func (h *hygScanner) add(v string) string {
	for _, f := range []string{
		v,
		base64.StdEncoding.EncodeToString([]byte(v)),
		base64.RawURLEncoding.EncodeToString([]byte(v)),
		hex.EncodeToString([]byte(v)),
	} {
		h.forms[f] = v
	}
	return v
}

// clean fails the test when what holds any form of any value.
func (h *hygScanner) clean(where string, what []byte) {
	h.t.Helper()
	for f, v := range h.forms {
		if bytes.Contains(what, []byte(f)) {
			h.t.Errorf("%s holds the value %q (as %q)", where, v, f)
		}
	}
}

// TestHygieneNoValueEscapes writes recognisable values through every
// value-carrying action of both APIs, reads them back, provokes errors
// around them, then scans every log line, audit event (store and export),
// the /metrics scrape, every error response and every file under the data
// directory: a value may appear only in the successful reads' answers.
func TestHygieneNoValueEscapes(t *testing.T) {
	var logs hygBuffer
	dir := t.TempDir()
	export := filepath.Join(dir, "audit-export.jsonl")
	s := mxStartServer(t, func(c *server.Config) {
		c.DataDir = dir
		c.Log = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.AuditExport = export
		c.AuditCheckpointInterval = 20 * time.Millisecond
	})
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	base := "hyg13-" + hex.EncodeToString(rnd[:])
	h := newHygScanner(t)
	v := func(suffix string) string { return h.add(base + "-" + suffix) }
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	now := time.Now

	var errorBodies []string
	ok := func(r ftReply, what string) ftReply {
		t.Helper()
		if r.code != "" {
			t.Fatalf("%s: %s", what, r.body)
		}
		return r
	}
	bad := func(r ftReply, code, what string) {
		t.Helper()
		if r.code != code {
			t.Errorf("%s: got code %q, want %q: %s", what, r.code, code, r.body)
		}
		errorBodies = append(errorBodies, r.body)
	}

	// Writes through every value-carrying action.
	tc := func(action string, p map[string]any) ftReply { return ftTC(t, s, testRegion, action, p, now()) }
	aw := func(action string, p map[string]any) ftReply { return ftAWS(t, s, testRegion, action, p, now()) }
	ok(tc("CreateSecret", map[string]any{"SecretName": "hyg-s", "VersionId": "v1", "SecretString": v("tc-create")}), "tc CreateSecret")
	ok(tc("PutSecretValue", map[string]any{"SecretName": "hyg-s", "VersionId": "v2", "SecretString": v("tc-put")}), "tc PutSecretValue")
	ok(tc("UpdateSecret", map[string]any{"SecretName": "hyg-s", "VersionId": "v2", "SecretString": v("tc-update")}), "tc UpdateSecret")
	ok(tc("CreateSecret", map[string]any{"SecretName": "hyg-b", "VersionId": "v1", "SecretBinary": b64(v("tc-bin-create"))}), "tc CreateSecret binary")
	ok(tc("PutSecretValue", map[string]any{"SecretName": "hyg-b", "VersionId": "v2", "SecretBinary": b64(v("tc-bin-put"))}), "tc PutSecretValue binary")
	ok(tc("UpdateSecret", map[string]any{"SecretName": "hyg-b", "VersionId": "v2", "SecretBinary": b64(v("tc-bin-update"))}), "tc UpdateSecret binary")
	ok(aw("CreateSecret", map[string]any{"Name": "hyg-a", "SecretString": v("aws-create"), "ClientRequestToken": "00000000-0000-4000-8000-00000000a001"}), "aws CreateSecret")
	ok(aw("PutSecretValue", map[string]any{"SecretId": "hyg-a", "SecretString": v("aws-put"), "ClientRequestToken": "00000000-0000-4000-8000-00000000a002"}), "aws PutSecretValue")
	ok(aw("UpdateSecret", map[string]any{"SecretId": "hyg-a", "SecretString": v("aws-update"), "ClientRequestToken": "00000000-0000-4000-8000-00000000a003"}), "aws UpdateSecret")
	ok(aw("CreateSecret", map[string]any{"Name": "hyg-ab", "SecretBinary": b64(v("aws-bin-create")), "ClientRequestToken": "00000000-0000-4000-8000-00000000a004"}), "aws CreateSecret binary")
	ok(aw("PutSecretValue", map[string]any{"SecretId": "hyg-ab", "SecretBinary": b64(v("aws-bin-put")), "ClientRequestToken": "00000000-0000-4000-8000-00000000a005"}), "aws PutSecretValue binary")

	// Reads: the only answers allowed to hold values.
	reads := []ftReply{
		ok(tc("GetSecretValue", map[string]any{"SecretName": "hyg-s", "VersionId": "v1"}), "tc GetSecretValue"),
		ok(tc("GetSecretValue", map[string]any{"SecretName": "hyg-b", "VersionId": "v2"}), "tc GetSecretValue binary"),
		ok(aw("GetSecretValue", map[string]any{"SecretId": "hyg-a"}), "aws GetSecretValue"),
		ok(aw("BatchGetSecretValue", map[string]any{"SecretIdList": []string{"hyg-a", "hyg-ab"}}), "aws BatchGetSecretValue"),
	}
	for i, want := range []string{base + "-tc-create", b64(base + "-tc-bin-update"), base + "-aws-update", b64(base + "-aws-bin-put")} {
		if !strings.Contains(reads[i].body, want) {
			t.Errorf("read %d does not return %q: %s", i, want, reads[i].body)
		}
	}

	// Errors around values: each request carries a value, no answer may.
	big := v("oversize") + strings.Repeat("x", 64<<10)
	bad(tc("PutSecretValue", map[string]any{"SecretName": "hyg-s", "VersionId": "v3", "SecretString": big}), "InvalidParameterValue", "tc oversize")
	bad(tc("PutSecretValue", map[string]any{"SecretName": "hyg-s", "VersionId": "v1", "SecretString": v("tc-dup-version")}), "ResourceInUse.VersionIdExists", "tc existing version")
	bad(tc("CreateSecret", map[string]any{"SecretName": "hyg-both", "SecretString": v("tc-both"), "SecretBinary": b64(v("tc-both-bin"))}), "InvalidParameterValue", "tc both values")
	bad(tc("PutSecretValue", map[string]any{"SecretName": "hyg-none", "VersionId": "v1", "SecretString": v("tc-missing")}), "ResourceNotFound", "tc unknown secret")
	bad(tc("CreateSecret", map[string]any{"SecretName": "bad name", "SecretString": v("tc-bad-name")}), "InvalidParameterValue", "tc bad name")
	bad(aw("PutSecretValue", map[string]any{"SecretId": "hyg-a", "SecretString": big, "ClientRequestToken": "00000000-0000-4000-8000-00000000a006"}), "InvalidParameterException", "aws oversize")
	bad(aw("PutSecretValue", map[string]any{"SecretId": "hyg-a", "SecretString": v("aws-token-reuse"), "ClientRequestToken": "00000000-0000-4000-8000-00000000a002"}), "ResourceExistsException", "aws reused token, other value")
	bad(aw("PutSecretValue", map[string]any{"SecretId": "hyg-a", "SecretString": v("aws-both"), "SecretBinary": b64(v("aws-both-bin")), "ClientRequestToken": "00000000-0000-4000-8000-00000000a007"}), "InvalidParameterException", "aws both values")
	bad(aw("UpdateSecret", map[string]any{"SecretId": "hyg-none", "SecretString": v("aws-missing"), "ClientRequestToken": "00000000-0000-4000-8000-00000000a008"}), "ResourceNotFoundException", "aws unknown secret")
	bad(aw("CreateSecret", map[string]any{"Name": "hyg-a", "SecretString": v("aws-exists"), "ClientRequestToken": "00000000-0000-4000-8000-00000000a009"}), "ResourceExistsException", "aws existing name")
	for i, body := range errorBodies {
		h.clean("error response "+strconv.Itoa(i), []byte(body))
	}

	h.clean("/metrics", []byte(scrape(t, s.URL()+"/metrics")))
	hygScanFiles(t, h, dir) // while running: the WAL holds the recent pages
	hygScanEvents(t, h, s)
	s.stop() // flushes the export and the logs
	hygScanFiles(t, h, dir)
	for i, line := range strings.Split(logs.String(), "\n") {
		h.clean("log line "+strconv.Itoa(i+1), []byte(line))
	}
	if logs.String() == "" {
		t.Error("the server logged nothing: the log scan saw nothing")
	}
	if b, err := os.ReadFile(export); err != nil || len(b) == 0 {
		t.Errorf("the audit export is empty or missing (%v): the export scan saw nothing", err)
	}
}

// hygScanEvents scans every audit event in the store.
func hygScanEvents(t *testing.T, h *hygScanner, s *testServer) {
	t.Helper()
	err := s.AuditLog.Store.View(t.Context(), func(tx store.Tx) error {
		evs, err := tx.Events(t.Context(), store.EventQuery{})
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			t.Error("no audit events: the event scan saw nothing")
		}
		for _, ev := range evs {
			b, _ := json.Marshal(ev)
			h.clean("audit event "+ev.Action, b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// hygScanFiles scans every file under dir: database, WAL, key file, TLS
// files, the audit export.
func hygScanFiles(t *testing.T, h *hygScanner, dir string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		h.clean("file "+filepath.Base(path), b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Error("no files in the data directory: the file scan saw nothing")
	}
}
