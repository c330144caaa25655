package secrets

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// labelTx stores stage labels as a store does, and fails the test the
// moment a write would put a label on two versions.
type labelTx struct {
	store.Tx
	fatalf func(format string, args ...any)
	labels map[string][]string // by version id
	writes []string            // "id:label,label", in order
}

func newLabelTx(fatalf func(string, ...any), vs []*store.Version) *labelTx {
	x := &labelTx{fatalf: fatalf, labels: map[string][]string{}}
	for _, v := range vs {
		x.labels[v.ID] = slices.Clone(v.Stages)
	}
	return x
}

func (x *labelTx) place(id string, stages []string) {
	for _, l := range stages {
		for other, ls := range x.labels {
			if other != id && slices.Contains(ls, l) {
				x.fatalf("writing %s %v: label %s is still on version %s", id, stages, l, other)
			}
		}
	}
	x.labels[id] = slices.Clone(stages)
	x.writes = append(x.writes, fmt.Sprintf("%s:%v", id, stages))
}

func (x *labelTx) SetStages(_ context.Context, _, id string, stages []string) error {
	if _, ok := x.labels[id]; !ok {
		return fault.E("labelTx", fault.NotFound, "no version "+id)
	}
	x.place(id, stages)
	return nil
}

func (x *labelTx) InsertVersion(_ context.Context, v *store.Version) error {
	x.place(v.ID, v.Stages)
	return nil
}

// TestRelabelWrites: whatever the labels and the move, relabel stores
// every version's final labels, never has a label on two versions between
// writes (labelTx checks), and writes a version at most twice.
func TestRelabelWrites(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		vs := versionsGen().Draw(t, "versions")
		labels := rapid.SliceOfNDistinct(labelGen, 0, 3, rapid.ID[string]).Draw(t, "labels")
		isNew := len(vs) == 0 || rapid.Bool().Draw(t, "new")
		target := &store.Version{ID: "new"}
		if !isNew {
			target = vs[rapid.IntRange(0, len(vs)-1).Draw(t, "target")]
		}
		x := newLabelTx(t.Fatalf, vs)
		if err := (&Service{}).relabel(context.Background(), x, vs, target, labels, isNew); err != nil {
			t.Fatalf("relabel: %v", err)
		}
		all := vs
		if isNew {
			all = append(slices.Clone(vs), target)
		}
		for _, v := range all {
			if !sameLabels(x.labels[v.ID], v.Stages) {
				t.Fatalf("version %s stores %v, want %v", v.ID, x.labels[v.ID], v.Stages)
			}
		}
		perVersion := map[string]int{}
		for _, w := range x.writes {
			id, _, _ := strings.Cut(w, ":")
			if perVersion[id]++; perVersion[id] > 2 {
				t.Fatalf("version %s written more than twice: %v", id, x.writes)
			}
		}
	})
}

// TestPutRelabelsInTwoWrites: a put onto a secret with a current and a
// previous version writes each of them once, the old previous first, then
// inserts the new version.
func TestPutRelabelsInTwoWrites(t *testing.T) {
	prev := &store.Version{ID: "a", Stages: []string{StagePrevious}}
	cur := &store.Version{ID: "b", Stages: []string{StageCurrent}}
	vs := []*store.Version{prev, cur}
	x := newLabelTx(t.Fatalf, vs)
	if err := (&Service{}).relabel(context.Background(), x, vs, &store.Version{ID: "c"}, []string{StageCurrent}, true); err != nil {
		t.Fatal(err)
	}
	want := []string{"a:[]", "b:[" + StagePrevious + "]", "c:[" + StageCurrent + "]"}
	if !slices.Equal(x.writes, want) {
		t.Fatalf("writes %v, want %v", x.writes, want)
	}
}

// TestSwapRelabels: moving current to the previous version swaps two
// labels, which no order of single writes can do; each version first drops
// its label, then takes the other.
func TestSwapRelabels(t *testing.T) {
	a := &store.Version{ID: "a", Stages: []string{StagePrevious}}
	b := &store.Version{ID: "b", Stages: []string{StageCurrent}}
	vs := []*store.Version{a, b}
	x := newLabelTx(t.Fatalf, vs)
	if err := (&Service{}).relabel(context.Background(), x, vs, a, []string{StageCurrent}, false); err != nil {
		t.Fatal(err)
	}
	want := []string{"b:[]", "a:[]", "b:[" + StagePrevious + "]", "a:[" + StageCurrent + "]"}
	if !slices.Equal(x.writes, want) {
		t.Fatalf("writes %v, want %v", x.writes, want)
	}
}
