package sqlite

import (
	"context"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

const runCols = `id, account, region, secret_id, secret_name, kind, rotator, version_id,
	step, state, attempts, error, detail, next_at, started_at, updated_at, ended_at`

// runArgs returns the values of runCols but id, in order.
func runArgs(r *store.RotationRun) []any {
	return []any{r.Account, r.Region, r.SecretID, r.SecretName, r.Kind, r.Rotator, r.VersionID,
		r.Step, string(r.State), r.Attempts, r.Error, r.Detail,
		millis(r.NextAt), millis(r.StartedAt), millis(r.UpdatedAt), millis(r.EndedAt)}
}

func scanRun(row scanner) (*store.RotationRun, error) {
	r := &store.RotationRun{}
	err := row.Scan(&r.ID, &r.Account, &r.Region, &r.SecretID, &r.SecretName, &r.Kind, &r.Rotator,
		&r.VersionID, &r.Step, &r.State, &r.Attempts, &r.Error, &r.Detail,
		timeCol{&r.NextAt}, timeCol{&r.StartedAt}, timeCol{&r.UpdatedAt}, timeCol{&r.EndedAt})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// InsertRotationRun stores r under the next value of the rotation_run_id
// counter, whatever r.ID holds, and sets r.ID to it. Failures are fault
// errors.
func (t *tx) InsertRotationRun(ctx context.Context, r *store.RotationRun) error {
	var id int64
	err := t.atomic(ctx, func() error {
		err := t.tx.QueryRowContext(ctx, `UPDATE counters SET value = value + 1
			WHERE name = 'rotation_run_id' RETURNING value`).Scan(&id)
		if err != nil {
			return err
		}
		_, err = t.tx.ExecContext(ctx, `INSERT INTO rotation_runs (`+runCols+`)
			VALUES (`+placeholders(17)+`)`, append([]any{id}, runArgs(r)...)...)
		return err
	})
	if err != nil {
		return dbError("sqlite.InsertRotationRun", err, "rotation run")
	}
	r.ID = id
	return nil
}

// UpdateRotationRun stores every field of r but ID over the run r.ID;
// NotFound when there is none.
func (t *tx) UpdateRotationRun(ctx context.Context, r *store.RotationRun) error {
	const op = "sqlite.UpdateRotationRun"
	n, err := affected(t.tx.ExecContext(ctx, `UPDATE rotation_runs SET account = ?, region = ?,
		secret_id = ?, secret_name = ?, kind = ?, rotator = ?, version_id = ?, step = ?, state = ?,
		attempts = ?, error = ?, detail = ?, next_at = ?, started_at = ?, updated_at = ?, ended_at = ?
		WHERE id = ?`, append(runArgs(r), r.ID)...))
	if err != nil {
		return dbError(op, err, "rotation run")
	}
	if n == 0 {
		return fault.E(op, fault.NotFound, "rotation run not found")
	}
	return nil
}

// RotationRun returns the run with flow id id; NotFound when there is none.
func (t *tx) RotationRun(ctx context.Context, id int64) (*store.RotationRun, error) {
	r, err := scanRun(t.tx.QueryRowContext(ctx, `SELECT `+runCols+` FROM rotation_runs WHERE id = ?`, id))
	if err != nil {
		return nil, dbError("sqlite.RotationRun", err, "rotation run")
	}
	return r, nil
}

// runsOfSecret is RotationRuns' statement: it walks rotation_runs_secret.
const runsOfSecret = `SELECT ` + runCols + ` FROM rotation_runs
	WHERE secret_id = ? ORDER BY id DESC LIMIT ?`

// RotationRuns returns up to limit (all when limit <= 0) runs of a secret,
// newest first; none when it has none. Failures are fault errors.
func (t *tx) RotationRuns(ctx context.Context, secretID string, limit int) ([]*store.RotationRun, error) {
	out, err := t.queryRuns(ctx, runsOfSecret, secretID, sqlLimit(limit))
	if err != nil {
		return nil, dbError("sqlite.RotationRuns", err, "rotation run")
	}
	return out, nil
}

// RotationRunsDue returns up to limit (all when limit <= 0) Running runs
// whose NextAt is at or before at, a zero NextAt first, by (NextAt, ID).
// Failures are fault errors.
func (t *tx) RotationRunsDue(ctx context.Context, at time.Time, limit int) ([]*store.RotationRun, error) {
	query, args := runsDueQuery(at, limit)
	out, err := t.queryRuns(ctx, query, args...)
	if err != nil {
		return nil, dbError("sqlite.RotationRunsDue", err, "rotation run")
	}
	return out, nil
}

// runsDueQuery is RotationRunsDue's statement: it walks rotation_runs_due,
// whose key expression it repeats word for word.
func runsDueQuery(at time.Time, limit int) (string, []any) {
	return `SELECT ` + runCols + ` FROM rotation_runs
		WHERE state = ? AND COALESCE(next_at, -62135596800000) <= ?
		ORDER BY COALESCE(next_at, -62135596800000), id LIMIT ?`,
		[]any{string(store.RunRunning), at.UnixMilli(), sqlLimit(limit)}
}

// SecretsRotationDue returns up to limit (all when limit <= 0) Enabled
// secrets with rotation enabled whose Rotation.Next is set and at or
// before at, by (Rotation.Next, ID), with their tags. Failures are fault
// errors.
func (t *tx) SecretsRotationDue(ctx context.Context, at time.Time, limit int) ([]*store.Secret, error) {
	query, args := secretsRotationDueQuery(at, limit)
	out, err := t.querySecrets(ctx, query, args...)
	if err != nil {
		return nil, dbError("sqlite.SecretsRotationDue", err, "secret")
	}
	return out, nil
}

// secretsRotationDueQuery is SecretsRotationDue's statement: it walks
// secrets_rotation_due. A NULL rotation_next (no rotation scheduled)
// fails the comparison, so it is never due.
func secretsRotationDueQuery(at time.Time, limit int) (string, []any) {
	return `SELECT ` + secretCols + ` FROM secrets
		WHERE rotation_enabled = 1 AND status = ? AND rotation_next <= ?
		ORDER BY rotation_next, id LIMIT ?`,
		[]any{string(store.StatusEnabled), at.UnixMilli(), sqlLimit(limit)}
}

// sqlLimit is limit as SQLite's LIMIT takes it: -1 for none.
func sqlLimit(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}

func (t *tx) queryRuns(ctx context.Context, query string, args ...any) ([]*store.RotationRun, error) {
	rows, err := t.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*store.RotationRun
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

const databaseCols = `account, region, id, engine, host, port, admin_secret, options,
	description, created_at`

func scanDatabase(row scanner) (*store.Database, error) {
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
	_, err := t.tx.ExecContext(ctx, `INSERT INTO databases (`+databaseCols+`)
		VALUES (`+placeholders(10)+`)`, d.Account, d.Region, d.ID, d.Engine, d.Host, d.Port,
		d.AdminSecret, d.Options, d.Description, millis(d.CreatedAt))
	return dbError("sqlite.InsertDatabase", err, "database")
}

// Database returns the database id of (account, region); NotFound when
// there is none there, even if the id exists elsewhere.
func (t *tx) Database(ctx context.Context, account, region, id string) (*store.Database, error) {
	d, err := scanDatabase(t.tx.QueryRowContext(ctx, `SELECT `+databaseCols+` FROM databases
		WHERE account = ? AND region = ? AND id = ?`, account, region, id))
	if err != nil {
		return nil, dbError("sqlite.Database", err, "database")
	}
	return d, nil
}

// Databases lists the databases of (account, region) by id; none when
// there are none. Failures are fault errors.
func (t *tx) Databases(ctx context.Context, account, region string) ([]*store.Database, error) {
	const op = "sqlite.Databases"
	rows, err := t.tx.QueryContext(ctx, `SELECT `+databaseCols+` FROM databases
		WHERE account = ? AND region = ? ORDER BY id`, account, region)
	if err != nil {
		return nil, dbError(op, err, "database")
	}
	defer rows.Close()
	var out []*store.Database
	for rows.Next() {
		d, err := scanDatabase(rows)
		if err != nil {
			return nil, dbError(op, err, "database")
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError(op, err, "database")
	}
	return out, nil
}

// UpdateDatabase stores every field of d, CreatedAt included, over the
// database (d.Account, d.Region, d.ID); NotFound when there is none.
func (t *tx) UpdateDatabase(ctx context.Context, d *store.Database) error {
	const op = "sqlite.UpdateDatabase"
	n, err := affected(t.tx.ExecContext(ctx, `UPDATE databases SET engine = ?, host = ?, port = ?,
		admin_secret = ?, options = ?, description = ?, created_at = ?
		WHERE account = ? AND region = ? AND id = ?`, d.Engine, d.Host, d.Port, d.AdminSecret,
		d.Options, d.Description, millis(d.CreatedAt), d.Account, d.Region, d.ID))
	if err != nil {
		return dbError(op, err, "database")
	}
	if n == 0 {
		return fault.E(op, fault.NotFound, "database not found")
	}
	return nil
}

// DeleteDatabase removes the database id of (account, region); NotFound
// when there is none.
func (t *tx) DeleteDatabase(ctx context.Context, account, region, id string) error {
	const op = "sqlite.DeleteDatabase"
	n, err := affected(t.tx.ExecContext(ctx, `DELETE FROM databases
		WHERE account = ? AND region = ? AND id = ?`, account, region, id))
	if err != nil {
		return dbError(op, err, "database")
	}
	if n == 0 {
		return fault.E(op, fault.NotFound, "database not found")
	}
	return nil
}
