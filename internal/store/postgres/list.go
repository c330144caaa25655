package postgres

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// ListSecrets returns one page of the secrets in (q.Account, q.Region) that
// match q, and the number of matches before paging (-1 with q.NoTotal; the
// count ignores q.After). The order is q.SortBy then Name, both descending
// unless q.Asc; with a Search and no After, the secret whose name equals it
// comes first. It returns a fault.Invalid error for an unknown SortBy;
// other failures are fault errors.
func (t *tx) ListSecrets(ctx context.Context, q store.SecretQuery) ([]*store.Secret, int, error) {
	const op = "postgres.ListSecrets"
	key, ok := sortKeys[q.SortBy]
	if !ok {
		return nil, 0, fault.E(op, fault.Invalid, "unknown sort order")
	}
	// The count and the page go in one round trip; the secret that the
	// exact-name-first rule puts first is read on its own, by name, and the
	// rest of the page in a second (store.ExactFirst), so no page sorts
	// the matches.
	total := -1
	var page []*store.Secret
	b := &pgx.Batch{}
	if !q.NoTotal {
		query, args := countQuery(q)
		b.Queue(query, args...).QueryRow(func(row pgx.Row) error { return row.Scan(&total) })
	}
	exactFirst := store.ExactFirst(q)
	query, args := pageQuery(key, q, "")
	if exactFirst {
		query, args = exactQuery(q)
	}
	b.Queue(query, args...).Query(func(rows pgx.Rows) error {
		var err error
		page, err = collectSecrets(rows)
		return err
	})
	if err := t.conn.SendBatch(ctx, b).Close(); err != nil {
		return nil, 0, dbError(op, err, "secret")
	}
	if !exactFirst {
		return page, total, nil
	}
	var named *store.Secret // unique: the name's index is
	if len(page) > 0 {
		named = page[0]
	}
	rest, page, more := store.AfterExact(q, named)
	if more {
		query, args := pageQuery(key, rest, q.Search)
		tail, err := t.querySecrets(ctx, query, args...)
		if err != nil {
			return nil, 0, dbError(op, err, "secret")
		}
		page = append(page, tail...)
	}
	return page, total, nil
}

// countQuery returns the SELECT of the number of secrets q matches, and
// its arguments.
func countQuery(q store.SecretQuery) (string, []any) {
	where, args := secretFilter(q)
	return `SELECT count(*) FROM secrets s WHERE ` + where, args
}

// exactQuery returns the SELECT of the secret named q.Search, if it matches
// q, and its arguments: one look-up in the name's unique index.
func exactQuery(q store.SecretQuery) (string, []any) {
	where, args := secretFilter(q)
	p := params(args)
	return secretSelect + ` WHERE ` + where + ` AND name = ` + p.add(q.Search), p
}

