package secrets

import (
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/store"
)

// TestCountCacheOneRecount: once a total ages past CountTTL, one listing
// counts again and the others keep the old total meanwhile; a write (a
// new generation) makes every listing count.
func TestCountCacheOneRecount(t *testing.T) {
	var c countCache
	c.put("k", 5, 1)
	get := func(key string, gen uint64) (int, bool) {
		n, ok, _, mine := c.get(key, gen)
		c.done(key, mine)
		return n, ok
	}
	if n, ok := get("k", 1); !ok || n != 5 {
		t.Fatalf("fresh total: %d, %v", n, ok)
	}
	age := func() {
		e := c.m["k"]
		e.at = e.at.Add(-2 * CountTTL)
		c.m["k"] = e
	}
	age()
	if _, ok := get("k", 1); ok {
		t.Fatal("the first listing after the total aged did not count again")
	}
	for range 3 {
		if n, ok := get("k", 1); !ok || n != 5 {
			t.Fatalf("while one listing counts, the others got %d, %v; want the old total", n, ok)
		}
	}
	c.put("k", 6, 1)
	if n, ok := get("k", 1); !ok || n != 6 {
		t.Fatalf("after the recount: %d, %v", n, ok)
	}
	// A recount that never came back: another listing counts after CountTTL.
	age()
	get("k", 1)
	e := c.m["k"]
	e.recounting = time.Now().Add(-2 * CountTTL)
	c.m["k"] = e
	if _, ok := get("k", 1); ok {
		t.Fatal("a recount that never finished blocked recounting for good")
	}
	if _, ok := get("k", 2); ok {
		t.Fatal("a total of another generation was reused")
	}
}

// TestCountCacheOneColdCount: with no total of a generation, one listing
// counts and the others wait for it; they get its total, or, when it
// failed, one of them counts.
func TestCountCacheOneColdCount(t *testing.T) {
	var c countCache
	_, ok, wait, mine := c.get("k", 1)
	if ok || wait != nil || mine == nil {
		t.Fatalf("first listing: ok %v, wait %v, mine %v; want it to count", ok, wait, mine)
	}
	_, ok, wait, other := c.get("k", 1)
	if ok || wait == nil || other != nil {
		t.Fatalf("second listing: ok %v, wait %v, mine %v; want it to wait", ok, wait, other)
	}
	select {
	case <-wait:
		t.Fatal("wait closed before the count ended")
	default:
	}
	c.put("k", 7, 1)
	c.done("k", mine)
	<-wait
	if n, ok, wait, mine := c.get("k", 1); !ok || n != 7 || wait != nil || mine != nil {
		t.Fatalf("after the count: %d, %v, %v, %v; want the total", n, ok, wait, mine)
	}

	// A count that failed (done without put): the next listing counts.
	_, _, _, mine = c.get("k", 2)
	_, _, wait, _ = c.get("k", 2)
	c.done("k", mine)
	<-wait
	if _, ok, wait, mine := c.get("k", 2); ok || wait != nil || mine == nil {
		t.Fatalf("after a failed count: ok %v, wait %v, mine %v; want this listing to count", ok, wait, mine)
	}
}

// TestCursorCacheOneBuild: while a listing's checkpoints are built, other
// deep listings wait on the same build rather than start their own; a
// build that ended leaves no wait, and none starts again within
// cursorRebuild.
func TestCursorCacheOneBuild(t *testing.T) {
	var c cursorCache
	done, start := c.startBuild("k")
	if !start || done == nil {
		t.Fatalf("first listing: %v, %v; want it to start a build", done, start)
	}
	if again, start := c.startBuild("k"); start || again != done {
		t.Fatalf("second listing: %v, %v; want to wait on the running build", again, start)
	}
	c.finishBuild("k", []store.Cursor{{Name: "a"}}, 1, true, done)
	<-done
	if cursors, ok := c.get("k", 1, 0); !ok || len(cursors) != 1 {
		t.Fatalf("checkpoints after the build: %v, %v", cursors, ok)
	}
	if again, start := c.startBuild("k"); start || again != nil {
		t.Fatalf("after the build: %v, %v; want neither a wait nor a new build", again, start)
	}
}
