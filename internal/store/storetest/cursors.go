package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// testSecretCursors checks SecretCursors against ListSecrets: the cursors
// are every n-th secret of the listing's order (ties on the time broken by
// name, zero times, filters, both directions, every sort key), and a
// keyset seek from a cursor plus the rest of an offset gives the page the
// offset gives.
func testSecretCursors(t *testing.T, s store.Store) {
	for i, name := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"} {
		typ := store.TypeUserDefined
		if i%4 == 3 {
			typ = store.TypeDatabase
		}
		sec := listed(name, i/3, store.StatusEnabled, typ) // triples share a CreatedAt
		if i == 5 {
			sec.CreatedAt = time.Time{} // sorts first, as the zero time
		}
		insertSecrets(t, s, sec)
	}
	insertSecrets(t, s, bareSecret("id-other", acctB, regionX, "other"))
	ctx := context.Background()
	for _, sortBy := range []store.SortKey{store.SortCreated, store.SortName, store.SortChanged} {
		for _, asc := range []bool{false, true} {
			for _, types := range [][]store.SecretType{nil, {store.TypeUserDefined}} {
				q := store.SecretQuery{Account: acctA, Region: regionX, SortBy: sortBy, Asc: asc, Types: types, NoTotal: true}
				var all []*store.Secret
				var cursors []store.Cursor
				mustView(t, s, func(tx store.Tx) error {
					var err error
					if all, _, err = tx.ListSecrets(ctx, q); err != nil {
						return err
					}
					cursors, err = tx.SecretCursors(ctx, q, 3)
					return err
				})
				if want := len(all) / 3; len(cursors) != want {
					t.Fatalf("%s asc=%v types=%v: %d cursors, want %d", sortBy, asc, types, len(cursors), want)
				}
				for i, c := range cursors {
					sec := all[(i+1)*3-1]
					if c.Name != sec.Name || sortBy != store.SortName && !c.Time.Equal(sortTime(sec, sortBy)) {
						t.Fatalf("%s asc=%v: cursor %d = %v %q, want %v %q", sortBy, asc, i, c.Time, c.Name, sortTime(sec, sortBy), sec.Name)
					}
				}
				// Offset 4 as a seek from the first cursor (position 3) and offset 1.
				if len(cursors) > 0 {
					want, _ := list(t, s, withPage(q, 4, 3, nil))
					got, _ := list(t, s, withPage(q, 1, 3, &cursors[0]))
					wantEqual(t, "seek from a cursor", got, want)
				}
			}
		}
	}
	err := s.View(ctx, func(tx store.Tx) error {
		_, err := tx.SecretCursors(ctx, store.SecretQuery{Account: acctA, Region: regionX}, 0)
		return err
	})
	wantKind(t, "spacing 0", err, fault.Invalid)
}

func withPage(q store.SecretQuery, offset, limit int, after *store.Cursor) store.SecretQuery {
	q.Offset, q.Limit, q.After = offset, limit, after
	return q
}
