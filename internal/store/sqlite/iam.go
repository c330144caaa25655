package sqlite

import (
	"context"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// The IAM tables are in migrations/0005_iam.sql. An attachment holds a
// foreign key to its entity, so attaching to one that does not exist is
// NotFound and deleting it cascades. It holds none to its policy, which may
// be a preset that has no row, and memberships hold none at all: there
// DeletePolicy, DeleteEntity and AddMember do that work themselves.

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

// staleOrGone explains an optimistic update that changed no row: the record
// is gone (NotFound) or was changed since it was read (Conflict). exists
// selects 1 from the record.
func (t *tx) staleOrGone(ctx context.Context, op, what, exists string, args ...any) error {
	var one int
	if err := t.tx.QueryRowContext(ctx, exists, args...).Scan(&one); err != nil {
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

// queryAll runs query and scans every row with scan.
func queryAll[T any](ctx context.Context, t *tx, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := t.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

const entityCols = `account, kind, id, name, attrs, created_at, updated_at, revision`

func scanEntity(row scanner) (*store.Entity, error) {
	e := &store.Entity{}
	err := row.Scan(&e.Account, &e.Kind, &e.ID, &e.Name, &e.Attrs,
		timeCol{&e.CreatedAt}, timeCol{&e.UpdatedAt}, &e.Revision)
	if err != nil {
		return nil, err
	}
	return e, nil
}

// attrs returns the JSON text to store: "{}" for none, as the store never
// holds nil attributes.
func attrs(b []byte) string {
	if len(b) == 0 {
		return "{}"
	}
	return string(b)
}

func (t *tx) entityWhere(ctx context.Context, op string, kind store.EntityKind, where string, args ...any) (*store.Entity, error) {
	e, err := scanEntity(t.tx.QueryRowContext(ctx, `SELECT `+entityCols+` FROM iam_entities WHERE `+where, args...))
	if err != nil {
		return nil, dbError(op, err, kindName(kind))
	}
	return e, nil
}

// Entity returns a user, group or role by id; NotFound when the account
// holds none of that kind with that id.
func (t *tx) Entity(ctx context.Context, account string, kind store.EntityKind, id string) (*store.Entity, error) {
	return t.entityWhere(ctx, "sqlite.Entity", kind,
		`account = ? AND kind = ? AND id = ?`, account, string(kind), id)
}

// EntityByName returns a user, group or role by name; NotFound when the
// account holds none of that kind with that name.
func (t *tx) EntityByName(ctx context.Context, account string, kind store.EntityKind, name string) (*store.Entity, error) {
	return t.entityWhere(ctx, "sqlite.EntityByName", kind,
		`account = ? AND kind = ? AND name = ?`, account, string(kind), name)
}

// InsertEntity stores a new entity; Exists when its id or name is taken
// for its kind in its account.
func (t *tx) InsertEntity(ctx context.Context, e *store.Entity) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO iam_entities (`+entityCols+`)
		VALUES (`+placeholders(8)+`)`, e.Account, string(e.Kind), e.ID, e.Name, attrs(e.Attrs),
		millis(e.CreatedAt), millis(e.UpdatedAt), e.Revision)
	return dbError("sqlite.InsertEntity", err, kindName(e.Kind))
}

// UpdateEntity stores e's Name, Attrs and UpdatedAt if e.Revision matches,
// and increments e.Revision. It returns NotFound when the entity is gone,
// Conflict when the revision is stale, Exists when the new name is taken.
func (t *tx) UpdateEntity(ctx context.Context, e *store.Entity) error {
	const op = "sqlite.UpdateEntity"
	what := kindName(e.Kind)
	n, err := affected(t.tx.ExecContext(ctx, `UPDATE iam_entities
		SET name = ?, attrs = ?, updated_at = ?, revision = revision + 1
		WHERE account = ? AND kind = ? AND id = ? AND revision = ?`,
		e.Name, attrs(e.Attrs), millis(e.UpdatedAt), e.Account, string(e.Kind), e.ID, e.Revision))
	if err != nil {
		return dbError(op, err, what)
	}
	if n == 0 {
		return t.staleOrGone(ctx, op, what, `SELECT 1 FROM iam_entities
			WHERE account = ? AND kind = ? AND id = ?`, e.Account, string(e.Kind), e.ID)
	}
	e.Revision++
	return nil
}

// DeleteEntity removes an entity; its attachments go with it through ON
// DELETE CASCADE, its memberships and a user's access keys with it here.
// NotFound when there is no such entity.
func (t *tx) DeleteEntity(ctx context.Context, account string, kind store.EntityKind, id string) error {
	var n int64
	err := t.atomic(ctx, func() error {
		var err error
		n, err = affected(t.tx.ExecContext(ctx,
			`DELETE FROM iam_entities WHERE account = ? AND kind = ? AND id = ?`, account, string(kind), id))
		if err != nil || n == 0 {
			return err
		}
		return t.deleteDependents(ctx, account, kind, id)
	})
	return gone("sqlite.DeleteEntity", n, err, kindName(kind))
}

// deleteDependents removes what no foreign key ties to an entity: a
// group's memberships, a user's memberships and access keys.
func (t *tx) deleteDependents(ctx context.Context, account string, kind store.EntityKind, id string) error {
	var stmts []string
	switch kind {
	case store.EntityGroup:
		stmts = []string{`DELETE FROM iam_memberships WHERE account = ? AND group_id = ?`}
	case store.EntityUser:
		stmts = []string{`DELETE FROM iam_memberships WHERE account = ? AND user_id = ?`,
			`DELETE FROM access_keys WHERE account = ? AND principal = ?`}
	}
	for _, stmt := range stmts {
		if _, err := t.tx.ExecContext(ctx, stmt, account, id); err != nil {
			return err
		}
	}
	return nil
}

// Entities lists an account's entities of one kind, oldest first (ties by
// id). Failures are fault errors.
func (t *tx) Entities(ctx context.Context, account string, kind store.EntityKind) ([]*store.Entity, error) {
	out, err := queryAll(ctx, t, scanEntity, `SELECT `+entityCols+` FROM iam_entities
		WHERE account = ? AND kind = ? ORDER BY created_at, id`, account, string(kind))
	return out, dbError("sqlite.Entities", err, kindName(kind))
}

const policyCols = `account, id, name, description, default_version, next_version,
	created_at, updated_at, revision`

func scanPolicy(row scanner) (*store.Policy, error) {
	p := &store.Policy{}
	err := row.Scan(&p.Account, &p.ID, &p.Name, &p.Description, &p.DefaultVersion, &p.NextVersion,
		timeCol{&p.CreatedAt}, timeCol{&p.UpdatedAt}, &p.Revision)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// policyWhere reads one policy and its tags.
func (t *tx) policyWhere(ctx context.Context, op, where string, args ...any) (*store.Policy, error) {
	p, err := scanPolicy(t.tx.QueryRowContext(ctx, `SELECT `+policyCols+` FROM iam_policies WHERE `+where, args...))
	if err != nil {
		return nil, dbError(op, err, "policy")
	}
	if p.Tags, err = t.policyTags(ctx, p.Account, p.ID); err != nil {
		return nil, dbError(op, err, "policy")
	}
	return p, nil
}

// Policy returns a policy by id; NotFound when the account holds none.
func (t *tx) Policy(ctx context.Context, account, id string) (*store.Policy, error) {
	return t.policyWhere(ctx, "sqlite.Policy", `account = ? AND id = ?`, account, id)
}

// PolicyByName returns a policy by name; NotFound when the account holds none.
func (t *tx) PolicyByName(ctx context.Context, account, name string) (*store.Policy, error) {
	return t.policyWhere(ctx, "sqlite.PolicyByName", `account = ? AND name = ?`, account, name)
}

// InsertPolicy stores a new policy and its tags; Exists when its name is
// taken in its account or its id anywhere (see 0005_iam.sql).
func (t *tx) InsertPolicy(ctx context.Context, p *store.Policy) error {
	err := t.atomic(ctx, func() error {
		_, err := t.tx.ExecContext(ctx, `INSERT INTO iam_policies (`+policyCols+`)
			VALUES (`+placeholders(9)+`)`, p.Account, p.ID, p.Name, p.Description,
			p.DefaultVersion, p.NextVersion, millis(p.CreatedAt), millis(p.UpdatedAt), p.Revision)
		if err != nil {
			return err
		}
		return t.insertPolicyTags(ctx, p)
	})
	return dbError("sqlite.InsertPolicy", err, "policy")
}

// UpdatePolicy stores every field of p but ID, Account and CreatedAt if
// p.Revision matches, and increments p.Revision. It returns NotFound when
// the policy is gone, Conflict when the revision is stale, Exists when the
// new name is taken.
func (t *tx) UpdatePolicy(ctx context.Context, p *store.Policy) error {
	const op = "sqlite.UpdatePolicy"
	var n int64
	err := t.atomic(ctx, func() error {
		var err error
		n, err = affected(t.tx.ExecContext(ctx, `UPDATE iam_policies SET name = ?, description = ?,
			default_version = ?, next_version = ?, updated_at = ?, revision = revision + 1
			WHERE account = ? AND id = ? AND revision = ?`,
			p.Name, p.Description, p.DefaultVersion, p.NextVersion, millis(p.UpdatedAt),
			p.Account, p.ID, p.Revision))
		if err != nil || n == 0 {
			return err
		}
		_, err = t.tx.ExecContext(ctx, `DELETE FROM iam_policy_tags WHERE account = ? AND policy_id = ?`,
			p.Account, p.ID)
		if err != nil {
			return err
		}
		return t.insertPolicyTags(ctx, p)
	})
	if err != nil {
		return dbError(op, err, "policy")
	}
	if n == 0 {
		return t.staleOrGone(ctx, op, "policy",
			`SELECT 1 FROM iam_policies WHERE account = ? AND id = ?`, p.Account, p.ID)
	}
	p.Revision++
	return nil
}

// DeletePolicy removes a policy and its attachments; its tags and versions
// go with it through ON DELETE CASCADE. NotFound when there is no such
// policy.
func (t *tx) DeletePolicy(ctx context.Context, account, id string) error {
	var n int64
	err := t.atomic(ctx, func() error {
		var err error
		n, err = affected(t.tx.ExecContext(ctx,
			`DELETE FROM iam_policies WHERE account = ? AND id = ?`, account, id))
		if err != nil || n == 0 {
			return err
		}
		_, err = t.tx.ExecContext(ctx,
			`DELETE FROM iam_attachments WHERE account = ? AND policy_id = ?`, account, id)
		return err
	})
	return gone("sqlite.DeletePolicy", n, err, "policy")
}

// Policies lists an account's policies, oldest first (ties by id).
// Failures are fault errors.
func (t *tx) Policies(ctx context.Context, account string) ([]*store.Policy, error) {
	const op = "sqlite.Policies"
	out, err := queryAll(ctx, t, scanPolicy, `SELECT `+policyCols+` FROM iam_policies
		WHERE account = ? ORDER BY created_at, id`, account)
	if err != nil {
		return nil, dbError(op, err, "policy")
	}
	for _, p := range out {
		if p.Tags, err = t.policyTags(ctx, p.Account, p.ID); err != nil {
			return nil, dbError(op, err, "policy")
		}
	}
	return out, nil
}

// policyTags returns a policy's tags in their stored order, nil when it has none.
func (t *tx) policyTags(ctx context.Context, account, policyID string) ([]store.Tag, error) {
	return queryAll(ctx, t, func(row scanner) (store.Tag, error) {
		var tag store.Tag
		return tag, row.Scan(&tag.Key, &tag.Value)
	}, `SELECT key, value FROM iam_policy_tags WHERE account = ? AND policy_id = ?
		ORDER BY position`, account, policyID)
}

func (t *tx) insertPolicyTags(ctx context.Context, p *store.Policy) error {
	for i, tag := range p.Tags {
		_, err := t.tx.ExecContext(ctx, `INSERT INTO iam_policy_tags (account, policy_id, position, key, value)
			VALUES (?, ?, ?, ?, ?)`, p.Account, p.ID, i, tag.Key, tag.Value)
		if err != nil {
			return err
		}
	}
	return nil
}

const policyVersionCols = `policy_id, version, document, created_at`

func scanPolicyVersion(row scanner) (*store.PolicyVersion, error) {
	v := &store.PolicyVersion{}
	if err := row.Scan(&v.PolicyID, &v.Version, &v.Document, timeCol{&v.CreatedAt}); err != nil {
		return nil, err
	}
	return v, nil
}

// InsertPolicyVersion stores a new version under the number v carries;
// Exists when the number is taken, NotFound when the policy does not exist.
func (t *tx) InsertPolicyVersion(ctx context.Context, v *store.PolicyVersion) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO iam_policy_versions (`+policyVersionCols+`)
		VALUES (?, ?, ?, ?)`, v.PolicyID, v.Version, v.Document, millis(v.CreatedAt))
	return refError("sqlite.InsertPolicyVersion", err, "policy version", "policy")
}

// PutPolicyVersion replaces a version's document, and nothing else;
// NotFound when there is no such version.
func (t *tx) PutPolicyVersion(ctx context.Context, v *store.PolicyVersion) error {
	n, err := affected(t.tx.ExecContext(ctx, `UPDATE iam_policy_versions SET document = ?
		WHERE policy_id = ? AND version = ?`, v.Document, v.PolicyID, v.Version))
	return gone("sqlite.PutPolicyVersion", n, err, "policy version")
}

// PolicyVersion returns one version; NotFound when there is none.
func (t *tx) PolicyVersion(ctx context.Context, policyID string, version int64) (*store.PolicyVersion, error) {
	v, err := scanPolicyVersion(t.tx.QueryRowContext(ctx, `SELECT `+policyVersionCols+`
		FROM iam_policy_versions WHERE policy_id = ? AND version = ?`, policyID, version))
	if err != nil {
		return nil, dbError("sqlite.PolicyVersion", err, "policy version")
	}
	return v, nil
}

// PolicyVersions lists a policy's versions, lowest number first. Failures
// are fault errors.
func (t *tx) PolicyVersions(ctx context.Context, policyID string) ([]*store.PolicyVersion, error) {
	out, err := queryAll(ctx, t, scanPolicyVersion, `SELECT `+policyVersionCols+`
		FROM iam_policy_versions WHERE policy_id = ? ORDER BY version`, policyID)
	return out, dbError("sqlite.PolicyVersions", err, "policy version")
}

// DeletePolicyVersion removes one version; NotFound when there is none.
func (t *tx) DeletePolicyVersion(ctx context.Context, policyID string, version int64) error {
	n, err := affected(t.tx.ExecContext(ctx,
		`DELETE FROM iam_policy_versions WHERE policy_id = ? AND version = ?`, policyID, version))
	return gone("sqlite.DeletePolicyVersion", n, err, "policy version")
}

const attachmentCols = `account, policy_id, kind, entity_id, attached_at`

func scanAttachment(row scanner) (*store.Attachment, error) {
	a := &store.Attachment{}
	if err := row.Scan(&a.Account, &a.PolicyID, &a.Kind, &a.EntityID, timeCol{&a.AttachedAt}); err != nil {
		return nil, err
	}
	return a, nil
}

// Attach stores an attachment; attaching twice keeps the first AttachedAt
// and is not an error. NotFound when the entity does not exist in the
// account. The policy is not checked: a preset policy has no row.
func (t *tx) Attach(ctx context.Context, a *store.Attachment) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO iam_attachments (`+attachmentCols+`)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		a.Account, a.PolicyID, string(a.Kind), a.EntityID, millis(a.AttachedAt))
	return refError("sqlite.Attach", err, "attachment", kindName(a.Kind))
}

