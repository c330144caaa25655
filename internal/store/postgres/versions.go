package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// versionSelect reads a version of "versions v" with its stage labels,
// sorted, aggregated into an array.
const versionSelect = `SELECT v.secret_id, v.version_id, v.seq, v.is_binary, v.ciphertext,
	v.wrapped_key, v.key_id, v.key_version, v.token, v.created_at,
	ARRAY(SELECT stage FROM version_stages st
		WHERE st.secret_id = v.secret_id AND st.version_id = v.version_id ORDER BY stage)
	FROM versions v`

// versionListSelect is versionSelect without the sealed value.
const versionListSelect = `SELECT v.secret_id, v.version_id, v.seq, v.is_binary, NULL::bytea,
	NULL::bytea, v.key_id, v.key_version, v.token, v.created_at,
	ARRAY(SELECT stage FROM version_stages st
		WHERE st.secret_id = v.secret_id AND st.version_id = v.version_id ORDER BY stage)
	FROM versions v`

func scanVersion(row pgx.Row) (*store.Version, error) {
	v := &store.Version{}
	err := row.Scan(&v.SecretID, &v.ID, &v.Seq, &v.Binary, &v.Ciphertext, &v.WrappedKey,
		&v.KeyID, &v.KeyVersion, &v.Token, timeCol{&v.CreatedAt}, &v.Stages)
	if err != nil {
		return nil, err
	}
	if len(v.Stages) == 0 {
		v.Stages = nil
	}
	return v, nil
}

// insertVersion claims the version's Seq and stores the version, in one
// statement. With $3 = 0 the Seq is the next value of the counter; else it
// is $3, which then bounds every later automatic value.
const insertVersion = `WITH claimed AS (
	UPDATE counters SET value = CASE WHEN $3::bigint = 0 THEN value + 1 ELSE GREATEST(value, $3::bigint) END
	WHERE name = 'version_seq'
	RETURNING CASE WHEN $3::bigint = 0 THEN value ELSE $3::bigint END AS seq
)
INSERT INTO versions (secret_id, version_id, seq, is_binary, ciphertext, wrapped_key,
	key_id, key_version, token, created_at)
SELECT $1, $2, claimed.seq, $4, $5, $6, $7, $8, $9, $10 FROM claimed
RETURNING seq`

// insertStages stores a version's stage labels; a label listed twice is
// still one label.
const insertStages = `INSERT INTO version_stages (secret_id, stage, version_id)
	SELECT DISTINCT $1::text, stage, $2::text FROM unnest($3::text[]) AS stage`

// errStageTaken reports a stage label that another version of the secret
// already carries.
func errStageTaken(op string, err error) error {
	return fault.Wrap(op, fault.Exists, "stage already on another version", err)
}

func isStageTaken(err error) bool {
	return isUnique(err) && pgConstraint(err) == "version_stages_pkey"
}

// InsertVersion stores v and its stages, first setting v.Seq from the
// deployment-wide counter when it is 0. It returns NotFound when the secret
// does not exist, Exists when the version id or the token is taken in the
// secret, or when one of v's stages sits on another version.
func (t *tx) InsertVersion(ctx context.Context, v *store.Version) error {
	const op = "postgres.InsertVersion"
	var seq int64
	b := savepoint()
	b.Queue(insertVersion, v.SecretID, v.ID, v.Seq, v.Binary, blob(v.Ciphertext), blob(v.WrappedKey),
		v.KeyID, v.KeyVersion, v.Token, millis(v.CreatedAt)).
		QueryRow(func(row pgx.Row) error { return row.Scan(&seq) })
	if len(v.Stages) > 0 {
		b.Queue(insertStages, v.SecretID, v.ID, v.Stages)
	}
	err := t.atomic(ctx, b)
	switch {
	case err == nil:
		v.Seq = seq
		return nil
	case isForeignKey(err):
		return fault.Wrap(op, fault.NotFound, "secret not found", err)
	case isStageTaken(err):
		return errStageTaken(op, err)
	}
	return dbError(op, err, "version")
}

// Version returns one version of a secret; NotFound when there is none.
func (t *tx) Version(ctx context.Context, secretID, versionID string) (*store.Version, error) {
	return t.versionWhere(ctx, "postgres.Version",
		`v.secret_id = $1 AND v.version_id = $2`, secretID, versionID)
}

