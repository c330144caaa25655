package secrets

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// DefaultReadCacheEntries bounds the read cache: about a kilobyte a secret
// with a 1 KiB value, so the default costs a few tens of megabytes at most.
const DefaultReadCacheEntries = 20000

// readCache keeps what reading a secret costs the store — the secret's
// row, the version a selector picks, the CMK record — so that a read of a
// secret read before costs no store round trip. It holds sealed values
// only (ciphertext and wrapped data keys), never a plaintext.
//
// It is on only over a store whose writes all pass through this process
// (store.ChangeNotifier, and not Service.SharedStore): every write
// transaction reports the secrets and keys it changed, and their entries
// are dropped before the write returns, so a read that starts after a
// write was acknowledged never sees what the write replaced.
//
// An entry is filled from a read transaction only if no write changed a
// secret or a key while that transaction ran (gen did not move): a read
// that raced a write may answer with what it read, as it would without the
// cache, but does not leave it behind.
type readCache struct {
	max int

	mu      sync.Mutex
	gen     uint64
	secrets named[*secretEntry]
	keys    map[keyRef]*store.Key

	// authz keeps secrets for authorization alone (Service.Authz): an
	// entry outlives changes to the secret's versions, labels and times,
	// which authorization does not read, and goes with any other change
	// (store.Changes.Authz). authzGen moves with those changes only.
	authz    named[*Secret]
	authzGen uint64
}

type nameKey struct{ account, region, name string }

type keyRef struct{ account, region, id string }

type secretEntry struct {
	sec  *Secret
	vers map[Selector]*Version // by the selector that picked it; sealed values included
}

func newReadCache(max int) *readCache {
	if max <= 0 {
		max = DefaultReadCacheEntries
	}
	return &readCache{max: max, secrets: newNamed[*secretEntry](max), keys: map[keyRef]*store.Key{},
		authz: newNamed[*Secret](max)}
}

// named holds up to max values by secret name, each found by its secret's
// id too, so that a change reported by id drops it.
type named[V any] struct {
	max  int
	m    map[nameKey]namedEntry[V]
	byID map[string]nameKey
}

type namedEntry[V any] struct {
	id string
	v  V
}

func newNamed[V any](max int) named[V] {
	return named[V]{max: max, m: map[nameKey]namedEntry[V]{}, byID: map[string]nameKey{}}
}

func (n *named[V]) get(k nameKey) (V, bool) {
	e, ok := n.m[k]
	return e.v, ok
}

// put keeps v for the secret with id under k, in place of what k held.
// When full, an arbitrary entry goes (Go's map order is random enough that
// hot secrets come back at once and cold ones stay out).
func (n *named[V]) put(k nameKey, id string, v V) {
	if old, ok := n.m[k]; ok {
		delete(n.byID, old.id)
		delete(n.m, k)
	}
	for k2, e := range n.m {
		if len(n.m) < n.max {
			break
		}
		delete(n.m, k2)
		delete(n.byID, e.id)
	}
	n.m[k] = namedEntry[V]{id: id, v: v}
	n.byID[id] = k
}

// drop removes the value of the secret with id, if any.
func (n *named[V]) drop(id string) {
	if k, ok := n.byID[id]; ok {
		delete(n.m, k)
		delete(n.byID, id)
	}
}

// watch subscribes, at first use, to what the store's writes change, when
// the store reports it and no other server writes it: the read cache (on
// unless ReadCacheEntries is negative) and the listings' generation
// (countGen) follow the reports.
func (s *Service) watch() {
	s.watchOnce.Do(func() {
		n, ok := s.Store.(store.ChangeNotifier)
		if !ok || s.SharedStore {
			if s.SharedStore && s.revisions() != nil && s.ReadCacheEntries >= 0 {
				s.checked = newReadCache(s.ReadCacheEntries)
			}
			return
		}
		s.notified = true
		if s.ReadCacheEntries >= 0 {
			s.cache = newReadCache(s.ReadCacheEntries)
		}
		n.OnChange(func(ch store.Changes) {
			if ch.Listed {
				s.listed.Add(1)
			}
			if s.cache != nil {
				s.cache.changed(ch)
			}
		})
	})
}

// readCache returns the service's read cache, or nil when it is off.
func (s *Service) readCache() *readCache {
	s.watch()
	return s.cache
}

// changed drops what a write transaction made stale.
func (c *readCache) changed(ch store.Changes) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, id := range ch.Secrets {
		c.secrets.drop(id)
	}
	if ch.Keys {
		clear(c.keys)
	}
	if len(ch.Authz) > 0 {
		c.authzGen++
	}
	for _, id := range ch.Authz {
		c.authz.drop(id)
	}
}

// authzSecret returns a copy of the secret called name in sc kept for
// authorization, if any.
func (c *readCache) authzSecret(sc Scope, name string) (*Secret, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sec, ok := c.authz.get(nameKey{sc.Account, sc.Region, name})
	if !ok {
		return nil, false
	}
	return cloneSecret(sec), true
}

// startAuthz returns the generation an authorization fill must still see.
func (c *readCache) startAuthz() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.authzGen
}

// putAuthz keeps sec for authorization if no change that authorization
// reads happened since generation gen.
func (c *readCache) putAuthz(gen uint64, sec *Secret) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.authzGen != gen {
		return
	}
	c.authz.put(nameKey{sec.Account, sec.Region, sec.Name}, sec.ID, cloneSecret(sec))
}

