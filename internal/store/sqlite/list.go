package sqlite

import (
	"context"
	"strings"
	"time"

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
	total := -1
	if !q.NoTotal {
		where, args := secretFilter(q)
		err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM secrets WHERE `+where, args...).Scan(&total)
		if err != nil {
			return nil, 0, dbError(op, err, "secret")
		}
	}
	query, args := pageQuery(key, q)
	page, err := t.querySecrets(ctx, query, args...)
	if err != nil {
		return nil, 0, dbError(op, err, "secret")
	}
	return page, total, nil
}

// pageQuery returns the SELECT of one page of q, sorted by key, and its
// arguments.
func pageQuery(key string, q store.SecretQuery) (string, []any) {
	where, args := secretFilter(q)
	if q.After != nil {
		cond, condArgs := afterCursor(key, q.Asc, q.After)
		where += cond
		args = append(args, condArgs...)
	}
	order, orderArgs := secretOrder(key, q)
	limit, offset := q.Limit, max(q.Offset, 0)
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	args = append(append(args, orderArgs...), limit, offset)
	return `SELECT ` + secretCols + ` FROM secrets WHERE ` + where + order + ` LIMIT ? OFFSET ?`, args
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

// secretOrder returns the ORDER BY clause of key and q, and its arguments.
// Every term has one direction, so the order's index serves it read
// forwards or backwards. The exact-name-first rule of Search applies only
// without After: a keyset position means nothing in an order that puts one
// secret out of place, and it would cost a sort step.
func secretOrder(key string, q store.SecretQuery) (string, []any) {
	dir := ` DESC`
	if q.Asc {
		dir = ` ASC`
	}
	order := `name` + dir
	if key != "" {
		order = key + dir + `, ` + order
	}
	if q.Search == "" || q.After != nil {
		return ` ORDER BY ` + order, nil
	}
	return ` ORDER BY (name = ?) DESC, ` + order, []any{q.Search}
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
	order, _ := secretOrder(key, q)
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
