package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/client"
)

// cacheFixture is a server, a counted client with a cache over it, and a
// second client for changing secrets behind the cache's back.
type cacheFixture struct {
	srv    *testServer
	cnt    *counter
	cache  *client.Cache
	writer *client.Client
}

func newCacheFixture(t *testing.T, opts client.CacheOptions) *cacheFixture {
	t.Helper()
	srv := startServer(t, "", serverLimits{})
	cnt := newCounter()
	cache := client.NewCache(mustClient(t, srv.url, cnt), opts)
	t.Cleanup(func() { cache.Close() })
	return &cacheFixture{srv: srv, cnt: cnt, cache: cache, writer: mustClient(t, srv.url, nil)}
}

func (f *cacheFixture) get(t *testing.T, name string) *client.CachedValue {
	t.Helper()
	v, err := f.cache.Get(context.Background(), name)
	if err != nil {
		t.Fatalf("Get %s: %v", name, err)
	}
	return v
}

func TestCacheHit(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(t, client.CacheOptions{TTL: time.Minute})
	mustCreate(t, f.writer, "hit", "v1")
	first := f.get(t, "hit")
	before := f.cnt.total()
	second := f.get(t, "hit")
	if got := f.cnt.total(); got != before {
		t.Errorf("second Get sent %d requests, want none", got-before)
	}
	if first.Value.Text() != "v1" || second.Value.Text() != "v1" || second.Stale || second.VersionID != client.CurrentVersion {
		t.Errorf("got %+v then %+v; want v1, fresh", first, second)
	}
	if _, err := f.cache.GetVersion(context.Background(), "hit", client.CurrentVersion); err != nil {
		t.Errorf("GetVersion: %v", err)
	}
}

func TestCacheBackgroundRefresh(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(t, client.CacheOptions{TTL: 2 * time.Second, RefreshAhead: 1900 * time.Millisecond})
	mustCreate(t, f.writer, "bg", "old")
	if got := f.get(t, "bg").Value.Text(); got != "old" {
		t.Fatalf("first Get: got %q", got)
	}
	v2 := mustPut(t, f.writer, "bg", "new")
	// A Get with a cancelled context can only answer from memory.
	done, cancel := context.WithCancel(context.Background())
	cancel()
	await(t, "the new value, refreshed in the background", func() bool {
		v, err := f.cache.Get(done, "bg")
		if err != nil {
			t.Fatalf("Get from memory: %v (the value expired before it was refreshed)", err)
		}
		return v.Value.Text() == "new" && v.VersionID == v2
	})
	if n := f.cnt.count("GetSecretValue"); n < 2 {
		t.Errorf("GetSecretValue calls: got %d, want the read and a refresh", n)
	}
}

// TestCacheDropsIdleValues: a value nobody read during its TTL is not
// refreshed in the background.
func TestCacheDropsIdleValues(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(t, client.CacheOptions{TTL: 100 * time.Millisecond, RefreshAhead: 50 * time.Millisecond})
	mustCreate(t, f.writer, "idle", "v")
	f.get(t, "idle")
	await(t, "one background refresh", func() bool { return f.cnt.count("GetSecretValue") >= 2 })
	time.Sleep(300 * time.Millisecond) // time for refreshes that must not happen
	if n := f.cnt.count("GetSecretValue"); n != 2 {
		t.Errorf("GetSecretValue calls: got %d, want 2 (the read, one refresh, then none)", n)
	}
}

