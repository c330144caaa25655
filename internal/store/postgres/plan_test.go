package postgres_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coffer-secrets/coffer/internal/store"
	"github.com/coffer-secrets/coffer/internal/store/postgres"
)

// planRows fills a schema with enough secrets, versions and audit events,
// spread over accounts, regions, resources and actions, for the planner to
// tell the indexes apart, and gathers statistics as autovacuum would.
const planRows = `
INSERT INTO secrets (id, account, region, name, description, type, key_id, status, delete_at,
	created_at, updated_at, accessed_at, created_by, config, product, resource_id,
	rotation_enabled, rotation_days, rotator, policy, tagged, revision)
SELECT 'id-' || i, (i % 3)::text, CASE WHEN i % 2 = 0 THEN 'r' ELSE 's' END, format('secret-%s', i),
	'', 0, 'k', CASE WHEN i % 50 = 0 THEN 'PendingDelete' ELSE 'Enabled' END,
	CASE WHEN i % 50 = 0 THEN i * 1000 END, i * 1000, i * 1000 + 7,
	CASE WHEN i % 4 = 0 THEN NULL ELSE i * 1000 + 9 END, '', '', '', '', false, 0, '', '', false, 0
FROM generate_series(1, 3000) AS i;
INSERT INTO secret_tags (secret_id, position, key, value)
SELECT id, 0, 'env', CASE WHEN length(id) % 2 = 0 THEN 'prod' ELSE 'test' END FROM secrets;
INSERT INTO versions (secret_id, version_id, seq, is_binary, ciphertext, wrapped_key, key_id, key_version, token, created_at)
SELECT id, 'v' || n, row_number() OVER (), false, '\x00', '\x00', 'k', 1, '', 0
FROM secrets, generate_series(1, 2) AS n;
INSERT INTO version_stages (secret_id, stage, version_id)
SELECT id, CASE WHEN n = 1 THEN 'AWSPREVIOUS' ELSE 'AWSCURRENT' END, 'v' || n FROM secrets, generate_series(1, 2) AS n;
INSERT INTO audit_events (seq, time, account, principal_id, principal_name, principal_kind, session,
	access_key_id, source_ip, user_agent, region, family, action, read_only, resource, version_id,
	request_id, error_code, params, prev_hash, hash)
SELECT i, 1700000000000 + i * 1000, (i % 20)::text, 'p', '', 'user', '', 'AK' || (i % 40), '', '', 'r',
	'ssm', (ARRAY['GetSecretValue', 'PutSecretValue', 'ListSecrets', 'DeleteSecret', 'UpdateSecret'])[i % 5 + 1],
	true, 'res-' || (i % 300), '', 'req-' || i, '', '{}', '\x00', '\x00'
FROM generate_series(1, 20000) AS i;
UPDATE audit_events SET account = 'rare' WHERE seq % 1000 = 7;
ANALYZE secrets; ANALYZE secret_tags; ANALYZE versions; ANALYZE version_stages; ANALYZE audit_events;
`

// rotationPlanRows gives a tenth of planRows' secrets a rotation schedule,
// and a hundred of them a long history of rotation runs, most of them
// ended: RotationRuns pages through a history longer than its limit.
const rotationPlanRows = `
UPDATE secrets SET rotation_enabled = true, rotation_days = 30,
	rotation_next = created_at + 2592000000, rotator = 'random'
WHERE created_at % 10000 = 0;
INSERT INTO rotation_runs (id, account, region, secret_id, secret_name, kind, rotator, version_id,
	step, state, attempts, error, detail, next_at, started_at, updated_at, ended_at)
SELECT i, (i % 3)::text, 'r', 'id-' || (i % 100 + 1), 'secret', 'rotate', 'random', 'v' || i,
	CASE WHEN i % 100 = 0 THEN 'setSecret' ELSE '' END,
	CASE WHEN i % 100 = 0 THEN 'Running' ELSE 'Succeeded' END,
	0, '', '{}', 1700000000000 + i * 1000, 1700000000000 + i * 1000, 1700000000000 + i * 1000,
	CASE WHEN i % 100 = 0 THEN NULL ELSE 1700000000000 + i * 1000 END
FROM generate_series(1, 20000) AS i;
ANALYZE secrets; ANALYZE rotation_runs;
`

// replicationPlanRows gives a tenth of planRows' secrets replicas, and
// another tenth a primary region: ReplicatedSecrets pages through more
// primaries than its limit.
const replicationPlanRows = `
UPDATE secrets SET replicas = '[{"Region":"r2","KeyID":"","Status":"InSync","Message":"","Revision":1,"SyncedAt":"2026-03-01T12:30:45.123Z"}]'
WHERE created_at % 10000 = 5000;
UPDATE secrets SET primary_region = 'r2' WHERE created_at % 10000 = 6000;
ANALYZE secrets;
`

