package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// secretCols are the columns a secret is stored in, in secretArgs' order.
const secretCols = `id, account, region, name, description, type, key_id, status,
	delete_at, created_at, updated_at, accessed_at, created_by, config, product,
	resource_id, rotation_enabled, rotation_days, rotation_begin, rotation_next,
	rotation_last, rotator, policy, tagged, replicas, primary_region, revision`

// secretSelect reads a secret of "secrets s" with its tags: one round trip
// for a secret or a page.
const secretSelect = secretProjection + ` FROM secrets s`

// secretProjection selects the columns of a secret s with its tags, in
// position order, aggregated into two arrays.
const secretProjection = `SELECT s.id, s.account, s.region, s.name, s.description, s.type,
	s.key_id, s.status, s.delete_at, s.created_at, s.updated_at, s.accessed_at,
	s.created_by, s.config, s.product, s.resource_id, s.rotation_enabled,
	s.rotation_days, s.rotation_begin, s.rotation_next, s.rotation_last, s.rotator,
	s.policy, s.tagged, s.replicas, s.primary_region, s.revision,
	ARRAY(SELECT key FROM secret_tags WHERE secret_id = s.id ORDER BY position),
	ARRAY(SELECT value FROM secret_tags WHERE secret_id = s.id ORDER BY position)`

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

func scanSecret(row pgx.Row) (*store.Secret, error) {
	s := &store.Secret{}
	r := &s.Rotation
	var keys, values []string
	err := row.Scan(&s.ID, &s.Account, &s.Region, &s.Name, &s.Description, &s.Type, &s.KeyID,
		&s.Status, timeCol{&s.DeleteAt}, timeCol{&s.CreatedAt}, timeCol{&s.UpdatedAt},
		timeCol{&s.AccessedAt}, &s.CreatedBy, &s.Config, &s.Product, &s.ResourceID,
		&r.Enabled, &r.Days, timeCol{&r.Begin}, timeCol{&r.Next}, timeCol{&r.Last}, &r.Rotator,
		&s.Policy, &s.Tagged, replicasCol{&s.Replicas}, &s.PrimaryRegion, &s.Revision, &keys, &values)
	if err != nil {
		return nil, err
	}
	s.Tags = zipTags(keys, values)
	return s, nil
}

func (t *tx) secretWhere(ctx context.Context, op, where string, args ...any) (*store.Secret, error) {
	s, err := scanSecret(t.conn.QueryRow(ctx, secretSelect+` WHERE `+where, args...))
	if err != nil {
		return nil, dbError(op, err, "secret")
	}
	return s, nil
}

// secretByName is the hot read of every call that names a secret.
const secretByName = `s.account = $1 AND s.region = $2 AND s.name = $3`

// Secret returns the secret named name in (account, region); NotFound when
// there is none.
func (t *tx) Secret(ctx context.Context, account, region, name string) (*store.Secret, error) {
	return t.secretWhere(ctx, "postgres.Secret", secretByName, account, region, name)
}

// SecretByID returns the secret with the given id; NotFound when there is none.
func (t *tx) SecretByID(ctx context.Context, id string) (*store.Secret, error) {
	return t.secretWhere(ctx, "postgres.SecretByID", `s.id = $1`, id)
}

// insertTags stores a secret's tags from their arrays, numbered from 0 in
// their order.
const insertTags = `INSERT INTO secret_tags (secret_id, position, key, value)
	SELECT $1, t.n - 1, t.key, t.value
	FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS t (key, value, n)`

