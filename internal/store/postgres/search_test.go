package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/coffer-secrets/coffer/internal/store"
	"github.com/coffer-secrets/coffer/internal/store/postgres"
)

// searchRows fills account 1 with 20,000 secrets, the scale at which a
// search stops being cheap to answer by reading the account, and gathers
// statistics as autovacuum would.
const searchRows = `
INSERT INTO secrets (id, account, region, name, description, type, key_id, status, delete_at,
	created_at, updated_at, accessed_at, created_by, config, product, resource_id,
	rotation_enabled, rotation_days, rotator, policy, tagged, revision)
SELECT 'id-' || i, '1', 'r', format('app-%s/db-password', lpad(i::text, 5, '0')),
	'', 0, 'k', 'Enabled', NULL, i * 1000, NULL, NULL, '', '', '', '', false, 0, '', '', false, 0
FROM generate_series(1, 20000) AS i;
ANALYZE secrets;
`

// TestSearchPlans checks that a search for a term few names hold reads
// them through the trigram index of migration 0009, for the count and
// the page, and that one every name holds walks the order's index.
func TestSearchPlans(t *testing.T) {
	dsn, plan := planSchema(t, searchRows)
	if indexed, err := MustOpen(t, dsn).SearchIndexed(t.Context()); err != nil || !indexed {
		t.Fatalf("SearchIndexed: %v, %v; want true", indexed, err)
	}
	q := store.SecretQuery{Account: "1", Region: "r", Search: "app-0123", Limit: 20,
		Types: []store.SecretType{store.TypeUserDefined}}
	query, args := postgres.PageQuery(q, q.Search)
	if p := plan(query, args); !strings.Contains(p, "Bitmap Index Scan on secrets_name_trgm") {
		t.Errorf("page of a rare term: plan does not read the trigram index:\n%s", p)
	}
	query, args = postgres.CountQuery(q)
	if p := plan(query, args); !strings.Contains(p, "Bitmap Index Scan on secrets_name_trgm") {
		t.Errorf("count of a rare term: plan does not read the trigram index:\n%s", p)
	}
	q.Search = "/db-"
	query, args = postgres.PageQuery(q, q.Search)
	if p := plan(query, args); !strings.Contains(p, "Index Scan Backward using secrets_created") {
		t.Errorf("page of a common term: plan does not walk the order's index:\n%s", p)
	}
}

// TestSearchWithoutTrigrams opens a store as a role that can neither
// find pg_trgm installed nor install it (a trusted extension needs CREATE
// on the database; the role owns only its schema): the migration goes on
// without the index, and searches scan and give the same answers.
func TestSearchWithoutTrigrams(t *testing.T) {
	ctx := t.Context()
	admin, err := pgx.Connect(ctx, adminDSN())
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { admin.Close(context.Background()) })
	name := "coffer_test_notrgm_" + randomHex(4)
	for _, stmt := range []string{"CREATE ROLE " + name + " LOGIN", "CREATE DATABASE " + name} {
		if _, err := admin.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	t.Cleanup(func() {
		for _, stmt := range []string{"DROP DATABASE " + name + " WITH (FORCE)", "DROP ROLE " + name} {
			if _, err := admin.Exec(context.Background(), stmt); err != nil {
				t.Errorf("%s: %v", stmt, err)
			}
		}
	})
	// The operator gives the role a schema of its own, and nothing else.
	inDB := withParams(adminDSN(), map[string]string{"dbname": name})
	adminDB, err := pgx.Connect(ctx, inDB)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	_, err = adminDB.Exec(ctx, "CREATE SCHEMA coffer AUTHORIZATION "+name)
	adminDB.Close(context.Background())
	if err != nil {
		t.Fatalf("CREATE SCHEMA: %v", err)
	}
	owner := withParams(inDB, map[string]string{"user": name, "search_path": "coffer"})
	db := MustOpen(t, owner)
	conn, err := pgx.Connect(ctx, owner)
	if err != nil {
		t.Fatalf("connect as %s: %v", name, err)
	}
	defer conn.Close(context.Background())
	var indexes int
	err = conn.QueryRow(ctx, `SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'`).Scan(&indexes)
	if err != nil || indexes != 0 {
		t.Fatalf("pg_trgm: %d installed, %v; want none (the role could install it)", indexes, err)
	}
	if indexed, err := db.SearchIndexed(ctx); err != nil || indexed {
		t.Fatalf("SearchIndexed: %v, %v; want false", indexed, err)
	}
	err = db.Update(ctx, func(tx store.Tx) error {
		for i, n := range []string{"app/db-password", "app/api-key", "web/db-password", "db"} {
			err := tx.InsertSecret(ctx, &store.Secret{ID: fmt.Sprint("id-", i), Account: "1", Region: "r",
				Name: n, Status: store.StatusEnabled})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	for term, want := range map[string][]string{
		"db-password": {"app/db-password", "web/db-password"},
		"app/":        {"app/api-key", "app/db-password"},
		"db":          {"app/db-password", "db", "web/db-password"},
		"%":           nil,
	} {
		var got []string
		err := db.View(ctx, func(tx store.Tx) error {
			page, total, err := tx.ListSecrets(ctx, store.SecretQuery{Account: "1", Region: "r", Search: term})
			for _, s := range page {
				got = append(got, s.Name)
			}
			if err == nil && total != len(want) {
				t.Errorf("search %q: total %d, want %d", term, total, len(want))
			}
			return err
		})
		slices.Sort(got)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("search %q: got %q, %v; want %q", term, got, err, want)
		}
	}
}
