package audit

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// Page sizes of Lookup.Events.
const (
	DefaultPage = 50
	MaxPage     = 1000
)

// scanBatch is how many events a look-up reads per store query when it
// must filter what it reads, so a sparse filter costs few round trips.
const scanBatch = 500

// Lookup answers questions about the recorded events of one account: the
// events matching a search, and which principals read a secret. It only
// reads; authorization is the gate's, which passes the caller's account.
type Lookup struct {
	Store store.Store
}

// NewLookup returns a Lookup over the events in st.
func NewLookup(st store.Store) *Lookup { return &Lookup{Store: st} }

// Query is a look-up: a store query, which must name an account, and
// conditions the store cannot evaluate (a source address, an API family),
// applied to the events as they are read.
type Query struct {
	store.EventQuery
	// Keep further selects events; nil keeps every event the store selects.
	Keep func(*Event) bool
}

// Page is one page of a look-up, newest first.
type Page struct {
	Events []*Event
	// Next is the BeforeSeq of the query that reads the following page;
	// 0 when this page is the last.
	Next int64
}

// Events returns the newest q.Limit events matching q (DefaultPage when
// q.Limit is 0, at most MaxPage), newer than q.AfterSeq and older than
// q.BeforeSeq. It returns fault.Invalid when q names no account, and the
// store's fault errors.
func (l *Lookup) Events(ctx context.Context, q Query) (Page, error) {
	if q.Account == "" {
		return Page{}, fault.E("audit.Events", fault.Invalid, "a look-up must name an account")
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultPage
	}
	limit = min(limit, MaxPage)
	sq := q.EventQuery
	sq.Desc = true
	sq.Limit = limit + 1 // one more tells whether a next page exists
	if q.Keep != nil {
		sq.Limit = max(sq.Limit, scanBatch)
	}
	var out []*Event
	err := l.scan(ctx, sq, func(e *Event) bool {
		if q.Keep != nil && !q.Keep(e) {
			return true
		}
		out = append(out, e)
		return len(out) <= limit
	})
	if err != nil || len(out) <= limit {
		return Page{Events: out}, err
	}
	out = out[:limit]
	return Page{Events: out, Next: out[limit-1].Seq}, nil
}

// scan reads the events of q newest first, q.Limit per store query, and
// passes each to fn until fn returns false or none are left. Each batch is
// its own transaction: events are only appended and retention only cuts
// the oldest, so seq positions stay valid across batches.
func (l *Lookup) scan(ctx context.Context, q store.EventQuery, fn func(*Event) bool) error {
	for {
		var evs []*Event
		err := l.Store.View(ctx, func(tx store.Tx) error {
			var err error
			evs, err = tx.Events(ctx, q)
			return err
		})
		if err != nil {
			return err
		}
		for _, e := range evs {
			if !fn(e) {
				return nil
			}
		}
		if len(evs) < q.Limit || len(evs) == 0 {
			return nil
		}
		q.BeforeSeq = evs[len(evs)-1].Seq
	}
}

// Consumer is one principal, with one access key, that read a secret's
// value: which versions, how often, and when.
type Consumer struct {
	PrincipalID   string
	PrincipalName string // as of its latest read
	PrincipalKind string
	Session       string // the role session of its latest read, if any
	AccessKeyID   string
	VersionIDs    []string // sorted
	Reads         int
	First, Last   time.Time
}

// Consumers returns who read the value of secret in account and region
// (every region when region is "") from from up to to (a zero bound is
// none): every successful value read, of any API family, grouped by
// principal and access key, most recent reader first. A secret never read,
// or that never existed, has none. It returns fault.Invalid when account or
// secret is "", and the store's fault errors.
func (l *Lookup) Consumers(ctx context.Context, account, region, secret string, from, to time.Time) ([]Consumer, error) {
	if account == "" || secret == "" {
		return nil, fault.E("audit.Consumers", fault.Invalid, "consumers need an account and a secret")
	}
	byKey := map[[2]string]*Consumer{}
	var order []*Consumer
	count := func(e *Event, version string) {
		if e.ErrorCode != "" || (region != "" && e.Region != region) {
			return
		}
		k := [2]string{e.PrincipalID, e.AccessKeyID}
		c := byKey[k]
		if c == nil {
			c = newConsumer(e) // newest first: this is its latest read
			byKey[k] = c
			order = append(order, c)
		}
		c.add(e, version)
	}
	// Single reads name the secret alone; a batch read lists every secret
	// and version it read, comma separated (NoteRead).
	single := store.EventQuery{Account: account, Resource: secret, Action: []string{"GetSecretValue"}, From: from, To: to, Desc: true, Limit: scanBatch}
	err := l.scan(ctx, single, func(e *Event) bool { count(e, e.VersionID); return true })
	if err != nil {
		return nil, err
	}
	batch := store.EventQuery{Account: account, Action: []string{"BatchGetSecretValue"}, From: from, To: to, Desc: true, Limit: scanBatch}
	err = l.scan(ctx, batch, func(e *Event) bool {
		names, versions := strings.Split(e.Resource, ","), strings.Split(e.VersionID, ",")
		for i, n := range names {
			if n == secret && i < len(versions) {
				count(e, versions[i])
			}
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	return consumersByLastRead(order), nil
}

func newConsumer(latest *Event) *Consumer {
	return &Consumer{
		PrincipalID: latest.PrincipalID, PrincipalName: latest.PrincipalName,
		PrincipalKind: latest.PrincipalKind, Session: latest.Session,
		AccessKeyID: latest.AccessKeyID, Last: latest.Time, First: latest.Time,
	}
}

// add counts one read; events arrive newest first, but seq order is commit
// order, so the times are compared rather than assumed.
func (c *Consumer) add(e *Event, version string) {
	c.Reads++
	if version != "" && !slices.Contains(c.VersionIDs, version) {
		c.VersionIDs = append(c.VersionIDs, version)
	}
	if e.Time.Before(c.First) {
		c.First = e.Time
	}
	if e.Time.After(c.Last) {
		c.Last = e.Time
	}
}

func consumersByLastRead(cs []*Consumer) []Consumer {
	out := make([]Consumer, 0, len(cs))
	for _, c := range cs {
		slices.Sort(c.VersionIDs)
		out = append(out, *c)
	}
	slices.SortStableFunc(out, func(a, b Consumer) int {
		return cmp.Or(b.Last.Compare(a.Last), cmp.Compare(a.PrincipalID, b.PrincipalID), cmp.Compare(a.AccessKeyID, b.AccessKeyID))
	})
	return out
}