// Detach removes an attachment; NotFound when there is none.
func (t *tx) Detach(ctx context.Context, account, policyID string, kind store.EntityKind, entityID string) error {
	n, err := affected(t.tx.ExecContext(ctx, `DELETE FROM iam_attachments
		WHERE account = ? AND policy_id = ? AND kind = ? AND entity_id = ?`,
		account, policyID, string(kind), entityID))
	return gone("sqlite.Detach", n, err, "attachment")
}

// AttachedTo lists the attachments of one entity, oldest first (ties by
// policy id). Failures are fault errors.
func (t *tx) AttachedTo(ctx context.Context, account string, kind store.EntityKind, entityID string) ([]*store.Attachment, error) {
	out, err := queryAll(ctx, t, scanAttachment, `SELECT `+attachmentCols+` FROM iam_attachments
		WHERE account = ? AND kind = ? AND entity_id = ? ORDER BY attached_at, policy_id`,
		account, string(kind), entityID)
	return out, dbError("sqlite.AttachedTo", err, "attachment")
}

// AttachmentsOf lists the attachments of one policy, oldest first (ties by
// kind, then entity id). Failures are fault errors.
func (t *tx) AttachmentsOf(ctx context.Context, account, policyID string) ([]*store.Attachment, error) {
	out, err := queryAll(ctx, t, scanAttachment, `SELECT `+attachmentCols+` FROM iam_attachments
		WHERE account = ? AND policy_id = ? ORDER BY attached_at, kind, entity_id`, account, policyID)
	return out, dbError("sqlite.AttachmentsOf", err, "attachment")
}

