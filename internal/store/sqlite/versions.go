package sqlite

import (
	"context"
	"slices"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

const versionCols = `secret_id, version_id, seq, is_binary, ciphertext, wrapped_key,
	key_id, key_version, token, created_at`

// versionListCols reads a version as versionCols does, without its sealed value.
const versionListCols = `secret_id, version_id, seq, is_binary, NULL, NULL,
	key_id, key_version, token, created_at`

func scanVersion(row scanner) (*store.Version, error) {
	v := &store.Version{}
	err := row.Scan(&v.SecretID, &v.ID, &v.Seq, &v.Binary, &v.Ciphertext, &v.WrappedKey,
		&v.KeyID, &v.KeyVersion, &v.Token, timeCol{&v.CreatedAt})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// errStageTaken reports a stage label that another version of the secret
// already carries.
func errStageTaken(op string, err error) error {
	return fault.Wrap(op, fault.Exists, "stage already on another version", err)
}

// InsertVersion stores v and its stages, first setting v.Seq from the
// deployment-wide counter when it is 0. It returns NotFound when the secret
// does not exist, Exists when the version id or the token is taken in the
// secret, or when one of v's stages sits on another version.
func (t *tx) InsertVersion(ctx context.Context, v *store.Version) error {
	const op = "sqlite.InsertVersion"
	t.touchVersions(v.SecretID)
	seq := v.Seq
	var stageErr error
	err := t.atomic(ctx, func() error {
		var err error
		if seq, err = t.claimSeq(ctx, v.Seq); err != nil {
			return err
		}
		_, err = t.tx.ExecContext(ctx, `INSERT INTO versions (`+versionCols+`)
			VALUES (`+placeholders(10)+`)`,
			v.SecretID, v.ID, seq, v.Binary, blob(v.Ciphertext), blob(v.WrappedKey),
			v.KeyID, v.KeyVersion, v.Token, millis(v.CreatedAt))
		if err != nil {
			return err
		}
		stageErr = t.insertStages(ctx, v.SecretID, v.ID, v.Stages)
		return stageErr
	})
	switch {
	case err == nil:
		v.Seq = seq
		return nil
	case isForeignKey(err):
		return fault.Wrap(op, fault.NotFound, "secret not found", err)
	case stageErr != nil && isUnique(stageErr):
		return errStageTaken(op, err)
	}
	return dbError(op, err, "version")
}

// claimSeq returns the Seq of a new version: the next value of the counter
// when seq is 0, else seq, which then bounds every later automatic value.
func (t *tx) claimSeq(ctx context.Context, seq int64) (int64, error) {
	if seq != 0 {
		_, err := t.tx.ExecContext(ctx,
			`UPDATE counters SET value = max(value, ?) WHERE name = 'version_seq'`, seq)
		return seq, err
	}
	err := t.tx.QueryRowContext(ctx, `UPDATE counters SET value = value + 1
		WHERE name = 'version_seq' RETURNING value`).Scan(&seq)
	return seq, err
}

func (t *tx) insertStages(ctx context.Context, secretID, versionID string, stages []string) error {
	for i, stage := range stages {
		if slices.Contains(stages[:i], stage) {
			continue // a label listed twice is still one label
		}
		_, err := t.tx.ExecContext(ctx, `INSERT INTO version_stages (secret_id, stage, version_id)
			VALUES (?, ?, ?)`, secretID, stage, versionID)
		if err != nil {
			return err
		}
	}
	return nil
}

// Version returns one version of a secret; NotFound when there is none.
func (t *tx) Version(ctx context.Context, secretID, versionID string) (*store.Version, error) {
	return t.versionWhere(ctx, "sqlite.Version",
		`secret_id = ? AND version_id = ?`, secretID, versionID)
}

// VersionByToken returns the version of a secret created with token;
// NotFound when there is none, or when token is empty.
func (t *tx) VersionByToken(ctx context.Context, secretID, token string) (*store.Version, error) {
	const op = "sqlite.VersionByToken"
	if token == "" {
		return nil, fault.E(op, fault.NotFound, "version not found")
	}
	return t.versionWhere(ctx, op, `secret_id = ? AND token = ? AND token <> ''`, secretID, token)
}

// VersionByStage returns the version of a secret that carries stage;
// NotFound when none does.
func (t *tx) VersionByStage(ctx context.Context, secretID, stage string) (*store.Version, error) {
	return t.versionWhere(ctx, "sqlite.VersionByStage", `secret_id = ? AND version_id =
		(SELECT version_id FROM version_stages WHERE secret_id = ? AND stage = ?)`, secretID, secretID, stage)
}

func (t *tx) versionWhere(ctx context.Context, op, where string, args ...any) (*store.Version, error) {
	row := t.tx.QueryRowContext(ctx, `SELECT `+versionCols+` FROM versions WHERE `+where, args...)
	v, err := scanVersion(row)
	if err != nil {
		return nil, dbError(op, err, "version")
	}
	stages, err := t.stages(ctx, `secret_id = ? AND version_id = ?`, v.SecretID, v.ID)
	if err != nil {
		return nil, dbError(op, err, "version")
	}
	v.Stages = stages[v.ID]
	return v, nil
}

// Versions returns every version of a secret by Seq, oldest first; none
// (and no error) when the secret has no versions or does not exist.
func (t *tx) Versions(ctx context.Context, secretID string) ([]*store.Version, error) {
	return t.versionsWith(ctx, "sqlite.Versions", versionCols, secretID)
}

// VersionList is Versions without the sealed values.
func (t *tx) VersionList(ctx context.Context, secretID string) ([]*store.Version, error) {
	return t.versionsWith(ctx, "sqlite.VersionList", versionListCols, secretID)
}

// stageHoldersQuery reads a secret's labels, grouped by version, each row
// with the secret's version count: one statement that reads the label
// index alone where VersionList takes two and reads every version.
const stageHoldersQuery = `SELECT version_id, stage, (SELECT count(*) FROM versions WHERE secret_id = ?1)
	FROM version_stages WHERE secret_id = ?1 ORDER BY version_id, stage`

// StageHolders returns the versions carrying a stage label (ids and
// labels only) and the secret's version count.
func (t *tx) StageHolders(ctx context.Context, secretID string) ([]*store.Version, int, error) {
	const op = "sqlite.StageHolders"
	out, total, err := t.stageHolders(ctx, secretID)
	if err == nil && len(out) == 0 {
		// No label, so no row to carry the count.
		err = t.tx.QueryRowContext(ctx, `SELECT count(*) FROM versions WHERE secret_id = ?`, secretID).Scan(&total)
	}
	if err != nil {
		return nil, 0, dbError(op, err, "version")
	}
	return out, total, nil
}

// revisionsQuery reads a secret's and a CMK's revisions, NULL for a
// missing row, in one statement.
const revisionsQuery = `SELECT coalesce((SELECT revision FROM secrets WHERE id = ?1), -1),
	coalesce((SELECT revision FROM keys WHERE id = ?2 AND account = ?3 AND region = ?4), -1)`

// Revisions reads both revisions in one statement of a read transaction
// (store.Revisioner): -1 for a missing row.
func (db *DB) Revisions(ctx context.Context, secretID, account, region, keyID string) (secret, key int64, err error) {
	err = db.View(ctx, func(stx store.Tx) error {
		return stx.(*tx).tx.QueryRowContext(ctx, revisionsQuery, secretID, keyID, account, region).Scan(&secret, &key)
	})
	if err != nil {
		return 0, 0, dbError("sqlite.Revisions", err, "secret")
	}
	return secret, key, nil
}

func (t *tx) stageHolders(ctx context.Context, secretID string) ([]*store.Version, int, error) {
	rows, err := t.tx.QueryContext(ctx, stageHoldersQuery, secretID)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []*store.Version
	var total int
	for rows.Next() {
		var id, stage string
		if err := rows.Scan(&id, &stage, &total); err != nil {
			return nil, 0, err
		}
		if n := len(out); n > 0 && out[n-1].ID == id {
			out[n-1].Stages = append(out[n-1].Stages, stage)
			continue
		}
		out = append(out, &store.Version{SecretID: secretID, ID: id, Stages: []string{stage}})
	}
	return out, total, rows.Err()
}

// versionsWith reads a secret's versions, columns cols, with their stages.
func (t *tx) versionsWith(ctx context.Context, op, cols, secretID string) ([]*store.Version, error) {
	out, err := t.scanVersionsCols(ctx, cols, secretID)
	if err != nil {
		return nil, dbError(op, err, "version")
	}
	stages, err := t.stages(ctx, `secret_id = ?`, secretID)
	if err != nil {
		return nil, dbError(op, err, "version")
	}
	for _, v := range out {
		v.Stages = stages[v.ID]
	}
	return out, nil
}

// SetStages replaces a version's stage labels. It returns NotFound when the
// version does not exist, Exists when a label sits on another version.
// Clearing a version's labels is one statement; setting them is a delete
// and an insert a label, whose foreign key to the version finds a missing
// version.
func (t *tx) SetStages(ctx context.Context, secretID, versionID string, stages []string) error {
	const op = "sqlite.SetStages"
	t.touchVersions(secretID)
	const clearStages = `DELETE FROM version_stages WHERE secret_id = ? AND version_id = ?`
	if len(stages) == 0 {
		n, err := affected(t.tx.ExecContext(ctx, clearStages, secretID, versionID))
		if err == nil && n == 0 {
			// No label was there: the version may be missing.
			var one int
			err = t.tx.QueryRowContext(ctx, `SELECT 1 FROM versions WHERE secret_id = ? AND version_id = ?`,
				secretID, versionID).Scan(&one)
		}
		return dbError(op, err, "version")
	}
	var stageErr error
	err := t.atomic(ctx, func() error {
		if _, err := t.tx.ExecContext(ctx, clearStages, secretID, versionID); err != nil {
			return err
		}
		stageErr = t.insertStages(ctx, secretID, versionID, stages)
		return stageErr
	})
	switch {
	case stageErr != nil && isForeignKey(stageErr):
		return fault.Wrap(op, fault.NotFound, "version not found", err)
	case stageErr != nil && isUnique(stageErr):
		return errStageTaken(op, err)
	}
	return dbError(op, err, "version")
}

// versionsQuery reads columns cols of one secret's versions (the argument),
// in seq order. For versionListCols the index versions_list holds every
// column (TestVersionListPlan).
func versionsQuery(cols string) string {
	return `SELECT ` + cols + ` FROM versions WHERE secret_id = ? ORDER BY seq, version_id`
}

func (t *tx) scanVersionsCols(ctx context.Context, cols, secretID string) ([]*store.Version, error) {
	rows, err := t.tx.QueryContext(ctx, versionsQuery(cols), secretID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*store.Version
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// stages returns the stage labels of the versions that match where, by
// version id, each version's labels sorted.
func (t *tx) stages(ctx context.Context, where string, args ...any) (map[string][]string, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT version_id, stage FROM version_stages
		WHERE `+where+` ORDER BY stage`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var id, stage string
		if err := rows.Scan(&id, &stage); err != nil {
			return nil, err
		}
		out[id] = append(out[id], stage)
	}
	return out, rows.Err()
}

// UpdateVersion replaces a version's stages and its sealed value
// (Binary, Ciphertext, WrappedKey, KeyID, KeyVersion). It returns NotFound when the
// version does not exist, Exists when a new stage sits on another version:
// to move a label, first update the version that loses it.
func (t *tx) UpdateVersion(ctx context.Context, v *store.Version) error {
	const op = "sqlite.UpdateVersion"
	t.touchVersions(v.SecretID)
	var n int64
	var stageErr error
	err := t.atomic(ctx, func() error {
		var err error
		n, err = affected(t.tx.ExecContext(ctx, `UPDATE versions SET is_binary = ?, ciphertext = ?,
			wrapped_key = ?, key_id = ?, key_version = ? WHERE secret_id = ? AND version_id = ?`,
			v.Binary, blob(v.Ciphertext), blob(v.WrappedKey), v.KeyID, v.KeyVersion, v.SecretID, v.ID))
		if err != nil || n == 0 {
			return err
		}
		_, err = t.tx.ExecContext(ctx,
			`DELETE FROM version_stages WHERE secret_id = ? AND version_id = ?`, v.SecretID, v.ID)
		if err != nil {
			return err
		}
		stageErr = t.insertStages(ctx, v.SecretID, v.ID, v.Stages)
		return stageErr
	})
	switch {
	case stageErr != nil && isUnique(stageErr):
		return errStageTaken(op, err)
	case err != nil:
		return dbError(op, err, "version")
	case n == 0:
		return fault.E(op, fault.NotFound, "version not found")
	}
	return nil
}

// DeleteVersion removes one version and its stages; NotFound when there is
// no such version.
func (t *tx) DeleteVersion(ctx context.Context, secretID, versionID string) error {
	const op = "sqlite.DeleteVersion"
	t.touchVersions(secretID)
	n, err := affected(t.tx.ExecContext(ctx,
		`DELETE FROM versions WHERE secret_id = ? AND version_id = ?`, secretID, versionID))
	if err != nil {
		return dbError(op, err, "version")
	}
	if n == 0 {
		return fault.E(op, fault.NotFound, "version not found")
	}
	return nil
}

// VersionsByKey returns up to limit versions wrapped by keyID below
// belowVersion, after (afterSecret, afterVersion) in (secret_id,
// version_id) order, with their stages.
func (t *tx) VersionsByKey(ctx context.Context, keyID string, belowVersion int, afterSecret, afterVersion string, limit int) ([]*store.Version, error) {
	const op = "sqlite.VersionsByKey"
	rows, err := t.tx.QueryContext(ctx, `SELECT `+versionCols+` FROM versions
		WHERE key_id = ? AND key_version < ? AND (secret_id, version_id) > (?, ?)
		ORDER BY secret_id, version_id LIMIT ?`, keyID, belowVersion, afterSecret, afterVersion, limit)
	if err != nil {
		return nil, dbError(op, err, "version")
	}
	var out []*store.Version
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			rows.Close()
			return nil, dbError(op, err, "version")
		}
		out = append(out, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, dbError(op, err, "version")
	}
	for _, v := range out {
		stages, err := t.stages(ctx, `secret_id = ? AND version_id = ?`, v.SecretID, v.ID)
		if err != nil {
			return nil, dbError(op, err, "version")
		}
		v.Stages = stages[v.ID]
	}
	return out, nil
}

// CountVersionsByKey counts the versions keyID wraps, and those below belowVersion.
func (t *tx) CountVersionsByKey(ctx context.Context, keyID string, belowVersion int) (int, int, error) {
	var total, below int
	err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(key_version < ?), 0) FROM versions WHERE key_id = ?`,
		belowVersion, keyID).Scan(&total, &below)
	if err != nil {
		return 0, 0, dbError("sqlite.CountVersionsByKey", err, "version")
	}
	return total, below, nil
}

// RewrapVersion replaces a version's wrapped key if its CMK version is
// still fromKeyVersion.
func (t *tx) RewrapVersion(ctx context.Context, v *store.Version, fromKeyVersion int) error {
	const op = "sqlite.RewrapVersion"
	t.touchVersions(v.SecretID)
	n, err := affected(t.tx.ExecContext(ctx, `UPDATE versions SET wrapped_key = ?, key_version = ?
		WHERE secret_id = ? AND version_id = ? AND key_version = ?`,
		blob(v.WrappedKey), v.KeyVersion, v.SecretID, v.ID, fromKeyVersion))
	if err != nil {
		return dbError(op, err, "version")
	}
	if n == 0 {
		var one int
		err := t.tx.QueryRowContext(ctx, `SELECT 1 FROM versions WHERE secret_id = ? AND version_id = ?`, v.SecretID, v.ID).Scan(&one)
		if err != nil {
			return dbError(op, err, "version")
		}
		return fault.E(op, fault.Conflict, "the version was re-wrapped or resealed meanwhile")
	}
	return nil
}
