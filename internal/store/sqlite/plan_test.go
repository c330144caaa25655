package sqlite

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/store"
)

// TestListPlans checks that every listing order, in both directions, with
// and without a keyset cursor, reads an index of its own with no sort step,
// and that a cursor seeks in it rather than filtering from the start.
func TestListPlans(t *testing.T) {
	db := openTest(t)
	tests := []struct {
		sort  store.SortKey
		index string
		seek  string // in the plan when After is set
	}{
		{store.SortCreated, "secrets_created", "<expr>"},
		{store.SortChanged, "secrets_updated", "<expr>"},
		{store.SortAccessed, "secrets_accessed", "<expr>"},
		{store.SortName, "secrets_name", "name"},
	}
	cursor := &store.Cursor{Time: time.UnixMilli(1e12), Name: "m"}
	for _, tt := range tests {
		for _, asc := range []bool{false, true} {
			for _, after := range []*store.Cursor{nil, cursor} {
				q := store.SecretQuery{Account: "1", Region: "r", SortBy: tt.sort, Asc: asc, After: after,
					NotStatus: store.StatusPendingDelete, Types: []store.SecretType{0, 1}, Limit: 20}
				plan := explain(t, db, q)
				// A search too short for the trigram index filters the
				// same walk: its exact match is read apart, so no sort.
				q.Search = "ab"
				query, args := pageQuery(`secrets`, sortKeys[tt.sort], q, q.Search)
				plan += "; " + queryPlan(t, db, query, args)
				what := string(tt.sort) + map[bool]string{false: " desc", true: " asc"}[asc]
				if !strings.Contains(plan, "USING INDEX "+tt.index+" (account=? AND region=?") {
					t.Errorf("%s: plan %q does not search %s", what, plan, tt.index)
				}
				if strings.Contains(plan, "TEMP B-TREE") {
					t.Errorf("%s: plan %q sorts", what, plan)
				}
				if after != nil && !strings.Contains(plan, "AND "+tt.seek) {
					t.Errorf("%s after a cursor: plan %q does not seek", what, plan)
				}
			}
		}
	}
}

// explain returns the query plan of q's page query, one line per step.
func explain(t *testing.T, db *DB, q store.SecretQuery) string {
	t.Helper()
	query, args := pageQuery(`secrets`, sortKeys[q.SortBy], q, "")
	return queryPlan(t, db, query, args)
}

