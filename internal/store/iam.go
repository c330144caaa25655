package store

import (
	"context"
	"time"
)

// EntityKind says what an IAM entity is.
type EntityKind string

// The entity kinds. Users sign requests with access keys; groups collect
// users; roles are assumed for temporary credentials.
const (
	EntityUser  EntityKind = "user"
	EntityGroup EntityKind = "group"
	EntityRole  EntityKind = "role"
)

// Entity is a user, a group or a role inside an account. The iam package
// owns the meaning of Attrs (remarks, password hashes, trust policies,
// session durations, tags); the store keeps it as opaque JSON.
type Entity struct {
	Account   string
	Kind      EntityKind
	ID        string // numeric: a user's uin, a group id, a role id; unique per (Account, Kind)
	Name      string // unique per (Account, Kind); case-sensitive
	Attrs     []byte // JSON, never nil when stored ("{}" at least)
	CreatedAt time.Time
	UpdatedAt time.Time
	Revision  int64
}

// Policy is a managed (identity) policy: a name and a set of versions, one
// of them the default that takes effect.
type Policy struct {
	Account        string
	ID             string // numeric; unique per Account
	Name           string // unique per Account
	Description    string
	DefaultVersion int64 // the version in effect; 0 when it has none
	NextVersion    int64 // the number the next version takes; numbers are never reused
	Tags           []Tag
	CreatedAt      time.Time
	UpdatedAt      time.Time
	Revision       int64
}

// PolicyVersion is one version of a policy's document.
type PolicyVersion struct {
	PolicyID  string
	Version   int64
	Document  string // verbatim, as the caller sent it
	CreatedAt time.Time
}

// Attachment ties a policy to a user, a group or a role.
type Attachment struct {
	Account    string
	PolicyID   string
	Kind       EntityKind
	EntityID   string
	AttachedAt time.Time
}

// Membership puts a user in a group.
type Membership struct {
	Account string
	GroupID string
	UserID  string
	AddedAt time.Time
}

// IAMTx reads and writes users, groups, roles, policies, attachments and
// memberships. Every method is scoped by account: an id from another
// account is NotFound.
type IAMTx interface {
	// Accounts lists every account, oldest first.
	Accounts(ctx context.Context) ([]*Account, error)

	// Entity returns a user, group or role by id.
	Entity(ctx context.Context, account string, kind EntityKind, id string) (*Entity, error)
	// EntityByName returns a user, group or role by name.
	EntityByName(ctx context.Context, account string, kind EntityKind, name string) (*Entity, error)
	// InsertEntity stores a new entity; Exists when its id or name is taken
	// for its kind in its account.
	InsertEntity(ctx context.Context, e *Entity) error
	// UpdateEntity stores e's Name, Attrs and UpdatedAt if its Revision
	// matches, incrementing it; Conflict otherwise, NotFound when absent,
	// Exists when the new name is taken.
	UpdateEntity(ctx context.Context, e *Entity) error
	// DeleteEntity removes an entity with its attachments and memberships
	// (for a user, also its access keys); NotFound when absent.
	DeleteEntity(ctx context.Context, account string, kind EntityKind, id string) error
	// Entities lists an account's entities of one kind, oldest first (ties by id).
	Entities(ctx context.Context, account string, kind EntityKind) ([]*Entity, error)

	// Policy returns a policy by id.
	Policy(ctx context.Context, account, id string) (*Policy, error)
	// PolicyByName returns a policy by name.
	PolicyByName(ctx context.Context, account, name string) (*Policy, error)
	// InsertPolicy stores a new policy; Exists when its id or name is taken.
	InsertPolicy(ctx context.Context, p *Policy) error
	// UpdatePolicy stores every field of p but ID, Account and CreatedAt if
	// its Revision matches, incrementing it; Conflict otherwise, Exists
	// when the new name is taken.
	UpdatePolicy(ctx context.Context, p *Policy) error
	// DeletePolicy removes a policy with its versions and attachments.
	DeletePolicy(ctx context.Context, account, id string) error
	// Policies lists an account's policies, oldest first (ties by id).
	Policies(ctx context.Context, account string) ([]*Policy, error)

	// InsertPolicyVersion stores a new version; Exists when the number is taken.
	InsertPolicyVersion(ctx context.Context, v *PolicyVersion) error
	// PutPolicyVersion replaces a version's document.
	PutPolicyVersion(ctx context.Context, v *PolicyVersion) error
	// PolicyVersion returns one version.
	PolicyVersion(ctx context.Context, policyID string, version int64) (*PolicyVersion, error)
	// PolicyVersions lists a policy's versions, lowest number first.
	PolicyVersions(ctx context.Context, policyID string) ([]*PolicyVersion, error)
	// DeletePolicyVersion removes one version; NotFound when absent.
	DeletePolicyVersion(ctx context.Context, policyID string, version int64) error

	// Attach stores an attachment; attaching twice keeps the first
	// AttachedAt and is not an error.
	Attach(ctx context.Context, a *Attachment) error
	// Detach removes an attachment; NotFound when there is none.
	Detach(ctx context.Context, account, policyID string, kind EntityKind, entityID string) error
	// AttachedTo lists the attachments of one entity, oldest first (ties by policy id).
	AttachedTo(ctx context.Context, account string, kind EntityKind, entityID string) ([]*Attachment, error)
	// AttachmentsOf lists the attachments of one policy, oldest first
	// (ties by kind, then entity id).
	AttachmentsOf(ctx context.Context, account, policyID string) ([]*Attachment, error)

	// AddMember stores a membership; adding twice keeps the first AddedAt
	// and is not an error.
	AddMember(ctx context.Context, m *Membership) error
	// RemoveMember removes a membership; NotFound when there is none.
	RemoveMember(ctx context.Context, account, groupID, userID string) error
	// Members lists a group's memberships, oldest first (ties by user id).
	Members(ctx context.Context, account, groupID string) ([]*Membership, error)
	// GroupsOf lists a user's memberships, oldest first (ties by group id).
	GroupsOf(ctx context.Context, account, userID string) ([]*Membership, error)
}
