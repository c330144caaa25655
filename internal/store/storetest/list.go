package storetest

import (
	"context"
	"slices"
	"testing"

	"github.com/coffer-secrets/coffer/internal/store"
)

// listed returns a secret for the listing tests, created minute minutes
// after the fixture instant.
func listed(name string, minute int, status store.SecretStatus, typ store.SecretType, tags ...store.Tag) *store.Secret {
	s := bareSecret("id-"+name, acctA, regionX, name)
	s.CreatedAt, s.Status, s.Type, s.Tags = at(minute), status, typ, tags
	return s
}

// list runs ListSecrets in a View and returns the names and the total.
func list(t tb, s store.Store, q store.SecretQuery) ([]string, int) {
	t.Helper()
	var page []*store.Secret
	var total int
	mustView(t, s, func(tx store.Tx) error {
		var err error
		page, total, err = tx.ListSecrets(context.Background(), q)
		return err
	})
	return names(page), total
}

func testListFilters(t *testing.T, s store.Store) {
	tag := func(k, v string) store.Tag { return store.Tag{Key: k, Value: v} }
	// Names another account and region hold too: no search may list them.
	insertSecrets(t, s, bareSecret("other-account", acctB, regionX, "db-prod"),
		bareSecret("other-region", acctA, regionY, "api-key"))
	insertSecrets(t, s,
		listed("db-prod", 1, store.StatusEnabled, store.TypeDatabase, tag("env", "prod"), tag("team", "pay")),
		listed("db-test", 2, store.StatusDisabled, store.TypeDatabase, tag("team", "pay"), tag("env", "test")),
		listed("api-key", 3, store.StatusEnabled, store.TypeAPIKey, tag("env", "prod")),
		listed("ssh", 4, store.StatusPendingDelete, store.TypeSSHKey, tag("team", "ops")),
		listed("plain", 5, store.StatusEnabled, store.TypeUserDefined),
		listed("Db-upper", 6, store.StatusEnabled, store.TypeUserDefined, tag("env", "dev")),
	)
	filter := func(k string, vs ...string) store.TagFilter { return store.TagFilter{Key: k, Values: vs} }
	tests := []struct {
		name string
		q    store.SecretQuery
		want []string
	}{
		{"all", store.SecretQuery{}, []string{"Db-upper", "plain", "ssh", "api-key", "db-test", "db-prod"}},
		{"status", store.SecretQuery{Status: store.StatusEnabled}, []string{"Db-upper", "plain", "api-key", "db-prod"}},
		{"not status", store.SecretQuery{NotStatus: store.StatusPendingDelete}, []string{"Db-upper", "plain", "api-key", "db-test", "db-prod"}},
		{"not status and status", store.SecretQuery{Status: store.StatusEnabled, NotStatus: store.StatusDisabled},
			[]string{"Db-upper", "plain", "api-key", "db-prod"}},
		{"not status excludes all", store.SecretQuery{Status: store.StatusEnabled, NotStatus: store.StatusEnabled}, []string{}},
		{"one type", store.SecretQuery{Types: []store.SecretType{store.TypeDatabase}}, []string{"db-test", "db-prod"}},
		{"two types", store.SecretQuery{Types: []store.SecretType{store.TypeSSHKey, store.TypeDatabase}}, []string{"ssh", "db-test", "db-prod"}},
		{"search is case-sensitive", store.SecretQuery{Search: "db"}, []string{"db-test", "db-prod"}},
		{"search substring", store.SecretQuery{Search: "-"}, []string{"Db-upper", "api-key", "db-test", "db-prod"}},
		{"search no match", store.SecretQuery{Search: "%"}, []string{}},
		// Terms of three characters or more, which a trigram index may serve.
		{"search three characters", store.SecretQuery{Search: "db-"}, []string{"db-test", "db-prod"}},
		{"search longer term", store.SecretQuery{Search: "-prod"}, []string{"db-prod"}},
		{"search longer term is case-sensitive", store.SecretQuery{Search: "Db-u"}, []string{"Db-upper"}},
		{"search longer term, other case", store.SecretQuery{Search: "DB-"}, []string{}},
		{"search whole name", store.SecretQuery{Search: "api-key"}, []string{"api-key"}},
		{"search longer than any name", store.SecretQuery{Search: "db-prod-"}, []string{}},
		{"search holds wildcards", store.SecretQuery{Search: "db*"}, []string{}},
		{"search holds a LIKE wildcard", store.SecretQuery{Search: "db_prod"}, []string{}},
		{"name prefix", store.SecretQuery{NamePrefixes: []string{"db-"}}, []string{"db-test", "db-prod"}},
		{"name prefixes ORed", store.SecretQuery{NamePrefixes: []string{"ss", "api"}}, []string{"ssh", "api-key"}},
		{"name prefix is case-sensitive", store.SecretQuery{NamePrefixes: []string{"Db"}}, []string{"Db-upper"}},
		{"name prefix, whole name", store.SecretQuery{NamePrefixes: []string{"plain"}}, []string{"plain"}},
		{"name prefix longer than the name", store.SecretQuery{NamePrefixes: []string{"plain-"}}, []string{}},
		{"empty name prefix", store.SecretQuery{NamePrefixes: []string{"zz", ""}},
			[]string{"Db-upper", "plain", "ssh", "api-key", "db-test", "db-prod"}},
		{"name prefix by name", store.SecretQuery{NamePrefixes: []string{"db-", "ap"}, SortBy: store.SortName},
			[]string{"db-test", "db-prod", "api-key"}},
		{"name prefix and search", store.SecretQuery{NamePrefixes: []string{"db-"}, Search: "prod"}, []string{"db-prod"}},
		{"name prefix and status", store.SecretQuery{NamePrefixes: []string{"db-"}, Status: store.StatusEnabled}, []string{"db-prod"}},
		{"tag key only", store.SecretQuery{Tags: []store.TagFilter{filter("env")}}, []string{"Db-upper", "api-key", "db-test", "db-prod"}},
		{"tag values ORed", store.SecretQuery{Tags: []store.TagFilter{filter("env", "prod", "test")}}, []string{"api-key", "db-test", "db-prod"}},
		{"tag filters ANDed", store.SecretQuery{Tags: []store.TagFilter{filter("env", "prod"), filter("team", "pay")}}, []string{"db-prod"}},
		{"tag key and value pair", store.SecretQuery{Tags: []store.TagFilter{filter("team", "prod")}}, []string{}},
		{"tag missing key", store.SecretQuery{Tags: []store.TagFilter{filter("nope")}}, []string{}},
		{"all filters", store.SecretQuery{Status: store.StatusDisabled, Types: []store.SecretType{store.TypeDatabase},
			Search: "db", Tags: []store.TagFilter{filter("team")}}, []string{"db-test"}},
	}
	t.Run("each secret with its own tags, in order", func(t *testing.T) {
		var page []*store.Secret
		mustView(t, s, func(tx store.Tx) error {
			var err error
			page, _, err = tx.ListSecrets(context.Background(), store.SecretQuery{Account: acctA, Region: regionX})
			return err
		})
		want := map[string][]store.Tag{
			"db-prod": {tag("env", "prod"), tag("team", "pay")}, "db-test": {tag("team", "pay"), tag("env", "test")},
			"api-key": {tag("env", "prod")}, "ssh": {tag("team", "ops")}, "plain": nil, "Db-upper": {tag("env", "dev")},
		}
		for _, sec := range page {
			if !slices.Equal(sec.Tags, want[sec.Name]) {
				t.Errorf("%s: tags %v, want %v", sec.Name, sec.Tags, want[sec.Name])
			}
		}
		wantEqual(t, "secrets listed", len(page), len(want))
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.q.Account, tt.q.Region = acctA, regionX
			got, total := list(t, s, tt.q)
			wantEqual(t, "names", got, tt.want)
			wantEqual(t, "total", total, len(tt.want))
			tt.q.NoTotal = true
			got, total = list(t, s, tt.q)
			wantEqual(t, "names without a total", got, tt.want)
			wantEqual(t, "NoTotal", total, -1)
		})
	}
}

