package sqlite

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/coffer-secrets/coffer/internal/store"
	"github.com/coffer-secrets/coffer/internal/store/storetest"
)

// TestEventsAcrossIndexMark checks Events against a model while the audit
// look-up indexes lag behind the events (migrations/0011_audit_index.sql):
// whatever part of the log the indexer has reached, a look-up returns
// exactly the events that match, in order, limited. The indexer's steps
// are drawn, between batches of events that sometimes fill a seq left
// free below the mark (InsertEvents then indexes them at once), and
// retention deletes from the front. The background indexer runs too.
func TestEventsAcrossIndexMark(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	base := time.UnixMilli(1.7e12)
	var model []*store.Event
	next := int64(0)
	var holes []int64 // seqs skipped, free to fill later
	var deleted int64 // retention removed every seq <= deleted
	rapid.Check(t, func(rt *rapid.T) {
		for range rapid.IntRange(1, 6).Draw(rt, "steps") {
			switch rapid.IntRange(0, 9).Draw(rt, "step") {
			case 0, 1, 2, 3, 4: // a batch of events
				var evs []*store.Event
				for range rapid.IntRange(1, 40).Draw(rt, "events") { // every chunk size of InsertEvents
					var seq int64
					if len(holes) > 0 && rapid.IntRange(0, 5).Draw(rt, "fill") == 0 {
						seq, holes = holes[0], holes[1:]
					} else {
						next += int64(rapid.IntRange(1, 2).Draw(rt, "gap"))
						if next%5 == 0 && rapid.Bool().Draw(rt, "skip") {
							holes = append(holes, next)
							next++
						}
						seq = next
					}
					evs = append(evs, drawEvent(rt, seq, base))
				}
				if err := db.Update(ctx, func(stx store.Tx) error { return stx.InsertEvents(ctx, evs) }); err != nil {
					rt.Fatalf("InsertEvents: %v", err)
				}
				model = append(model, evs...)
			case 5, 6: // the indexer passes over a few events
				limit := rapid.IntRange(1, 20).Draw(rt, "index")
				err := db.UpdateUnsynced(ctx, func(stx store.Tx) error {
					_, err := stx.(*tx).indexAudit(ctx, limit)
					return err
				})
				if err != nil {
					rt.Fatalf("indexAudit: %v", err)
				}
			case 7: // retention
				if next > deleted {
					deleted += int64(rapid.IntRange(1, int(min(next-deleted, 8))).Draw(rt, "delete"))
					err := db.Update(ctx, func(stx store.Tx) error {
						_, err := stx.DeleteEventsThrough(ctx, deleted)
						return err
					})
					if err != nil {
						rt.Fatalf("DeleteEventsThrough: %v", err)
					}
					model = slices.DeleteFunc(model, func(e *store.Event) bool { return e.Seq <= deleted })
					holes = slices.DeleteFunc(holes, func(s int64) bool { return s <= deleted })
				}
			default: // look-ups
				for range rapid.IntRange(1, 4).Draw(rt, "queries") {
					q := drawEventQuery(rt, base, next)
					var got []*store.Event
					err := db.View(ctx, func(stx store.Tx) (err error) {
						got, err = stx.Events(ctx, q)
						return err
					})
					if err != nil {
						rt.Fatalf("Events(%+v): %v", q, err)
					}
					if g, w := storetest.Seqs(got), storetest.Seqs(matchEvents(model, q)); !slices.Equal(g, w) {
						rt.Fatalf("Events(%+v) = %v, want %v", q, g, w)
					}
				}
			}
		}
	})
	// The background indexer reaches every event, and look-ups still agree.
	waitIndexed(t, db)
	q := store.EventQuery{Account: "1", Desc: true}
	var got []*store.Event
	if err := db.View(ctx, func(stx store.Tx) (err error) { got, err = stx.Events(ctx, q); return err }); err != nil {
		t.Fatalf("Events: %v", err)
	}
	if g, w := storetest.Seqs(got), storetest.Seqs(matchEvents(model, q)); !slices.Equal(g, w) {
		t.Fatalf("after indexing, Events = %v, want %v", g, w)
	}
}

