package audit_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
	"github.com/coffer-secrets/coffer/internal/store/sqlite/sqlitetest"
)

// lookupT0 is the time of the first test event; event i is i minutes later.
var lookupT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// mustLookupStore opens a fresh SQLite store holding evs, appended in order
// through the audit log (so they get seqs 1..len(evs)).
func mustLookupStore(tb testing.TB, evs ...*audit.Event) store.Store {
	tb.Helper()
	ctx := context.Background()
	st := sqlitetest.Open(tb)
	log := &audit.Log{Store: st}
	err := st.Update(ctx, func(tx store.Tx) error { return log.Append(ctx, tx, evs...) })
	if err != nil {
		tb.Fatalf("append %d events: %v", len(evs), err)
	}
	return st
}

// ev returns an event at minute i with the fields a test cares about.
func ev(i int, account, action, resource string) *audit.Event {
	return &audit.Event{
		Time: lookupT0.Add(time.Duration(i) * time.Minute), Account: account, Action: action,
		Resource: resource, Family: "ssm", Region: "ap-guangzhou", PrincipalID: account,
		PrincipalName: "root", PrincipalKind: "root", AccessKeyID: "AKID" + account,
		RequestID: fmt.Sprintf("req-%d", i),
	}
}

func seqs(evs []*audit.Event) []int64 {
	out := make([]int64, len(evs))
	for i, e := range evs {
		out[i] = e.Seq
	}
	return out
}

func TestLookupEventsNeedsAccount(t *testing.T) {
	l := audit.NewLookup(mustLookupStore(t))
	_, err := l.Events(context.Background(), audit.Query{})
	if !fault.Is(err, fault.Invalid) {
		t.Fatalf("got %v, want an Invalid error", err)
	}
}

func TestLookupEventsPagesNewestFirstInOneAccount(t *testing.T) {
	var evs []*audit.Event
	for i := range 10 {
		account := "100000000001"
		if i%3 == 2 {
			account = "100000000002"
		}
		evs = append(evs, ev(i, account, "GetSecretValue", "db"))
	}
	l := audit.NewLookup(mustLookupStore(t, evs...))
	q := audit.Query{EventQuery: store.EventQuery{Account: "100000000001", Limit: 3}}
	var pages [][]int64
	for range 10 {
		p, err := l.Events(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, seqs(p.Events))
		if p.Next == 0 {
			break
		}
		if got, want := p.Next, p.Events[len(p.Events)-1].Seq; got != want {
			t.Fatalf("got Next %d, want the last event's seq %d", got, want)
		}
		q.BeforeSeq = p.Next
	}
	want := [][]int64{{10, 8, 7}, {5, 4, 2}, {1}}
	if fmt.Sprint(pages) != fmt.Sprint(want) {
		t.Errorf("got pages %v, want %v", pages, want)
	}
}