func testListSearchExactFirst(t *testing.T, s store.Store) {
	insertSecrets(t, s,
		listed("mydb", 1, store.StatusEnabled, 0),
		listed("db", 2, store.StatusEnabled, 0),
		listed("db-prod", 3, store.StatusEnabled, 0),
		listed("other", 4, store.StatusEnabled, 0),
	)
	tests := []struct {
		name string
		q    store.SecretQuery
		want []string
	}{
		{"descending", store.SecretQuery{Search: "db"}, []string{"db", "db-prod", "mydb"}},
		{"ascending", store.SecretQuery{Search: "db", Asc: true}, []string{"db", "mydb", "db-prod"}},
		{"second page", store.SecretQuery{Search: "db", Offset: 1, Limit: 1}, []string{"db-prod"}},
		{"first page of one", store.SecretQuery{Search: "db", Limit: 1}, []string{"db"}},
		{"first page of two", store.SecretQuery{Search: "db", Limit: 2}, []string{"db", "db-prod"}},
		{"third page", store.SecretQuery{Search: "db", Offset: 2, Limit: 1}, []string{"mydb"}},
		{"second page of two", store.SecretQuery{Search: "db", Offset: 2, Limit: 2}, []string{"mydb"}},
		{"past the end", store.SecretQuery{Search: "db", Offset: 3, Limit: 2}, []string{}},
		{"no exact match", store.SecretQuery{Search: "d"}, []string{"db-prod", "db", "mydb"}},
		{"exact match filtered out", store.SecretQuery{Search: "db", Status: store.StatusDisabled}, []string{}},
		// A keyset cursor is a position in the plain order: no exact match
		// first (the Tencent API pages a Search by Offset, the AWS API by
		// cursor and without Search).
		{"after a cursor", store.SecretQuery{Search: "db", After: &store.Cursor{Time: at(4), Name: "other"}},
			[]string{"db-prod", "db", "mydb"}},
		{"after a cursor past it", store.SecretQuery{Search: "db", After: &store.Cursor{Time: at(3), Name: "db-prod"}},
			[]string{"db", "mydb"}},
		{"after a cursor, by name", store.SecretQuery{Search: "db", SortBy: store.SortName,
			After: &store.Cursor{Name: "z"}}, []string{"mydb", "db-prod", "db"}},
		{"by name", store.SecretQuery{Search: "db", SortBy: store.SortName, Asc: true}, []string{"db", "db-prod", "mydb"}},
		{"by name descending", store.SecretQuery{Search: "db", SortBy: store.SortName}, []string{"db", "mydb", "db-prod"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.q.Account, tt.q.Region = acctA, regionX
			got, total := list(t, s, tt.q)
			wantEqual(t, "names", got, tt.want)
			if tt.q.Status == "" {
				wantEqual(t, "total", total, 3)
			}
		})
	}
}