// waitIndexed waits until the background indexer has reached the last
// event: no event with indexed = 0 is left.
func waitIndexed(t *testing.T, db *DB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for {
		left, err := db.UnindexedEvents(ctx)
		if err != nil {
			t.Fatalf("waiting for the audit indexer: %v", err)
		}
		if left == 0 {
			var unindexed int
			if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM audit_events WHERE indexed = 0`).Scan(&unindexed); err != nil {
				t.Fatalf("count unindexed: %v", err)
			}
			if unindexed != 0 {
				t.Fatalf("the mark passed the last event, yet %d events are unindexed", unindexed)
			}
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("the audit indexer did not reach the last event in 10 s")
		case <-time.After(auditIndexEvery):
		}
	}
}

func drawEvent(rt *rapid.T, seq int64, base time.Time) *store.Event {
	pick := func(label string, vs ...string) string { return rapid.SampledFrom(vs).Draw(rt, label) }
	return &store.Event{
		Seq:         seq,
		Time:        base.Add(time.Duration(rapid.IntRange(0, 59).Draw(rt, "minute")) * time.Minute),
		Account:     pick("account", "1", "2"),
		PrincipalID: pick("principal", "p1", "p2"),
		AccessKeyID: pick("key", "K1", "K2"),
		Action:      pick("action", "GetSecretValue", "PutSecretValue", "DeleteSecret"),
		ReadOnly:    rapid.Bool().Draw(rt, "readOnly"),
		Resource:    pick("resource", "db", "api", "x"),
		RequestID:   pick("request", fmt.Sprintf("r-%d", seq), "r-same"),
		ErrorCode:   pick("error", "", "ResourceNotFound"),
		Params:      "{}",
		PrevHash:    []byte{1},
		Hash:        []byte{2},
	}
}

func drawEventQuery(rt *rapid.T, base time.Time, last int64) store.EventQuery {
	maybe := func(label string, vs ...string) string {
		return rapid.SampledFrom(append([]string{"", ""}, vs...)).Draw(rt, label)
	}
	q := store.EventQuery{
		Account:     rapid.SampledFrom([]string{"1", "2", ""}).Draw(rt, "q.account"),
		Resource:    maybe("q.resource", "db", "api"),
		PrincipalID: maybe("q.principal", "p1"),
		AccessKeyID: maybe("q.key", "K1"),
		RequestID:   maybe("q.request", "r-same", fmt.Sprintf("r-%d", last)),
		ErrorCode:   maybe("q.error", "ResourceNotFound"),
		Desc:        rapid.Bool().Draw(rt, "q.desc"),
		Limit:       rapid.IntRange(0, 8).Draw(rt, "q.limit"),
	}
	switch rapid.IntRange(0, 3).Draw(rt, "q.actions") {
	case 1:
		q.Action = []string{"GetSecretValue"}
	case 2:
		q.Action = []string{"GetSecretValue", "DeleteSecret"}
	}
	if rapid.IntRange(0, 3).Draw(rt, "q.readOnly") == 0 {
		ro := rapid.Bool().Draw(rt, "q.ro")
		q.ReadOnly = &ro
	}
	if rapid.Bool().Draw(rt, "q.window") {
		from := rapid.IntRange(0, 59).Draw(rt, "q.from")
		q.From = base.Add(time.Duration(from) * time.Minute)
		q.To = base.Add(time.Duration(from+rapid.IntRange(1, 30).Draw(rt, "q.span")) * time.Minute)
	}
	switch rapid.IntRange(0, 3).Draw(rt, "q.page") {
	case 1:
		q.BeforeSeq = rapid.Int64Range(1, last+1).Draw(rt, "q.before")
	case 2:
		q.AfterSeq = rapid.Int64Range(0, last).Draw(rt, "q.after")
	}
	return q
}

// matchEvents is the model of Events: the events matching q in seq order,
// limited.
func matchEvents(evs []*store.Event, q store.EventQuery) []*store.Event {
	var out []*store.Event
	for _, e := range evs {
		switch {
		case q.Account != "" && e.Account != q.Account,
			q.Resource != "" && e.Resource != q.Resource,
			q.PrincipalID != "" && e.PrincipalID != q.PrincipalID,
			q.AccessKeyID != "" && e.AccessKeyID != q.AccessKeyID,
			q.RequestID != "" && e.RequestID != q.RequestID,
			q.ErrorCode != "" && e.ErrorCode != q.ErrorCode,
			len(q.Action) > 0 && !slices.Contains(q.Action, e.Action),
			q.ReadOnly != nil && e.ReadOnly != *q.ReadOnly,
			!q.From.IsZero() && e.Time.Before(q.From),
			!q.To.IsZero() && !e.Time.Before(q.To),
			q.AfterSeq != 0 && e.Seq <= q.AfterSeq,
			q.BeforeSeq != 0 && e.Seq >= q.BeforeSeq:
			continue
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b *store.Event) int {
		if q.Desc {
			return int(b.Seq - a.Seq)
		}
		return int(a.Seq - b.Seq)
	})
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out
}

// TestLoadMarksEventsIndexed: a restore inserts events already indexed and
// moves the index mark past them, so look-ups do not scan them as events
// the indexer has not reached.
func TestLoadMarksEventsIndexed(t *testing.T) {
	ctx := t.Context()
	src, dst := openTest(t), openTest(t)
	evs := []*store.Event{
		{Seq: 1, Account: "1", Resource: "db", Action: "GetSecretValue", RequestID: "r-1", Params: "{}"},
		{Seq: 2, Account: "1", Resource: "db", Action: "PutSecretValue", RequestID: "r-2", Params: "{}"},
	}
	if err := src.Update(ctx, func(stx store.Tx) error { return stx.InsertEvents(ctx, evs) }); err != nil {
		t.Fatalf("InsertEvents: %v", err)
	}
	var rows []store.Row
	if err := src.Dump(ctx, func(map[string]int64) error { return nil }, func(r store.Row) error {
		rows = append(rows, r)
		return nil
	}); err != nil {
		t.Fatalf("Dump: %v", err)
	}
	if err := dst.Load(ctx, func() (store.Row, error) {
		if len(rows) == 0 {
			return store.Row{}, io.EOF
		}
		r := rows[0]
		rows = rows[1:]
		return r, nil
	}); err != nil {
		t.Fatalf("Load: %v", err)
	}
	var unindexed, mark int64
	if err := dst.read.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM audit_events WHERE indexed = 0),
		(SELECT seq FROM audit_index_mark)`).Scan(&unindexed, &mark); err != nil {
		t.Fatalf("read the index state: %v", err)
	}
	if unindexed != 0 || mark != 2 {
		t.Errorf("after Load: %d events unindexed, mark %d; want 0 and 2", unindexed, mark)
	}
}

// TestIndexerCatchesUpAtStart: events an earlier process left unindexed
// are indexed after the next Open, with no new write to wake the indexer.
func TestIndexerCatchesUpAtStart(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "coffer.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	evs := []*store.Event{{Seq: 1, Account: "1", Params: "{}"}, {Seq: 2, Account: "1", Params: "{}"}}
	if err := db.Update(ctx, func(stx store.Tx) error { return stx.InsertEvents(ctx, evs) }); err != nil {
		t.Fatalf("InsertEvents: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// As a process that stopped before its indexer ran would leave them.
	raw, err := openPool(dsn(path, false), 1)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if _, err := raw.ExecContext(ctx, `UPDATE audit_events SET indexed = 0;
		UPDATE audit_index_mark SET seq = 0`); err != nil {
		t.Fatalf("unindex: %v", err)
	}
	raw.Close()
	db, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("Open again: %v", err)
	}
	defer db.Close()
	waitIndexed(t, db)
}
