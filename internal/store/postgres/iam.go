package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// The IAM tables are in migrations/0004_iam.sql. Attachments and
// memberships hold foreign keys to their entities, so attaching to or
// adding what does not exist is NotFound, and deletes cascade.

// kindName names an entity kind in client-safe messages.
func kindName(k store.EntityKind) string {
	switch k {
	case store.EntityUser, store.EntityGroup, store.EntityRole:
		return string(k)
	}
	return "entity"
}

// refError is dbError for a row that points at others: a foreign-key
// failure means one of them, named by parent, is absent.
func refError(op string, err error, what, parent string) error {
	if isForeignKey(err) {
		return fault.Wrap(op, fault.NotFound, parent+" not found", err)
	}
	return dbError(op, err, what)
}

// attrs returns the JSON text to store: "{}" for none, as the store never
// holds nil attributes.
func attrs(b []byte) string {
	if len(b) == 0 {
		return "{}"
	}
	return string(b)
}

const entityCols = `account, kind, id, name, attrs, created_at, updated_at, revision`

func scanEntity(row pgx.Row) (*store.Entity, error) {
	e := &store.Entity{}
	err := row.Scan(&e.Account, &e.Kind, &e.ID, &e.Name, &e.Attrs,
		timeCol{&e.CreatedAt}, timeCol{&e.UpdatedAt}, &e.Revision)
	if err != nil {
		return nil, err
	}
	return e, nil
}

func (t *tx) entityWhere(ctx context.Context, op string, kind store.EntityKind, where string, args ...any) (*store.Entity, error) {
	e, err := scanEntity(t.conn.QueryRow(ctx, `SELECT `+entityCols+` FROM iam_entities WHERE `+where, args...))
	if err != nil {
		return nil, dbError(op, err, kindName(kind))
	}
	return e, nil
}

// Entity returns a user, group or role by id; NotFound when the account
// holds none of that kind with that id.
func (t *tx) Entity(ctx context.Context, account string, kind store.EntityKind, id string) (*store.Entity, error) {
	return t.entityWhere(ctx, "postgres.Entity", kind,
		`account = $1 AND kind = $2 AND id = $3`, account, string(kind), id)
}

// EntityByName returns a user, group or role by name; NotFound when the
// account holds none of that kind with that name.
func (t *tx) EntityByName(ctx context.Context, account string, kind store.EntityKind, name string) (*store.Entity, error) {
	return t.entityWhere(ctx, "postgres.EntityByName", kind,
		`account = $1 AND kind = $2 AND name = $3`, account, string(kind), name)
}

// InsertEntity stores a new entity; Exists when its id or name is taken
// for its kind in its account.
func (t *tx) InsertEntity(ctx context.Context, e *store.Entity) error {
	_, err := t.exec(ctx, `INSERT INTO iam_entities (`+entityCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, e.Account, string(e.Kind), e.ID, e.Name,
		attrs(e.Attrs), millis(e.CreatedAt), millis(e.UpdatedAt), e.Revision)
	return dbError("postgres.InsertEntity", err, kindName(e.Kind))
}

// UpdateEntity stores e's Name, Attrs and UpdatedAt if e.Revision matches,
// and increments e.Revision. It returns NotFound when the entity is gone,
// Conflict when the revision is stale, Exists when the new name is taken.
func (t *tx) UpdateEntity(ctx context.Context, e *store.Entity) error {
	const op = "postgres.UpdateEntity"
	what := kindName(e.Kind)
	n, err := t.exec(ctx, `UPDATE iam_entities
		SET name = $5, attrs = $6, updated_at = $7, revision = revision + 1
		WHERE account = $1 AND kind = $2 AND id = $3 AND revision = $4`,
		e.Account, string(e.Kind), e.ID, e.Revision, e.Name, attrs(e.Attrs), millis(e.UpdatedAt))
	if err != nil {
		return dbError(op, err, what)
	}
	if n == 0 {
		return t.revisionMiss(ctx, op, `SELECT 1 FROM iam_entities
			WHERE account = $1 AND kind = $2 AND id = $3`, what, e.Account, string(e.Kind), e.ID)
	}
	e.Revision++
	return nil
}

