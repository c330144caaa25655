package sqlite

// Temporary stubs until the IAM tables land; replaced by iam.go.

import (
	"context"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

func notYet(op string) error { return fault.E(op, fault.Internal, "not implemented yet") }

func (t *tx) DeleteAccessKey(ctx context.Context, id string) error   { return notYet("DeleteAccessKey") }
func (t *tx) Accounts(ctx context.Context) ([]*store.Account, error) { return nil, notYet("Accounts") }
func (t *tx) Entity(ctx context.Context, account string, kind store.EntityKind, id string) (*store.Entity, error) {
	return nil, notYet("Entity")
}
func (t *tx) EntityByName(ctx context.Context, account string, kind store.EntityKind, name string) (*store.Entity, error) {
	return nil, notYet("EntityByName")
}
func (t *tx) InsertEntity(ctx context.Context, e *store.Entity) error { return notYet("InsertEntity") }
func (t *tx) UpdateEntity(ctx context.Context, e *store.Entity) error { return notYet("UpdateEntity") }
func (t *tx) DeleteEntity(ctx context.Context, account string, kind store.EntityKind, id string) error {
	return notYet("DeleteEntity")
}
func (t *tx) Entities(ctx context.Context, account string, kind store.EntityKind) ([]*store.Entity, error) {
	return nil, notYet("Entities")
}
func (t *tx) Policy(ctx context.Context, account, id string) (*store.Policy, error) {
	return nil, notYet("Policy")
}
func (t *tx) PolicyByName(ctx context.Context, account, name string) (*store.Policy, error) {
	return nil, notYet("PolicyByName")
}
func (t *tx) InsertPolicy(ctx context.Context, p *store.Policy) error { return notYet("InsertPolicy") }
func (t *tx) UpdatePolicy(ctx context.Context, p *store.Policy) error { return notYet("UpdatePolicy") }
func (t *tx) DeletePolicy(ctx context.Context, account, id string) error {
	return notYet("DeletePolicy")
}
func (t *tx) Policies(ctx context.Context, account string) ([]*store.Policy, error) {
	return nil, notYet("Policies")
}
func (t *tx) InsertPolicyVersion(ctx context.Context, v *store.PolicyVersion) error {
	return notYet("InsertPolicyVersion")
}
func (t *tx) PutPolicyVersion(ctx context.Context, v *store.PolicyVersion) error {
	return notYet("PutPolicyVersion")
}
func (t *tx) PolicyVersion(ctx context.Context, policyID string, version int64) (*store.PolicyVersion, error) {
	return nil, notYet("PolicyVersion")
}
func (t *tx) PolicyVersions(ctx context.Context, policyID string) ([]*store.PolicyVersion, error) {
	return nil, notYet("PolicyVersions")
}
func (t *tx) DeletePolicyVersion(ctx context.Context, policyID string, version int64) error {
	return notYet("DeletePolicyVersion")
}
func (t *tx) Attach(ctx context.Context, a *store.Attachment) error { return notYet("Attach") }
func (t *tx) Detach(ctx context.Context, account, policyID string, kind store.EntityKind, entityID string) error {
	return notYet("Detach")
}
func (t *tx) AttachedTo(ctx context.Context, account string, kind store.EntityKind, entityID string) ([]*store.Attachment, error) {
	return nil, notYet("AttachedTo")
}
func (t *tx) AttachmentsOf(ctx context.Context, account, policyID string) ([]*store.Attachment, error) {
	return nil, notYet("AttachmentsOf")
}
func (t *tx) AddMember(ctx context.Context, m *store.Membership) error { return notYet("AddMember") }
func (t *tx) RemoveMember(ctx context.Context, account, groupID, userID string) error {
	return notYet("RemoveMember")
}
func (t *tx) Members(ctx context.Context, account, groupID string) ([]*store.Membership, error) {
	return nil, notYet("Members")
}
func (t *tx) GroupsOf(ctx context.Context, account, userID string) ([]*store.Membership, error) {
	return nil, notYet("GroupsOf")
}
