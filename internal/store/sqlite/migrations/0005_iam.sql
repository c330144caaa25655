-- IAM: users, groups and roles, managed policies and their versions, the
-- attachments of policies to identities, and group memberships.
--
-- Times are INTEGER unix milliseconds, NULL for the zero time, as in 0001;
-- NULL sorts first, as the zero time does, so the "oldest first" listings
-- need no COALESCE. Every table but iam_policy_versions leads with account:
-- each look-up is scoped by it, so an id from another account finds
-- nothing. Tags and versions go with their policy, attachments with their
-- entity, through ON DELETE CASCADE; where no foreign key can say it (see
-- iam_attachments and iam_memberships; access_keys.principal also names
-- the root), DeletePolicy and DeleteEntity remove the dependent rows
-- themselves.

-- Existing keys get no description.
ALTER TABLE access_keys ADD COLUMN description TEXT NOT NULL DEFAULT '';

-- Accounts lists every account, oldest first.
CREATE INDEX accounts_created ON accounts (created_at, id);

-- Users, groups and roles in one table: they share their shape, and
-- attachments point at any of them by (account, kind, id).
CREATE TABLE iam_entities (
	account    TEXT NOT NULL,
	kind       TEXT NOT NULL,
	id         TEXT NOT NULL,
	name       TEXT NOT NULL,
	attrs      TEXT NOT NULL,
	created_at INTEGER,
	updated_at INTEGER,
	revision   INTEGER NOT NULL,
	PRIMARY KEY (account, kind, id)
) STRICT, WITHOUT ROWID;

CREATE UNIQUE INDEX iam_entities_name ON iam_entities (account, kind, name);
-- Entities lists one kind in (created_at, id) order, read off the index.
CREATE INDEX iam_entities_created ON iam_entities (account, kind, created_at, id);

CREATE TABLE iam_policies (
	account         TEXT NOT NULL,
	id              TEXT NOT NULL,
	name            TEXT NOT NULL,
	description     TEXT NOT NULL,
	default_version INTEGER NOT NULL,
	next_version    INTEGER NOT NULL,
	created_at      INTEGER,
	updated_at      INTEGER,
	revision        INTEGER NOT NULL,
	PRIMARY KEY (account, id)
) STRICT, WITHOUT ROWID;

-- The version methods of store.IAMTx name a policy by its id alone, with no
-- account: a policy id must therefore be unique across the deployment, or
-- two accounts' policies would share (and delete) each other's versions.
CREATE UNIQUE INDEX iam_policies_id ON iam_policies (id);
CREATE UNIQUE INDEX iam_policies_name ON iam_policies (account, name);
CREATE INDEX iam_policies_created ON iam_policies (account, created_at, id);

CREATE TABLE iam_policy_tags (
	account   TEXT NOT NULL,
	policy_id TEXT NOT NULL,
	position  INTEGER NOT NULL,
	key       TEXT NOT NULL,
	value     TEXT NOT NULL,
	PRIMARY KEY (account, policy_id, position),
	FOREIGN KEY (account, policy_id) REFERENCES iam_policies (account, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- Version numbers are the caller's (Policy.NextVersion hands them out), so
-- the key is (policy_id, version) and no counter lives here.
CREATE TABLE iam_policy_versions (
	policy_id  TEXT NOT NULL REFERENCES iam_policies (id) ON DELETE CASCADE,
	version    INTEGER NOT NULL,
	document   TEXT NOT NULL,
	created_at INTEGER,
	PRIMARY KEY (policy_id, version)
) STRICT, WITHOUT ROWID;

-- The foreign key makes an attachment name an entity that exists, and go
-- with it. The policy has none: internal/iam attaches preset policies,
-- which live in code and have no row in iam_policies.
CREATE TABLE iam_attachments (
	account     TEXT NOT NULL,
	policy_id   TEXT NOT NULL,
	kind        TEXT NOT NULL,
	entity_id   TEXT NOT NULL,
	attached_at INTEGER,
	PRIMARY KEY (account, policy_id, kind, entity_id),
	FOREIGN KEY (account, kind, entity_id) REFERENCES iam_entities (account, kind, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- AttachmentsOf and AttachedTo read these in their listing orders; they
-- also serve DeletePolicy and the cascade from iam_entities.
CREATE INDEX iam_attachments_policy ON iam_attachments
	(account, policy_id, attached_at, kind, entity_id);
CREATE INDEX iam_attachments_entity ON iam_attachments
	(account, kind, entity_id, attached_at, policy_id);

-- No foreign keys here: a key to iam_entities would need a kind column
-- holding a constant ('group', 'user'), and SQLite plans the cascade's
-- look-up on such a column badly. DeleteEntity removes an entity's
-- memberships and AddMember checks both ends exist instead.
CREATE TABLE iam_memberships (
	account  TEXT NOT NULL,
	group_id TEXT NOT NULL,
	user_id  TEXT NOT NULL,
	added_at INTEGER,
	PRIMARY KEY (account, group_id, user_id)
) STRICT, WITHOUT ROWID;

-- Members and GroupsOf read these in their listing orders, and DeleteEntity
-- finds a group's or a user's memberships through them.
CREATE INDEX iam_memberships_group ON iam_memberships (account, group_id, added_at, user_id);
CREATE INDEX iam_memberships_user ON iam_memberships (account, user_id, added_at, group_id);