// start returns the generation a fill must still see to be kept.
func (c *readCache) start() uint64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// secret returns a copy of the cached secret called name in sc, if any.
func (c *readCache) secret(sc Scope, name string) (*Secret, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.secrets.get(nameKey{sc.Account, sc.Region, name})
	if !ok {
		return nil, false
	}
	return cloneSecret(e.sec), true
}

// version returns the cached version sel picked of the secret with id, if any.
func (c *readCache) version(sc Scope, name, id string, sel Selector) (*Version, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.secrets.get(nameKey{sc.Account, sc.Region, name})
	if !ok || e.sec.ID != id {
		return nil, false
	}
	v, ok := e.vers[sel]
	if !ok {
		return nil, false
	}
	return cloneVersion(v), true
}

// key returns the cached CMK record, if any. The record is shared: callers
// read it and never change it.
func (c *readCache) key(account, region, id string) (*store.Key, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.keys[keyRef{account, region, id}]
	return k, ok
}

// fill runs f under the lock if nothing changed since generation gen.
func (c *readCache) fill(gen uint64, f func()) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		f()
	}
}

// putSecret keeps sec, read since generation gen.
func (c *readCache) putSecret(gen uint64, sec *Secret) {
	c.fill(gen, func() { c.keepSecret(sec) })
}

func (c *readCache) keepSecret(sec *Secret) {
	k := nameKey{sec.Account, sec.Region, sec.Name}
	if e, ok := c.secrets.get(k); ok && e.sec.ID == sec.ID && e.sec.Revision == sec.Revision {
		return // keep its versions
	}
	c.secrets.put(k, sec.ID, &secretEntry{sec: cloneSecret(sec)})
}

// putVersion keeps the version sel picked of sec, read since generation gen.
func (c *readCache) putVersion(gen uint64, sec *Secret, sel Selector, v *Version) {
	c.fill(gen, func() { c.keepVersion(sec, sel, v) })
}

func (c *readCache) keepVersion(sec *Secret, sel Selector, v *Version) {
	e, ok := c.secrets.get(nameKey{sec.Account, sec.Region, sec.Name})
	if !ok || e.sec.ID != sec.ID {
		return
	}
	if e.vers == nil {
		e.vers = map[Selector]*Version{}
	}
	if len(e.vers) >= 16 { // a caller walking every version id: keep the few that repeat
		clear(e.vers)
	}
	e.vers[sel] = cloneVersion(v)
}

// putKey keeps a CMK record read since generation gen.
func (c *readCache) putKey(gen uint64, k *store.Key) {
	c.fill(gen, func() { c.keepKey(k) })
}

// keepKey keeps a CMK record, emptying the keys first when they are at
// the bound. The caller holds c.mu.
func (c *readCache) keepKey(k *store.Key) {
	if len(c.keys) >= c.max {
		clear(c.keys)
	}
	c.keys[keyRef{k.Account, k.Region, k.ID}] = k
}

func cloneSecret(s *Secret) *Secret {
	c := *s
	c.Tags = slices.Clone(s.Tags)
	c.Replicas = slices.Clone(s.Replicas)
	return &c
}

func cloneVersion(v *Version) *Version {
	c := *v
	c.Stages = slices.Clone(v.Stages)
	return &c
}

// cachedSecret returns the secret called name in sc from the read cache,
// or reads it in a read transaction and keeps it.
func (s *Service) cachedSecret(ctx context.Context, op string, sc Scope, name string) (*Secret, error) {
	c := s.readCache()
	plain, pin, _ := strings.Cut(name, pinSep)
	if sec, ok := c.secret(sc, plain); ok {
		return pinned(op, sec, plain, pin)
	}
	return s.readSecret(ctx, op, sc, name)
}

// pinned returns sec, a secret called plain, unless pin (secrets.Pin) names
// another secret of that name.
func pinned(op string, sec *Secret, plain, pin string) (*Secret, error) {
	if !strings.HasPrefix(sec.ID, pin) {
		return nil, fault.E(op, fault.NotFound, "secret "+plain+" does not exist")
	}
	return sec, nil
}

// readSecret reads the secret called name in sc in a read transaction and
// keeps it in the read cache.
func (s *Service) readSecret(ctx context.Context, op string, sc Scope, name string) (*Secret, error) {
	c := s.readCache()
	gen := c.start()
	var sec *Secret
	err := s.view(ctx, func(tx store.Tx, _ time.Time) error {
		var err error
		sec, err = load(ctx, tx, op, sc, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	c.putSecret(gen, sec)
	return sec, nil
}

// Authz returns the named secret for authorization, which reads its
// name, id, creator, tags and resource policy. Over a store that reports
// its changes, the secret may come from a cache that a change to its
// versions, stage labels or times leaves in place (store.Changes.Authz):
// fresh is false then, and the secret's other fields (its update time,
// its revision) may be older than the store's. Without the cache, or when
// it was read now, fresh is true.
func (s *Service) Authz(ctx context.Context, sc Scope, name string) (sec *Secret, fresh bool, err error) {
	const op = "secrets.Authz"
	c := s.readCache()
	if c == nil {
		sec, err := s.Meta(ctx, sc, name)
		return sec, true, err
	}
	plain, pin, _ := strings.Cut(name, pinSep)
	if sec, ok := c.secret(sc, plain); ok { // the read cache holds only current entries
		sec, err := pinned(op, sec, plain, pin)
		return sec, true, err
	}
	if sec, ok := c.authzSecret(sc, plain); ok {
		sec, err := pinned(op, sec, plain, pin)
		return sec, false, err
	}
	gen := c.startAuthz()
	if sec, err = s.readSecret(ctx, op, sc, name); err != nil {
		return nil, false, err
	}
	c.putAuthz(gen, sec)
	return sec, true, nil
}
