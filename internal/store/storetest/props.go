package storetest

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

// versionOp is one step of a random sequence of version writes.
type versionOp struct {
	kind   string // insert, update or delete
	id     string
	token  string
	stages []string
}

func versionOps() *rapid.Generator[[]versionOp] {
	op := rapid.Custom(func(t *rapid.T) versionOp {
		stage := rapid.SampledFrom([]string{"AWSCURRENT", "AWSPENDING", "AWSPREVIOUS"})
		return versionOp{
			kind:   rapid.SampledFrom([]string{"insert", "insert", "update", "delete"}).Draw(t, "kind"),
			id:     rapid.SampledFrom([]string{"v1", "v2", "v3", "v4"}).Draw(t, "id"),
			token:  rapid.SampledFrom([]string{"", "", "t1", "t2"}).Draw(t, "token"),
			stages: rapid.SliceOfNDistinct(stage, 0, 2, rapid.ID[string]).Draw(t, "stages"),
		}
	})
	return rapid.SliceOfN(op, 1, 40)
}

// versionModel is what a secret's versions should be: in creation order.
type versionModel struct {
	versions []store.Version
}

func (m *versionModel) index(id string) int {
	return slices.IndexFunc(m.versions, func(v store.Version) bool { return v.ID == id })
}

// stageTaken reports whether a version other than id carries one of stages.
func (m *versionModel) stageTaken(id string, stages []string) bool {
	for _, v := range m.versions {
		if v.ID != id && slices.ContainsFunc(stages, func(s string) bool { return slices.Contains(v.Stages, s) }) {
			return true
		}
	}
	return false
}

func (m *versionModel) tokenTaken(token string) bool {
	return token != "" && slices.ContainsFunc(m.versions, func(v store.Version) bool { return v.Token == token })
}

// apply runs op against tx and the model and checks they agree on the outcome.
func (m *versionModel) apply(t *rapid.T, tx store.Tx, secretID string, op versionOp) {
	ctx, i := context.Background(), m.index(op.id)
	v := store.Version{SecretID: secretID, ID: op.id, Token: op.token, Stages: op.stages}
	var err error
	var want fault.Kind
	ok := false
	switch op.kind {
	case "insert":
		err = tx.InsertVersion(ctx, &v)
		want, ok = fault.Exists, i < 0 && !m.tokenTaken(op.token) && !m.stageTaken(op.id, op.stages)
		if ok {
			m.versions = append(m.versions, v)
		}
	case "update":
		err = tx.UpdateVersion(ctx, &v)
		want, ok = fault.NotFound, i >= 0
		if ok && m.stageTaken(op.id, op.stages) {
			want, ok = fault.Exists, false
		}
		if ok {
			m.versions[i].Stages = op.stages
		}
	case "delete":
		err = tx.DeleteVersion(ctx, secretID, op.id)
		want, ok = fault.NotFound, i >= 0
		if ok {
			m.versions = slices.Delete(m.versions, i, i+1)
		}
	}
	what := fmt.Sprintf("%s %s token %q stages %v", op.kind, op.id, op.token, op.stages)
	if ok {
		wantOK(t, what, err)
	} else {
		wantKind(t, what, err, want)
	}
}

// check compares the stored versions with the model.
func (m *versionModel) check(t *rapid.T, tx store.Tx, secretID string) {
	t.Helper()
	got, err := tx.Versions(context.Background(), secretID)
	wantOK(t, "Versions", err)
	type summary struct {
		ID, Token string
		Stages    []string
	}
	var gotSum, wantSum []summary
	for _, v := range got {
		gotSum = append(gotSum, summary{v.ID, v.Token, stageSet(v.Stages)})
	}
	for _, v := range m.versions {
		wantSum = append(wantSum, summary{v.ID, v.Token, stageSet(v.Stages)})
	}
	wantEqual(t, "versions", gotSum, wantSum)
}

// testPropertyVersions applies random sequences of version inserts, stage
// moves and deletes in one transaction and compares the store with a model,
// inside the transaction and after it commits. Each run uses a new secret
// of one store, to keep the property fast.
func testPropertyVersions(t *testing.T, s store.Store) {
	runs := 0
	rapid.Check(t, func(t *rapid.T) {
		runs++
		id := fmt.Sprintf("prop-%d", runs)
		insertSecrets(t, s, bareSecret(id, acctA, regionX, id))
		ops := versionOps().Draw(t, "ops")
		m := &versionModel{}
		mustUpdate(t, s, func(tx store.Tx) error {
			for _, op := range ops {
				m.apply(t, tx, id, op)
			}
			m.check(t, tx, id)
			return nil
		})
		mustView(t, s, func(tx store.Tx) error {
			m.check(t, tx, id)
			return nil
		})
	})
}

// testPropertyPaging lists random secrets, many sharing a CreatedAt, page
// by page: the pages joined must be the whole ordered list, each page must
// report the whole count. Each run uses a region of its own.
func testPropertyPaging(t *testing.T, s store.Store) {
	runs := 0
	rapid.Check(t, func(t *rapid.T) {
		runs++
		region := fmt.Sprintf("prop-%d", runs)
		minutes := rapid.SliceOfN(rapid.IntRange(0, 3), 0, 12).Draw(t, "minutes")
		asc := rapid.Bool().Draw(t, "asc")
		limit := rapid.IntRange(1, 5).Draw(t, "limit")
		var want []*store.Secret
		for i, minute := range minutes {
			sec := bareSecret(fmt.Sprintf("%s-%d", region, i), acctA, region, fmt.Sprintf("s%02d", (i*7)%12))
			sec.CreatedAt = at(minute)
			want = append(want, sec)
		}
		insertSecrets(t, s, want...)
		slices.SortFunc(want, func(a, b *store.Secret) int {
			c := a.CreatedAt.Compare(b.CreatedAt)
			if c == 0 {
				c = strings.Compare(a.Name, b.Name)
			}
			if asc {
				return c
			}
			return -c
		})
		got := []string{}
		for offset := 0; offset < len(minutes); offset += limit {
			page, total := list(t, s, store.SecretQuery{Account: acctA, Region: region, Asc: asc, Offset: offset, Limit: limit})
			wantEqual(t, "total", total, len(minutes))
			got = append(got, page...)
		}
		wantEqual(t, "pages joined", got, names(want))
	})
}
