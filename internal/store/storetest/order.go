package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/store"
)

// sortKeys are the orders of ListSecrets.
var sortKeys = []store.SortKey{store.SortCreated, store.SortName, store.SortChanged, store.SortAccessed}

// sortTime returns the time sec sorts by under key: the zero time for
// SortName, and for a never-read secret under SortAccessed.
func sortTime(sec *store.Secret, key store.SortKey) time.Time {
	switch key {
	case store.SortChanged:
		return sec.UpdatedAt
	case store.SortAccessed:
		return sec.AccessedAt
	case store.SortName:
		return time.Time{}
	}
	return sec.CreatedAt
}

// compareBy compares secrets in the ascending order of key: its time (the
// zero time first), then Name.
func compareBy(key store.SortKey) func(a, b *store.Secret) int {
	return func(a, b *store.Secret) int {
		if c := ms(sortTime(a, key)).Compare(ms(sortTime(b, key))); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	}
}

// cursorAt returns the position of sec in the order of key, as a client
// builds it from the last secret of a page.
func cursorAt(sec *store.Secret, key store.SortKey) *store.Cursor {
	return &store.Cursor{Time: sortTime(sec, key), Name: sec.Name}
}

// timed returns a secret for the order tests; a negative minute is the
// zero time.
func timed(name string, created, updated, accessed int) *store.Secret {
	sec := bareSecret("id-"+name, acctA, regionX, name)
	sec.CreatedAt, sec.UpdatedAt, sec.AccessedAt = minute(created), minute(updated), minute(accessed)
	return sec
}

// minute returns at(m), or the zero time when m is negative.
func minute(m int) time.Time {
	if m < 0 {
		return time.Time{}
	}
	return at(m)
}

// orderFixture holds secrets whose times tie and include the zero time in
// every order, and each order's names, ascending.
func orderFixture(t *testing.T, s store.Store) map[store.SortKey][]string {
	insertSecrets(t, s,
		timed("a", 1, 3, -1),
		timed("b", 1, 2, 5),
		timed("c", 0, 3, 5),
		timed("d", 2, 2, -1),
		timed("e", -1, -1, 1),
	)
	return map[store.SortKey][]string{
		store.SortCreated:  {"e", "c", "a", "b", "d"},
		store.SortName:     {"a", "b", "c", "d", "e"},
		store.SortChanged:  {"e", "b", "d", "a", "c"},
		store.SortAccessed: {"a", "d", "e", "b", "c"},
	}
}

// testListSortBy pins each order in both directions: its time, the zero
// time first, ties by Name in the same direction, so descending is exactly
// ascending reversed.
func testListSortBy(t *testing.T, s store.Store) {
	want := orderFixture(t, s)
	for _, key := range sortKeys {
		for _, asc := range []bool{true, false} {
			w := slices.Clone(want[key])
			if !asc {
				slices.Reverse(w)
			}
			got, total := list(t, s, store.SecretQuery{Account: acctA, Region: regionX, SortBy: key, Asc: asc})
			wantEqual(t, direction(key, asc), got, w)
			wantEqual(t, "total "+direction(key, asc), total, len(w))
		}
	}
}

func direction(key store.SortKey, asc bool) string {
	if asc {
		return "by " + string(key) + " ascending"
	}
	return "by " + string(key) + " descending"
}

// testListAfter pins keyset paging: After keeps the secrets strictly after
// a position in the chosen order and direction, whether or not a secret
// sits there; for SortName the cursor's time does not count. Offset and
// Limit apply after it; the total does not.
func testListAfter(t *testing.T, s store.Store) {
	want := orderFixture(t, s)
	var all []*store.Secret
	mustView(t, s, func(tx store.Tx) error {
		var err error
		all, _, err = tx.ListSecrets(t.Context(), store.SecretQuery{Account: acctA, Region: regionX})
		return err
	})
	for _, key := range sortKeys {
		for _, asc := range []bool{true, false} {
			w := slices.Clone(want[key])
			if !asc {
				slices.Reverse(w)
			}
			for i, name := range w {
				sec := all[slices.IndexFunc(all, func(s *store.Secret) bool { return s.Name == name })]
				q := store.SecretQuery{Account: acctA, Region: regionX, SortBy: key, Asc: asc, After: cursorAt(sec, key)}
				got, total := list(t, s, q)
				wantEqual(t, direction(key, asc)+" after "+name, got, w[i+1:])
				wantEqual(t, "total "+direction(key, asc)+" after "+name, total, len(w))
			}
		}
	}
	tests := []struct {
		name string
		q    store.SecretQuery
		want []string
	}{
		{"between two secrets", store.SecretQuery{Asc: true, After: &store.Cursor{Time: at(1), Name: "aa"}}, []string{"b", "d"}},
		{"between, descending", store.SecretQuery{After: &store.Cursor{Time: at(1), Name: "aa"}}, []string{"a", "c", "e"}},
		{"before all", store.SecretQuery{Asc: true, After: &store.Cursor{Name: ""}}, []string{"e", "c", "a", "b", "d"}},
		{"past all", store.SecretQuery{Asc: true, After: &store.Cursor{Time: at(2), Name: "d"}}, []string{}},
		{"zero time", store.SecretQuery{SortBy: store.SortAccessed, Asc: true, After: &store.Cursor{Name: "b"}},
			[]string{"d", "e", "b", "c"}},
		{"zero time, descending", store.SecretQuery{SortBy: store.SortAccessed, After: &store.Cursor{Name: "b"}},
			[]string{"a"}},
		{"name ignores the time", store.SecretQuery{SortBy: store.SortName, Asc: true,
			After: &store.Cursor{Time: at(100), Name: "b"}}, []string{"c", "d", "e"}},
		{"name, descending", store.SecretQuery{SortBy: store.SortName, After: &store.Cursor{Time: at(-100), Name: "c"}},
			[]string{"b", "a"}},
		{"with offset and limit", store.SecretQuery{SortBy: store.SortChanged, Asc: true,
			After: &store.Cursor{Name: "e"}, Offset: 1, Limit: 2}, []string{"d", "a"}},
		{"with a filter", store.SecretQuery{SortBy: store.SortName, Search: "d", After: &store.Cursor{Name: "e"}},
			[]string{"d"}},
	}
	for _, tt := range tests {
		tt.q.Account, tt.q.Region = acctA, regionX
		got, _ := list(t, s, tt.q)
		wantEqual(t, tt.name, got, tt.want)
	}
}
