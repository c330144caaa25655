package client

import (
	"context"
	"time"
)

// Change reports a new current version of a watched secret, or a new value
// of the same version (UpdateSecret overwrites in place).
type Change struct {
	Name              string
	VersionID         string
	PreviousVersionID string
	Value             Value
	Time              time.Time // when the cache saw it
}

// watch is the following of one secret and its subscribers.
type watch struct {
	name   string
	subs   map[*subscriber]struct{}
	cancel context.CancelFunc
}

// subscriber holds at most one undelivered change: a slow subscriber
// gets the latest, not a backlog.
type subscriber struct {
	ch     chan Change
	closed bool
}

// Watch calls fn (in a goroutine of its own, one call at a time) each time
// the current version of the secret changes, until stop is called or the
// cache is closed. A subscriber that is slow to return misses intermediate
// changes, never the latest. New versions are noticed at once, through a
// WaitSecretChange long poll, or within PollInterval (plus a request) where
// the server or a policy does not allow that; a value overwritten in place
// within the TTL. stop waits for a call of fn under way, so fn must not
// call it.
func (c *Cache) Watch(name string, fn func(Change)) (stop func()) {
	s, ok := c.subscribe(name)
	if !ok {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ch := range s.ch {
			fn(ch)
		}
	}()
	return func() { c.unsubscribe(name, s); <-done }
}

// Changes returns a channel that receives a Change each time the current
// version of the secret changes, until ctx ends or the cache is closed;
// then it is closed. It buffers the latest change only.
func (c *Cache) Changes(ctx context.Context, name string) <-chan Change {
	s, ok := c.subscribe(name)
	if !ok {
		return s.ch
	}
	go func() {
		select {
		case <-ctx.Done():
			c.unsubscribe(name, s)
		case <-c.ctx.Done(): // Close closed the channel
		}
	}()
	return s.ch
}

// subscribe adds a subscriber, starting to follow name if it is the
// first. It returns a closed subscriber, and false, after Close.
func (c *Cache) subscribe(name string) (*subscriber, bool) {
	s := &subscriber{ch: make(chan Change, 1)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		s.close()
		return s, false
	}
	w := c.watchers[name]
	if w == nil {
		ctx, cancel := context.WithCancel(c.ctx)
		w = &watch{name: name, subs: map[*subscriber]struct{}{}, cancel: cancel}
		c.watchers[name] = w
		c.wg.Add(1)
		go c.follow(ctx, name)
	}
	w.subs[s] = struct{}{}
	return s, true
}

func (c *Cache) unsubscribe(name string, s *subscriber) {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.watchers[name]
	if w == nil {
		return
	}
	if _, ok := w.subs[s]; !ok {
		return
	}
	delete(w.subs, s)
	s.close()
	if len(w.subs) == 0 {
		w.cancel()
		delete(c.watchers, name)
	}
}

func (s *subscriber) close() {
	if !s.closed {
		s.closed = true
		close(s.ch)
	}
}

func (w *watch) closeLocked() {
	w.cancel()
	for s := range w.subs {
		s.close()
	}
}

func (c *Cache) watchedLocked(k cacheKey) bool {
	return k.version == "" && c.watchers[k.name] != nil
}

// notifyLocked hands ch to every subscriber of its secret, replacing a
// change not yet taken. Sends happen under c.mu, as closes do.
func (c *Cache) notifyLocked(ch Change) {
	w := c.watchers[ch.Name]
	if w == nil {
		return
	}
	for s := range w.subs {
		select {
		case s.ch <- ch:
		default:
			select {
			case <-s.ch: // drop the older change
			default:
			}
			s.ch <- ch
		}
	}
}

// follow watches a secret for new versions: with WaitSecretChange long
// polls where the server offers them and the caller may use them, else by
// polling.
func (c *Cache) follow(ctx context.Context, name string) {
	defer c.wg.Done()
	if !c.noLongPoll.Load() && c.longPoll(ctx, name) {
		return
	}
	c.poll(ctx, name)
}

// poll lists the versions of a watched secret every PollInterval and
// fetches the value when the newest version is not the one cached. The
// first round fetches it, so later changes have something to differ from.
func (c *Cache) poll(ctx context.Context, name string) {
	t := time.NewTicker(c.opts.PollInterval)
	defer t.Stop()
	k := cacheKey{name, ""}
	for {
		c.checkVersion(ctx, k)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (c *Cache) checkVersion(ctx context.Context, k cacheKey) {
	vs, err := c.client.ListSecretVersionIds(ctx, k.name)
	if err != nil {
		if ctx.Err() == nil {
			c.reportError(k.name, err)
		}
		return
	}
	if len(vs) == 0 {
		return
	}
	c.mu.Lock()
	e := c.entries[k]
	current := e != nil && e.val.VersionID == vs[len(vs)-1].ID
	c.mu.Unlock()
	if !current {
		_, _ = c.load(ctx, k, false) // fetch notifies and reports errors
	}
}

// longPoll follows a secret with WaitSecretChange, fetching its value when
// the version the server serves the caller changes; the first answer is
// the baseline. It reports false when the server lacks long polls or the
// caller may not use them (polling must take over), true when ctx ended.
// It waits with the id the server answered, not the cached one, so a
// secret whose newest version is not current cannot spin it.
func (c *Cache) longPoll(ctx context.Context, name string) bool {
	k := cacheKey{name, ""}
	known := ""
	failures := 0
	for ctx.Err() == nil {
		ch, err := c.client.WaitSecretChange(ctx, name, known, MaxWait)
		switch {
		case err == nil:
			failures = 0
			if ch.Changed {
				c.fetchUnless(ctx, k, ch.VersionID)
			}
			known = ch.VersionID
		case serverLacksLongPoll(err):
			c.noLongPoll.Store(true) // for every watch of this cache
			return false
		case hasCode(CodeOf(err), CodeUnauthorized):
			return false // a policy may allow polling this secret
		case ctx.Err() == nil:
			c.reportError(name, err)
			failures++
			if !sleep(ctx, c.backoff(failures)) {
				return true
			}
		}
	}
	return true
}

// serverLacksLongPoll reports whether err says the server does not serve
// WaitSecretChange.
func serverLacksLongPoll(err error) bool {
	code := CodeOf(err)
	return hasCode(code, "UnsupportedOperation") || hasCode(code, "InvalidAction")
}

// fetchUnless fetches k unless the cached value is version id.
func (c *Cache) fetchUnless(ctx context.Context, k cacheKey, id string) {
	c.mu.Lock()
	e := c.entries[k]
	current := e != nil && e.val.VersionID == id
	c.mu.Unlock()
	if !current {
		_, _ = c.load(ctx, k, false) // fetch notifies and reports errors
	}
}

// backoff is the wait after the given number of failed long polls in a
// row: RetryInterval, doubling up to PollInterval.
func (c *Cache) backoff(failures int) time.Duration {
	d := c.opts.RetryInterval
	for i := 1; i < failures && d < c.opts.PollInterval; i++ {
		d *= 2
	}
	return min(d, c.opts.PollInterval)
}

// sleep waits d; it reports false when ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
