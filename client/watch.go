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

// watch is the polling of one secret and its subscribers.
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
// changes, never the latest. New versions are noticed within
// PollInterval (plus a request); a value overwritten in place within the
// TTL. stop waits for a call of fn under way, so fn must not call it.
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

// subscribe adds a subscriber, starting the poller of name if it is the
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
		go c.poll(ctx, name)
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

// poll lists the versions of a watched secret every PollInterval and
// fetches the value when the newest version is not the one cached. The
// first round fetches it, so later changes have something to differ from.
func (c *Cache) poll(ctx context.Context, name string) {
	defer c.wg.Done()
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