// testListOrder pins the order: CreatedAt, ties by Name, both descending by
// default and both ascending with Asc, so one index serves either direction.
func testListOrder(t *testing.T, s store.Store) {
	insertSecrets(t, s,
		listed("b", 1, store.StatusEnabled, 0),
		listed("a", 1, store.StatusEnabled, 0),
		listed("c", 0, store.StatusEnabled, 0),
		listed("d", 2, store.StatusEnabled, 0),
	)
	got, _ := list(t, s, store.SecretQuery{Account: acctA, Region: regionX})
	wantEqual(t, "descending", got, []string{"d", "b", "a", "c"})
	got, _ = list(t, s, store.SecretQuery{Account: acctA, Region: regionX, Asc: true})
	wantEqual(t, "ascending", got, []string{"c", "a", "b", "d"})
}

func testListPaging(t *testing.T, s store.Store) {
	for i, name := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		insertSecrets(t, s, listed(name, i/2, store.StatusEnabled, 0)) // pairs share a CreatedAt
	}
	for _, asc := range []bool{false, true} {
		all, total := list(t, s, store.SecretQuery{Account: acctA, Region: regionX, Asc: asc})
		wantEqual(t, "total", total, 7)
		for _, limit := range []int{1, 2, 3, 7, 10} {
			var paged []string
			for offset := 0; offset < 7; offset += limit {
				page, total := list(t, s, store.SecretQuery{Account: acctA, Region: regionX, Asc: asc, Offset: offset, Limit: limit})
				wantEqual(t, "total of a page", total, 7)
				paged = append(paged, page...)
			}
			wantEqual(t, "pages joined", paged, all)
		}
		page, total := list(t, s, store.SecretQuery{Account: acctA, Region: regionX, Offset: 7, Limit: 3})
		wantEqual(t, "page past the end", page, []string{})
		wantEqual(t, "total past the end", total, 7)
	}
}

func testListScope(t *testing.T, s store.Store) {
	insertSecrets(t, s,
		bareSecret("ax", acctA, regionX, "db"),
		bareSecret("ax2", acctA, regionX, "only-ax"),
		bareSecret("ay", acctA, regionY, "db"),
		bareSecret("bx", acctB, regionX, "db"),
	)
	tests := []struct {
		account, region string
		want            []string
	}{
		{acctA, regionX, []string{"ax", "ax2"}},
		{acctA, regionY, []string{"ay"}},
		{acctB, regionX, []string{"bx"}},
		{acctB, regionY, []string{}},
	}
	for _, tt := range tests {
		var page []*store.Secret
		mustView(t, s, func(tx store.Tx) error {
			var err error
			page, _, err = tx.ListSecrets(t.Context(), store.SecretQuery{Account: tt.account, Region: tt.region, Asc: true})
			return err
		})
		ids := []string{}
		for _, sec := range page {
			ids = append(ids, sec.ID)
		}
		slices.Sort(ids)
		wantEqual(t, tt.account+"/"+tt.region, ids, tt.want)
	}
}

