package storetest

import (
	"context"
	"fmt"
	"slices"
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

// testPropertyPaging lists random secrets, their times drawn from a few
// minutes and the zero time so many tie, page by page in a random order
// and direction, by Offset or by keyset cursor (After built from the last
// secret of the page before, as a client does). The pages joined must be
// the whole ordered list, with no repeats and no skips; each page must
// report the whole count, or -1 with NoTotal. Each run uses a region of
// its own.
func testPropertyPaging(t *testing.T, s store.Store) {
	runs := 0
	rapid.Check(t, func(t *rapid.T) {
		runs++
		region := fmt.Sprintf("prop-%d", runs)
		all := pagingSecrets(region).Draw(t, "secrets")
		q := store.SecretQuery{Account: acctA, Region: region,
			SortBy:  rapid.SampledFrom(sortKeys).Draw(t, "sort"),
			Asc:     rapid.Bool().Draw(t, "asc"),
			NoTotal: rapid.Bool().Draw(t, "noTotal"),
			Limit:   rapid.IntRange(1, 5).Draw(t, "limit"),
		}
		if rapid.Bool().Draw(t, "notPending") {
			q.NotStatus = store.StatusPendingDelete
		}
		keyset := rapid.Bool().Draw(t, "keyset")
		insertSecrets(t, s, all...)

		want := slices.DeleteFunc(slices.Clone(all), func(sec *store.Secret) bool { return sec.Status == q.NotStatus })
		slices.SortFunc(want, compareBy(q.SortBy))
		if !q.Asc {
			slices.Reverse(want)
		}
		wantTotal := len(want)
		if q.NoTotal {
			wantTotal = -1
		}
		wantEqual(t, "pages joined", walkPages(t, s, q, keyset, wantTotal), names(want))
	})
}

// pagingSecrets draws up to 12 secrets with distinct names in region.
func pagingSecrets(region string) *rapid.Generator[[]*store.Secret] {
	when := rapid.IntRange(-1, 2) // -1 is the zero time
	return rapid.Custom(func(t *rapid.T) []*store.Secret {
		n := rapid.IntRange(0, 12).Draw(t, "n")
		var out []*store.Secret
		for i := range n {
			// Names sort against insertion order: (i*7)%12 is distinct for i < 12.
			sec := timed(fmt.Sprintf("s%02d", (i*7)%12), when.Draw(t, "created"), when.Draw(t, "updated"), when.Draw(t, "accessed"))
			sec.ID, sec.Region = fmt.Sprintf("%s-%d", region, i), region
			if rapid.IntRange(0, 3).Draw(t, "status") == 0 {
				sec.Status = store.StatusPendingDelete
			}
			out = append(out, sec)
		}
		return out
	})
}

// walkPages lists q page by page until a short page, by Offset or by
// keyset cursor, checks every page's total, and returns the names joined.
func walkPages(t *rapid.T, s store.Store, q store.SecretQuery, keyset bool, wantTotal int) []string {
	got := []string{}
	for {
		var page []*store.Secret
		var total int
		mustView(t, s, func(tx store.Tx) error {
			var err error
			page, total, err = tx.ListSecrets(context.Background(), q)
			return err
		})
		wantEqual(t, "total", total, wantTotal)
		got = append(got, names(page)...)
		// More names than secrets means the walk repeats: stop it there.
		if len(page) < q.Limit || len(got) > 12 {
			return got
		}
		if keyset {
			q.After = cursorAt(page[len(page)-1], q.SortBy)
		} else {
			q.Offset += q.Limit
		}
	}
}