// VersionByToken returns the version of a secret created with token;
// NotFound when there is none, or when token is empty.
func (t *tx) VersionByToken(ctx context.Context, secretID, token string) (*store.Version, error) {
	const op = "postgres.VersionByToken"
	if token == "" {
		return nil, fault.E(op, fault.NotFound, "version not found")
	}
	return t.versionWhere(ctx, op, `v.secret_id = $1 AND v.token = $2 AND v.token <> ''`, secretID, token)
}

// versionByStage finds the version carrying a label with one probe of
// version_stages' key, then one of versions'.
const versionByStage = `v.secret_id = $1 AND v.version_id =
	(SELECT version_id FROM version_stages WHERE secret_id = $1 AND stage = $2)`

// VersionByStage returns the version of a secret that carries stage;
// NotFound when none does.
func (t *tx) VersionByStage(ctx context.Context, secretID, stage string) (*store.Version, error) {
	return t.versionWhere(ctx, "postgres.VersionByStage", versionByStage, secretID, stage)
}

func (t *tx) versionWhere(ctx context.Context, op, where string, args ...any) (*store.Version, error) {
	v, err := scanVersion(t.conn.QueryRow(ctx, versionSelect+` WHERE `+where, args...))
	if err != nil {
		return nil, dbError(op, err, "version")
	}
	return v, nil
}

// Versions returns every version of a secret by Seq, oldest first; none
// (and no error) when the secret has no versions or does not exist.
func (t *tx) Versions(ctx context.Context, secretID string) ([]*store.Version, error) {
	return t.versionsWith(ctx, "postgres.Versions", versionSelect, secretID)
}

// VersionList is Versions without the sealed values.
func (t *tx) VersionList(ctx context.Context, secretID string) ([]*store.Version, error) {
	return t.versionsWith(ctx, "postgres.VersionList", versionListSelect, secretID)
}

// StageHolders returns the versions carrying a stage label (ids and
// labels only) and the secret's version count.
func (t *tx) StageHolders(ctx context.Context, secretID string) ([]*store.Version, int, error) {
	const op = "postgres.StageHolders"
	out, err := queryAll(ctx, t, func(row pgx.Row) (*store.Version, error) {
		v := &store.Version{SecretID: secretID}
		return v, row.Scan(&v.ID, &v.Stages)
	}, `SELECT version_id, array_agg(stage ORDER BY stage) FROM version_stages
		WHERE secret_id = $1 GROUP BY version_id ORDER BY version_id`, secretID)
	if err != nil {
		return nil, 0, dbError(op, err, "version")
	}
	var total int
	if err := t.conn.QueryRow(ctx, `SELECT count(*) FROM versions WHERE secret_id = $1`, secretID).Scan(&total); err != nil {
		return nil, 0, dbError(op, err, "version")
	}
	return out, total, nil
}

// Revisions reads both revisions in one statement outside a transaction
// (store.Revisioner): -1 for a missing row.
func (db *DB) Revisions(ctx context.Context, secretID, account, region, keyID string) (secret, key int64, err error) {
	err = db.pool.QueryRow(ctx, `SELECT coalesce((SELECT revision FROM secrets WHERE id = $1), -1),
		coalesce((SELECT revision FROM keys WHERE id = $2 AND account = $3 AND region = $4), -1)`,
		secretID, keyID, account, region).Scan(&secret, &key)
	if err != nil {
		return 0, 0, dbError("postgres.Revisions", err, "secret")
	}
	return secret, key, nil
}

// versionsWith reads a secret's versions with sel (versionSelect or
// versionListSelect), by Seq.
func (t *tx) versionsWith(ctx context.Context, op, sel, secretID string) ([]*store.Version, error) {
	out, err := queryAll(ctx, t, scanVersion, sel+` WHERE v.secret_id = $1
		ORDER BY v.seq, v.version_id`, secretID)
	if err != nil {
		return nil, dbError(op, err, "version")
	}
	return out, nil
}

// SetStages replaces a version's stage labels. It returns NotFound when the
// version does not exist, Exists when a label sits on another version.
func (t *tx) SetStages(ctx context.Context, secretID, versionID string, stages []string) error {
	const op = "postgres.SetStages"
	var n int64
	b := savepoint()
	// Locks the version's row, and counts it: a missing one is NotFound.
	b.Queue(`SELECT 1 FROM versions WHERE secret_id = $1 AND version_id = $2 FOR UPDATE`,
		secretID, versionID).Exec(rowsAffected(&n))
	return t.replaceStages(ctx, op, b, &n, secretID, versionID, stages)
}