func testSecretsDue(t *testing.T, s store.Store) {
	due := func(id, account string, status store.SecretStatus, minute int) *store.Secret {
		sec := bareSecret(id, account, regionX, id)
		sec.Status, sec.DeleteAt = status, at(minute)
		return sec
	}
	insertSecrets(t, s,
		due("d1", acctA, store.StatusPendingDelete, 10),
		due("d2", acctB, store.StatusPendingDelete, 5),
		due("d3", acctA, store.StatusPendingDelete, 20),
		due("d4", acctA, store.StatusEnabled, 1),
		bareSecret("d5", acctA, regionY, "no-delete-at"),
	)
	tests := []struct {
		name   string
		minute int
		limit  int
		want   []string
	}{
		{"none due", 0, 10, nil},
		{"at DeleteAt is due", 10, 10, []string{"d2", "d1"}},
		{"all due", 100, 10, []string{"d2", "d1", "d3"}},
		{"limit", 100, 2, []string{"d2", "d1"}},
	}
	for _, tt := range tests {
		var got []*store.Secret
		mustView(t, s, func(tx store.Tx) error {
			var err error
			got, err = tx.SecretsDue(t.Context(), at(tt.minute), tt.limit)
			return err
		})
		var ids []string
		for _, sec := range got {
			ids = append(ids, sec.ID)
		}
		wantEqual(t, tt.name, ids, tt.want)
	}
}

func testCountSecrets(t *testing.T, s store.Store) {
	pending := bareSecret("a3", acctA, regionX, "pending")
	pending.Status = store.StatusPendingDelete
	insertSecrets(t, s,
		bareSecret("a1", acctA, regionX, "one"),
		bareSecret("a2", acctA, regionX, "two"),
		pending,
		bareSecret("a4", acctA, regionY, "one"),
	)
	tests := []struct {
		account, region string
		want            int
	}{
		{acctA, regionX, 3},
		{acctA, regionY, 1},
		{acctB, regionX, 0},
	}
	mustView(t, s, func(tx store.Tx) error {
		for _, tt := range tests {
			got, err := tx.CountSecrets(t.Context(), tt.account, tt.region)
			wantOK(t, "CountSecrets", err)
			wantEqual(t, tt.account+"/"+tt.region, got, tt.want)
		}
		return nil
	})
}

// testSearchFollowsChanges checks that a search finds a secret under its
// name as it is now: after a create, a rename and a delete, in terms long
// enough for a trigram index.
func testSearchFollowsChanges(t *testing.T, s store.Store) {
	search := func(term string) []string {
		t.Helper()
		got, total := list(t, s, store.SecretQuery{Account: acctA, Region: regionX, Search: term})
		wantEqual(t, "total of "+term, total, len(got))
		return got
	}
	sec := bareSecret("s1", acctA, regionX, "alpha-service")
	insertSecrets(t, s, sec, bareSecret("s2", acctA, regionX, "gamma-service"))
	wantEqual(t, "after create", search("alpha"), []string{"alpha-service"})
	wantEqual(t, "both", len(search("-service")), 2)

	sec = getSecret(t, s, "s1")
	sec.Name = "beta-service"
	mustUpdate(t, s, func(tx store.Tx) error { return tx.UpdateSecret(t.Context(), sec) })
	wantEqual(t, "old name after rename", search("alpha"), []string{})
	wantEqual(t, "new name after rename", search("beta-s"), []string{"beta-service"})

	sec.Description = "no new name"
	mustUpdate(t, s, func(tx store.Tx) error { return tx.UpdateSecret(t.Context(), sec) })
	wantEqual(t, "after an update that keeps the name", search("beta-s"), []string{"beta-service"})

	mustUpdate(t, s, func(tx store.Tx) error { return tx.DeleteSecret(t.Context(), "s1") })
	wantEqual(t, "after delete", search("beta"), []string{})
	wantEqual(t, "the other secret", search("-service"), []string{"gamma-service"})

	insertSecrets(t, s, bareSecret("s3", acctA, regionX, "beta-service"))
	wantEqual(t, "the name taken again", search("beta"), []string{"beta-service"})
}