// A full last page has no next one: the look-up reads one event more than
// it returns to know.
func TestLookupEventsExactPageIsLast(t *testing.T) {
	l := audit.NewLookup(mustLookupStore(t, ev(0, "1", "A", ""), ev(1, "1", "B", "")))
	p, err := l.Events(context.Background(), audit.Query{EventQuery: store.EventQuery{Account: "1", Limit: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if got := seqs(p.Events); fmt.Sprint(got) != "[2 1]" || p.Next != 0 {
		t.Errorf("got %v next %d, want [2 1] next 0", got, p.Next)
	}
}

func TestLookupEventsFilters(t *testing.T) {
	evs := []*audit.Event{
		ev(0, "1", "CreateSecret", "db"),
		ev(1, "1", "GetSecretValue", "db"),
		ev(2, "1", "GetSecretValue", "api"),
		ev(3, "1", "PutSecretValue", "db"),
		ev(4, "2", "GetSecretValue", "db"),
		ev(5, "1", "ListSecrets", ""),
	}
	evs[2].Family, evs[2].SourceIP = "secretsmanager", "10.0.0.9"
	evs[3].ErrorCode = "ResourceNotFound"
	l := audit.NewLookup(mustLookupStore(t, evs...))
	readOnly := true
	for _, tc := range []struct {
		name string
		q    audit.Query
		want []int64
	}{
		{"all", audit.Query{}, []int64{6, 4, 3, 2, 1}},
		{"actions ORed", audit.Query{EventQuery: store.EventQuery{Action: []string{"CreateSecret", "PutSecretValue"}}}, []int64{4, 1}},
		{"resource", audit.Query{EventQuery: store.EventQuery{Resource: "db"}}, []int64{4, 2, 1}},
		{"error code", audit.Query{EventQuery: store.EventQuery{ErrorCode: "ResourceNotFound"}}, []int64{4}},
		{"read only", audit.Query{EventQuery: store.EventQuery{ReadOnly: &readOnly}}, nil},
		{"window", audit.Query{EventQuery: store.EventQuery{From: lookupT0.Add(time.Minute), To: lookupT0.Add(3 * time.Minute)}}, []int64{3, 2}},
		{"request id", audit.Query{EventQuery: store.EventQuery{RequestID: "req-2"}}, []int64{3}},
		{"request id of another account", audit.Query{EventQuery: store.EventQuery{RequestID: "req-4"}}, nil},
		{"keep", audit.Query{Keep: func(e *audit.Event) bool { return e.Family == "secretsmanager" }}, []int64{3}},
		{"keep and store", audit.Query{EventQuery: store.EventQuery{Resource: "db"}, Keep: func(e *audit.Event) bool { return e.SourceIP == "" }}, []int64{4, 2, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.Account = "1"
			p, err := l.Events(context.Background(), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := seqs(p.Events); fmt.Sprint(got) != fmt.Sprint(tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// Paging through a look-up with any page size and any in-memory filter
// yields exactly the matching events of the account, newest first, each
// once, and every page but the last is full.
func TestLookupEventsPagingProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	families := []string{"ssm", "secretsmanager", "cloudaudit"}
	var evs []*audit.Event
	for i := range 700 { // more than a scan batch in account 1
		e := ev(i, []string{"1", "1", "1", "2"}[r.IntN(4)], "GetSecretValue", "db")
		e.Family = families[r.IntN(len(families))]
		if r.IntN(40) == 0 {
			e.Family = "rare"
		}
		evs = append(evs, e)
	}
	l := audit.NewLookup(mustLookupStore(t, evs...))
	rapid.Check(t, func(t *rapid.T) {
		limit := rapid.IntRange(5, 60).Draw(t, "limit")
		family := rapid.SampledFrom(append(families, "rare", "")).Draw(t, "family")
		var want []int64
		for _, e := range slices.Backward(evs) {
			if e.Account == "1" && (family == "" || e.Family == family) {
				want = append(want, e.Seq)
			}
		}
		q := audit.Query{EventQuery: store.EventQuery{Account: "1", Limit: limit}}
		if family != "" {
			q.Keep = func(e *audit.Event) bool { return e.Family == family }
		}
		var got []int64
		for {
			p, err := l.Events(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			if p.Next != 0 && len(p.Events) != limit {
				t.Fatalf("got a page of %d with a next page, want %d", len(p.Events), limit)
			}
			got = append(got, seqs(p.Events)...)
			if p.Next == 0 {
				break
			}
			q.BeforeSeq = p.Next
		}
		if !slices.Equal(got, want) {
			t.Fatalf("got %d events, want %d (first difference in %v vs %v)", len(got), len(want), head(got), head(want))
		}
	})
}

func head(s []int64) []int64 { return s[:min(len(s), 8)] }

func TestConsumers(t *testing.T) {
	read := func(i int, principal, kind, key, version string) *audit.Event {
		e := ev(i, "1", "GetSecretValue", "db")
		e.PrincipalID, e.PrincipalName, e.PrincipalKind, e.AccessKeyID, e.VersionID = principal, principal+"-name", kind, key, version
		return e
	}
	evs := []*audit.Event{
		read(0, "root", "root", "AK1", "v1"),
		read(1, "root", "root", "AK1", "v2"),
		read(2, "alice", "user", "AK2", "v2"),
		read(3, "root", "root", "AK1", "v1"),
		read(4, "root", "root", "AK3", "v1"),  // another key of the same principal
		read(5, "bob", "user", "AK4", "v1"),   // failed: not a read
		read(6, "carol", "user", "AK5", "v1"), // another region
		read(7, "dave", "user", "AK6", "v1"),  // another secret
		read(8, "erin", "user", "AK7", "v1"),  // another account
		read(9, "frank", "user", "AK8", "v1"), // a write
		read(10, "root", "root", "AK1", "v3"), // outside the window
	}
	evs[2].Family, evs[2].Action = "secretsmanager", "BatchGetSecretValue"
	evs[5].ErrorCode = "ResourceUnavailable.ResourceDisabled"
	evs[6].Region = "ap-shanghai"
	evs[7].Resource = "other"
	evs[8].Account = "2"
	evs[9].Action = "PutSecretValue"
	l := audit.NewLookup(mustLookupStore(t, evs...))
	at := func(i int) time.Time { return lookupT0.Add(time.Duration(i) * time.Minute) }

	got, err := l.Consumers(context.Background(), "1", "ap-guangzhou", "db", at(0), at(10))
	if err != nil {
		t.Fatal(err)
	}
	want := []audit.Consumer{
		{PrincipalID: "root", PrincipalName: "root-name", PrincipalKind: "root", AccessKeyID: "AK3", VersionIDs: []string{"v1"}, Reads: 1, First: at(4), Last: at(4)},
		{PrincipalID: "root", PrincipalName: "root-name", PrincipalKind: "root", AccessKeyID: "AK1", VersionIDs: []string{"v1", "v2"}, Reads: 3, First: at(0), Last: at(3)},
		{PrincipalID: "alice", PrincipalName: "alice-name", PrincipalKind: "user", AccessKeyID: "AK2", VersionIDs: []string{"v2"}, Reads: 1, First: at(2), Last: at(2)},
	}
	wantConsumers(t, got, want)

	all, err := l.Consumers(context.Background(), "1", "", "db", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 || all[0].AccessKeyID != "AK1" || all[0].Reads != 4 || !slices.Equal(all[0].VersionIDs, []string{"v1", "v2", "v3"}) {
		t.Errorf("every region and time: got %+v, want AK1 first with 4 reads of v1-v3, and 4 consumers (carol of ap-shanghai too)", all)
	}
}

func wantConsumers(t *testing.T, got, want []audit.Consumer) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d consumers %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.PrincipalID != w.PrincipalID || g.PrincipalName != w.PrincipalName || g.PrincipalKind != w.PrincipalKind ||
			g.AccessKeyID != w.AccessKeyID || !slices.Equal(g.VersionIDs, w.VersionIDs) || g.Reads != w.Reads ||
			!g.First.Equal(w.First) || !g.Last.Equal(w.Last) {
			t.Errorf("consumer %d: got %+v, want %+v", i, g, w)
		}
	}
}

// Consumers reads in batches: a secret read more often than one batch
// holds is counted in full.
func TestConsumersManyReads(t *testing.T) {
	var evs []*audit.Event
	for i := range 1201 {
		e := ev(i, "1", "GetSecretValue", "db")
		e.VersionID = fmt.Sprintf("v%d", i%3)
		evs = append(evs, e)
	}
	l := audit.NewLookup(mustLookupStore(t, evs...))
	got, err := l.Consumers(context.Background(), "1", "ap-guangzhou", "db", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Reads != 1201 || len(got[0].VersionIDs) != 3 {
		t.Fatalf("got %+v, want one consumer with 1201 reads of 3 versions", got)
	}
	if want := lookupT0.Add(1200 * time.Minute); !got[0].First.Equal(lookupT0) || !got[0].Last.Equal(want) {
		t.Errorf("got first %v last %v, want %v and %v", got[0].First, got[0].Last, lookupT0, want)
	}
}

func TestConsumersNeedAccountAndSecret(t *testing.T) {
	l := audit.NewLookup(mustLookupStore(t))
	for _, args := range [][2]string{{"", "db"}, {"1", ""}} {
		_, err := l.Consumers(context.Background(), args[0], "", args[1], time.Time{}, time.Time{})
		if !fault.Is(err, fault.Invalid) {
			t.Errorf("Consumers(%q, %q): got %v, want an Invalid error", args[0], args[1], err)
		}
	}
}
