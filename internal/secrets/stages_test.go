package secrets

import (
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/coffer-secrets/coffer/internal/store"
)

var labelGen = rapid.SampledFrom([]string{StageCurrent, StagePrevious, StagePending, "blue", "green"})

// versionsGen draws versions whose labels obey the invariant: each label on
// at most one version.
func versionsGen() *rapid.Generator[[]*store.Version] {
	return rapid.Custom(func(t *rapid.T) []*store.Version {
		n := rapid.IntRange(0, 5).Draw(t, "n")
		vs := make([]*store.Version, n)
		for i := range vs {
			vs[i] = &store.Version{ID: string(rune('a' + i))}
		}
		if n == 0 {
			return vs
		}
		for _, l := range []string{StageCurrent, StagePrevious, StagePending, "blue", "green"} {
			if i := rapid.IntRange(-1, n-1).Draw(t, l); i >= 0 {
				vs[i].Stages = append(vs[i].Stages, l)
			}
		}
		return vs
	})
}

func holders(vs []*store.Version, label string) int {
	n := 0
	for _, v := range vs {
		if slices.Contains(v.Stages, label) {
			n++
		}
	}
	return n
}

func TestAttachProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		vs := versionsGen().Draw(t, "versions")
		labels := rapid.SliceOfNDistinct(labelGen, 0, 3, rapid.ID[string]).Draw(t, "labels")
		var target *store.Version
		isNew := len(vs) == 0 || rapid.Bool().Draw(t, "new")
		if isNew {
			target = &store.Version{ID: "new"}
		} else {
			target = vs[rapid.IntRange(0, len(vs)-1).Draw(t, "target")]
		}
		oldCurrent := holder(vs, StageCurrent)
		before := map[*store.Version][]string{}
		for _, v := range vs {
			before[v] = slices.Clone(v.Stages)
		}

		attach(vs, target, labels)

		all := vs
		if isNew {
			all = append(slices.Clone(vs), target)
		}
		for _, l := range []string{StageCurrent, StagePrevious, StagePending, "blue", "green"} {
			if n := holders(all, l); n > 1 {
				t.Fatalf("label %s on %d versions", l, n)
			}
		}
		for _, l := range labels {
			if !slices.Contains(target.Stages, l) {
				t.Fatalf("target lacks %s", l)
			}
		}
		if oldCurrent == nil && !slices.Contains(target.Stages, StageCurrent) {
			t.Fatal("no version was current and the target did not become current")
		}
		if slices.Contains(labels, StageCurrent) && !slices.Contains(labels, StagePrevious) && oldCurrent != nil && oldCurrent != target &&
			!slices.Contains(oldCurrent.Stages, StagePrevious) {
			t.Fatal("the old current version did not become previous")
		}
		for _, v := range vs {
			for _, l := range before[v] {
				moved := slices.Contains(labels, l) || l == StagePrevious || (l == StageCurrent && oldCurrent == nil)
				if v != target && !moved && !slices.Contains(v.Stages, l) {
					t.Fatalf("version %s lost %s, which was not moved", v.ID, l)
				}
			}
		}
	})
}

func TestAfterDelete(t *testing.T) {
	a := &store.Version{ID: "a"}
	b := &store.Version{ID: "b", Stages: []string{StagePrevious}}
	deleted := &store.Version{ID: "c", Stages: []string{StageCurrent}}
	changed := afterDelete([]*store.Version{a, b}, deleted)
	if len(changed) != 1 || changed[0] != b {
		t.Fatalf("changed %v, want [b]", changed)
	}
	if got, want := b.Stages, []string{StageCurrent}; !slices.Equal(got, want) {
		t.Fatalf("b's stages %v, want %v", got, want)
	}
	if afterDelete([]*store.Version{a}, &store.Version{ID: "x"}) != nil {
		t.Fatal("deleting a version without current changed others")
	}
}

func TestPutMovesCurrentAndPrevious(t *testing.T) {
	v1 := &store.Version{ID: "v1"}
	attach(nil, v1, []string{StageCurrent})
	v2 := &store.Version{ID: "v2"}
	attach([]*store.Version{v1}, v2, []string{StageCurrent})
	v3 := &store.Version{ID: "v3"}
	attach([]*store.Version{v1, v2}, v3, []string{StageCurrent})
	for _, tt := range []struct {
		v    *store.Version
		want []string
	}{{v1, []string{}}, {v2, []string{StagePrevious}}, {v3, []string{StageCurrent}}} {
		if !slices.Equal(tt.v.Stages, tt.want) && !(len(tt.v.Stages) == 0 && len(tt.want) == 0) {
			t.Errorf("%s: got %v, want %v", tt.v.ID, tt.v.Stages, tt.want)
		}
	}
}