// InsertSecret stores s and its tags; Exists when its id or name is taken,
// Invalid when a replica's SyncedAt is out of range (store.ReplicasText).
func (t *tx) InsertSecret(ctx context.Context, s *store.Secret) error {
	const op = "postgres.InsertSecret"
	replicas, err := store.ReplicasText(op, s.Replicas)
	if err != nil {
		return err
	}
	b := savepoint()
	b.Queue(`INSERT INTO secrets (`+secretCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
		$10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)`,
		secretArgs(s, replicas)...)
	if len(s.Tags) > 0 {
		keys, values := tagArrays(s.Tags)
		b.Queue(insertTags, s.ID, keys, values)
	}
	return dbError(op, t.atomic(ctx, b), "secret")
}

// updateSecret stores the mutable fields of a secret whose revision
// matches, and replaces its tags, in one statement: the tag rows move only
// when the update matched. Tags past the new count are deleted and the rest
// upserted by position, so no row is both deleted and inserted by the
// statement. It returns the number of secrets updated, 0 or 1.
const updateSecret = `WITH u AS (
	UPDATE secrets SET name = $3, description = $4, type = $5, key_id = $6, status = $7,
		delete_at = $8, updated_at = $9, config = $10, product = $11, resource_id = $12,
		rotation_enabled = $13, rotation_days = $14, rotation_begin = $15,
		rotation_next = $16, rotation_last = $17, rotator = $18, policy = $19, tagged = $20,
		replicas = $21, primary_region = $22, revision = revision + 1
	WHERE id = $1 AND revision = $2
	RETURNING id
), gone AS (
	DELETE FROM secret_tags
	WHERE secret_id = (SELECT id FROM u) AND position >= cardinality($23::text[])
), put AS (
	INSERT INTO secret_tags (secret_id, position, key, value)
	SELECT u.id, t.n - 1, t.key, t.value
	FROM u, unnest($23::text[], $24::text[]) WITH ORDINALITY AS t (key, value, n)
	ON CONFLICT (secret_id, position) DO UPDATE SET key = excluded.key, value = excluded.value
)
SELECT count(*) FROM u`

// UpdateSecret stores s's mutable fields and tags if s.Revision matches the
// stored revision, and increments s.Revision. ID, Account, Region,
// CreatedAt, CreatedBy and AccessedAt never change. It returns NotFound
// when the secret is gone, Conflict when the revision is stale, Exists when
// the new name is taken, Invalid when a replica's SyncedAt is out of range
// (store.ReplicasText).
func (t *tx) UpdateSecret(ctx context.Context, s *store.Secret) error {
	const op = "postgres.UpdateSecret"
	replicas, err := store.ReplicasText(op, s.Replicas)
	if err != nil {
		return err
	}
	r := &s.Rotation
	keys, values := tagArrays(s.Tags)
	var n int64
	b := savepoint()
	b.Queue(updateSecret, s.ID, s.Revision, s.Name, s.Description, int64(s.Type), s.KeyID,
		string(s.Status), millis(s.DeleteAt), millis(s.UpdatedAt), s.Config, s.Product,
		s.ResourceID, r.Enabled, r.Days, millis(r.Begin), millis(r.Next), millis(r.Last),
		r.Rotator, s.Policy, s.Tagged, replicas, s.PrimaryRegion, keys, values).
		QueryRow(func(row pgx.Row) error { return row.Scan(&n) })
	err = t.atomic(ctx, b) // sets n: run it before reading n
	return t.revised(ctx, op, s, n, err)
}

// TouchSecret stores s.UpdatedAt and raises the revision (store.Tx).
func (t *tx) TouchSecret(ctx context.Context, s *store.Secret) error {
	const op = "postgres.TouchSecret"
	n, err := t.exec(ctx, `UPDATE secrets SET updated_at = $3, revision = revision + 1
		WHERE id = $1 AND revision = $2`, s.ID, s.Revision, millis(s.UpdatedAt))
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
		return t.revisionMiss(ctx, op, `SELECT 1 FROM secrets WHERE id = $1`, "secret", s.ID)
	}
	s.Revision++
	return nil
}

// SetAccessed raises a secret's AccessedAt to at when at is later, and
// changes nothing else, Revision included. It returns NotFound when the
// secret does not exist; other failures are fault errors.
func (t *tx) SetAccessed(ctx context.Context, id string, at time.Time) error {
	const op = "postgres.SetAccessed"
	if at.IsZero() {
		// Nothing is earlier than the zero time; only check the secret exists.
		var one int
		err := t.conn.QueryRow(ctx, `SELECT 1 FROM secrets WHERE id = $1`, id).Scan(&one)
		return dbError(op, err, "secret")
	}
	// GREATEST ignores NULL: never read counts as earlier than any time.
	n, err := t.exec(ctx, `UPDATE secrets SET accessed_at = GREATEST(accessed_at, $2) WHERE id = $1`,
		id, at.UnixMilli())
	return gone(op, n, err, "secret")
}

// revisionMiss explains an optimistic update that changed no row: the
// record is gone (NotFound) or was changed since it was read (Conflict).
// exists selects 1 from the record.
func (t *tx) revisionMiss(ctx context.Context, op, exists, what string, args ...any) error {
	var one int
	if err := t.conn.QueryRow(ctx, exists, args...).Scan(&one); err != nil {
		return dbError(op, err, what)
	}
	return fault.E(op, fault.Conflict, what+" was changed concurrently")
}

// gone returns NotFound when a write changed no row.
func gone(op string, n int64, err error, what string) error {
	if err != nil {
		return dbError(op, err, what)
	}
	if n == 0 {
		return fault.E(op, fault.NotFound, what+" not found")
	}
	return nil
}

// DeleteSecret removes a secret; its tags, versions and stages go with it
// through ON DELETE CASCADE. NotFound when there is no such secret.
func (t *tx) DeleteSecret(ctx context.Context, id string) error {
	n, err := t.exec(ctx, `DELETE FROM secrets WHERE id = $1`, id)
	return gone("postgres.DeleteSecret", n, err, "secret")
}

// querySecrets runs a secretSelect query.
func (t *tx) querySecrets(ctx context.Context, sql string, args ...any) ([]*store.Secret, error) {
	return queryAll(ctx, t, scanSecret, sql, args...)
}
