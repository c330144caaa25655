package sqlite

import (
	"context"
	"encoding/json"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

const secretCols = `id, account, region, name, description, type, key_id, status,
	delete_at, created_at, updated_at, accessed_at, created_by, config, product,
	resource_id, rotation_enabled, rotation_days, rotation_begin, rotation_next,
	rotation_last, rotator, policy, tagged, replicas, primary_region, revision`

// secretArgs returns the values of secretCols; replicas is the text of
// s.Replicas (store.ReplicasText).
func secretArgs(s *store.Secret, replicas string) []any {
	r := &s.Rotation
	return []any{s.ID, s.Account, s.Region, s.Name, s.Description, int64(s.Type), s.KeyID,
		string(s.Status), millis(s.DeleteAt), millis(s.CreatedAt), millis(s.UpdatedAt),
		millis(s.AccessedAt), s.CreatedBy, s.Config, s.Product, s.ResourceID,
		r.Enabled, r.Days, millis(r.Begin), millis(r.Next), millis(r.Last), r.Rotator,
		s.Policy, s.Tagged, replicas, s.PrimaryRegion, s.Revision}
}

func scanSecret(row scanner) (*store.Secret, error) {
	s := &store.Secret{}
	r := &s.Rotation
	err := row.Scan(&s.ID, &s.Account, &s.Region, &s.Name, &s.Description, &s.Type, &s.KeyID,
		&s.Status, timeCol{&s.DeleteAt}, timeCol{&s.CreatedAt}, timeCol{&s.UpdatedAt},
		timeCol{&s.AccessedAt}, &s.CreatedBy, &s.Config, &s.Product, &s.ResourceID,
		&r.Enabled, &r.Days, timeCol{&r.Begin}, timeCol{&r.Next}, timeCol{&r.Last}, &r.Rotator,
		&s.Policy, &s.Tagged, replicasCol{&s.Replicas}, &s.PrimaryRegion, &s.Revision)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// secretWhere reads one secret and its tags.
func (t *tx) secretWhere(ctx context.Context, op, where string, args ...any) (*store.Secret, error) {
	row := t.tx.QueryRowContext(ctx, `SELECT `+secretCols+` FROM secrets WHERE `+where, args...)
	s, err := scanSecret(row)
	if err != nil {
		return nil, dbError(op, err, "secret")
	}
	if s.Tags, err = t.tags(ctx, s.ID); err != nil {
		return nil, dbError(op, err, "secret")
	}
	return s, nil
}

// Secret returns the secret named name in (account, region); NotFound when
// there is none.
func (t *tx) Secret(ctx context.Context, account, region, name string) (*store.Secret, error) {
	return t.secretWhere(ctx, "sqlite.Secret",
		`account = ? AND region = ? AND name = ?`, account, region, name)
}

// SecretByID returns the secret with the given id; NotFound when there is none.
func (t *tx) SecretByID(ctx context.Context, id string) (*store.Secret, error) {
	return t.secretWhere(ctx, "sqlite.SecretByID", `id = ?`, id)
}

// InsertSecret stores s and its tags; Exists when its id or name is taken,
// Invalid when a replica's SyncedAt is out of range (store.ReplicasText).
func (t *tx) InsertSecret(ctx context.Context, s *store.Secret) error {
	const op = "sqlite.InsertSecret"
	t.touch(s.ID)
	t.touchListed()
	replicas, err := store.ReplicasText(op, s.Replicas)
	if err != nil {
		return err
	}
	args := secretArgs(s, replicas)
	err = t.atomic(ctx, func() error {
		_, err := t.tx.ExecContext(ctx, `INSERT INTO secrets (`+secretCols+`)
			VALUES (`+placeholders(len(args))+`)`, args...)
		if err != nil {
			return err
		}
		return t.insertTags(ctx, s.ID, s.Tags)
	})
	return dbError(op, err, "secret")
}

// UpdateSecret stores s's mutable fields and tags if s.Revision matches the
// stored revision, and increments s.Revision. ID, Account, Region, CreatedAt
// and CreatedBy never change. It returns NotFound when the secret is gone,
// Conflict when the revision is stale, Exists when the new name is taken,
// Invalid when a replica's SyncedAt is out of range (store.ReplicasText).
func (t *tx) UpdateSecret(ctx context.Context, s *store.Secret) error {
	const op = "sqlite.UpdateSecret"
	t.touch(s.ID)
	replicas, err := store.ReplicasText(op, s.Replicas)
	if err != nil {
		return err
	}
	var n int64
	err = t.atomic(ctx, func() error {
		if t.ch != nil {
			// Listings care when the status or type changes (store.Changes.Listed).
			var status string
			var typ int64
			err := t.tx.QueryRowContext(ctx, `SELECT status, type FROM secrets WHERE id = ?`, s.ID).Scan(&status, &typ)
			if err == nil && (status != string(s.Status) || typ != int64(s.Type)) {
				t.touchListed()
			}
		}
		var err error
		if n, err = t.updateSecretRow(ctx, s, replicas); err != nil || n == 0 {
			return err
		}
		if _, err := t.tx.ExecContext(ctx, `DELETE FROM secret_tags WHERE secret_id = ?`, s.ID); err != nil {
			return err
		}
		return t.insertTags(ctx, s.ID, s.Tags)
	})
	return t.revised(ctx, op, s, n, err)
}

// TouchSecret stores s.UpdatedAt and raises the revision (store.Tx).
func (t *tx) TouchSecret(ctx context.Context, s *store.Secret) error {
	const op = "sqlite.TouchSecret"
	t.touchVersions(s.ID)
	n, err := affected(t.tx.ExecContext(ctx, `UPDATE secrets SET updated_at = ?, revision = revision + 1
		WHERE id = ? AND revision = ?`, millis(s.UpdatedAt), s.ID, s.Revision))
	return t.revised(ctx, op, s, n, err)
}

// revised ends a revision-checked update of s that changed n rows: it
// raises s.Revision when one did, and tells Conflict from NotFound when
// none did.
func (t *tx) revised(ctx context.Context, op string, s *store.Secret, n int64, err error) error {
	if err != nil {
		return dbError(op, err, "secret")
	}
	if n == 0 {
		return t.revisionMiss(ctx, op, `SELECT 1 FROM secrets WHERE id = ?`, s.ID, "secret")
	}
	s.Revision++
	return nil
}

func (t *tx) updateSecretRow(ctx context.Context, s *store.Secret, replicas string) (int64, error) {
	r := &s.Rotation
	return affected(t.tx.ExecContext(ctx, `UPDATE secrets SET name = ?, description = ?,
		type = ?, key_id = ?, status = ?, delete_at = ?, updated_at = ?,
		config = ?, product = ?, resource_id = ?, rotation_enabled = ?, rotation_days = ?,
		rotation_begin = ?, rotation_next = ?, rotation_last = ?, rotator = ?,
		policy = ?, tagged = ?, replicas = ?, primary_region = ?, revision = revision + 1
		WHERE id = ? AND revision = ?`,
		s.Name, s.Description, int64(s.Type), s.KeyID, string(s.Status), millis(s.DeleteAt),
		millis(s.UpdatedAt), s.Config, s.Product, s.ResourceID,
		r.Enabled, r.Days, millis(r.Begin), millis(r.Next), millis(r.Last), r.Rotator,
		s.Policy, s.Tagged, replicas, s.PrimaryRegion, s.ID, s.Revision))
}

// SetAccessed raises a secret's AccessedAt to at when at is later, and
// changes nothing else, Revision included. It returns NotFound when the
// secret does not exist; other failures are fault errors.
func (t *tx) SetAccessed(ctx context.Context, id string, at time.Time) error {
	const op = "sqlite.SetAccessed"
	t.touchVersions(id)
	if at.IsZero() {
		// Nothing is earlier than the zero time; only check the secret exists.
		var one int
		err := t.tx.QueryRowContext(ctx, `SELECT 1 FROM secrets WHERE id = ?`, id).Scan(&one)
		return dbError(op, err, "secret")
	}
	// max() of SQLite returns NULL when any argument is NULL: never-read
	// (NULL) counts as earlier than any time.
	m := at.UnixMilli()
	n, err := affected(t.tx.ExecContext(ctx,
		`UPDATE secrets SET accessed_at = max(COALESCE(accessed_at, ?), ?) WHERE id = ?`, m, m, id))
	if err != nil {
		return dbError(op, err, "secret")
	}
	if n == 0 {
		return fault.E(op, fault.NotFound, "secret not found")
	}
	return nil
}

// revisionMiss explains an optimistic update that changed no row: the
// record is gone (NotFound) or was changed since it was read (Conflict).
func (t *tx) revisionMiss(ctx context.Context, op, exists, id, what string) error {
	var one int
	err := t.tx.QueryRowContext(ctx, exists, id).Scan(&one)
	if err != nil {
		return dbError(op, err, what)
	}
	return fault.E(op, fault.Conflict, what+" was changed concurrently")
}

// DeleteSecret removes a secret; its tags, versions and stages go with it
// through ON DELETE CASCADE. NotFound when there is no such secret.
func (t *tx) DeleteSecret(ctx context.Context, id string) error {
	const op = "sqlite.DeleteSecret"
	t.touch(id)
	t.touchListed()
	n, err := affected(t.tx.ExecContext(ctx, `DELETE FROM secrets WHERE id = ?`, id))
	if err != nil {
		return dbError(op, err, "secret")
	}
	if n == 0 {
		return fault.E(op, fault.NotFound, "secret not found")
	}
	return nil
}

// tags returns a secret's tags in their stored order, nil when it has none.
func (t *tx) tags(ctx context.Context, secretID string) ([]store.Tag, error) {
	rows, err := t.tx.QueryContext(ctx,
		`SELECT key, value FROM secret_tags WHERE secret_id = ? ORDER BY position`, secretID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var tags []store.Tag
	for rows.Next() {
		var tag store.Tag
		if err := rows.Scan(&tag.Key, &tag.Value); err != nil {
			return nil, err
		}
		tags = append(tags, tag)
	}
	return tags, rows.Err()
}

func (t *tx) insertTags(ctx context.Context, secretID string, tags []store.Tag) error {
	for i, tag := range tags {
		_, err := t.tx.ExecContext(ctx, `INSERT INTO secret_tags (secret_id, position, key, value)
			VALUES (?, ?, ?, ?)`, secretID, i, tag.Key, tag.Value)
		if err != nil {
			return err
		}
	}
	return nil
}

// withTags loads the tags of each secret read by a list query.
// withTags reads the tags of secrets in one query (a page of a listing
// would otherwise cost a query per secret).
func (t *tx) withTags(ctx context.Context, secrets []*store.Secret) error {
	if len(secrets) == 0 {
		return nil
	}
	byID := make(map[string]*store.Secret, len(secrets))
	ids := make([]string, 0, len(secrets))
	for _, s := range secrets {
		s.Tags = nil
		byID[s.ID] = s
		ids = append(ids, s.ID)
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT secret_id, key, value FROM secret_tags
		WHERE secret_id IN (SELECT value FROM json_each(?)) ORDER BY secret_id, position`, string(list))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var tag store.Tag
		if err := rows.Scan(&id, &tag.Key, &tag.Value); err != nil {
			return err
		}
		if s := byID[id]; s != nil {
			s.Tags = append(s.Tags, tag)
		}
	}
	return rows.Err()
}

// querySecrets runs a SELECT of secretCols and returns the secrets with
// their tags.
func (t *tx) querySecrets(ctx context.Context, query string, args ...any) ([]*store.Secret, error) {
	out, err := t.scanSecrets(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return out, t.withTags(ctx, out)
}

func (t *tx) scanSecrets(ctx context.Context, query string, args ...any) ([]*store.Secret, error) {
	rows, err := t.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
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
