package client

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// CacheOptions configure a Cache. The zero value is usable.
type CacheOptions struct {
	// TTL is how long a value is served without asking Coffer. Default 5 min.
	TTL time.Duration
	// RefreshAhead is how long before expiry a value that was read during
	// its TTL is refreshed in the background, so readers do not wait.
	// Default TTL/5.
	RefreshAhead time.Duration
	// MaxStale bounds how long past its TTL a value is served (with Stale
	// set) while Coffer is unreachable. 0 serves it for as long as the
	// outage lasts.
	MaxStale time.Duration
	// RetryInterval is the wait after a failed refresh before the next
	// one; it doubles with each failure, up to TTL. Reads in between get
	// the stale value at once. Default 1 s.
	RetryInterval time.Duration
	// PollInterval is how often a watched secret's versions are listed
	// to notice a new one, when the server cannot tell the cache at once
	// (a server without WaitSecretChange, or a caller a policy does not
	// allow it); it also bounds the wait between failed long polls.
	// Default 30 s.
	PollInterval time.Duration
	// OnError, when set, is called with the failures of background work
	// (refreshes, polls). It must not block for long.
	OnError func(name string, err error)
}

func (o CacheOptions) withDefaults() CacheOptions {
	if o.TTL <= 0 {
		o.TTL = 5 * time.Minute
	}
	if o.RefreshAhead <= 0 || o.RefreshAhead >= o.TTL {
		o.RefreshAhead = o.TTL / 5
	}
	if o.RetryInterval <= 0 {
		o.RetryInterval = time.Second
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 30 * time.Second
	}
	return o
}

// ErrClosed is returned by a Cache after Close.
var ErrClosed = errors.New("client: cache closed")

// Cache keeps secret values in memory. A value is served from memory for
// its TTL; a value read during its TTL is refreshed in the background
// before it expires; concurrent misses of one value share one request;
// while Coffer is unreachable (IsUnavailable) an expired value is served
// with Stale set. A secret that is gone, disabled or denied is dropped
// and its error returned. Watch and Changes report new current versions.
// A Cache is safe for concurrent use; Close stops its background work.
type Cache struct {
	client *Client
	opts   CacheOptions
	ctx    context.Context // ends at Close; background fetches use it
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// noLongPoll is set once the server refused WaitSecretChange as an
	// action it does not serve: watches poll instead.
	noLongPoll atomic.Bool

	mu       sync.Mutex
	closed   bool
	entries  map[cacheKey]*entry
	flights  map[cacheKey]*flight
	watchers map[string]*watch
}

// cacheKey names a cached value; version "" is the current version.
type cacheKey struct{ name, version string }

type entry struct {
	val      SecretValue
	fetched  time.Time
	used     bool      // read since the last fetch: worth refreshing
	err      error     // the last refresh's failure, nil after a success
	failures int       // refreshes failed in a row
	retryAt  time.Time // while failing, when the next refresh is due
	timer    *time.Timer
}

// flight is one fetch that concurrent misses wait for.
type flight struct {
	done   chan struct{}
	byRead bool // a Get waits for it: the value is in use
	res    CachedValue
	err    error
}

// CachedValue is a value served by a Cache.
type CachedValue struct {
	SecretValue
	FetchedAt time.Time // when Coffer returned it
	// Stale is set when the value's TTL has passed and Coffer could not be
	// asked for a fresh one; Err says why.
	Stale bool
	Err   error
}

// NewCache returns a cache over c. Call Close when done with it.
func NewCache(c *Client, opts CacheOptions) *Cache {
	ctx, cancel := context.WithCancel(context.Background())
	return &Cache{
		client: c, opts: opts.withDefaults(), ctx: ctx, cancel: cancel,
		entries: map[cacheKey]*entry{}, flights: map[cacheKey]*flight{}, watchers: map[string]*watch{},
	}
}

// Get returns the current (newest) version of a secret, from memory when
// it is fresh. It returns the errors of GetCurrentSecretValue when there is
// nothing to serve, ErrClosed after Close, or ctx's error.
func (c *Cache) Get(ctx context.Context, name string) (*CachedValue, error) {
	return c.get(ctx, cacheKey{name, ""})
}

// GetVersion is Get for one version id.
func (c *Cache) GetVersion(ctx context.Context, name, versionID string) (*CachedValue, error) {
	return c.get(ctx, cacheKey{name, versionID})
}

func (c *Cache) get(ctx context.Context, k cacheKey) (*CachedValue, error) {
	if r, ok := c.fromMemory(k, time.Now()); ok {
		return r, nil
	}
	r, err := c.load(ctx, k, true)
	if err == nil || !IsUnavailable(err) {
		return r, err
	}
	if s, ok := c.stale(k, err, time.Now()); ok {
		return s, nil
	}
	return nil, err
}

// fromMemory returns a fresh value, or a stale one while a failed refresh
// waits to be retried.
func (c *Cache) fromMemory(k cacheKey, now time.Time) (*CachedValue, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[k]
	if e == nil {
		return nil, false
	}
	e.used = true
	if now.Sub(e.fetched) < c.opts.TTL {
		return e.result(false, nil), true
	}
	if e.err != nil && now.Before(e.retryAt) && c.servable(e, now) {
		return e.result(true, e.err), true
	}
	return nil, false
}