func TestCacheServesStaleWhileUnreachable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv := startServer(t, dir, serverLimits{})
	addr := srv.srv.Addr()
	mustCreate(t, mustClient(t, srv.url, nil), "stale", "kept")
	var mu sync.Mutex
	var bgErrs []error
	cache := client.NewCache(mustClient(t, srv.url, nil), client.CacheOptions{TTL: 200 * time.Millisecond,
		RetryInterval: 20 * time.Millisecond, OnError: func(_ string, err error) { mu.Lock(); bgErrs = append(bgErrs, err); mu.Unlock() }})
	defer cache.Close()
	ctx := context.Background()
	if _, err := cache.Get(ctx, "stale"); err != nil {
		t.Fatal(err)
	}

	srv.stop()
	var last *client.CachedValue
	await(t, "a stale value", func() bool {
		v, err := cache.Get(ctx, "stale")
		if err != nil {
			t.Fatalf("Get with the server stopped: %v, want the stale value", err)
		}
		last = v
		return v.Stale
	})
	if last.Value.Text() != "kept" || !client.IsUnavailable(last.Err) {
		t.Errorf("stale value: got %q, err %v; want kept and an unavailable error", last.Value.Text(), last.Err)
	}
	if _, err := cache.Get(ctx, "never-cached"); !client.IsUnavailable(err) {
		t.Errorf("Get of an uncached secret with the server stopped: got %v, want unavailable", err)
	}
	mu.Lock()
	if len(bgErrs) == 0 {
		t.Error("OnError was not called for the failed background refresh")
	}
	mu.Unlock()

	restartOn(t, dir, addr)
	await(t, "a fresh value after the restart", func() bool {
		v, err := cache.Get(ctx, "stale")
		return err == nil && !v.Stale && v.Value.Text() == "kept"
	})
}

// restartOn starts a server on dir at the address a stopped one used.
func restartOn(t *testing.T, dir, addr string) {
	t.Helper()
	await(t, "the port is free", func() bool {
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			ln.Close()
		}
		return err == nil
	})
	startServerAt(t, dir, addr)
}

func TestCacheMaxStale(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "", serverLimits{})
	mustCreate(t, mustClient(t, srv.url, nil), "short", "v")
	cache := client.NewCache(mustClient(t, srv.url, nil), client.CacheOptions{TTL: 50 * time.Millisecond, MaxStale: 100 * time.Millisecond})
	defer cache.Close()
	if _, err := cache.Get(context.Background(), "short"); err != nil {
		t.Fatal(err)
	}
	srv.stop()
	await(t, "the stale value expires", func() bool {
		_, err := cache.Get(context.Background(), "short")
		return client.IsUnavailable(err)
	})
}

// TestCacheDropsGoneSecrets: a deleted or disabled secret is not served
// stale: the error is the answer.
func TestCacheDropsGoneSecrets(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(t, client.CacheOptions{TTL: 50 * time.Millisecond})
	mustCreate(t, f.writer, "gone", "v")
	f.get(t, "gone")
	if err := f.writer.DisableSecret(context.Background(), "gone"); err != nil {
		t.Fatal(err)
	}
	await(t, "the disabled secret's error", func() bool {
		_, err := f.cache.Get(context.Background(), "gone")
		return client.IsDisabled(err)
	})
}

func TestCacheWatchNotifiesNewVersion(t *testing.T) {
	f := newCacheFixture(t, client.CacheOptions{TTL: time.Minute, PollInterval: 100 * time.Millisecond})
	mustCreate(t, f.writer, "watched", "v1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changes := f.cache.Changes(ctx, "watched")
	calls := make(chan client.Change, 10)
	stop := f.cache.Watch("watched", func(c client.Change) { calls <- c })
	defer stop()
	awaitCached(t, f.cache, "watched", "v1")

	start := time.Now()
	v2 := mustPut(t, f.writer, "watched", "v2")
	for name, ch := range map[string]<-chan client.Change{"channel": changes, "callback": calls} {
		select {
		case c := <-ch:
			if d := time.Since(start); d > time.Second {
				t.Errorf("%s: notified %v after the put, want within a second", name, d)
			}
			if c.Name != "watched" || c.VersionID != v2 || c.PreviousVersionID != client.CurrentVersion || c.Value.Text() != "v2" {
				t.Errorf("%s: got %+v (value %q), want %s after SSM_Current, v2", name, c, c.Value.Text(), v2)
			}
		case <-time.After(waitLimit):
			t.Fatalf("%s: no change %v after the put", name, waitLimit)
		}
	}
	before := f.cnt.count("GetSecretValue")
	if got := f.get(t, "watched"); got.Value.Text() != "v2" || f.cnt.count("GetSecretValue") != before {
		t.Errorf("Get after the change: got %q with %d more reads, want v2 from memory", got.Value.Text(), f.cnt.count("GetSecretValue")-before)
	}
	cancel()
	await(t, "the channel closes when its context ends", func() bool {
		select {
		case _, open := <-changes:
			return !open
		default:
			return false
		}
	})
}

// TestCacheWatchSeesOverwrite: UpdateSecret keeps the version id; the
// refresh at the TTL notices the new value.
func TestCacheWatchSeesOverwrite(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(t, client.CacheOptions{TTL: 300 * time.Millisecond, PollInterval: time.Hour})
	mustCreate(t, f.writer, "over", "before")
	got := make(chan client.Change, 1)
	stop := f.cache.Watch("over", func(c client.Change) { got <- c })
	defer stop()
	awaitCached(t, f.cache, "over", "before")
	if _, err := f.writer.UpdateSecret(context.Background(), client.UpdateSecretInput{Name: "over", VersionID: client.CurrentVersion, Value: client.Text("after")}); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-got:
		if c.VersionID != client.CurrentVersion || c.Value.Text() != "after" {
			t.Errorf("got %+v %q, want SSM_Current after", c, c.Value.Text())
		}
	case <-time.After(waitLimit):
		t.Fatal("no change after an overwrite")
	}
}

