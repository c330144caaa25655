package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coffer-secrets/coffer/internal/store"
)

const runCols = `id, account, region, secret_id, secret_name, kind, rotator, version_id,
	step, state, attempts, error, detail, next_at, started_at, updated_at, ended_at`

// runArgs returns the values of runCols but id, in order: $1 to $16 of
// insertRun and updateRun.
func runArgs(r *store.RotationRun) []any {
	return []any{r.Account, r.Region, r.SecretID, r.SecretName, r.Kind, r.Rotator, r.VersionID,
		r.Step, string(r.State), r.Attempts, r.Error, r.Detail,
		millis(r.NextAt), millis(r.StartedAt), millis(r.UpdatedAt), millis(r.EndedAt)}
}

func scanRun(row pgx.Row) (*store.RotationRun, error) {
	r := &store.RotationRun{}
	err := row.Scan(&r.ID, &r.Account, &r.Region, &r.SecretID, &r.SecretName, &r.Kind, &r.Rotator,
		&r.VersionID, &r.Step, &r.State, &r.Attempts, &r.Error, &r.Detail,
		timeCol{&r.NextAt}, timeCol{&r.StartedAt}, timeCol{&r.UpdatedAt}, timeCol{&r.EndedAt})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// insertRun claims the next flow id and stores the run under it, in one
// statement.
const insertRun = `WITH claimed AS (
	UPDATE counters SET value = value + 1 WHERE name = 'rotation_run_id' RETURNING value
)
INSERT INTO rotation_runs (` + runCols + `)
SELECT claimed.value, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16
FROM claimed
RETURNING id`

// InsertRotationRun stores r under the next value of the rotation_run_id
// counter, whatever r.ID holds, and sets r.ID to it. Failures are fault
// errors.
func (t *tx) InsertRotationRun(ctx context.Context, r *store.RotationRun) error {
	var id int64
	b := savepoint()
	b.Queue(insertRun, runArgs(r)...).QueryRow(func(row pgx.Row) error { return row.Scan(&id) })
	if err := t.atomic(ctx, b); err != nil {
		return dbError("postgres.InsertRotationRun", err, "rotation run")
	}
	r.ID = id
	return nil
}

// UpdateRotationRun stores every field of r but ID over the run r.ID;
// NotFound when there is none.
func (t *tx) UpdateRotationRun(ctx context.Context, r *store.RotationRun) error {
	n, err := t.exec(ctx, `UPDATE rotation_runs SET account = $1, region = $2, secret_id = $3,
		secret_name = $4, kind = $5, rotator = $6, version_id = $7, step = $8, state = $9,
		attempts = $10, error = $11, detail = $12, next_at = $13, started_at = $14,
		updated_at = $15, ended_at = $16
		WHERE id = $17`, append(runArgs(r), r.ID)...)
	return gone("postgres.UpdateRotationRun", n, err, "rotation run")
}

// RotationRun returns the run with flow id id; NotFound when there is none.
func (t *tx) RotationRun(ctx context.Context, id int64) (*store.RotationRun, error) {
	r, err := scanRun(t.conn.QueryRow(ctx, `SELECT `+runCols+` FROM rotation_runs WHERE id = $1`, id))
	if err != nil {
		return nil, dbError("postgres.RotationRun", err, "rotation run")
	}
	return r, nil
}

// runsOfSecret reads rotation_runs_secret in its order.
const runsOfSecret = `SELECT ` + runCols + ` FROM rotation_runs
	WHERE secret_id = $1 ORDER BY id DESC LIMIT $2`

// RotationRuns returns up to limit (all when limit <= 0) runs of a secret,
// newest first; none when it has none. Failures are fault errors.
func (t *tx) RotationRuns(ctx context.Context, secretID string, limit int) ([]*store.RotationRun, error) {
	out, err := queryAll(ctx, t, scanRun, runsOfSecret, secretID, limitArg(limit))
	return out, dbError("postgres.RotationRuns", err, "rotation run")
}

// runsDue reads the partial index rotation_runs_due in its order: the
// state is a literal and the key expression word for word the index's.
const runsDue = `SELECT ` + runCols + ` FROM rotation_runs
	WHERE state = 'Running' AND COALESCE(next_at, -62135596800000) <= $1
	ORDER BY COALESCE(next_at, -62135596800000), id LIMIT $2`

// RotationRunsDue returns up to limit (all when limit <= 0) Running runs
// whose NextAt is at or before at, a zero NextAt first, by (NextAt, ID).
// Failures are fault errors.
func (t *tx) RotationRunsDue(ctx context.Context, at time.Time, limit int) ([]*store.RotationRun, error) {
	out, err := queryAll(ctx, t, scanRun, runsDue, at.UnixMilli(), limitArg(limit))
	return out, dbError("postgres.RotationRunsDue", err, "rotation run")
}

// secretsRotationDue reads the partial index secrets_rotation_due in its
// order; the predicate is literals, as the index says it. A NULL
// rotation_next (no rotation scheduled) fails the comparison.
const secretsRotationDue = secretSelect + ` WHERE s.rotation_enabled AND s.status = 'Enabled'
	AND s.rotation_next <= $1 ORDER BY s.rotation_next, s.id LIMIT $2`

// SecretsRotationDue returns up to limit (all when limit <= 0) Enabled
// secrets with rotation enabled whose Rotation.Next is set and at or
// before at, by (Rotation.Next, ID), with their tags. Failures are fault
// errors.
func (t *tx) SecretsRotationDue(ctx context.Context, at time.Time, limit int) ([]*store.Secret, error) {
	out, err := t.querySecrets(ctx, secretsRotationDue, at.UnixMilli(), limitArg(limit))
	return out, dbError("postgres.SecretsRotationDue", err, "secret")
}

const databaseCols = `account, region, id, engine, host, port, admin_secret, options,
	description, created_at`

func scanDatabase(row pgx.Row) (*store.Database, error) {
	d := &store.Database{}
	err := row.Scan(&d.Account, &d.Region, &d.ID, &d.Engine, &d.Host, &d.Port, &d.AdminSecret,
		&d.Options, &d.Description, timeCol{&d.CreatedAt})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// InsertDatabase stores d; Exists when (account, region, id) is taken.
func (t *tx) InsertDatabase(ctx context.Context, d *store.Database) error {
	_, err := t.exec(ctx, `INSERT INTO databases (`+databaseCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, d.Account, d.Region, d.ID, d.Engine,
		d.Host, d.Port, d.AdminSecret, d.Options, d.Description, millis(d.CreatedAt))
	return dbError("postgres.InsertDatabase", err, "database")
}

// Database returns the database id of (account, region); NotFound when
// there is none there, even if the id exists elsewhere.
func (t *tx) Database(ctx context.Context, account, region, id string) (*store.Database, error) {
	d, err := scanDatabase(t.conn.QueryRow(ctx, `SELECT `+databaseCols+` FROM databases
		WHERE account = $1 AND region = $2 AND id = $3`, account, region, id))
	if err != nil {
		return nil, dbError("postgres.Database", err, "database")
	}
	return d, nil
}

// Databases lists the databases of (account, region) by id; none when
// there are none. Failures are fault errors.
func (t *tx) Databases(ctx context.Context, account, region string) ([]*store.Database, error) {
	out, err := queryAll(ctx, t, scanDatabase, `SELECT `+databaseCols+` FROM databases
		WHERE account = $1 AND region = $2 ORDER BY id`, account, region)
	return out, dbError("postgres.Databases", err, "database")
}

// UpdateDatabase stores every field of d, CreatedAt included, over the
// database (d.Account, d.Region, d.ID); NotFound when there is none.
func (t *tx) UpdateDatabase(ctx context.Context, d *store.Database) error {
	n, err := t.exec(ctx, `UPDATE databases SET engine = $4, host = $5, port = $6,
		admin_secret = $7, options = $8, description = $9, created_at = $10
		WHERE account = $1 AND region = $2 AND id = $3`, d.Account, d.Region, d.ID, d.Engine,
		d.Host, d.Port, d.AdminSecret, d.Options, d.Description, millis(d.CreatedAt))
	return gone("postgres.UpdateDatabase", n, err, "database")
}

// DeleteDatabase removes the database id of (account, region); NotFound
// when there is none.
func (t *tx) DeleteDatabase(ctx context.Context, account, region, id string) error {
	n, err := t.exec(ctx, `DELETE FROM databases WHERE account = $1 AND region = $2 AND id = $3`,
		account, region, id)
	return gone("postgres.DeleteDatabase", n, err, "database")
}