// stale returns the expired value of k, if it may still be served.
func (c *Cache) stale(k cacheKey, err error, now time.Time) (*CachedValue, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[k]
	if e == nil || !c.servable(e, now) {
		return nil, false
	}
	return e.result(true, err), true
}

func (c *Cache) servable(e *entry, now time.Time) bool {
	return c.opts.MaxStale <= 0 || now.Sub(e.fetched) < c.opts.TTL+c.opts.MaxStale
}

func (e *entry) result(stale bool, err error) *CachedValue {
	return &CachedValue{SecretValue: e.val, FetchedAt: e.fetched, Stale: stale, Err: err}
}

// load fetches k, joining a fetch already under way. The fetch runs on the
// cache's context: a caller giving up does not fail the others.
func (c *Cache) load(ctx context.Context, k cacheKey, byRead bool) (*CachedValue, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	f, ok := c.flights[k]
	if !ok {
		f = &flight{done: make(chan struct{})}
		c.flights[k] = f
		c.wg.Add(1)
		go c.fetch(k, f)
	}
	f.byRead = f.byRead || byRead // read by fetch under c.mu
	c.mu.Unlock()
	select {
	case <-f.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if f.err != nil {
		return nil, f.err
	}
	r := f.res
	return &r, nil
}

// fetch asks Coffer for k and records the outcome.
func (c *Cache) fetch(k cacheKey, f *flight) {
	defer c.wg.Done()
	var v *SecretValue
	var err error
	if k.version == "" {
		v, err = c.client.GetCurrentSecretValue(c.ctx, k.name)
	} else {
		v, err = c.client.GetSecretValue(c.ctx, k.name, k.version)
	}
	now := time.Now()
	c.mu.Lock()
	delete(c.flights, k)
	if err == nil {
		f.res = c.storeLocked(k, *v, now, f.byRead)
	} else {
		c.failedLocked(k, err, now)
	}
	f.err = err
	c.mu.Unlock()
	close(f.done)
	if err != nil {
		c.reportError(k.name, err)
	}
}

// storeLocked records a fetched value (used when a reader asked for it),
// schedules its refresh and tells the watchers when the current version
// changed.
func (c *Cache) storeLocked(k cacheKey, v SecretValue, now time.Time, used bool) CachedValue {
	e := c.entries[k]
	var old *SecretValue
	if e == nil {
		e = &entry{}
		c.entries[k] = e
	} else {
		prev := e.val
		old = &prev
	}
	e.val, e.fetched, e.used, e.err, e.failures = v, now, used, nil, 0
	c.scheduleLocked(k, e, now.Add(c.opts.TTL-c.opts.RefreshAhead))
	if k.version == "" && old != nil && (old.VersionID != v.VersionID || !old.Value.Equal(v.Value)) {
		c.notifyLocked(Change{Name: k.name, VersionID: v.VersionID, PreviousVersionID: old.VersionID, Value: v.Value, Time: now})
	}
	return *e.result(false, nil)
}

// failedLocked records a failed fetch: an outage keeps the value and
// retries with back-off; any other failure drops it.
func (c *Cache) failedLocked(k cacheKey, err error, now time.Time) {
	e := c.entries[k]
	if e == nil {
		return
	}
	if !IsUnavailable(err) || !c.servable(e, now) {
		c.dropLocked(k, e)
		return
	}
	e.err = err
	e.failures++
	wait := c.opts.RetryInterval
	for i := 1; i < e.failures && wait < c.opts.TTL; i++ {
		wait *= 2
	}
	e.retryAt = now.Add(min(wait, c.opts.TTL))
	c.scheduleLocked(k, e, e.retryAt)
}

func (c *Cache) dropLocked(k cacheKey, e *entry) {
	if e.timer != nil {
		e.timer.Stop()
	}
	delete(c.entries, k)
}

func (c *Cache) scheduleLocked(k cacheKey, e *entry, at time.Time) {
	if e.timer != nil {
		e.timer.Stop()
	}
	e.timer = time.AfterFunc(time.Until(at), func() { c.refresh(k, e) })
}

// refresh renews a value in the background if it is still wanted: read
// since its last fetch, or watched.
func (c *Cache) refresh(k cacheKey, e *entry) {
	c.mu.Lock()
	if c.closed || c.entries[k] != e {
		c.mu.Unlock()
		return
	}
	if !e.used && !c.watchedLocked(k) {
		c.dropLocked(k, e)
		c.mu.Unlock()
		return
	}
	c.wg.Add(1)
	c.mu.Unlock()
	defer c.wg.Done()
	_, _ = c.load(c.ctx, k, false) // fetch records the outcome
}

func (c *Cache) reportError(name string, err error) {
	if c.opts.OnError != nil && !errors.Is(err, context.Canceled) {
		c.opts.OnError(name, err)
	}
}

// Invalidate forgets the cached values of a secret, every version, so the
// next Get asks Coffer.
func (c *Cache) Invalidate(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if k.name == name {
			c.dropLocked(k, e)
		}
	}
}

// Close stops the background refreshes and watches, closes the channels
// Changes returned and waits for work under way. Later calls fail with
// ErrClosed. It returns nil.
func (c *Cache) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	for k, e := range c.entries {
		c.dropLocked(k, e)
	}
	for _, w := range c.watchers {
		w.closeLocked()
	}
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	return nil
}
