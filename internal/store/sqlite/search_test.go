package sqlite

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/coffer-secrets/coffer/internal/store"
)

// TestSearchModel creates, renames and deletes secrets with random names,
// in two accounts, and after each step searches for random terms and name
// prefixes. Every listing must hold exactly the account's names that hold
// the term and start with a prefix, as strings.Contains and HasPrefix find
// them, whether an index of names lists the candidates or a walk does: the
// test lowers maxCandidates so that both happen. At the
// end FTS5's own integrity check compares the index with its content.
func TestSearchModel(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	accounts := []string{"1", "2"}
	// Few letters, so that names share substrings; the wildcards of GLOB
	// and LIKE, which a name may not hold but a term may.
	nameGen := rapid.StringOfN(rapid.SampledFrom([]rune("abA-")), 1, 6, -1)
	termGen := rapid.StringOfN(rapid.SampledFrom([]rune("abA-*?[%_")), 1, 4, -1)
	n := 0
	rapid.Check(t, func(rt *rapid.T) {
		saved := maxCandidates
		maxCandidates = rapid.SampledFrom([]int{1, 3, 5000}).Draw(rt, "candidates")
		defer func() { maxCandidates = saved }()
		// model maps each account to its secrets' names by id.
		model := map[string]map[string]string{"1": {}, "2": {}}
		defer clearSecrets(rt, db)
		for step := range rapid.IntRange(1, 12).Draw(rt, "steps") {
			acct := rapid.SampledFrom(accounts).Draw(rt, "account")
			ids := slices.Sorted(maps.Keys(model[acct]))
			op := rapid.IntRange(0, 2).Draw(rt, "op")
			err := db.Update(ctx, func(stx store.Tx) error {
				switch {
				case op == 0 || len(ids) == 0:
					name := nameGen.Draw(rt, "name")
					if slices.Contains(slices.Collect(maps.Values(model[acct])), name) {
						return nil
					}
					n++
					id := fmt.Sprintf("id-%d", n)
					model[acct][id] = name
					return stx.InsertSecret(ctx, &store.Secret{ID: id, Account: acct, Region: "r", Name: name,
						Status: store.StatusEnabled})
				case op == 1:
					id := rapid.SampledFrom(ids).Draw(rt, "rename")
					name := nameGen.Draw(rt, "new name")
					if slices.Contains(slices.Collect(maps.Values(model[acct])), name) {
						return nil
					}
					s, err := stx.SecretByID(ctx, id)
					if err != nil {
						return err
					}
					s.Name, model[acct][id] = name, name
					return stx.UpdateSecret(ctx, s)
				default:
					id := rapid.SampledFrom(ids).Draw(rt, "delete")
					delete(model[acct], id)
					return stx.DeleteSecret(ctx, id)
				}
			})
			if err != nil {
				rt.Fatalf("step %d: %v", step, err)
			}
			for range 3 {
				// A search, name prefixes, or both, in either order.
				q := store.SecretQuery{Region: "r", SortBy: rapid.SampledFrom([]store.SortKey{store.SortCreated, store.SortName}).Draw(rt, "sort")}
				if rapid.Bool().Draw(rt, "search") {
					q.Search = termGen.Draw(rt, "term")
				}
				if q.Search == "" || rapid.Bool().Draw(rt, "prefixes") {
					q.NamePrefixes = rapid.SliceOfN(rapid.StringOfN(rapid.SampledFrom([]rune("abA-")), 0, 3, -1), 1, 2).Draw(rt, "prefixes")
				}
				for _, a := range accounts {
					var want []string
					for _, name := range model[a] {
						if strings.Contains(name, q.Search) && (store.AnyName(q.NamePrefixes) ||
							slices.ContainsFunc(q.NamePrefixes, func(p string) bool { return strings.HasPrefix(name, p) })) {
							want = append(want, name)
						}
					}
					slices.Sort(want)
					q.Account = a
					got, total := searchNames(rt, db, q)
					if !slices.Equal(got, want) || total != len(want) {
						rt.Fatalf("account %s, search %q, prefixes %q: got %q (total %d), want %q",
							a, q.Search, q.NamePrefixes, got, total, want)
					}
				}
			}
		}
		checkSearchIndex(rt, db)
	})
}

// searchNames lists the names q matches, and the total.
func searchNames(t interface{ Fatalf(string, ...any) }, db *DB, q store.SecretQuery) ([]string, int) {
	var names []string
	var total int
	err := db.View(context.Background(), func(stx store.Tx) error {
		page, n, err := stx.ListSecrets(context.Background(), q)
		for _, s := range page {
			names = append(names, s.Name)
		}
		total = n
		return err
	})
	if err != nil {
		t.Fatalf("ListSecrets: %v", err)
	}
	// The exact-name-first rule moves one name to the front; the model
	// compares sets in name order.
	slices.Sort(names)
	return names, total
}

// clearSecrets deletes every secret, so each rapid run starts empty.
func clearSecrets(t interface{ Fatalf(string, ...any) }, db *DB) {
	err := db.Update(context.Background(), func(stx store.Tx) error {
		_, err := stx.(*tx).tx.ExecContext(context.Background(), `DELETE FROM secrets`)
		return err
	})
	if err != nil {
		t.Fatalf("clear: %v", err)
	}
}

// checkSearchIndex fails unless secret_names holds each secret's id and
// name, once, and nothing else, and FTS5 finds its index in step with it.
func checkSearchIndex(t interface{ Fatalf(string, ...any) }, db *DB) {
	ctx := context.Background()
	var stale int
	err := db.read.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM secrets s LEFT JOIN secret_names n ON n.secret_id = s.id WHERE n.name IS NOT s.name) +
		(SELECT count(*) FROM secret_names n LEFT JOIN secrets s ON s.id = n.secret_id WHERE s.id IS NULL)`).Scan(&stale)
	if err != nil || stale != 0 {
		t.Fatalf("secret_names: %d rows out of step with secrets (%v)", stale, err)
	}
	err = db.Update(ctx, func(stx store.Tx) error {
		_, err := stx.(*tx).tx.ExecContext(ctx,
			`INSERT INTO secret_search (secret_search, rank) VALUES ('integrity-check', 1)`)
		return err
	})
	if err != nil {
		t.Fatalf("the search index does not match its content: %v", err)
	}
}
