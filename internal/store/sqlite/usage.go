package sqlite

import (
	"context"
	"database/sql"

	"github.com/coffer-secrets/coffer/internal/store"
)

// AddCalls adds each count to its stored row, creating it first, all or
// none. Failures are fault errors, with nothing added.
func (t *tx) AddCalls(ctx context.Context, counts []store.CallCount) error {
	if len(counts) == 0 {
		return nil
	}
	ctx = t.tx.ctx(ctx) // the statement below runs with this ctx, not through cachedTx
	err := t.atomic(ctx, func() error {
		stmt, err := t.tx.PrepareContext(ctx, `INSERT INTO usage_calls
			(hour, account, region, family, action, result, calls) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (hour, account, region, family, action, result)
			DO UPDATE SET calls = calls + excluded.calls`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, c := range counts {
			_, err := stmt.ExecContext(ctx, millis(c.Hour), c.Account, c.Region, c.Family,
				c.Action, c.Result, c.Calls)
			if err != nil {
				return err
			}
		}
		return nil
	})
	return dbError("sqlite.AddCalls", err, "usage")
}

// SetSecretHours stores each sample, replacing the one of the same hour,
// account and region, all or none. Failures are fault errors.
func (t *tx) SetSecretHours(ctx context.Context, rows []store.SecretHours) error {
	if len(rows) == 0 {
		return nil
	}
	ctx = t.tx.ctx(ctx) // the statement below runs with this ctx, not through cachedTx
	err := t.atomic(ctx, func() error {
		stmt, err := t.tx.PrepareContext(ctx, `INSERT INTO usage_secret_hours
			(hour, account, region, secrets) VALUES (?, ?, ?, ?)
			ON CONFLICT (hour, account, region) DO UPDATE SET secrets = excluded.secrets`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, r := range rows {
			if _, err := stmt.ExecContext(ctx, millis(r.Hour), r.Account, r.Region, r.Secrets); err != nil {
				return err
			}
		}
		return nil
	})
	return dbError("sqlite.SetSecretHours", err, "usage")
}

// usageWhere returns q's conditions on hour and account and their arguments.
func usageWhere(q store.UsageQuery) (string, []any) {
	where, args := ` WHERE 1 = 1`, []any{}
	if q.Account != "" {
		where += ` AND account = ?`
		args = append(args, q.Account)
	}
	if !q.From.IsZero() {
		where += ` AND hour >= ?`
		args = append(args, millis(q.From))
	}
	if !q.To.IsZero() {
		where += ` AND hour < ?`
		args = append(args, millis(q.To))
	}
	return where, args
}

// Calls returns the counts matching q by hour, then account, region,
// family, action and result. Failures are fault errors.
func (t *tx) Calls(ctx context.Context, q store.UsageQuery) ([]store.CallCount, error) {
	const op = "sqlite.Calls"
	where, args := usageWhere(q)
	rows, err := t.tx.QueryContext(ctx, `SELECT hour, account, region, family, action, result, calls
		FROM usage_calls`+where+` ORDER BY hour, account, region, family, action, result`, args...)
	if err != nil {
		return nil, dbError(op, err, "usage")
	}
	defer rows.Close()
	var out []store.CallCount
	for rows.Next() {
		var c store.CallCount
		err := rows.Scan(timeCol{&c.Hour}, &c.Account, &c.Region, &c.Family, &c.Action, &c.Result, &c.Calls)
		if err != nil {
			return nil, dbError(op, err, "usage")
		}
		out = append(out, c)
	}
	return out, dbError(op, rows.Err(), "usage")
}

// SecretHoursIn returns the samples matching q by hour, then account and
// region. Failures are fault errors.
func (t *tx) SecretHoursIn(ctx context.Context, q store.UsageQuery) ([]store.SecretHours, error) {
	where, args := usageWhere(q)
	rows, err := t.tx.QueryContext(ctx, `SELECT hour, account, region, secrets
		FROM usage_secret_hours`+where+` ORDER BY hour, account, region`, args...)
	return scanSecretHours("sqlite.SecretHoursIn", rows, err)
}

// SecretCounts returns how many secrets (any status) each account holds in
// each region, by account then region, with a zero Hour. Failures are
// fault errors.
func (t *tx) SecretCounts(ctx context.Context) ([]store.SecretHours, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT NULL, account, region, COUNT(*)
		FROM secrets GROUP BY account, region ORDER BY account, region`)
	return scanSecretHours("sqlite.SecretCounts", rows, err)
}

func scanSecretHours(op string, rows *sql.Rows, err error) ([]store.SecretHours, error) {
	if err != nil {
		return nil, dbError(op, err, "usage")
	}
	defer rows.Close()
	var out []store.SecretHours
	for rows.Next() {
		var r store.SecretHours
		if err := rows.Scan(timeCol{&r.Hour}, &r.Account, &r.Region, &r.Secrets); err != nil {
			return nil, dbError(op, err, "usage")
		}
		out = append(out, r)
	}
	return out, dbError(op, rows.Err(), "usage")
}
