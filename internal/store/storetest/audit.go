package storetest

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// newEvent returns an event with every field set, its hashes 32 bytes
// holding zero and 0xff bytes, so a round trip checks every column.
func newEvent(seq int64, account string, minute int) *store.Event {
	return &store.Event{
		Seq:           seq,
		Time:          at(minute),
		Account:       account,
		PrincipalID:   "200000000001",
		PrincipalName: "alice",
		PrincipalKind: "user",
		Session:       "deploy-session",
		AccessKeyID:   "AKID1",
		SourceIP:      "2001:db8::7",
		UserAgent:     "coffer-cli/1.0 (linux; amd64)",
		Region:        regionX,
		Family:        "ssm",
		Action:        "GetSecretValue",
		ReadOnly:      true,
		Resource:      "db",
		VersionID:     "v1",
		RequestID:     fmt.Sprintf("req-%d", seq),
		ErrorCode:     "ResourceNotFound",
		Params:        `{"SecretName":"db","SecretString":"hmac:3q2+7w==","Note":"é \"quoted\""}`,
		PrevHash:      fakeHash(seq - 1),
		Hash:          fakeHash(seq),
	}
}

// fakeHash returns 32 bytes that differ by seq and start and end with
// bytes a careless encoding would mangle.
func fakeHash(seq int64) []byte {
	h := make([]byte, 32)
	h[0], h[1] = 0xff, 0
	binary.BigEndian.PutUint64(h[8:], uint64(seq))
	h[31] = 0
	return h
}

func normEvent(e *store.Event) store.Event {
	c := *e
	c.Time = ms(c.Time)
	c.PrevHash, c.Hash = bytesOrNil(c.PrevHash), bytesOrNil(c.Hash)
	return c
}

func wantEvents(t tb, what string, got, want []*store.Event) {
	t.Helper()
	wantEqual(t, "len("+what+")", len(got), len(want))
	for i := range got {
		wantEqual(t, fmt.Sprintf("%s[%d]", what, i), normEvent(got[i]), normEvent(want[i]))
	}
}

// insertEvents stores evs with one InsertEvents in one transaction.
func insertEvents(t tb, s store.Store, evs ...*store.Event) {
	t.Helper()
	mustUpdate(t, s, func(tx store.Tx) error { return tx.InsertEvents(context.Background(), evs) })
}

// events runs Events in a View.
func events(t tb, s store.Store, q store.EventQuery) []*store.Event {
	t.Helper()
	var got []*store.Event
	mustView(t, s, func(tx store.Tx) error {
		var err error
		got, err = tx.Events(context.Background(), q)
		return err
	})
	return got
}

// Seqs returns the sequence numbers of evs, in order.
func Seqs(evs []*store.Event) []int64 {
	out := []int64{}
	for _, e := range evs {
		out = append(out, e.Seq)
	}
	return out
}

