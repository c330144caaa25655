package sqlite

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

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
	const op = "sqlite.ListSecrets"
	key, ok := sortKeys[q.SortBy]
	if !ok {
		return nil, 0, fault.E(op, fault.Invalid, "unknown sort order")
	}
	from, fromArgs, err := t.candidatesFrom(ctx, q)
	if err != nil {
		return nil, 0, dbError(op, err, "secret")
	}
	total := -1
	if !q.NoTotal {
		where, args := secretFilter(q)
		err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+from+` WHERE `+where,
			append(fromArgs, args...)...).Scan(&total)
		if err != nil {
			return nil, 0, dbError(op, err, "secret")
		}
	}
	page, err := t.listPage(ctx, from, fromArgs, key, q)
	if err != nil {
		return nil, 0, dbError(op, err, "secret")
	}
	return page, total, nil
}

// listPage reads the page of q from from (candidatesFrom), sorted by key. The
// secret that the exact-name-first rule puts first is read on its own,
// by name (store.ExactFirst), so no page sorts the matches.
func (t *tx) listPage(ctx context.Context, from string, fromArgs []any, key string, q store.SecretQuery) ([]*store.Secret, error) {
	if !store.ExactFirst(q) {
		query, args := pageQuery(from, key, q, "")
		return t.querySecrets(ctx, query, append(fromArgs, args...)...)
	}
	query, args := exactQuery(q)
	exact, err := t.querySecrets(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	var named *store.Secret // unique: the name's index is
	if len(exact) > 0 {
		named = exact[0]
	}
	rest, page, more := store.AfterExact(q, named)
	if !more {
		return page, nil
	}
	query, args = pageQuery(from, key, rest, q.Search)
	tail, err := t.querySecrets(ctx, query, append(fromArgs, args...)...)
	return append(page, tail...), err
}

// maxCandidates is the most secrets a listing looks up one by one from an
// index of names (the trigram index, or the name's own for prefixes). A
// term or prefix more names hold than that is common enough that walking
// the listing's order and testing each name finds a page sooner; a
// variable so that tests can lower it.
var maxCandidates = 5000

// candidatesFrom returns the FROM clause of the listing q, and the clause's
// arguments, which come before all others. It is "secrets" unless an index
// of names can list q's candidates and there are at most maxCandidates of
// them; then it joins those secrets, looked up by id, and the listing's
// own filter still tests each one, so both ways return the same secrets.
// Candidates come from the trigram index (migration 0010) for a Search of
// three characters or more without a GLOB wildcard, and from the name's
// index for NamePrefixes, unless the listing is in name order and has one
// prefix: it then reads the prefix's range in order anyway. (SQLite does
// not read several ranges of an index in order: it walks the account.)
func (t *tx) candidatesFrom(ctx context.Context, q store.SecretQuery) (string, []any, error) {
	var query string
	var args []any
	switch {
	case utf8.RuneCountInString(q.Search) >= 3 && !strings.ContainsAny(q.Search, "*?[\x00"):
		query, args = `SELECT secret_id AS c FROM secret_search WHERE name GLOB ?`, []any{"*" + q.Search + "*"}
	case !store.AnyName(q.NamePrefixes) && (q.SortBy != store.SortName || len(q.NamePrefixes) > 1):
		cond, condArgs := prefixRanges(`name`, q.NamePrefixes)
		query = `SELECT id AS c FROM secrets WHERE account = ? AND region = ? AND ` + cond
		args = append([]any{q.Account, q.Region}, condArgs...)
	default:
		return `secrets`, nil, nil
	}
	var n int
	var ids string
	err := t.tx.QueryRowContext(ctx, `SELECT count(*), json_group_array(c) FROM (`+query+` LIMIT ?)`,
		append(args, maxCandidates+1)...).Scan(&n, &ids)
	if err != nil || n > maxCandidates {
		return `secrets`, nil, err
	}
	// CROSS JOIN keeps the candidates the outer loop: the planner would
	// otherwise walk the order's index over the whole account.
	return `(SELECT value AS candidate FROM json_each(?)) CROSS JOIN secrets ON secrets.id = candidate`,
		[]any{ids}, nil
}

// prefixRanges returns the condition that col starts with one of
// prefixes (store.PrefixCondition; BINARY collation compares bytes), and
// its arguments.
func prefixRanges(col string, prefixes []string) (string, []any) {
	var args []any
	cond := store.PrefixCondition(col, prefixes, func(v any) string {
		args = append(args, v)
		return `?`
	})
	return cond, args
}

// exactQuery returns the SELECT of the secret named q.Search, if it matches
// q, and its arguments: one look-up in the name's unique index
// (TestSearchPlans).
func exactQuery(q store.SecretQuery) (string, []any) {
	where, args := secretFilter(q)
	return `SELECT ` + secretCols + ` FROM secrets WHERE ` + where + ` AND name = ?`,
		append(args, q.Search)
}

// pageQuery returns the SELECT of one page of q from from (candidatesFrom),
// sorted by key, without the secret named without unless that is "", and
// its arguments after from's.
func pageQuery(from, key string, q store.SecretQuery, without string) (string, []any) {
	where, args := secretFilter(q)
	if q.After != nil {
		cond, condArgs := afterCursor(key, q.Asc, q.After)
		where += cond
		args = append(args, condArgs...)
	}
	if without != "" {
		where += ` AND name <> ?`
		args = append(args, without)
	}
	limit, offset := q.Limit, max(q.Offset, 0)
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	args = append(args, limit, offset)
	return `SELECT ` + secretCols + ` FROM ` + from + ` WHERE ` + where + secretOrder(key, q.Asc) + ` LIMIT ? OFFSET ?`, args
}

// sortKeys maps each order to the SQL expression it sorts by before Name,
// "" for Name alone. A time key maps NULL (the zero time) to the zero
// time's unix milliseconds, so it sorts first as the zero time does and
// compares like any other value in a keyset condition. Each expression is
// the one indexed by migration 0002: change both or neither.
var sortKeys = map[store.SortKey]string{
	store.SortCreated:  `COALESCE(created_at, -62135596800000)`,
	store.SortChanged:  `COALESCE(updated_at, -62135596800000)`,
	store.SortAccessed: `COALESCE(accessed_at, -62135596800000)`,
	store.SortName:     ``,
}

// afterCursor returns the condition that keeps the secrets strictly after c
// in the order (key, name), and its arguments. SQLite seeks in the order's
// index on the bound "key >= c" (but not on a row-value comparison of an
// expression); the OR then skips the ties up to c.Name.
func afterCursor(key string, asc bool, c *store.Cursor) (string, []any) {
	cmp := `<`
	if asc {
		cmp = `>`
	}
	if key == "" {
		return ` AND name ` + cmp + ` ?`, []any{c.Name}
	}
	// The zero time's UnixMilli is the value its NULL sorts as.
	m := c.Time.UnixMilli()
	return ` AND ` + key + ` ` + cmp + `= ? AND (` + key + ` ` + cmp + ` ? OR name ` + cmp + ` ?)`,
		[]any{m, m, c.Name}
}

// secretFilter returns q's WHERE clause and its arguments, without q.After.
func secretFilter(q store.SecretQuery) (string, []any) {
	var b strings.Builder
	args := []any{q.Account, q.Region}
	b.WriteString(`account = ? AND region = ?`)
	if q.Status != "" {
		b.WriteString(` AND status = ?`)
		args = append(args, string(q.Status))
	}
	if q.NotStatus != "" {
		b.WriteString(` AND status <> ?`)
		args = append(args, string(q.NotStatus))
	}
	if len(q.Types) > 0 {
		b.WriteString(` AND type IN (` + placeholders(len(q.Types)) + `)`)
		for _, typ := range q.Types {
			args = append(args, int64(typ))
		}
	}
	if q.Search != "" {
		// instr is case-sensitive and needs no escaping, unlike LIKE.
		b.WriteString(` AND instr(name, ?) > 0`)
		args = append(args, q.Search)
	}
	if !store.AnyName(q.NamePrefixes) {
		// In another order than the name's, +name keeps the planner off
		// the name's index: it would read a range and sort every name in
		// it, which for a prefix most names share is the whole account
		// (prefixFrom reads a range few names share).
		col := `+name`
		if q.SortBy == store.SortName {
			col = `name`
		}
		cond, condArgs := prefixRanges(col, q.NamePrefixes)
		b.WriteString(` AND ` + cond)
		args = append(args, condArgs...)
	}
	for _, f := range q.Tags {
		b.WriteString(` AND id IN (SELECT secret_id FROM secret_tags WHERE key = ?`)
		args = append(args, f.Key)
		if len(f.Values) > 0 {
			b.WriteString(` AND value IN (` + placeholders(len(f.Values)) + `)`)
			for _, v := range f.Values {
				args = append(args, v)
			}
		}
		b.WriteString(`)`)
	}
	return b.String(), args
}

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

// SecretsDue returns up to limit (all when limit <= 0) secrets pending
// deletion whose DeleteAt is at or before at, in DeleteAt order, ties by id.
// Failures are fault errors.
func (t *tx) SecretsDue(ctx context.Context, at time.Time, limit int) ([]*store.Secret, error) {
	if limit <= 0 {
		limit = -1
	}
	out, err := t.querySecrets(ctx, `SELECT `+secretCols+` FROM secrets
		WHERE status = ? AND delete_at <= ? ORDER BY delete_at, id LIMIT ?`,
		string(store.StatusPendingDelete), millis(at), limit)
	if err != nil {
		return nil, dbError("sqlite.SecretsDue", err, "secret")
	}
	return out, nil
}

// CountSecrets returns how many secrets (any status) an account holds in a
// region. Failures are fault errors.
func (t *tx) CountSecrets(ctx context.Context, account, region string) (int, error) {
	var n int
	err := t.tx.QueryRowContext(ctx,
		`SELECT COUNT(*) FROM secrets WHERE account = ? AND region = ?`, account, region).Scan(&n)
	if err != nil {
		return 0, dbError("sqlite.CountSecrets", err, "secret")
	}
	return n, nil
}

// SecretCursors returns the every-th positions in q's order, computed in
// one walk of the order's index (ROW_NUMBER over it needs no sort).
func (t *tx) SecretCursors(ctx context.Context, q store.SecretQuery, every int) ([]store.Cursor, error) {
	const op = "sqlite.SecretCursors"
	key, ok := sortKeys[q.SortBy]
	if !ok || every <= 0 {
		return nil, fault.E(op, fault.Invalid, "unknown sort order or a spacing that is not positive")
	}
	q.Search, q.After = "", nil // the order without its exact-name-first rule
	where, args := secretFilter(q)
	order := secretOrder(key, q.Asc)
	k := key
	if k == "" {
		k = "0"
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT k, name FROM (SELECT `+k+` AS k, name, ROW_NUMBER() OVER (`+strings.TrimPrefix(order, " ")+`) AS rn
		FROM secrets WHERE `+where+`) WHERE rn % ? = 0 ORDER BY rn`, append(args, every)...)
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
