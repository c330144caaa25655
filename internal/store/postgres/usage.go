package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/coffer-secrets/coffer/internal/store"
)

// AddCalls adds each count to its stored row, creating it first, all or
// none, in one round trip. Failures are fault errors, with nothing added.
func (t *tx) AddCalls(ctx context.Context, counts []store.CallCount) error {
	if len(counts) == 0 {
		return nil
	}
	b := savepoint()
	for _, c := range counts {
		b.Queue(`INSERT INTO usage_calls (hour, account, region, family, action, result, calls)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (hour, account, region, family, action, result)
			DO UPDATE SET calls = usage_calls.calls + excluded.calls`,
			millis(c.Hour), c.Account, c.Region, c.Family, c.Action, c.Result, c.Calls)
	}
	return dbError("postgres.AddCalls", t.atomic(ctx, b), "usage")
}

// SetSecretHours stores each sample, replacing the one of the same hour,
// account and region, all or none. Failures are fault errors.
func (t *tx) SetSecretHours(ctx context.Context, rows []store.SecretHours) error {
	if len(rows) == 0 {
		return nil
	}
	b := savepoint()
	for _, r := range rows {
		b.Queue(`INSERT INTO usage_secret_hours (hour, account, region, secrets) VALUES ($1, $2, $3, $4)
			ON CONFLICT (hour, account, region) DO UPDATE SET secrets = excluded.secrets`,
			millis(r.Hour), r.Account, r.Region, r.Secrets)
	}
	return dbError("postgres.SetSecretHours", t.atomic(ctx, b), "usage")
}

// usageWhere returns q's conditions on hour and account and their arguments.
func usageWhere(q store.UsageQuery) (string, []any) {
	var p params
	where := ` WHERE true`
	if q.Account != "" {
		where += ` AND account = ` + p.add(q.Account)
	}
	if !q.From.IsZero() {
		where += ` AND hour >= ` + p.add(millis(q.From))
	}
	if !q.To.IsZero() {
		where += ` AND hour < ` + p.add(millis(q.To))
	}
	return where, p
}

func scanCallCount(row pgx.Row) (store.CallCount, error) {
	var c store.CallCount
	err := row.Scan(timeCol{&c.Hour}, &c.Account, &c.Region, &c.Family, &c.Action, &c.Result, &c.Calls)
	return c, err
}

func scanSecretHours(row pgx.Row) (store.SecretHours, error) {
	var r store.SecretHours
	err := row.Scan(timeCol{&r.Hour}, &r.Account, &r.Region, &r.Secrets)
	return r, err
}

// Calls returns the counts matching q by hour, then account, region,
// family, action and result. Failures are fault errors.
func (t *tx) Calls(ctx context.Context, q store.UsageQuery) ([]store.CallCount, error) {
	where, args := usageWhere(q)
	out, err := queryAll(ctx, t, scanCallCount, `SELECT hour, account, region, family, action, result, calls
		FROM usage_calls`+where+` ORDER BY hour, account, region, family, action, result`, args...)
	return out, dbError("postgres.Calls", err, "usage")
}

// SecretHoursIn returns the samples matching q by hour, then account and
// region. Failures are fault errors.
func (t *tx) SecretHoursIn(ctx context.Context, q store.UsageQuery) ([]store.SecretHours, error) {
	where, args := usageWhere(q)
	out, err := queryAll(ctx, t, scanSecretHours, `SELECT hour, account, region, secrets
		FROM usage_secret_hours`+where+` ORDER BY hour, account, region`, args...)
	return out, dbError("postgres.SecretHoursIn", err, "usage")
}

// SecretCounts returns how many secrets (any status) each account holds in
// each region, by account then region, with a zero Hour. Failures are
// fault errors.
func (t *tx) SecretCounts(ctx context.Context) ([]store.SecretHours, error) {
	out, err := queryAll(ctx, t, scanSecretHours, `SELECT NULL::bigint, account, region, count(*)
		FROM secrets GROUP BY account, region ORDER BY account, region`)
	return out, dbError("postgres.SecretCounts", err, "usage")
}
