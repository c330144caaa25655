// Package ratelimit owns Coffer's request limits: token buckets keyed by a
// string, bounded in number so a flood of distinct keys cannot grow memory,
// and the Limiter the gate consults per account, per (account, action) and,
// for failed authentications, per source address.
package ratelimit

import (
	"container/list"
	"sync"
	"time"
)

// Limit is a token bucket's shape: Rate tokens a second, up to Burst held.
// The zero Limit means no limit.
type Limit struct {
	Rate  float64
	Burst int
}

// Off reports whether l limits nothing.
func (l Limit) Off() bool { return l.Rate <= 0 }

// PerSecond returns a limit of n requests a second with a burst of n; n <= 0
// means off.
func PerSecond(n float64) Limit {
	if n <= 0 {
		return Limit{}
	}
	return Limit{Rate: n, Burst: max(1, int(n))}
}

// DefaultMaxKeys bounds a Buckets set whose MaxKeys is 0.
const DefaultMaxKeys = 10000

// Buckets is a set of token buckets keyed by string. It tracks at most
// MaxKeys buckets and evicts the least recently used one to make room: an
// evicted bucket comes back full, which only errs towards admitting a key
// that has been idle longest. Buckets refill lazily on use, so a bucket
// costs no goroutine and no timer. Safe for concurrent use.
type Buckets struct {
	maxKeys int
	clock   func() time.Time

	mu   sync.Mutex
	keys map[string]*list.Element // of *bucket
	lru  list.List                // front: most recently used
}

type bucket struct {
	key    string
	tokens float64
	last   time.Time
}

// NewBuckets returns an empty set of at most maxKeys buckets (DefaultMaxKeys
// when 0) that reads the time from clock (time.Now when nil).
func NewBuckets(maxKeys int, clock func() time.Time) *Buckets {
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	if clock == nil {
		clock = time.Now
	}
	return &Buckets{maxKeys: maxKeys, clock: clock, keys: make(map[string]*list.Element)}
}

// Take takes a token from key's bucket under l, and reports whether there
// was one. An off limit always admits and tracks nothing.
func (b *Buckets) Take(key string, l Limit) bool { return b.use(key, l, 1) }

// Ready reports whether key's bucket holds a token under l, without taking it.
func (b *Buckets) Ready(key string, l Limit) bool { return b.use(key, l, 0) }

func (b *Buckets) use(key string, l Limit, cost float64) bool {
	if l.Off() {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock()
	bk := b.get(key, l, now)
	if elapsed := now.Sub(bk.last).Seconds(); elapsed > 0 {
		bk.tokens = min(float64(l.Burst), bk.tokens+elapsed*l.Rate)
	}
	bk.last = now
	if bk.tokens < 1 {
		return false
	}
	bk.tokens -= cost
	return true
}

// get returns key's bucket, creating it full (and evicting the least
// recently used one when the set is full). b.mu is held.
func (b *Buckets) get(key string, l Limit, now time.Time) *bucket {
	if e, ok := b.keys[key]; ok {
		b.lru.MoveToFront(e)
		return e.Value.(*bucket)
	}
	if b.lru.Len() >= b.maxKeys {
		old := b.lru.Back()
		b.lru.Remove(old)
		delete(b.keys, old.Value.(*bucket).key)
	}
	bk := &bucket{key: key, tokens: float64(max(1, l.Burst)), last: now}
	b.keys[key] = b.lru.PushFront(bk)
	return bk
}

// Len returns the number of buckets tracked.
func (b *Buckets) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lru.Len()
}