// DeleteEntity removes an entity; its attachments and memberships go with
// it through ON DELETE CASCADE, and a user's access keys with it here, in
// the same statement. NotFound when there is no such entity.
func (t *tx) DeleteEntity(ctx context.Context, account string, kind store.EntityKind, id string) error {
	var n int64
	b := savepoint()
	b.Queue(`WITH e AS (
			DELETE FROM iam_entities WHERE account = $1 AND kind = $2 AND id = $3 RETURNING id
		), keys AS (
			DELETE FROM access_keys
			WHERE account = $1 AND $2 = 'user' AND principal = (SELECT id FROM e)
		)
		SELECT count(*) FROM e`, account, string(kind), id).
		QueryRow(func(row pgx.Row) error { return row.Scan(&n) })
	err := t.atomic(ctx, b)
	return gone("postgres.DeleteEntity", n, err, kindName(kind))
}

// Entities lists an account's entities of one kind, oldest first (ties by
// id). Failures are fault errors.
func (t *tx) Entities(ctx context.Context, account string, kind store.EntityKind) ([]*store.Entity, error) {
	out, err := queryAll(ctx, t, scanEntity, `SELECT `+entityCols+` FROM iam_entities
		WHERE account = $1 AND kind = $2 ORDER BY created_at NULLS FIRST, id`, account, string(kind))
	return out, dbError("postgres.Entities", err, kindName(kind))
}

const policyCols = `account, id, name, description, default_version, next_version,
	created_at, updated_at, revision`

// policySelect reads a policy of "iam_policies p" with its tags, in
// position order, aggregated into two arrays.
const policySelect = `SELECT p.account, p.id, p.name, p.description, p.default_version,
	p.next_version, p.created_at, p.updated_at, p.revision,
	ARRAY(SELECT key FROM iam_policy_tags WHERE account = p.account AND policy_id = p.id ORDER BY position),
	ARRAY(SELECT value FROM iam_policy_tags WHERE account = p.account AND policy_id = p.id ORDER BY position)
	FROM iam_policies p`

func scanPolicy(row pgx.Row) (*store.Policy, error) {
	p := &store.Policy{}
	var keys, values []string
	err := row.Scan(&p.Account, &p.ID, &p.Name, &p.Description, &p.DefaultVersion, &p.NextVersion,
		timeCol{&p.CreatedAt}, timeCol{&p.UpdatedAt}, &p.Revision, &keys, &values)
	if err != nil {
		return nil, err
	}
	p.Tags = zipTags(keys, values)
	return p, nil
}

func (t *tx) policyWhere(ctx context.Context, op, where string, args ...any) (*store.Policy, error) {
	p, err := scanPolicy(t.conn.QueryRow(ctx, policySelect+` WHERE `+where, args...))
	if err != nil {
		return nil, dbError(op, err, "policy")
	}
	return p, nil
}

// Policy returns a policy by id; NotFound when the account holds none.
func (t *tx) Policy(ctx context.Context, account, id string) (*store.Policy, error) {
	return t.policyWhere(ctx, "postgres.Policy", `p.account = $1 AND p.id = $2`, account, id)
}

// PolicyByName returns a policy by name; NotFound when the account holds none.
func (t *tx) PolicyByName(ctx context.Context, account, name string) (*store.Policy, error) {
	return t.policyWhere(ctx, "postgres.PolicyByName", `p.account = $1 AND p.name = $2`, account, name)
}