// TestPlans pins the plans of the hot queries to the indexes that serve
// them: the look-ups by key, each listing order read off its index in
// either direction with a keyset seek, and the audit look-ups. It guards the
// expressions the migrations index, which must match list.go's text.
func TestPlans(t *testing.T) {
	_, plan := planSchema(t, planRows+rotationPlanRows+replicationPlanRows)
	explain := func(what, query string, args []any, want string) {
		t.Helper()
		if p := plan(query, args); !regexp.MustCompile(want).MatchString(p) {
			t.Errorf("%s: plan does not match %q:\n%s", what, want, p)
		}
	}
	explain("Secret", postgres.SecretByName, []any{"1", "r", "secret-42"}, `Index Scan using secrets_name on secrets`)
	explain("VersionByStage", postgres.VersionByStage, []any{"id-42", "AWSCURRENT"},
		`(?s)Index Scan using versions_pkey.*Index Scan using version_stages_pkey`)
	explain("SecretsDue", postgres.SecretsDue, []any{int64(3_000_000), 10}, `Index Scan using secrets_due`)
	// The rotation queries read their index in its order: no sort under the limit.
	explain("RotationRunsDue", postgres.RunsDue, []any{int64(1_700_000_600_000), 100},
		`^Limit\n\s+->  Index Scan using rotation_runs_due on rotation_runs`)
	explain("RotationRuns", postgres.RunsOfSecret, []any{"id-42", 20},
		`^Limit\n\s+->  Index Scan using rotation_runs_secret on rotation_runs`)
	explain("SecretsRotationDue", postgres.SecretsRotationDue, []any{int64(2_600_000_000), 100},
		`^Limit\n\s+->  Index Scan using secrets_rotation_due on secrets`)
	// ReplicatedSecrets reads the partial index in id order, from the start
	// or after a cursor: no sort under the limit. A page is a small part of
	// the primaries after the cursor, as it is for a worker at scale; with
	// most of them in one page, fetching them all and sorting is as cheap.
	for _, afterID := range []string{"", "id-1500"} {
		explain("ReplicatedSecrets after \""+afterID+"\"", postgres.ReplicatedSecrets, []any{afterID, 20},
			`^Limit\n\s+->  Index Scan using secrets_replicated on secrets`)
	}
	testPagePlans(t, explain)
	testEventPlans(t, explain)
}

// testPagePlans checks each order, both directions, first page and a page
// after a cursor: the order's index walked forwards or backwards.
func testPagePlans(t *testing.T, explain func(what, query string, args []any, want string)) {
	indexes := map[store.SortKey]string{store.SortCreated: "secrets_created", store.SortChanged: "secrets_updated",
		store.SortAccessed: "secrets_accessed", store.SortName: "secrets_name"}
	for key, index := range indexes {
		for _, asc := range []bool{true, false} {
			scan := `Index Scan Backward using ` + index + ` `
			if asc {
				scan = `Index Scan using ` + index + ` `
			}
			q := store.SecretQuery{Account: "1", Region: "r", SortBy: key, Asc: asc, Limit: 20, NoTotal: true}
			query, args := postgres.PageQuery(q, "")
			explain("first page by "+string(key), query, args, scan)
			q.After = &store.Cursor{Time: time.UnixMilli(3_000_000), Name: "secret-3000"}
			query, args = postgres.PageQuery(q, "")
			explain("page after a cursor by "+string(key), query, args, scan+`(?s).*Index Cond: .*(ROW\(|name [<>] )`)
		}
	}
	// The secret named as a search's term is one look-up by name
	// (TestSearchPlans has the rest of a search).
	q := store.SecretQuery{Account: "1", Region: "r", Search: "secret-42", Limit: 20}
	query, args := postgres.ExactQuery(q)
	explain("the exact match of a search", query, args, `Index Scan using secrets_name on secrets`)
}

// testEventPlans checks each look-up reads an index made for it. The
// planner weighs an index against the primary key in seq order by the
// statistics, so the test looks up what an index serves best: a rare
// account (any index led by account does), a resource, an access key, a
// request id.
func testEventPlans(t *testing.T, explain func(what, query string, args []any, want string)) {
	tests := []struct {
		name  string
		q     store.EventQuery
		index string // a regular expression
	}{
		{"an account, newest first", store.EventQuery{Account: "rare", Desc: true, Limit: 20},
			"audit_events_(account|account_time|resource|action|access_key)"},
		{"a resource", store.EventQuery{Account: "3", Resource: "res-63", Desc: true, Limit: 50}, "audit_events_resource"},
		{"an access key", store.EventQuery{Account: "3", AccessKeyID: "AK3", Desc: true, Limit: 50},
			"audit_events_access_key"},
		{"a request", store.EventQuery{Account: "3", RequestID: "req-63"}, "audit_events_request"},
		{"export", store.EventQuery{AfterSeq: 100, Limit: 1000}, "audit_events_pkey"},
	}
	for _, tt := range tests {
		query, args := postgres.EventQuery(tt.q)
		explain("Events of "+tt.name, query, args, `(using|on) `+tt.index+`\b`)
	}
}

// planSchema migrates a new schema, runs rows in it, and returns the
// schema's DSN and a function that gives the plan of a query there, its
// lines joined.
func planSchema(t *testing.T, rows string) (string, func(query string, args []any) string) {
	t.Helper()
	dsn := freshSchema(t)
	MustOpen(t, dsn)
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(t.Context(), rows); err != nil {
		t.Fatalf("plan rows: %v", err)
	}
	return dsn, func(query string, args []any) string {
		t.Helper()
		rows, err := conn.Query(t.Context(), "EXPLAIN (COSTS OFF) "+query, args...)
		if err != nil {
			t.Fatalf("EXPLAIN: %v", err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("EXPLAIN: %v", err)
		}
		return strings.Join(lines, "\n")
	}
}