func collectSecrets(rows pgx.Rows) ([]*store.Secret, error) {
	defer rows.Close()
	var out []*store.Secret
	for rows.Next() {
		s, err := scanSecret(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// params numbers the arguments of a query as it is built.
type params []any

// add appends v and returns its placeholder.
func (p *params) add(v any) string {
	*p = append(*p, v)
	return "$" + strconv.Itoa(len(*p))
}

// pageQuery returns the SELECT of one page of q, sorted by key, without
// the secret named without unless that is "", and its arguments.
func pageQuery(key string, q store.SecretQuery, without string) (string, []any) {
	where, args := secretFilter(q)
	p := params(args)
	if q.After != nil {
		where += afterCursor(&p, key, q.Asc, q.After)
	}
	if without != "" {
		where += ` AND name <> ` + p.add(without)
	}
	order := secretOrder(key, q.Asc)
	var limit any // NULL: no limit
	if q.Limit > 0 {
		limit = q.Limit
	}
	// The page is cut before its tags are read: PostgreSQL computes the
	// select list of the rows an OFFSET skips too. The outer ORDER BY
	// restates the order, which a subquery does not promise to keep; it
	// sorts one page.
	page := `(SELECT * FROM secrets WHERE ` + where + order +
		` LIMIT ` + p.add(limit) + ` OFFSET ` + p.add(max(q.Offset, 0)) + `) s`
	return secretProjection + ` FROM ` + page + order, p
}

// sortKeys maps each order to the SQL expression it sorts by before Name,
// "" for Name alone. A time key maps NULL (the zero time) to the zero
// time's unix milliseconds, so it sorts first as the zero time does and
// compares like any other value in a keyset condition. Each expression is
// the one indexed by migration 0001, which TestPlans checks: change both
// or neither.
var sortKeys = map[store.SortKey]string{
	store.SortCreated:  `COALESCE(created_at, -62135596800000)`,
	store.SortChanged:  `COALESCE(updated_at, -62135596800000)`,
	store.SortAccessed: `COALESCE(accessed_at, -62135596800000)`,
	store.SortName:     ``,
}

// afterCursor returns the condition that keeps the secrets strictly after c
// in the order (key, name). A row comparison is one index condition:
// PostgreSQL seeks to the cursor and reads on from there.
func afterCursor(p *params, key string, asc bool, c *store.Cursor) string {
	cmp := ` < `
	if asc {
		cmp = ` > `
	}
	if key == "" {
		return ` AND name` + cmp + p.add(c.Name)
	}
	// The zero time's UnixMilli is the value its NULL sorts as.
	return ` AND (` + key + `, name)` + cmp + `(` + p.add(c.Time.UnixMilli()) + `::bigint, ` + p.add(c.Name) + `)`
}

// secretFilter returns q's WHERE clause over "secrets s" and its arguments,
// without q.After. Lists go as arrays, so the statement's text, which pgx
// prepares once per connection, does not vary with their lengths.
func secretFilter(q store.SecretQuery) (string, []any) {
	var b strings.Builder
	var p params
	b.WriteString(`account = ` + p.add(q.Account) + ` AND region = ` + p.add(q.Region))
	if q.Status != "" {
		b.WriteString(` AND status = ` + p.add(string(q.Status)))
	}
	if q.NotStatus != "" {
		b.WriteString(` AND status <> ` + p.add(string(q.NotStatus)))
	}
	if len(q.Types) > 0 {
		types := make([]int32, len(q.Types))
		for i, typ := range q.Types {
			types[i] = int32(typ)
		}
		b.WriteString(` AND type = ANY(` + p.add(types) + `::integer[])`)
	}
	if q.Search != "" {
		// LIKE, case-sensitive, is what the trigram index of migration
		// 0009 serves (strpos is not); the term's own wildcards are escaped.
		b.WriteString(` AND name LIKE ` + p.add("%"+likeEscaper.Replace(q.Search)+"%"))
	}
	if !store.AnyName(q.NamePrefixes) {
		// Ranges of the name's index: the column's collation, "C",
		// compares bytes.
		b.WriteString(` AND ` + store.PrefixCondition(`name`, q.NamePrefixes, p.add))
	}
	for _, f := range q.Tags {
		b.WriteString(` AND id IN (SELECT secret_id FROM secret_tags WHERE key = ` + p.add(f.Key))
		if len(f.Values) > 0 {
			b.WriteString(` AND value = ANY(` + p.add(f.Values) + `::text[])`)
		}
		b.WriteString(`)`)
	}
	return b.String(), p
}

// likeEscaper escapes LIKE's wildcards and its escape character, the
// backslash, so that a pattern matches them as themselves.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// secretOrder returns the ORDER BY clause of key. Every term has one
// direction, so the order's index serves it read forwards or backwards.
func secretOrder(key string, asc bool) string {
	dir := ` DESC`
	if asc {
		dir = ` ASC`
	}
	order := `name` + dir
	if key != "" {
		order = key + dir + `, ` + order
	}
	return ` ORDER BY ` + order
}

// secretsDue reads the partial index secrets_due in its order. The status
// is a literal, as the index's predicate says it, so the planner can match
// them whatever the parameters.
const secretsDue = secretSelect + ` WHERE status = 'PendingDelete' AND delete_at <= $1
	ORDER BY delete_at, id LIMIT $2`

// SecretsDue returns up to limit (all when limit <= 0) secrets pending
// deletion whose DeleteAt is at or before at, in DeleteAt order, ties by id.
// Failures are fault errors.
func (t *tx) SecretsDue(ctx context.Context, at time.Time, limit int) ([]*store.Secret, error) {
	var lim any // NULL: no limit
	if limit > 0 {
		lim = limit
	}
	out, err := t.querySecrets(ctx, secretsDue, millis(at), lim)
	if err != nil {
		return nil, dbError("postgres.SecretsDue", err, "secret")
	}
	return out, nil
}

// CountSecrets returns how many secrets (any status) an account holds in a
// region. Failures are fault errors.
func (t *tx) CountSecrets(ctx context.Context, account, region string) (int, error) {
	var n int
	err := t.conn.QueryRow(ctx,
		`SELECT count(*) FROM secrets WHERE account = $1 AND region = $2`, account, region).Scan(&n)
	if err != nil {
		return 0, dbError("postgres.CountSecrets", err, "secret")
	}
	return n, nil
}

// SecretCursors returns the every-th positions in q's order, computed in
// one walk of the order's index.
func (t *tx) SecretCursors(ctx context.Context, q store.SecretQuery, every int) ([]store.Cursor, error) {
	const op = "postgres.SecretCursors"
	key, ok := sortKeys[q.SortBy]
	if !ok || every <= 0 {
		return nil, fault.E(op, fault.Invalid, "unknown sort order or a spacing that is not positive")
	}
	q.Search, q.After = "", nil // the order without its exact-name-first rule
	where, args := secretFilter(q)
	p := params(args)
	order := secretOrder(key, q.Asc)
	k := key
	if k == "" {
		k = "0::bigint"
	}
	rows, err := t.conn.Query(ctx, `SELECT k, name FROM (SELECT `+k+` AS k, name, ROW_NUMBER() OVER (`+strings.TrimPrefix(order, " ")+`) AS rn
		FROM secrets WHERE `+where+`) c WHERE rn % `+p.add(int64(every))+` = 0 ORDER BY rn`, p...)
	if err != nil {
		return nil, dbError(op, err, "secret")
	}
	defer rows.Close()
	out, err := store.ScanCursors(rows, key != "")
	if err != nil {
		return nil, dbError(op, err, "secret")
	}
	return out, nil
}

// SearchIndexed reports whether the trigram index that serves name
// searches exists in the store's schema: migration 0009 skips it where
// pg_trgm cannot be installed, and searches then scan.
func (db *DB) SearchIndexed(ctx context.Context) (bool, error) {
	var ok bool
	err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_indexes
		WHERE schemaname = current_schema() AND indexname = 'secrets_name_trgm')`).Scan(&ok)
	if err != nil {
		return false, dbError("postgres.SearchIndexed", err, "")
	}
	return ok, nil
}