const membershipCols = `account, group_id, user_id, added_at`

func scanMembership(row scanner) (*store.Membership, error) {
	m := &store.Membership{}
	if err := row.Scan(&m.Account, &m.GroupID, &m.UserID, timeCol{&m.AddedAt}); err != nil {
		return nil, err
	}
	return m, nil
}

// AddMember stores a membership; adding twice keeps the first AddedAt and
// is not an error. NotFound when the group or the user does not exist in
// the account.
func (t *tx) AddMember(ctx context.Context, m *store.Membership) error {
	const op = "sqlite.AddMember"
	if err := t.entityExists(ctx, op, m.Account, store.EntityGroup, m.GroupID); err != nil {
		return err
	}
	if err := t.entityExists(ctx, op, m.Account, store.EntityUser, m.UserID); err != nil {
		return err
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO iam_memberships (`+membershipCols+`)
		VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, m.Account, m.GroupID, m.UserID, millis(m.AddedAt))
	return dbError(op, err, "membership")
}

// entityExists returns NotFound unless the account holds the entity.
func (t *tx) entityExists(ctx context.Context, op, account string, kind store.EntityKind, id string) error {
	var one int
	err := t.tx.QueryRowContext(ctx, `SELECT 1 FROM iam_entities WHERE account = ? AND kind = ? AND id = ?`,
		account, string(kind), id).Scan(&one)
	return dbError(op, err, kindName(kind))
}