// InsertPolicy stores a new policy and its tags; Exists when its name is
// taken in its account or its id anywhere (see 0004_iam.sql).
func (t *tx) InsertPolicy(ctx context.Context, p *store.Policy) error {
	b := savepoint()
	b.Queue(`INSERT INTO iam_policies (`+policyCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		p.Account, p.ID, p.Name, p.Description, p.DefaultVersion, p.NextVersion,
		millis(p.CreatedAt), millis(p.UpdatedAt), p.Revision)
	if len(p.Tags) > 0 {
		keys, values := tagArrays(p.Tags)
		b.Queue(`INSERT INTO iam_policy_tags (account, policy_id, position, key, value)
			SELECT $1, $2, t.n - 1, t.key, t.value
			FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS t (key, value, n)`,
			p.Account, p.ID, keys, values)
	}
	return dbError("postgres.InsertPolicy", t.atomic(ctx, b), "policy")
}

// updatePolicy stores a policy whose revision matches and replaces its
// tags, in one statement, as updateSecret does.
const updatePolicy = `WITH u AS (
	UPDATE iam_policies SET name = $4, description = $5, default_version = $6,
		next_version = $7, updated_at = $8, revision = revision + 1
	WHERE account = $1 AND id = $2 AND revision = $3
	RETURNING account, id
), gone AS (
	DELETE FROM iam_policy_tags
	WHERE (account, policy_id) = (SELECT account, id FROM u) AND position >= cardinality($9::text[])
), put AS (
	INSERT INTO iam_policy_tags (account, policy_id, position, key, value)
	SELECT u.account, u.id, t.n - 1, t.key, t.value
	FROM u, unnest($9::text[], $10::text[]) WITH ORDINALITY AS t (key, value, n)
	ON CONFLICT (account, policy_id, position) DO UPDATE SET key = excluded.key, value = excluded.value
)
SELECT count(*) FROM u`

// UpdatePolicy stores every field of p but ID, Account and CreatedAt if
// p.Revision matches, and increments p.Revision. It returns NotFound when
// the policy is gone, Conflict when the revision is stale, Exists when the
// new name is taken.
func (t *tx) UpdatePolicy(ctx context.Context, p *store.Policy) error {
	const op = "postgres.UpdatePolicy"
	keys, values := tagArrays(p.Tags)
	var n int64
	b := savepoint()
	b.Queue(updatePolicy, p.Account, p.ID, p.Revision, p.Name, p.Description, p.DefaultVersion,
		p.NextVersion, millis(p.UpdatedAt), keys, values).
		QueryRow(func(row pgx.Row) error { return row.Scan(&n) })
	if err := t.atomic(ctx, b); err != nil {
		return dbError(op, err, "policy")
	}
	if n == 0 {
		return t.revisionMiss(ctx, op, `SELECT 1 FROM iam_policies WHERE account = $1 AND id = $2`,
			"policy", p.Account, p.ID)
	}
	p.Revision++
	return nil
}

// DeletePolicy removes a policy and, in the same statement, its
// attachments; its tags and versions go with it through ON DELETE CASCADE.
// NotFound when there is no such policy.
func (t *tx) DeletePolicy(ctx context.Context, account, id string) error {
	var n int64
	b := savepoint()
	b.Queue(`WITH p AS (
			DELETE FROM iam_policies WHERE account = $1 AND id = $2 RETURNING id
		), attached AS (
			DELETE FROM iam_attachments WHERE account = $1 AND policy_id = (SELECT id FROM p)
		)
		SELECT count(*) FROM p`, account, id).
		QueryRow(func(row pgx.Row) error { return row.Scan(&n) })
	err := t.atomic(ctx, b)
	return gone("postgres.DeletePolicy", n, err, "policy")
}

// Policies lists an account's policies, oldest first (ties by id).
// Failures are fault errors.
func (t *tx) Policies(ctx context.Context, account string) ([]*store.Policy, error) {
	out, err := queryAll(ctx, t, scanPolicy, policySelect+` WHERE p.account = $1
		ORDER BY p.created_at NULLS FIRST, p.id`, account)
	return out, dbError("postgres.Policies", err, "policy")
}
