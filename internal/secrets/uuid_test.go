package secrets_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/secrets"
)

var uuidForm = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-([0-9a-f])[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestUUIDs: version ids are random UUIDs (version 4); request ids are
// time-ordered UUIDs (version 7) whose first 48 bits are the time in
// milliseconds, so later ids sort after earlier ones.
func TestUUIDs(t *testing.T) {
	if m := uuidForm.FindStringSubmatch(secrets.NewUUID()); m == nil || m[1] != "4" {
		t.Fatalf("NewUUID: %v, want a version 4 UUID", m)
	}
	before := time.Now().UnixMilli()
	id := secrets.NewRequestID()
	after := time.Now().UnixMilli()
	m := uuidForm.FindStringSubmatch(id)
	if m == nil || m[1] != "7" {
		t.Fatalf("NewRequestID = %q, want a version 7 UUID", id)
	}
	ms, err := strconv.ParseInt(strings.ReplaceAll(id[:13], "-", ""), 16, 64)
	if err != nil || ms < before || ms > after {
		t.Fatalf("NewRequestID %q holds time %d, want %d to %d", id, ms, before, after)
	}
	prev := id
	deadline := time.Now().Add(time.Second)
	for time.Now().UnixMilli() == after && time.Now().Before(deadline) {
		// wait for the next millisecond (a condition, not a sleep)
	}
	if next := secrets.NewRequestID(); next <= prev {
		t.Fatalf("request id %q made later sorts before %q", next, prev)
	}
}