// TestCacheConcurrentMisses: concurrent misses of one value share a fetch.
func TestCacheConcurrentMisses(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(t, client.CacheOptions{TTL: time.Minute})
	mustCreate(t, f.writer, "shared", "v")
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() {
			v, err := f.cache.Get(context.Background(), "shared")
			if err == nil && v.Value.Text() != "v" {
				err = fmt.Errorf("got %q", v.Value.Text())
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := f.cnt.count("GetSecretValue"); n != 1 {
		t.Errorf("GetSecretValue calls for 50 concurrent misses: got %d, want 1", n)
	}
}

// TestCacheConcurrentUse mixes reads, writes, watches and invalidations;
// run it with -race.
func TestCacheConcurrentUse(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(t, client.CacheOptions{TTL: 30 * time.Millisecond, RefreshAhead: 10 * time.Millisecond, PollInterval: 10 * time.Millisecond})
	names := []string{"c0", "c1", "c2"}
	for _, n := range names {
		mustCreate(t, f.writer, n, "v0")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for ctx.Err() == nil {
				name := names[i%len(names)]
				if _, err := f.cache.Get(ctx, name); err != nil && !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("Get %s: %v", name, err)
					return
				}
				if i == 0 {
					f.cache.Invalidate(name)
				}
			}
		})
	}
	for _, n := range names {
		stop := f.cache.Watch(n, func(client.Change) {})
		defer stop()
		wg.Go(func() {
			for i := 0; ctx.Err() == nil && i < 5; i++ {
				mustPut(t, f.writer, n, fmt.Sprintf("v%d", i+1))
			}
		})
	}
	wg.Wait()
}

func TestCacheClose(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(t, client.CacheOptions{PollInterval: 10 * time.Millisecond})
	mustCreate(t, f.writer, "closing", "v")
	ch := f.cache.Changes(context.Background(), "closing")
	stop := f.cache.Watch("closing", func(client.Change) {})
	f.get(t, "closing")
	if err := f.cache.Close(); err != nil {
		t.Fatal(err)
	}
	stop()
	if _, open := <-ch; open {
		t.Error("Changes channel open after Close")
	}
	if _, err := f.cache.Get(context.Background(), "closing"); !errors.Is(err, client.ErrClosed) {
		t.Errorf("Get after Close: got %v, want ErrClosed", err)
	}
	if err := f.cache.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// awaitCached waits until the cache holds want for name: the baseline a
// watch compares changes with.
func awaitCached(t *testing.T, cache *client.Cache, name, want string) {
	t.Helper()
	memoryOnly, cancel := context.WithCancel(context.Background())
	cancel() // a Get that would have to wait for Coffer returns at once
	await(t, "the watch's first fetch", func() bool {
		v, err := cache.Get(memoryOnly, name)
		return err == nil && v.Value.Text() == want
	})
}
