package secrets

import (
	"fmt"
	"testing"
)

// TestNamedBound: the read cache's maps hold at most max entries, find
// each by its secret's id, and forget the id of an entry a new secret of
// the same name replaced.
func TestNamedBound(t *testing.T) {
	n := newNamed[int](3)
	for i := range 10 {
		n.put(nameKey{"a", "r", fmt.Sprint("s", i)}, fmt.Sprint("id", i), i)
		if len(n.m) > 3 || len(n.byID) != len(n.m) {
			t.Fatalf("after %d puts: %d entries, %d ids; want at most 3, as many ids", i+1, len(n.m), len(n.byID))
		}
	}
	k := nameKey{"a", "r", "s9"}
	n.put(k, "new-id", 99) // a new secret of the same name
	if v, ok := n.get(k); !ok || v != 99 {
		t.Fatalf("get after replacing: %v %v", v, ok)
	}
	n.drop("id9") // the replaced secret's id no longer reaches the name
	if _, ok := n.get(k); !ok {
		t.Fatal("dropping the replaced secret's id dropped its successor")
	}
	n.drop("new-id")
	if _, ok := n.get(k); ok || len(n.byID) != len(n.m) {
		t.Fatalf("after drop: found %v, %d entries, %d ids", ok, len(n.m), len(n.byID))
	}
}
