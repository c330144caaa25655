package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/coffer-secrets/coffer/internal/store"
)

const policyVersionCols = `policy_id, version, document, created_at`

func scanPolicyVersion(row pgx.Row) (*store.PolicyVersion, error) {
	v := &store.PolicyVersion{}
	if err := row.Scan(&v.PolicyID, &v.Version, &v.Document, timeCol{&v.CreatedAt}); err != nil {
		return nil, err
	}
	return v, nil
}

// InsertPolicyVersion stores a new version under the number v carries;
// Exists when the number is taken, NotFound when the policy does not exist.
func (t *tx) InsertPolicyVersion(ctx context.Context, v *store.PolicyVersion) error {
	_, err := t.exec(ctx, `INSERT INTO iam_policy_versions (`+policyVersionCols+`)
		VALUES ($1, $2, $3, $4)`, v.PolicyID, v.Version, v.Document, millis(v.CreatedAt))
	return refError("postgres.InsertPolicyVersion", err, "policy version", "policy")
}

// PutPolicyVersion replaces a version's document, and nothing else;
// NotFound when there is no such version.
func (t *tx) PutPolicyVersion(ctx context.Context, v *store.PolicyVersion) error {
	n, err := t.exec(ctx, `UPDATE iam_policy_versions SET document = $3
		WHERE policy_id = $1 AND version = $2`, v.PolicyID, v.Version, v.Document)
	return gone("postgres.PutPolicyVersion", n, err, "policy version")
}

// PolicyVersion returns one version; NotFound when there is none.
func (t *tx) PolicyVersion(ctx context.Context, policyID string, version int64) (*store.PolicyVersion, error) {
	v, err := scanPolicyVersion(t.conn.QueryRow(ctx, `SELECT `+policyVersionCols+`
		FROM iam_policy_versions WHERE policy_id = $1 AND version = $2`, policyID, version))
	if err != nil {
		return nil, dbError("postgres.PolicyVersion", err, "policy version")
	}
	return v, nil
}

// PolicyVersions lists a policy's versions, lowest number first. Failures
// are fault errors.
func (t *tx) PolicyVersions(ctx context.Context, policyID string) ([]*store.PolicyVersion, error) {
	out, err := queryAll(ctx, t, scanPolicyVersion, `SELECT `+policyVersionCols+`
		FROM iam_policy_versions WHERE policy_id = $1 ORDER BY version`, policyID)
	return out, dbError("postgres.PolicyVersions", err, "policy version")
}

// DeletePolicyVersion removes one version; NotFound when there is none.
func (t *tx) DeletePolicyVersion(ctx context.Context, policyID string, version int64) error {
	n, err := t.exec(ctx, `DELETE FROM iam_policy_versions WHERE policy_id = $1 AND version = $2`,
		policyID, version)
	return gone("postgres.DeletePolicyVersion", n, err, "policy version")
}

const attachmentCols = `account, policy_id, kind, entity_id, attached_at`

func scanAttachment(row pgx.Row) (*store.Attachment, error) {
	a := &store.Attachment{}
	if err := row.Scan(&a.Account, &a.PolicyID, &a.Kind, &a.EntityID, timeCol{&a.AttachedAt}); err != nil {
		return nil, err
	}
	return a, nil
}

// Attach stores an attachment; attaching twice keeps the first AttachedAt
// and is not an error. NotFound when the entity does not exist in the
// account; the policy need not be stored (presets live in code).
func (t *tx) Attach(ctx context.Context, a *store.Attachment) error {
	_, err := t.exec(ctx, `INSERT INTO iam_attachments (`+attachmentCols+`)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
		a.Account, a.PolicyID, string(a.Kind), a.EntityID, millis(a.AttachedAt))
	return refError("postgres.Attach", err, "attachment", kindName(a.Kind))
}

// Detach removes an attachment; NotFound when there is none.
func (t *tx) Detach(ctx context.Context, account, policyID string, kind store.EntityKind, entityID string) error {
	n, err := t.exec(ctx, `DELETE FROM iam_attachments
		WHERE account = $1 AND policy_id = $2 AND kind = $3 AND entity_id = $4`,
		account, policyID, string(kind), entityID)
	return gone("postgres.Detach", n, err, "attachment")
}

// AttachedTo lists the attachments of one entity, oldest first (ties by
// policy id). Failures are fault errors.
func (t *tx) AttachedTo(ctx context.Context, account string, kind store.EntityKind, entityID string) ([]*store.Attachment, error) {
	out, err := queryAll(ctx, t, scanAttachment, `SELECT `+attachmentCols+` FROM iam_attachments
		WHERE account = $1 AND kind = $2 AND entity_id = $3
		ORDER BY attached_at NULLS FIRST, policy_id`, account, string(kind), entityID)
	return out, dbError("postgres.AttachedTo", err, "attachment")
}

// AttachmentsOf lists the attachments of one policy, oldest first (ties by
// kind, then entity id). Failures are fault errors.
func (t *tx) AttachmentsOf(ctx context.Context, account, policyID string) ([]*store.Attachment, error) {
	out, err := queryAll(ctx, t, scanAttachment, `SELECT `+attachmentCols+` FROM iam_attachments
		WHERE account = $1 AND policy_id = $2
		ORDER BY attached_at NULLS FIRST, kind, entity_id`, account, policyID)
	return out, dbError("postgres.AttachmentsOf", err, "attachment")
}

const membershipCols = `account, group_id, user_id, added_at`

func scanMembership(row pgx.Row) (*store.Membership, error) {
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
	_, err := t.exec(ctx, `INSERT INTO iam_memberships (`+membershipCols+`)
		VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, m.Account, m.GroupID, m.UserID, millis(m.AddedAt))
	return refError("postgres.AddMember", err, "membership", "group or user")
}

// RemoveMember removes a membership; NotFound when there is none.
func (t *tx) RemoveMember(ctx context.Context, account, groupID, userID string) error {
	n, err := t.exec(ctx, `DELETE FROM iam_memberships
		WHERE account = $1 AND group_id = $2 AND user_id = $3`, account, groupID, userID)
	return gone("postgres.RemoveMember", n, err, "membership")
}

// Members lists a group's memberships, oldest first (ties by user id).
// Failures are fault errors.
func (t *tx) Members(ctx context.Context, account, groupID string) ([]*store.Membership, error) {
	out, err := queryAll(ctx, t, scanMembership, `SELECT `+membershipCols+` FROM iam_memberships
		WHERE account = $1 AND group_id = $2 ORDER BY added_at NULLS FIRST, user_id`, account, groupID)
	return out, dbError("postgres.Members", err, "membership")
}

// GroupsOf lists a user's memberships, oldest first (ties by group id).
// Failures are fault errors.
func (t *tx) GroupsOf(ctx context.Context, account, userID string) ([]*store.Membership, error) {
	out, err := queryAll(ctx, t, scanMembership, `SELECT `+membershipCols+` FROM iam_memberships
		WHERE account = $1 AND user_id = $2 ORDER BY added_at NULLS FIRST, group_id`, account, userID)
	return out, dbError("postgres.GroupsOf", err, "membership")
}
