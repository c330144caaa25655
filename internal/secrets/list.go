package secrets

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// ListInput selects secrets.
type ListInput struct {
	Status Status // "" for any
	Types  []Type
	Search string
	Tags   []store.TagFilter
	Asc    bool
	Offset int
	Limit  int // 0 for 20
}

// List returns a page of the secrets in scope and the number that match.
func (s *Service) List(ctx context.Context, sc Scope, in ListInput) ([]*Secret, int, error) {
	const op = "secrets.List"
	if in.Limit == 0 {
		in.Limit = 20
	}
	if in.Limit < 0 || in.Limit > s.limits().MaxListLimit || in.Offset < 0 {
		return nil, 0, fault.E(op, fault.Invalid, fmt.Sprintf("Limit is 1 to %d and Offset is not negative", s.limits().MaxListLimit))
	}
	q := store.SecretQuery{
		Account: sc.Account, Region: sc.Region, Status: in.Status, Types: in.Types,
		Search: in.Search, Tags: in.Tags, Asc: in.Asc, Offset: in.Offset, Limit: in.Limit,
	}
	var out []*Secret
	var total int
	key := countKey(q)
	gen := s.countGen(q)
	cached, ok, wait, mine := s.counts.get(key, gen)
	for wait != nil { // another listing counts what this one would
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, 0, fault.Wrap(op, fault.Unavailable, "listing abandoned", ctx.Err())
		}
		gen = s.countGen(q)
		cached, ok, wait, mine = s.counts.get(key, gen)
	}
	q.NoTotal = ok
	// When this listing counts, the listings waiting on it go on when it
	// ends, with its total or, if it failed, to count themselves.
	defer s.counts.done(key, mine)
	if err := s.awaitCursors(ctx, key, q); err != nil {
		return nil, 0, fault.Wrap(op, fault.Unavailable, "listing abandoned", err)
	}
	err := s.view(ctx, func(tx store.Tx, _ time.Time) error {
		s.seekDeep(key, &q)
		var err error
		out, total, err = tx.ListSecrets(ctx, q)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	if ok {
		return out, cached, nil
	}
	s.counts.put(key, total, gen)
	return out, total, nil
}

// countGen returns the generation a listing's total is kept under: over a
// store that reports what changes listings (store.Changes.Listed), a total
// filtered by status and type only lasts until a secret is created,
// deleted, or changes status or type, not until any write (a put would
// otherwise make the next listing count a million secrets again); else
// until this server's next write.
func (s *Service) countGen(q store.SecretQuery) uint64 {
	s.watch()
	if s.notified && q.Search == "" && len(q.Tags) == 0 {
		return s.listed.Load()
	}
	return s.changes.generation()
}

// cursorGen is countGen for a listing's checkpoints, which also move when
// the sort key does: creation times and names never change, update and
// access times do with every write and read.
func (s *Service) cursorGen(q store.SecretQuery) uint64 {
	if q.SortBy == store.SortCreated || q.SortBy == store.SortName {
		return s.countGen(q)
	}
	return s.changes.generation()
}

// countKey names what a listing counts: its filters, not its page.
func countKey(q store.SecretQuery) string {
	return fmt.Sprintf("%s|%s|%s|%s|%v|%q|%v", q.Account, q.Region, q.Status, q.NotStatus, q.Types, q.Search, q.Tags)
}

// CountTTL bounds how long a listing's total is reused: counting a
// million secrets takes SQLite tens of milliseconds, so a total is kept
// until this server commits a write or for this long (a write through
// another server of a cluster shows in totals within it).
const CountTTL = 2 * time.Second

// countCache keeps listings' totals.
type countCache struct {
	mu sync.Mutex
	m  map[string]countEntry
	// counting holds, for each key a listing counts with no total to fall
	// back on, a channel closed when that count ends.
	counting map[string]chan struct{}
}

type countEntry struct {
	n   int
	gen uint64
	at  time.Time
	// recounting is when a listing set out to count again after the total
	// aged past CountTTL; zero when none did.
	recounting time.Time
}

// get returns the total kept for key at generation gen (ok), or tells the
// caller to count it (neither ok nor wait), or to wait until wait closes
// and ask again. A total older than CountTTL is counted again by one
// listing while the others go on with the old one (a million secrets take
// tens of milliseconds to count: 32 listings counting at once stalled
// every listing for a second); if that listing has not put a new total
// within CountTTL, another one counts. With no total of gen at all (a
// server just started, a secret just created), one listing counts and the
// others wait for it: the caller that counts gets mine, and calls done
// with it when it ends, after put if it counted.
func (c *countCache) get(key string, gen uint64) (n int, ok bool, wait <-chan struct{}, mine chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, found := c.m[key]
	if !found || e.gen != gen {
		if ch, busy := c.counting[key]; busy {
			return 0, false, ch, nil
		}
		if c.counting == nil {
			c.counting = map[string]chan struct{}{}
		}
		mine = make(chan struct{})
		c.counting[key] = mine
		return 0, false, nil, mine
	}
	now := time.Now()
	if now.Sub(e.at) <= CountTTL {
		return e.n, true, nil, nil
	}
	if !e.recounting.IsZero() && now.Sub(e.recounting) <= CountTTL {
		return e.n, true, nil, nil // another listing is counting
	}
	e.recounting = now
	c.m[key] = e
	return 0, false, nil, nil
}

func (c *countCache) put(key string, n int, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 1000 {
		c.m = map[string]countEntry{}
	}
	c.m[key] = countEntry{n: n, gen: gen, at: time.Now()}
}

// done ends the count that get gave mine for (nil: none): the listings
// waiting on it ask again.
func (c *countCache) done(key string, mine chan struct{}) {
	if mine == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	close(mine)
	if c.counting[key] == mine {
		delete(c.counting, key)
	}
}

// Count returns how many secrets the account holds in the region.
func (s *Service) Count(ctx context.Context, sc Scope) (int, error) {
	var n int
	err := s.view(ctx, func(tx store.Tx, _ time.Time) error {
		var err error
		n, err = tx.CountSecrets(ctx, sc.Account, sc.Region)
		return err
	})
	return n, err
}

// ScanInput selects secrets page by page in a stable order (keyset
// paging), optionally filtered by a predicate the store cannot evaluate.
type ScanInput struct {
	NotStatus Status // "" for none
	SortBy    store.SortKey
	Asc       bool
	After     *store.Cursor // where the previous page ended; nil for the first page
	Limit     int           // page size, 1..MaxListLimit
	Match     func(*Secret) bool
	// NamePrefixes narrows the scan to names that start with one of these
	// (case-sensitive) in the store, before Match; empty for any.
	NamePrefixes []string
	// WithVersions loads each secret's versions (without values).
	WithVersions bool
}

// Page is one page of a scan.
type Page struct {
	Secrets  []*Secret
	Versions map[string][]*Version // by secret id, when asked for
	Next     *store.Cursor         // nil on the last page
}

// scanBatch is how many secrets a scan reads from the store at a time
// while a predicate filters them.
const scanBatch = 200

// Scan returns the page of secrets after in.After that match in.Match.
func (s *Service) Scan(ctx context.Context, sc Scope, in ScanInput) (Page, error) {
	const op = "secrets.Scan"
	if in.Limit < 1 || in.Limit > s.limits().MaxListLimit {
		return Page{}, fault.E(op, fault.Invalid, fmt.Sprintf("the page size is 1 to %d", s.limits().MaxListLimit))
	}
	var page Page
	err := s.view(ctx, func(tx store.Tx, _ time.Time) error {
		var err error
		if page, err = s.scan(ctx, tx, sc, in); err != nil || !in.WithVersions {
			return err
		}
		page.Versions = make(map[string][]*Version, len(page.Secrets))
		for _, sec := range page.Secrets {
			vs, err := tx.Versions(ctx, sec.ID)
			if err != nil {
				return fmt.Errorf("list versions: %w", err)
			}
			for i := range vs {
				vs[i] = strip(vs[i])
			}
			page.Versions[sec.ID] = vs
		}
		return nil
	})
	return page, err
}

func (s *Service) scan(ctx context.Context, tx store.Tx, sc Scope, in ScanInput) (Page, error) {
	q := store.SecretQuery{
		Account: sc.Account, Region: sc.Region, NotStatus: in.NotStatus, NamePrefixes: in.NamePrefixes,
		SortBy: in.SortBy, Asc: in.Asc, After: in.After, Limit: scanBatch, NoTotal: true,
	}
	var page Page
	for {
		batch, _, err := tx.ListSecrets(ctx, q)
		if err != nil {
			return Page{}, fmt.Errorf("list secrets: %w", err)
		}
		for _, sec := range batch {
			if in.Match != nil && !in.Match(sec) {
				continue
			}
			if len(page.Secrets) == in.Limit {
				page.Next = cursorOf(page.Secrets[len(page.Secrets)-1], in.SortBy)
				return page, nil
			}
			page.Secrets = append(page.Secrets, sec)
		}
		if len(batch) < scanBatch {
			return page, nil
		}
		q.After = cursorOf(batch[len(batch)-1], in.SortBy)
	}
}

// cursorOf is the position of sec in an order.
func cursorOf(sec *Secret, by store.SortKey) *store.Cursor {
	c := &store.Cursor{Name: sec.Name}
	switch by {
	case store.SortCreated:
		c.Time = sec.CreatedAt
	case store.SortChanged:
		c.Time = sec.UpdatedAt
	case store.SortAccessed:
		c.Time = sec.AccessedAt
	}
	return c
}

// cursorEvery is the spacing of the checkpoints a deep Offset seeks from.
const cursorEvery = 1000

// deepListing reports whether q's Offset is deep enough to seek from a
// checkpoint, and the key of q's checkpoints. Listings with a name search
// or tag filters always keep their Offset (their order is not an index
// walk to begin with).
func deepListing(key string, q store.SecretQuery) (string, bool) {
	if q.Offset < 2*cursorEvery || q.Search != "" || len(q.Tags) > 0 || q.After != nil {
		return "", false
	}
	return fmt.Sprintf("%s|%s|%v", key, q.SortBy, q.Asc), true
}

// awaitCursors waits, before a deep listing opens its read transaction,
// for the build of its checkpoints when one runs, and starts one when none
// is valid and none started within cursorRebuild. One build walks the
// listing once; every listing that did not wait would walk it up to its
// Offset meanwhile: after a restart, 32 clients paging through a million
// secrets walked for twenty seconds before the build, which they slowed
// as much as each other, was done.
func (s *Service) awaitCursors(ctx context.Context, key string, q store.SecretQuery) error {
	ckey, deep := deepListing(key, q)
	if !deep {
		return nil
	}
	if _, ok := s.cursors.get(ckey, s.cursorGen(q), s.cursorTTL()); ok {
		return nil
	}
	building, start := s.cursors.startBuild(ckey)
	if start {
		go s.buildCursors(ckey, q, building)
	}
	if building == nil {
		return nil
	}
	select {
	case <-building:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// seekDeep turns a deep Offset into a keyset seek from the nearest
// checkpoint before it plus a short Offset: an Offset alone walks the
// index entry by entry, 80 ms at a million. The checkpoints
// (store.SecretCursors) are valid until this server commits its next write
// (and, where other servers write too, for CursorTTL); awaitCursors has
// them built, at most one build per listing at a time and one every
// cursorRebuild, and a listing without valid checkpoints keeps its Offset.
func (s *Service) seekDeep(key string, q *store.SecretQuery) {
	ckey, deep := deepListing(key, *q)
	if !deep {
		return
	}
	cursors, ok := s.cursors.get(ckey, s.cursorGen(*q), s.cursorTTL())
	if !ok || len(cursors) == 0 {
		return
	}
	i := q.Offset/cursorEvery - 1 // the checkpoint at position (i+1)·cursorEvery
	i = min(i, len(cursors)-1)
	c := cursors[i]
	q.After, q.Offset = &c, q.Offset-(i+1)*cursorEvery
}

// CursorTTL bounds how long checkpoints are used when other servers may
// write the store (Service.SharedStore): their writes do not reach this
// server's write count.
const CursorTTL = 2 * time.Second

// cursorRebuild spaces the builds of one listing's checkpoints: a build
// walks the whole listing.
const cursorRebuild = 10 * time.Second

func (s *Service) cursorTTL() time.Duration {
	if s.SharedStore {
		return CursorTTL
	}
	return 0 // this server's writes are the only ones
}

func (s *Service) buildCursors(ckey string, q store.SecretQuery, done chan struct{}) {
	gen := s.cursorGen(q) // before the read
	var cursors []store.Cursor
	err := s.Store.View(context.Background(), func(tx store.Tx) error {
		var err error
		cursors, err = tx.SecretCursors(context.Background(), q, cursorEvery)
		return err
	})
	s.cursors.finishBuild(ckey, cursors, gen, err == nil, done)
}

// cursorCache keeps listings' checkpoints.
type cursorCache struct {
	mu       sync.Mutex
	m        map[string]cursorEntry
	building map[string]build // each listing's last build
}

type cursorEntry struct {
	cursors []store.Cursor
	gen     uint64
	at      time.Time
}

// build is a build of checkpoints: when it started, and a channel closed
// when it ends.
type build struct {
	at   time.Time
	done chan struct{}
}

func (c *cursorCache) get(key string, gen uint64, ttl time.Duration) ([]store.Cursor, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || e.gen != gen || ttl > 0 && time.Since(e.at) > ttl {
		return nil, false
	}
	return e.cursors, true
}

// startBuild returns the channel that closes when key's build ends, nil
// when none runs, and whether the caller should start that build: none
// runs, and the last one started cursorRebuild ago or more.
func (c *cursorCache) startBuild(key string) (done chan struct{}, start bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.building == nil {
		c.building = map[string]build{}
	}
	last, ok := c.building[key]
	if ok && time.Since(last.at) < cursorRebuild {
		select {
		case <-last.done:
			return nil, false // ended; too soon for another
		default:
			return last.done, false
		}
	}
	if len(c.building) > 1000 { // forget builds that ended, as c.m forgets checkpoints
		for k, old := range c.building {
			select {
			case <-old.done:
				delete(c.building, k)
			default:
			}
		}
	}
	b := build{at: time.Now(), done: make(chan struct{})}
	c.building[key] = b
	return b.done, true
}

// finishBuild keeps the checkpoints of a build that succeeded and closes
// its channel.
func (c *cursorCache) finishBuild(key string, cursors []store.Cursor, gen uint64, ok bool, done chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	defer close(done)
	if !ok {
		return
	}
	if c.m == nil || len(c.m) > 100 {
		c.m = map[string]cursorEntry{}
	}
	c.m[key] = cursorEntry{cursors: cursors, gen: gen, at: time.Now()}
}