// seqRange returns from, from+1, …, to.
func seqRange(from, to int64) []int64 {
	out := []int64{}
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func testAuditRoundTrip(t *testing.T, s store.Store) {
	full := newEvent(1, acctA, 0)
	bare := &store.Event{Seq: 2, Time: at(1)} // empty strings, no hashes
	zero := &store.Event{Seq: 3}              // the zero time too
	mustUpdate(t, s, func(tx store.Tx) error {
		wantOK(t, "InsertEvents", tx.InsertEvents(t.Context(), []*store.Event{full, bare, zero}))
		got, err := tx.Events(t.Context(), store.EventQuery{})
		wantOK(t, "Events in the transaction", err)
		wantEvents(t, "Events in the transaction", got, []*store.Event{full, bare, zero})
		return nil
	})
	got := events(t, s, store.EventQuery{})
	wantEvents(t, "Events", got, []*store.Event{full, bare, zero})
	// Hashes come back byte for byte, not merely equal after normalizing.
	wantEqual(t, "Hash", got[0].Hash, fakeHash(1))
	wantEqual(t, "PrevHash", got[0].PrevHash, fakeHash(0))
}

func testAuditHead(t *testing.T, s store.Store) {
	wantHead := func(tx store.Tx, what string, seq int64, hash []byte) {
		t.Helper()
		gotSeq, gotHash, err := tx.AuditHead(t.Context())
		wantOK(t, what, err)
		wantEqual(t, what+" seq", gotSeq, seq)
		wantEqual(t, what+" hash", gotHash, hash)
	}
	mustView(t, s, func(tx store.Tx) error {
		wantHead(tx, "AuditHead of an empty chain", 0, nil)
		return nil
	})
	mustUpdate(t, s, func(tx store.Tx) error {
		wantOK(t, "SetAuditHead", tx.SetAuditHead(t.Context(), 3, fakeHash(3)))
		wantHead(tx, "AuditHead in the transaction", 3, fakeHash(3))
		return nil
	})
	mustUpdate(t, s, func(tx store.Tx) error { return tx.SetAuditHead(t.Context(), 70, fakeHash(70)) })
	mustView(t, s, func(tx store.Tx) error {
		wantHead(tx, "AuditHead after two sets", 70, fakeHash(70))
		return nil
	})
}

// testAuditExists checks that a batch with a taken or repeated Seq fails
// whole, leaving the transaction usable and unchanged.
func testAuditExists(t *testing.T, s store.Store) {
	first := []*store.Event{newEvent(1, acctA, 0), newEvent(2, acctA, 1), newEvent(3, acctA, 2)}
	insertEvents(t, s, first...)
	mustUpdate(t, s, func(tx store.Tx) error {
		ctx := t.Context()
		taken := []*store.Event{newEvent(4, acctB, 3), newEvent(5, acctB, 4), newEvent(2, acctB, 5)}
		wantKind(t, "InsertEvents with a taken Seq", tx.InsertEvents(ctx, taken), fault.Exists)
		repeated := []*store.Event{newEvent(6, acctB, 3), newEvent(6, acctB, 3)}
		wantKind(t, "InsertEvents with a repeated Seq", tx.InsertEvents(ctx, repeated), fault.Exists)
		got, err := tx.Events(ctx, store.EventQuery{})
		wantOK(t, "Events after the failures", err)
		wantEvents(t, "Events after the failures", got, first)
		return tx.InsertEvents(ctx, []*store.Event{newEvent(4, acctA, 3)})
	})
	wantEvents(t, "Events", events(t, s, store.EventQuery{}), append(first, newEvent(4, acctA, 3)))
}

// auditRows are the events of the filter and paging tests: event i has
// Seq i+1 and RequestID req-<Seq>.
var auditRows = []struct {
	account                   string
	minute                    int
	action, resource          string
	principal, key, errorCode string
	readOnly                  bool
}{
	{acctA, 0, "GetSecretValue", "db", "p1", "AK1", "", true},
	{acctA, 1, "PutSecretValue", "db", "p1", "AK1", "", false},
	{acctB, 1, "GetSecretValue", "db", "p3", "AK3", "", true},
	{acctA, 2, "GetSecretValue", "api", "p2", "AK2", "AccessDenied", true},
	{acctA, 3, "DeleteSecret", "api", "p1", "AK2", "", false},
	{acctA, 3, "GetSecretValue", "db", "p2", "AK1", "ResourceNotFound", true},
	{acctB, 4, "PutSecretValue", "api", "p3", "AK3", "", false},
	{acctA, 5, "ListSecrets", "", "p1", "AK1", "", true},
}

// auditFixture stores auditRows and returns them as events.
func auditFixture(t tb, s store.Store) []*store.Event {
	t.Helper()
	var evs []*store.Event
	for i, r := range auditRows {
		e := newEvent(int64(i+1), r.account, r.minute)
		e.Action, e.Resource, e.PrincipalID, e.AccessKeyID = r.action, r.resource, r.principal, r.key
		e.ErrorCode, e.ReadOnly = r.errorCode, r.readOnly
		evs = append(evs, e)
	}
	insertEvents(t, s, evs...)
	return evs
}

// testAuditFilters runs each filter alone and some together, in both
// directions: descending is ascending reversed.
func testAuditFilters(t *testing.T, s store.Store) {
	all := auditFixture(t, s)
	yes, no := true, false
	tests := []struct {
		name string
		q    store.EventQuery
		want []int64
	}{
		{"all", store.EventQuery{}, seqRange(1, 8)},
		{"account", store.EventQuery{Account: acctA}, []int64{1, 2, 4, 5, 6, 8}},
		{"other account", store.EventQuery{Account: acctB}, []int64{3, 7}},
		{"unknown account", store.EventQuery{Account: "nobody"}, []int64{}},
		{"one action", store.EventQuery{Action: []string{"GetSecretValue"}}, []int64{1, 3, 4, 6}},
		{"two actions", store.EventQuery{Action: []string{"PutSecretValue", "DeleteSecret"}}, []int64{2, 5, 7}},
		{"resource", store.EventQuery{Resource: "db"}, []int64{1, 2, 3, 6}},
		{"principal", store.EventQuery{PrincipalID: "p2"}, []int64{4, 6}},
		{"access key", store.EventQuery{AccessKeyID: "AK2"}, []int64{4, 5}},
		{"request id", store.EventQuery{RequestID: "req-5"}, []int64{5}},
		{"error code", store.EventQuery{ErrorCode: "AccessDenied"}, []int64{4}},
		{"read-only", store.EventQuery{ReadOnly: &yes}, []int64{1, 3, 4, 6, 8}},
		{"read-write", store.EventQuery{ReadOnly: &no}, []int64{2, 5, 7}},
		{"from", store.EventQuery{From: at(3)}, []int64{5, 6, 7, 8}},
		{"to", store.EventQuery{To: at(1)}, []int64{1}},
		{"window", store.EventQuery{From: at(1), To: at(3)}, []int64{2, 3, 4}},
		{"after seq", store.EventQuery{AfterSeq: 5}, []int64{6, 7, 8}},
		{"before seq", store.EventQuery{BeforeSeq: 3}, []int64{1, 2}},
		{"between seqs", store.EventQuery{AfterSeq: 2, BeforeSeq: 6}, []int64{3, 4, 5}},
		{"account, one action", store.EventQuery{Account: acctA, Action: []string{"GetSecretValue"}}, []int64{1, 4, 6}},
		{"account, two actions", store.EventQuery{Account: acctA, Action: []string{"ListSecrets", "PutSecretValue"}},
			[]int64{2, 8}},
		{"account, resource", store.EventQuery{Account: acctA, Resource: "api"}, []int64{4, 5}},
		{"account, access key", store.EventQuery{Account: acctB, AccessKeyID: "AK3"}, []int64{3, 7}},
		{"account, window", store.EventQuery{Account: acctA, From: at(1), To: at(5)}, []int64{2, 4, 5, 6}},
		{"account, action, resource, read-only",
			store.EventQuery{Account: acctA, Action: []string{"GetSecretValue"}, Resource: "db", ReadOnly: &yes}, []int64{1, 6}},
		{"and error code", store.EventQuery{Account: acctA, Action: []string{"GetSecretValue"}, Resource: "db",
			ReadOnly: &yes, ErrorCode: "ResourceNotFound"}, []int64{6}},
		{"account, window, access key", store.EventQuery{Account: acctA, From: at(1), To: at(4), AccessKeyID: "AK2"},
			[]int64{4, 5}},
		{"account, principal, seqs", store.EventQuery{Account: acctA, PrincipalID: "p1", AfterSeq: 1, BeforeSeq: 8},
			[]int64{2, 5}},
		{"principal of another account", store.EventQuery{Account: acctB, PrincipalID: "p1"}, []int64{}},
		{"request id of another account", store.EventQuery{Account: acctB, RequestID: "req-5"}, []int64{}},
	}
	for _, tt := range tests {
		got := events(t, s, tt.q)
		wantEqual(t, tt.name, Seqs(got), tt.want)
		for _, e := range got {
			wantEqual(t, tt.name+": the event", normEvent(e), normEvent(all[e.Seq-1]))
		}
		tt.q.Desc = true
		want := slices.Clone(tt.want)
		slices.Reverse(want)
		wantEqual(t, tt.name+", newest first", Seqs(events(t, s, tt.q)), want)
	}
}

// testAuditWindow pins the time bounds: From inclusive, To exclusive, each
// compared to the millisecond a store keeps.
func testAuditWindow(t *testing.T, s store.Store) {
	auditFixture(t, s)
	after := func(m int) time.Time { return at(m).Add(time.Millisecond) }
	tests := []struct {
		name     string
		from, to time.Time
		want     []int64
	}{
		{"from an event's time", at(3), time.Time{}, []int64{5, 6, 7, 8}},
		{"from just after it", after(3), time.Time{}, []int64{7, 8}},
		{"to an event's time", time.Time{}, at(3), []int64{1, 2, 3, 4}},
		{"to just after it", time.Time{}, after(3), []int64{1, 2, 3, 4, 5, 6}},
		{"one instant", at(3), after(3), []int64{5, 6}},
		{"empty", at(3), at(3), []int64{}},
		{"reversed", at(4), at(2), []int64{}},
		{"before all", at(-60), at(0), []int64{}},
		{"past all", after(5), at(60), []int64{}},
	}
	for _, tt := range tests {
		got := events(t, s, store.EventQuery{Account: acctA, From: tt.from, To: tt.to})
		want := slices.DeleteFunc(slices.Clone(tt.want), func(seq int64) bool { return auditRows[seq-1].account != acctA })
		wantEqual(t, tt.name+" in an account", Seqs(got), want)
		wantEqual(t, tt.name, Seqs(events(t, s, store.EventQuery{From: tt.from, To: tt.to})), tt.want)
	}
}

// testAuditPaging walks the events page by page, newest first by BeforeSeq
// as a look-up does and oldest first by AfterSeq as an export does: the
// pages joined visit each event once, in order.
func testAuditPaging(t *testing.T, s store.Store) {
	auditFixture(t, s)
	for _, base := range []store.EventQuery{
		{},
		{Account: acctA},
		{Account: acctA, From: at(1), To: at(5)},
		{Account: acctA, Resource: "db", From: at(1)},
	} {
		want := Seqs(events(t, s, base))
		for limit := 1; limit <= len(want)+1; limit++ {
			for _, desc := range []bool{false, true} {
				w := slices.Clone(want)
				if desc {
					slices.Reverse(w)
				}
				q := base
				q.Desc, q.Limit = desc, limit
				wantEqual(t, fmt.Sprintf("pages of %+v", q), walkEvents(t, s, q), w)
			}
		}
	}
}

// walkEvents reads q page by page until a short page and returns the
// sequence numbers joined; it fails the test on a page longer than q.Limit.
func walkEvents(t *testing.T, s store.Store, q store.EventQuery) []int64 {
	t.Helper()
	got := []int64{}
	for len(got) <= len(auditRows) { // more means the walk repeats
		page := Seqs(events(t, s, q))
		if len(page) > q.Limit {
			t.Fatalf("page of %v: got %d events, want at most %d", q, len(page), q.Limit)
		}
		got = append(got, page...)
		if len(page) < q.Limit {
			break
		}
		if q.Desc {
			q.BeforeSeq = page[len(page)-1]
		} else {
			q.AfterSeq = page[len(page)-1]
		}
	}
	return got
}

func testAuditDelete(t *testing.T, s store.Store) {
	auditFixture(t, s)
	mustUpdate(t, s, func(tx store.Tx) error {
		wantOK(t, "SetAuditHead", tx.SetAuditHead(t.Context(), 8, fakeHash(8)))
		return tx.InsertCheckpoint(t.Context(), newCheckpoint(2))
	})
	deleted := func(seq int64) int {
		t.Helper()
		var n int
		mustUpdate(t, s, func(tx store.Tx) error {
			var err error
			n, err = tx.DeleteEventsThrough(t.Context(), seq)
			return err
		})
		return n
	}
	wantEqual(t, "DeleteEventsThrough(0)", deleted(0), 0)
	wantEqual(t, "DeleteEventsThrough(3)", deleted(3), 3)
	wantEqual(t, "events left", Seqs(events(t, s, store.EventQuery{})), seqRange(4, 8))
	wantEqual(t, "DeleteEventsThrough(3) again", deleted(3), 0)
	wantEqual(t, "DeleteEventsThrough(5)", deleted(5), 2)
	wantEqual(t, "events of the account left", Seqs(events(t, s, store.EventQuery{Account: acctA})), []int64{6, 8})
	wantEqual(t, "DeleteEventsThrough(100)", deleted(100), 3)
	wantEqual(t, "events left", Seqs(events(t, s, store.EventQuery{})), []int64{})
	mustView(t, s, func(tx store.Tx) error {
		seq, hash, err := tx.AuditHead(t.Context())
		wantOK(t, "AuditHead", err)
		wantEqual(t, "head kept", seq, int64(8))
		wantEqual(t, "head hash kept", hash, fakeHash(8))
		_, err = tx.LatestCheckpoint(t.Context())
		wantOK(t, "checkpoint kept", err)
		return nil
	})
}

func newCheckpoint(seq int64) *store.Checkpoint {
	return &store.Checkpoint{Seq: seq, Head: fakeHash(seq), Time: at(int(seq)),
		KeyID: "0f1e2d3c4b5a6978", Signature: append(fakeHash(seq), fakeHash(-seq)...)}
}

func normCheckpoint(c *store.Checkpoint) store.Checkpoint {
	n := *c
	n.Time = ms(n.Time)
	return n
}

func checkpointSeqs(cs []*store.Checkpoint) []int64 {
	out := []int64{}
	for _, c := range cs {
		out = append(out, c.Seq)
	}
	return out
}

func testAuditCheckpoints(t *testing.T, s store.Store) {
	err := s.View(t.Context(), func(tx store.Tx) error {
		_, err := tx.LatestCheckpoint(t.Context())
		return err
	})
	wantKind(t, "LatestCheckpoint of none", err, fault.NotFound)
	mustUpdate(t, s, func(tx store.Tx) error {
		for _, seq := range []int64{10, 30, 20} { // Seq order, not insertion order
			wantOK(t, "InsertCheckpoint", tx.InsertCheckpoint(t.Context(), newCheckpoint(seq)))
		}
		taken := newCheckpoint(20)
		taken.KeyID = "another"
		wantKind(t, "InsertCheckpoint with a taken Seq", tx.InsertCheckpoint(t.Context(), taken), fault.Exists)
		return nil
	})
	tests := []struct {
		from  int64
		limit int
		want  []int64
	}{
		{0, 0, []int64{10, 20, 30}},
		{20, 0, []int64{20, 30}},
		{21, 0, []int64{30}},
		{31, 0, []int64{}},
		{0, 2, []int64{10, 20}},
		{15, 1, []int64{20}},
	}
	mustView(t, s, func(tx store.Tx) error {
		for _, tt := range tests {
			got, err := tx.Checkpoints(t.Context(), tt.from, tt.limit)
			what := fmt.Sprintf("Checkpoints(%d, %d)", tt.from, tt.limit)
			wantOK(t, what, err)
			wantEqual(t, what, checkpointSeqs(got), tt.want)
			for _, c := range got {
				wantEqual(t, what+": the checkpoint", normCheckpoint(c), normCheckpoint(newCheckpoint(c.Seq)))
			}
		}
		latest, err := tx.LatestCheckpoint(t.Context())
		wantOK(t, "LatestCheckpoint", err)
		wantEqual(t, "LatestCheckpoint", normCheckpoint(latest), normCheckpoint(newCheckpoint(30)))
		return nil
	})
}
