package secrets_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
	"github.com/coffer-secrets/coffer/internal/store/sqlite"
)

// TestRelabelMatchesAModel puts versions with random labels and moves
// random labels between them, and after each call compares every
// version's labels as the store holds them with a model of AWS's rules:
// a label is on one version at most, and moving current makes its old
// holder previous. It guards relabel's writes, which skip versions whose
// labels did not change.
func TestRelabelMatchesAModel(t *testing.T) {
	labels := []string{secrets.StageCurrent, secrets.StagePrevious, secrets.StagePending, "blue", "green"}
	rapid.Check(t, func(rt *rapid.T) {
		s := newServiceOver(t, func(db *sqlite.DB) store.Store { return db })
		ctx := context.Background()
		name := "model"
		mustCreate(t, s, name, "v1")
		holder := map[string]string{secrets.StageCurrent: "v1"} // label -> version
		ids := []string{"v1"}
		// attach gives labels to id as the service does: moving current
		// makes its old holder previous, unless the same call places
		// previous itself.
		attach := func(id string, ls ...string) {
			old, had := holder[secrets.StageCurrent]
			for _, l := range ls {
				holder[l] = id
			}
			if slices.Contains(ls, secrets.StageCurrent) && !slices.Contains(ls, secrets.StagePrevious) && had && old != id {
				holder[secrets.StagePrevious] = old
			}
		}
		steps := rapid.IntRange(1, 8).Draw(rt, "steps") // at most 9 versions: under the limit of 10
		for i := range steps {
			if rapid.Bool().Draw(rt, fmt.Sprint("put", i)) || len(ids) == 1 {
				id := fmt.Sprintf("v%d", len(ids)+1)
				put := rapid.SliceOfNDistinct(rapid.SampledFrom(labels), 0, 2, rapid.ID[string]).Draw(rt, fmt.Sprint("labels", i))
				in := secrets.PutInput{VersionID: id, Value: secrets.StringValue(id), Stages: put}
				if len(put) == 0 {
					in.Stages = nil // the default: current
					put = []string{secrets.StageCurrent}
				}
				if _, _, err := s.PutValue(ctx, sc, name, in); err != nil {
					rt.Fatalf("put %s %v: %v", id, put, err)
				}
				ids = append(ids, id)
				attach(id, put...)
			} else {
				label := rapid.SampledFrom(labels).Draw(rt, fmt.Sprint("label", i))
				to := rapid.SampledFrom(ids).Draw(rt, fmt.Sprint("to", i))
				from := holder[label]
				if label == secrets.StageCurrent && from == "" {
					continue
				}
				_, err := s.MoveStage(ctx, sc, name, secrets.MoveInput{Stage: label, MoveTo: to, RemoveFrom: from})
				if err != nil {
					rt.Fatalf("move %s from %q to %s: %v", label, from, to, err)
				}
				attach(to, label)
			}
			_, vs, err := s.Describe(ctx, sc, name)
			if err != nil {
				rt.Fatal(err)
			}
			for _, v := range vs {
				var want []string
				for _, l := range labels {
					if holder[l] == v.ID {
						want = append(want, l)
					}
				}
				got := slices.Sorted(slices.Values(v.Stages))
				slices.Sort(want)
				if !slices.Equal(got, want) {
					rt.Fatalf("after step %d, %s has %v, want %v (holders %v)", i, v.ID, got, want, holder)
				}
			}
		}
	})
}
