package secrets_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
)

// TestListDeepOffset: a deep Offset, served as a seek from a checkpoint,
// gives the page the plain Offset gives — in both orders, with a type
// filter, after the listing changed, and past the end.
func TestListDeepOffset(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	sc := secrets.Scope{Account: "100000000001", Region: "ap-guangzhou"}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	insert := func(from, to int) {
		err := svc.Store.Update(ctx, func(tx store.Tx) error {
			for i := from; i < to; i++ {
				at := base.Add(time.Duration(i/3) * time.Second) // triples tie on the time
				sec := &store.Secret{ID: fmt.Sprintf("id%06d", i), Account: sc.Account, Region: sc.Region, Name: fmt.Sprintf("s%06d", i),
					Type: store.SecretType(i % 2 * 4), Status: store.StatusEnabled, CreatedAt: at, UpdatedAt: at, ResourceID: "r"}
				if err := tx.InsertSecret(ctx, sec); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	insert(0, 4500)
	reference := func(in secrets.ListInput) []string {
		var page []*store.Secret
		err := svc.Store.View(ctx, func(tx store.Tx) error {
			var err error
			page, _, err = tx.ListSecrets(ctx, store.SecretQuery{Account: sc.Account, Region: sc.Region, Types: in.Types, Asc: in.Asc, Offset: in.Offset, Limit: in.Limit})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return names(page)
	}
	check := func(what string) {
		t.Helper()
		for _, asc := range []bool{false, true} {
			for _, types := range [][]store.SecretType{nil, {store.TypeUserDefined}} {
				for _, off := range []int{1999, 2000, 2345, 2999, 3000, 4400, 4499, 5000} {
					in := secrets.ListInput{Types: types, Asc: asc, Offset: off, Limit: 100}
					got, total, err := svc.List(ctx, sc, in)
					if err != nil {
						t.Fatal(err)
					}
					if want := reference(in); !slices.Equal(names(got), want) {
						t.Fatalf("%s: asc=%v types=%v offset %d: got %d names from %v, want %d from %v", what, asc, types, off, len(got), first(names(got)), len(want), first(want))
					}
					if total <= 0 {
						t.Fatalf("%s: total %d", what, total)
					}
				}
			}
		}
	}
	check("first listings") // each order's first deep listing builds its checkpoints and waits
	awaitCursors := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); secrets.CursorListings(svc) < n; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d listings have checkpoints, want %d", secrets.CursorListings(svc), n)
			}
		}
	}
	awaitCursors(4)
	check("from the checkpoints")
	insert(4500, 4600) // straight into the store: only the TTL notices
	v := secrets.StringValue("x")
	if _, _, err := svc.Create(ctx, sc, secrets.CreateInput{Name: "zzz-new", Value: &v}); err != nil {
		t.Fatal(err)
	}
	check("after a write") // the checkpoints are stale: plain offsets again
}

func names(ss []*store.Secret) []string {
	out := []string{}
	for _, s := range ss {
		out = append(out, s.Name)
	}
	return out
}

func first(ss []string) string {
	if len(ss) == 0 {
		return "nothing"
	}
	return ss[0]
}
