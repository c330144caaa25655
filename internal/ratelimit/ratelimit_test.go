package ratelimit_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/ratelimit"
)

// clock is a test clock moved by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newClock() *clock { return &clock{now: time.Unix(1700000000, 0)} }

func takeN(b *ratelimit.Buckets, key string, l ratelimit.Limit, n int) int {
	got := 0
	for range n {
		if b.Take(key, l) {
			got++
		}
	}
	return got
}

func TestBucketsBurstAndRefill(t *testing.T) {
	c := newClock()
	b := ratelimit.NewBuckets(0, c.Now)
	l := ratelimit.Limit{Rate: 10, Burst: 5}
	if got, want := takeN(b, "k", l, 20), 5; got != want {
		t.Fatalf("burst: got %d admitted, want %d", got, want)
	}
	c.Add(300 * time.Millisecond) // 3 tokens
	if got, want := takeN(b, "k", l, 20), 3; got != want {
		t.Fatalf("after 300ms: got %d admitted, want %d", got, want)
	}
	c.Add(time.Hour) // refills to the burst, not beyond
	if got, want := takeN(b, "k", l, 20), 5; got != want {
		t.Fatalf("after an hour: got %d admitted, want %d", got, want)
	}
	if got, want := takeN(b, "other", l, 20), 5; got != want {
		t.Fatalf("another key: got %d admitted, want %d", got, want)
	}
}

func TestBucketsReadyTakesNothing(t *testing.T) {
	b := ratelimit.NewBuckets(0, newClock().Now)
	l := ratelimit.Limit{Rate: 1, Burst: 1}
	for range 5 {
		if !b.Ready("k", l) {
			t.Fatal("Ready: got false on a full bucket")
		}
	}
	if !b.Take("k", l) || b.Ready("k", l) || b.Take("k", l) {
		t.Fatal("Take then Ready: the one token was not taken exactly once")
	}
}

func TestBucketsOffTracksNothing(t *testing.T) {
	b := ratelimit.NewBuckets(0, newClock().Now)
	if got, want := takeN(b, "k", ratelimit.Limit{}, 1000), 1000; got != want {
		t.Fatalf("off: got %d admitted, want %d", got, want)
	}
	if got := b.Len(); got != 0 {
		t.Fatalf("off: got %d buckets, want 0", got)
	}
}

func TestBucketsBounded(t *testing.T) {
	c := newClock()
	b := ratelimit.NewBuckets(100, c.Now)
	l := ratelimit.Limit{Rate: 1, Burst: 1}
	for i := range 10000 {
		b.Take(fmt.Sprint("key", i), l)
	}
	if got, want := b.Len(), 100; got != want {
		t.Fatalf("got %d buckets, want %d", got, want)
	}
	// The most recently used keys are kept: key9999 is still empty.
	if b.Take("key9999", l) {
		t.Fatal("key9999: got a token from a bucket that should still be empty")
	}
}

func TestLimiter(t *testing.T) {
	c := newClock()
	l := ratelimit.New(ratelimit.Config{
		Account: ratelimit.PerSecond(10),
		Actions: ratelimit.SSMDefaults(),
		Clock:   c.Now,
	})
	// ListSecrets is 30/s in SSM, but the account's 10/s binds first.
	n := 0
	for range 50 {
		if l.Allow("a", "ssm", "ListSecrets") {
			n++
		}
	}
	if n != 10 {
		t.Fatalf("account limit: got %d admitted, want 10", n)
	}
	if !l.Allow("b", "ssm", "ListSecrets") {
		t.Fatal("another account was refused")
	}

	l = ratelimit.New(ratelimit.Config{Actions: ratelimit.SSMDefaults(), Action: ratelimit.PerSecond(5), Clock: c.Now})
	for _, tc := range []struct {
		family, action string
		want           int
	}{
		{"ssm", "ListSecrets", 30},
		{"ssm", "GetSecretValue", 300},
		{"ssm", "GetRegions", 5}, // not in the table: the default per-action limit
		{"secretsmanager", "ListSecrets", 5},
	} {
		n := 0
		for range 400 {
			if l.Allow("a", tc.family, tc.action) {
				n++
			}
		}
		if n != tc.want {
			t.Errorf("%s.%s: got %d admitted, want %d", tc.family, tc.action, n, tc.want)
		}
	}
}

func TestLimiterUnauthenticated(t *testing.T) {
	c := newClock()
	l := ratelimit.New(ratelimit.Config{Unauthenticated: ratelimit.Limit{Rate: 1, Burst: 3}, Clock: c.Now})
	for range 3 {
		if !l.Admits("10.0.0.1") {
			t.Fatal("refused before its budget was spent")
		}
		l.Failed("10.0.0.1")
	}
	if l.Admits("10.0.0.1") {
		t.Fatal("admitted after three failures")
	}
	if !l.Admits("10.0.0.2") {
		t.Fatal("another address was refused")
	}
	c.Add(time.Second)
	if !l.Admits("10.0.0.1") {
		t.Fatal("refused after its budget refilled")
	}
	var nilLimiter *ratelimit.Limiter
	if !nilLimiter.Allow("a", "ssm", "x") || !nilLimiter.Admits("x") {
		t.Fatal("a nil Limiter refused")
	}
}

func TestLimiterConcurrent(t *testing.T) {
	c := newClock()
	l := ratelimit.New(ratelimit.Config{Account: ratelimit.PerSecond(100), MaxKeys: 16, Unauthenticated: ratelimit.PerSecond(1), Clock: c.Now})
	var wg sync.WaitGroup
	var mu sync.Mutex
	admitted := 0
	for g := range 16 {
		wg.Go(func() {
			for i := range 200 {
				if l.Allow("shared", "ssm", "GetSecretValue") {
					mu.Lock()
					admitted++
					mu.Unlock()
				}
				l.Failed(fmt.Sprint(g, ".", i))
				l.Admits(fmt.Sprint(g, ".", i))
			}
		})
	}
	wg.Wait()
	if admitted != 100 {
		t.Fatalf("got %d admitted, want 100", admitted)
	}
}
