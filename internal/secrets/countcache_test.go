package secrets

import (
	"testing"
	"time"
)

// TestCountCacheOneRecount: once a total ages past CountTTL, one listing
// counts again and the others keep the old total meanwhile; a write (a
// new generation) makes every listing count.
func TestCountCacheOneRecount(t *testing.T) {
	var c countCache
	c.put("k", 5, 1)
	if n, ok := c.get("k", 1); !ok || n != 5 {
		t.Fatalf("fresh total: %d, %v", n, ok)
	}
	age := func() {
		e := c.m["k"]
		e.at = e.at.Add(-2 * CountTTL)
		c.m["k"] = e
	}
	age()
	if _, ok := c.get("k", 1); ok {
		t.Fatal("the first listing after the total aged did not count again")
	}
	for range 3 {
		if n, ok := c.get("k", 1); !ok || n != 5 {
			t.Fatalf("while one listing counts, the others got %d, %v; want the old total", n, ok)
		}
	}
	c.put("k", 6, 1)
	if n, ok := c.get("k", 1); !ok || n != 6 {
		t.Fatalf("after the recount: %d, %v", n, ok)
	}
	// A recount that never came back: another listing counts after CountTTL.
	age()
	c.get("k", 1)
	e := c.m["k"]
	e.recounting = time.Now().Add(-2 * CountTTL)
	c.m["k"] = e
	if _, ok := c.get("k", 1); ok {
		t.Fatal("a recount that never finished blocked recounting for good")
	}
	if _, ok := c.get("k", 2); ok {
		t.Fatal("a total of another generation was reused")
	}
}