// TestSearchPlans checks that a search the trigram index serves reads the
// index for its candidates and looks each one up by id, for the page and
// for the count, and never walks an account's listing index.
func TestSearchPlans(t *testing.T) {
	db := openTest(t)
	q := store.SecretQuery{Account: "1", Region: "r", Search: "prod", NotStatus: store.StatusPendingDelete,
		Types: []store.SecretType{0, 1}, Limit: 20}
	err := db.View(t.Context(), func(stx store.Tx) error {
		from, fromArgs, err := stx.(*tx).candidatesFrom(t.Context(), q)
		if err != nil {
			return err
		}
		if from == `secrets` {
			t.Fatalf("candidatesFrom(%q) scans; want the trigram index", q.Search)
		}
		for _, sort := range []store.SortKey{store.SortCreated, store.SortName} {
			q.SortBy = sort
			query, args := pageQuery(from, sortKeys[sort], q, q.Search)
			plan := queryPlan(t, db, query, append(fromArgs, args...))
			if !strings.Contains(plan, "SEARCH secrets USING INDEX sqlite_autoindex_secrets_1 (id=?)") ||
				strings.Contains(plan, "secrets_created") || strings.Contains(plan, "secrets_name") {
				t.Errorf("page by %s: plan %q does not look candidates up by id", sort, plan)
			}
		}
		query, args := exactQuery(q)
		if plan := queryPlan(t, db, query, args); !strings.Contains(plan, "USING INDEX secrets_name (account=? AND region=? AND name=?)") {
			t.Errorf("exact match: plan %q does not look the name up", plan)
		}
		where, args := secretFilter(q)
		plan := queryPlan(t, db, `SELECT COUNT(*) FROM `+from+` WHERE `+where, append(fromArgs, args...))
		if !strings.Contains(plan, "(id=?)") {
			t.Errorf("count: plan %q does not look candidates up by id", plan)
		}
		for _, term := range []string{"pr", "pro*", "a?c", "[ab]c"} {
			q := store.SecretQuery{Account: "1", Region: "r", Search: term}
			if from, _, err := stx.(*tx).candidatesFrom(t.Context(), q); err != nil || from != `secrets` {
				t.Errorf("candidatesFrom(%q) = %q, %v; want a scan", term, from, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
}

// queryPlan returns the plan of query, its steps joined by "; ".
func queryPlan(t *testing.T, db *DB, query string, args []any) string {
	t.Helper()
	rows, err := db.read.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("EXPLAIN: %v", err)
	}
	defer rows.Close()
	var steps []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatalf("Scan: %v", err)
		}
		steps = append(steps, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("EXPLAIN: %v", err)
	}
	return strings.Join(steps, "; ")
}

// TestPrefixPlans checks the plans of a listing by name prefix: by name,
// one prefix reads its range of the name's index in order; otherwise the
// listing walks its order's index (a prefix most names share is found at
// once) and candidatesFrom looks up the secrets of prefixes few names
// share by id. No plan sorts a range.
func TestPrefixPlans(t *testing.T) {
	db := openTest(t)
	for _, tt := range []struct {
		prefixes []string
		sort     store.SortKey
		plan     string
	}{
		{[]string{"app/"}, store.SortName, "USING INDEX secrets_name (account=? AND region=? AND name>? AND name<?)"},
		{[]string{"app/", "web/"}, store.SortName, "USING INDEX secrets_name (account=? AND region=?)"},
		{[]string{"app/"}, store.SortCreated, "USING INDEX secrets_created (account=? AND region=?)"},
		{[]string{"app/", "web/"}, store.SortCreated, "USING INDEX secrets_created (account=? AND region=?)"},
	} {
		what := fmt.Sprintf("%q by %s", tt.prefixes, tt.sort)
		q := store.SecretQuery{Account: "1", Region: "r", NamePrefixes: tt.prefixes, SortBy: tt.sort,
			NotStatus: store.StatusPendingDelete, Limit: 200, NoTotal: true}
		query, args := pageQuery(`secrets`, sortKeys[q.SortBy], q, "")
		if plan := queryPlan(t, db, query, args); !strings.Contains(plan, tt.plan) || strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("%s: plan %q, want %q and no sort", what, plan, tt.plan)
		}
		err := db.View(t.Context(), func(stx store.Tx) error {
			from, _, err := stx.(*tx).candidatesFrom(t.Context(), q)
			ranged := tt.sort == store.SortName && len(tt.prefixes) == 1
			if err == nil && (from == `secrets`) != ranged {
				t.Errorf("%s: candidatesFrom gave %q", what, from)
			}
			return err
		})
		if err != nil {
			t.Fatalf("View: %v", err)
		}
	}
}

// TestVersionListPlan checks that a secret's version list, which every put
// and version delete reads, is a walk of the covering index versions_list
// with no sort and no look-up in the table, and that the full list (with
// the sealed values) walks the same index in order.
func TestVersionListPlan(t *testing.T) {
	db := openTest(t)
	plan := queryPlan(t, db, versionsQuery(versionListCols), []any{"s1"})
	if !strings.Contains(plan, "USING COVERING INDEX versions_list (secret_id=?)") || strings.Contains(plan, "TEMP B-TREE") {
		t.Errorf("VersionList plan %q: want a covering walk of versions_list", plan)
	}
	plan = queryPlan(t, db, versionsQuery(versionCols), []any{"s1"})
	if !strings.Contains(plan, "USING INDEX versions_list (secret_id=?)") || strings.Contains(plan, "TEMP B-TREE") {
		t.Errorf("Versions plan %q: want an ordered walk of versions_list", plan)
	}
}

// TestStageHoldersPlan: a put's look at the labels reads the label index
// in version order and counts the versions in the covering index, reading
// no version row.
func TestStageHoldersPlan(t *testing.T) {
	db := openTest(t)
	plan := queryPlan(t, db, stageHoldersQuery, []any{"s1"})
	for _, want := range []string{
		"SEARCH version_stages USING COVERING INDEX version_stages_version (secret_id=?)",
		"SEARCH versions USING COVERING INDEX versions_list (secret_id=?)",
	} {
		if !strings.Contains(plan, want) {
			t.Errorf("StageHolders plan %q: want %q", plan, want)
		}
	}
	if strings.Contains(plan, "SCAN") || strings.Contains(plan, "TEMP B-TREE") {
		t.Errorf("StageHolders plan %q: want index walks, no scan or sort", plan)
	}
}
