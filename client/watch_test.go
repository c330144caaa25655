package client_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/client"
)

// TestCacheWatchLongPoll: with polling slowed to an hour, a put still
// reaches a watcher within a second, through WaitSecretChange.
func TestCacheWatchLongPoll(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(t, client.CacheOptions{TTL: time.Hour, PollInterval: time.Hour})
	mustCreate(t, f.writer, "long", "v1")
	got := make(chan client.Change, 1)
	stop := f.cache.Watch("long", func(c client.Change) { got <- c })
	defer stop()
	awaitCached(t, f.cache, "long", "v1")
	await(t, "a long poll under way", func() bool { return f.cnt.count("WaitSecretChange") >= 2 })

	start := time.Now()
	v2 := mustPut(t, f.writer, "long", "v2")
	select {
	case c := <-got:
		if d := time.Since(start); d > time.Second {
			t.Errorf("notified %v after the put, want within a second", d)
		}
		if c.VersionID != v2 || c.PreviousVersionID != client.CurrentVersion || c.Value.Text() != "v2" {
			t.Errorf("got %+v %q, want %s after SSM_Current, v2", c, c.Value.Text(), v2)
		}
	case <-time.After(waitLimit):
		t.Fatalf("no change %v after the put", waitLimit)
	}
	if n := f.cnt.count("ListSecretVersionIds"); n > 2 {
		t.Errorf("ListSecretVersionIds calls: got %d, want the baseline's and the change's only", n)
	}
}

// TestCacheWatchFallsBackToPolling: a server that refuses WaitSecretChange
// as unknown or unsupported, or a policy that does not allow it, leaves
// the watch polling.
func TestCacheWatchFallsBackToPolling(t *testing.T) {
	t.Parallel()
	for _, code := range []string{"InvalidAction", "UnsupportedOperation", "UnauthorizedOperation"} {
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, "", serverLimits{})
			cnt := newCounter()
			cache := client.NewCache(mustClient(t, srv.url, &refuser{next: cnt, action: "WaitSecretChange", code: code}),
				client.CacheOptions{TTL: time.Hour, PollInterval: 50 * time.Millisecond})
			defer cache.Close()
			writer := mustClient(t, srv.url, nil)
			for _, name := range []string{"a", "b"} {
				mustCreate(t, writer, name, "v1")
				got := make(chan client.Change, 1)
				stop := cache.Watch(name, func(c client.Change) { got <- c })
				defer stop()
				awaitCached(t, cache, name, "v1")
				v2 := mustPut(t, writer, name, "v2")
				select {
				case c := <-got:
					if c.VersionID != v2 {
						t.Errorf("%s: got %+v, want %s", name, c, v2)
					}
				case <-time.After(waitLimit):
					t.Fatalf("%s: no change %v after the put", name, waitLimit)
				}
			}
			// Once for GetCurrentSecretValue (the client then lists
			// instead), and the watches' long polls: one when the server
			// lacks the action (the cache stops asking), one per secret
			// when a policy refuses it (it may allow it for another).
			want := 2
			if code == "UnauthorizedOperation" {
				want = 3
			}
			if n := cnt.count("WaitSecretChange"); n != want {
				t.Errorf("WaitSecretChange calls: got %d, want %d", n, want)
			}
		})
	}
}

// refuser answers one action with an error envelope, as a server without
// it (or a policy refusing it) would, and passes the rest on. It counts
// what it refuses through next.
type refuser struct {
	next   *counter
	action string
	code   string
}

// CloseIdleConnections lets Client.CloseIdleConnections reach the transport.
func (r *refuser) CloseIdleConnections() { r.next.CloseIdleConnections() }

func (r *refuser) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("X-TC-Action") != r.action {
		return r.next.RoundTrip(req)
	}
	r.next.mu.Lock()
	r.next.n[r.action]++
	r.next.mu.Unlock()
	body := `{"Response":{"Error":{"Code":"` + r.code + `","Message":"refused"},"RequestId":"test"}}`
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
}

// TestCacheWatchLongPollErrors: a watched secret that is gone is reported
// to OnError and retried with back-off, not in a tight loop.
func TestCacheWatchLongPollErrors(t *testing.T) {
	t.Parallel()
	errs := make(chan error, 100)
	srv := startServer(t, "", serverLimits{})
	cnt := newCounter()
	cache := client.NewCache(mustClient(t, srv.url, cnt), client.CacheOptions{PollInterval: 200 * time.Millisecond,
		RetryInterval: 50 * time.Millisecond, OnError: func(_ string, err error) {
			select {
			case errs <- err:
			default:
			}
		}})
	defer cache.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_ = cache.Changes(ctx, "missing")
	select {
	case err := <-errs:
		if !client.IsNotFound(err) {
			t.Errorf("OnError: got %v, want ResourceNotFound", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("OnError not called for a missing secret")
	}
	time.Sleep(time.Second)
	if n := cnt.count("WaitSecretChange"); n > 10 {
		t.Errorf("WaitSecretChange calls in a second for a missing secret: got %d, want few (back-off)", n)
	}
}
