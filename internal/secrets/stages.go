package secrets

import (
	"slices"

	"github.com/coffer-secrets/coffer/internal/store"
)

// The stage labels the core gives meaning to. Edges spell them their own
// way (AWSCURRENT, SSM_Current) in their name tables.
const (
	StageCurrent  = "current"
	StagePrevious = "previous"
	StagePending  = "pending"
)

// attach gives labels to version target among vs (target may be a new
// version not yet in vs) and takes each label away from whichever version
// held it. Moving current makes the version that held it previous. It
// returns the versions of vs whose labels changed.
func attach(vs []*store.Version, target *store.Version, labels []string) []*store.Version {
	changed := map[*store.Version]bool{}
	oldCurrent := holder(vs, StageCurrent)
	if oldCurrent == nil && !slices.Contains(labels, StageCurrent) {
		labels = append(slices.Clone(labels), StageCurrent) // a secret with a value always has a current one
	}
	for _, l := range labels {
		if h := holder(vs, l); h != nil && h != target {
			h.Stages = without(h.Stages, l)
			changed[h] = true
		}
		if !slices.Contains(target.Stages, l) {
			target.Stages = append(target.Stages, l)
		}
	}
	// Moving current makes the old current previous, unless previous was
	// given explicitly: then the caller's placement wins.
	if slices.Contains(labels, StageCurrent) && !slices.Contains(labels, StagePrevious) && oldCurrent != nil && oldCurrent != target {
		if h := holder(vs, StagePrevious); h != nil && h != oldCurrent {
			h.Stages = without(h.Stages, StagePrevious)
			changed[h] = true
		}
		if !slices.Contains(oldCurrent.Stages, StagePrevious) {
			oldCurrent.Stages = append(oldCurrent.Stages, StagePrevious)
			changed[oldCurrent] = true
		}
	}
	slices.Sort(target.Stages)
	return changedList(vs, changed, target)
}

// detachOnly removes label from version v (which may be nil). It returns v
// when it changed.
func detachOnly(v *store.Version, label string) []*store.Version {
	if v == nil || !slices.Contains(v.Stages, label) {
		return nil
	}
	v.Stages = without(v.Stages, label)
	return []*store.Version{v}
}

// afterDelete keeps a secret readable when the version holding current is
// deleted: the newest remaining version becomes current (and loses previous).
func afterDelete(rest []*store.Version, deleted *store.Version) []*store.Version {
	if !slices.Contains(deleted.Stages, StageCurrent) || len(rest) == 0 {
		return nil
	}
	newest := rest[len(rest)-1]
	newest.Stages = append(without(newest.Stages, StagePrevious), StageCurrent)
	slices.Sort(newest.Stages)
	return []*store.Version{newest}
}

func holder(vs []*store.Version, label string) *store.Version {
	for _, v := range vs {
		if slices.Contains(v.Stages, label) {
			return v
		}
	}
	return nil
}

func without(stages []string, label string) []string {
	out := make([]string, 0, len(stages))
	for _, s := range stages {
		if s != label {
			out = append(out, s)
		}
	}
	return out
}

func changedList(vs []*store.Version, changed map[*store.Version]bool, skip *store.Version) []*store.Version {
	var out []*store.Version
	for _, v := range vs {
		if changed[v] && v != skip {
			slices.Sort(v.Stages)
			out = append(out, v)
		}
	}
	return out
}
