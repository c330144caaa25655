package sqlite

import (
	"context"
	"strings"
	"time"

	"github.com/coffer-secrets/coffer/internal/store"
)

// ListSecrets returns one page of the secrets in (q.Account, q.Region) that
// match q, and the number of matches before paging. The order is CreatedAt
// then Name, both descending unless q.Asc; with a Search, the secret whose
// name equals it comes first. Failures are fault errors.
func (t *tx) ListSecrets(ctx context.Context, q store.SecretQuery) ([]*store.Secret, int, error) {
	const op = "sqlite.ListSecrets"
	where, args := secretFilter(q)
	var total int
	err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM secrets WHERE `+where, args...).Scan(&total)
	if err != nil {
		return nil, 0, dbError(op, err, "secret")
	}
	order, orderArgs := secretOrder(q)
	limit, offset := q.Limit, max(q.Offset, 0)
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	args = append(append(args, orderArgs...), limit, offset)
	page, err := t.querySecrets(ctx,
		`SELECT `+secretCols+` FROM secrets WHERE `+where+order+` LIMIT ? OFFSET ?`, args...)
	if err != nil {
		return nil, 0, dbError(op, err, "secret")
	}
	return page, total, nil
}

// secretFilter returns q's WHERE clause and its arguments.
func secretFilter(q store.SecretQuery) (string, []any) {
	var b strings.Builder
	args := []any{q.Account, q.Region}
	b.WriteString(`account = ? AND region = ?`)
	if q.Status != "" {
		b.WriteString(` AND status = ?`)
		args = append(args, string(q.Status))
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

// secretOrder returns q's ORDER BY clause and its arguments. Without a
// Search the order follows the secrets_created index in either direction.
func secretOrder(q store.SecretQuery) (string, []any) {
	dir := ` DESC`
	if q.Asc {
		dir = ` ASC`
	}
	order := ` ORDER BY created_at` + dir + `, name` + dir
	if q.Search == "" {
		return order, nil
	}
	return ` ORDER BY (name = ?) DESC, created_at` + dir + `, name` + dir, []any{q.Search}
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