// replaceStages queues, after the statements in b that count the version
// into n, the replacement of its stage labels, and runs b.
func (t *tx) replaceStages(ctx context.Context, op string, b *pgx.Batch, n *int64, secretID, versionID string, stages []string) error {
	b.Queue(`DELETE FROM version_stages WHERE secret_id = $1 AND version_id = $2`, secretID, versionID)
	if len(stages) > 0 {
		// Only onto a version that exists: a missing one is NotFound,
		// whatever its stages.
		b.Queue(insertStages+` WHERE EXISTS (SELECT 1 FROM versions WHERE secret_id = $1 AND version_id = $2)`,
			secretID, versionID, stages)
	}
	err := t.atomic(ctx, b)
	switch {
	case err == nil && *n == 0:
		return fault.E(op, fault.NotFound, "version not found")
	case isStageTaken(err):
		return errStageTaken(op, err)
	}
	return dbError(op, err, "version")
}

// UpdateVersion replaces a version's stages and its sealed value (Binary,
// Ciphertext, WrappedKey, KeyID, KeyVersion). It returns NotFound when the
// version does not exist, Exists when a new stage sits on another version:
// to move a label, first update the version that loses it.
func (t *tx) UpdateVersion(ctx context.Context, v *store.Version) error {
	const op = "postgres.UpdateVersion"
	var n int64
	b := savepoint()
	b.Queue(`UPDATE versions SET is_binary = $3, ciphertext = $4, wrapped_key = $5, key_id = $6,
		key_version = $7 WHERE secret_id = $1 AND version_id = $2`,
		v.SecretID, v.ID, v.Binary, blob(v.Ciphertext), blob(v.WrappedKey), v.KeyID, v.KeyVersion).
		Exec(rowsAffected(&n))
	return t.replaceStages(ctx, op, b, &n, v.SecretID, v.ID, v.Stages)
}

// DeleteVersion removes one version and its stages; NotFound when there is
// no such version.
func (t *tx) DeleteVersion(ctx context.Context, secretID, versionID string) error {
	n, err := t.exec(ctx, `DELETE FROM versions WHERE secret_id = $1 AND version_id = $2`,
		secretID, versionID)
	return gone("postgres.DeleteVersion", n, err, "version")
}

// VersionsByKey returns up to limit (all when limit <= 0) versions whose
// data key CMK keyID wrapped at a version below belowVersion, with their
// stages, in (SecretID, ID) order strictly after (afterSecret,
// afterVersion); "", "" starts at the beginning. Failures are fault errors.
func (t *tx) VersionsByKey(ctx context.Context, keyID string, belowVersion int, afterSecret, afterVersion string, limit int) ([]*store.Version, error) {
	out, err := queryAll(ctx, t, scanVersion, versionSelect+`
		WHERE v.key_id = $1 AND v.key_version < $2 AND (v.secret_id, v.version_id) > ($3, $4)
		ORDER BY v.secret_id, v.version_id LIMIT $5`,
		keyID, belowVersion, afterSecret, afterVersion, limitArg(limit))
	return out, dbError("postgres.VersionsByKey", err, "version")
}

// RewrapVersion replaces only a version's wrapped data key and CMK version,
// if the stored CMK version is still fromKeyVersion. Stages and value are
// untouched, so it never undoes a concurrent stage move. It returns
// NotFound when the version is gone, Conflict when it was re-wrapped or
// resealed since it was read.
func (t *tx) RewrapVersion(ctx context.Context, v *store.Version, fromKeyVersion int) error {
	const op = "postgres.RewrapVersion"
	n, err := t.exec(ctx, `UPDATE versions SET wrapped_key = $3, key_version = $4
		WHERE secret_id = $1 AND version_id = $2 AND key_version = $5`,
		v.SecretID, v.ID, blob(v.WrappedKey), v.KeyVersion, fromKeyVersion)
	if err != nil {
		return dbError(op, err, "version")
	}
	if n == 0 {
		return t.revisionMiss(ctx, op, `SELECT 1 FROM versions WHERE secret_id = $1 AND version_id = $2`,
			"version", v.SecretID, v.ID)
	}
	return nil
}

// CountVersionsByKey counts the versions whose data key CMK keyID wraps,
// and those wrapped at a version below belowVersion. Failures are fault
// errors.
func (t *tx) CountVersionsByKey(ctx context.Context, keyID string, belowVersion int) (total, below int, err error) {
	err = t.conn.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE key_version < $2)
		FROM versions WHERE key_id = $1`, keyID, belowVersion).Scan(&total, &below)
	if err != nil {
		return 0, 0, dbError("postgres.CountVersionsByKey", err, "version")
	}
	return total, below, nil
}