// RemoveMember removes a membership; NotFound when there is none.
func (t *tx) RemoveMember(ctx context.Context, account, groupID, userID string) error {
	n, err := affected(t.tx.ExecContext(ctx, `DELETE FROM iam_memberships
		WHERE account = ? AND group_id = ? AND user_id = ?`, account, groupID, userID))
	return gone("sqlite.RemoveMember", n, err, "membership")
}

// Members lists a group's memberships, oldest first (ties by user id).
// Failures are fault errors.
func (t *tx) Members(ctx context.Context, account, groupID string) ([]*store.Membership, error) {
	out, err := queryAll(ctx, t, scanMembership, `SELECT `+membershipCols+` FROM iam_memberships
		WHERE account = ? AND group_id = ? ORDER BY added_at, user_id`, account, groupID)
	return out, dbError("sqlite.Members", err, "membership")
}

// GroupsOf lists a user's memberships, oldest first (ties by group id).
// Failures are fault errors.
func (t *tx) GroupsOf(ctx context.Context, account, userID string) ([]*store.Membership, error) {
	out, err := queryAll(ctx, t, scanMembership, `SELECT `+membershipCols+` FROM iam_memberships
		WHERE account = ? AND user_id = ? ORDER BY added_at, group_id`, account, userID)
	return out, dbError("sqlite.GroupsOf", err, "membership")
}
