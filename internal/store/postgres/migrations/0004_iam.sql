-- IAM: users, groups and roles, managed policies and their versions, the
-- attachments of policies to identities, and group memberships.
--
-- Times are BIGINT unix milliseconds, NULL for the zero time, as in 0001;
-- the "oldest first" listings order by created_at NULLS FIRST, as the zero
-- time sorts first. Every table but iam_policy_versions leads with account:
-- each look-up is scoped by it, so an id from another account finds
-- nothing. Tags and versions go with their policy, attachments and
-- memberships with their entity, through ON DELETE CASCADE; where no
-- foreign key can say it (a policy's attachments; a user's access keys, as
-- access_keys.principal also names the root), DeletePolicy and DeleteEntity
-- remove the dependent rows themselves.

-- Accounts lists every account, oldest first.
CREATE INDEX accounts_created ON accounts (created_at NULLS FIRST, id);

-- Users, groups and roles in one table: they share their shape, and
-- attachments point at any of them by (account, kind, id). attrs is the
-- iam package's JSON, kept as TEXT: jsonb would reorder and respace it.
CREATE TABLE iam_entities (
	account    TEXT COLLATE "C" NOT NULL,
	kind       TEXT COLLATE "C" NOT NULL,
	id         TEXT COLLATE "C" NOT NULL,
	name       TEXT COLLATE "C" NOT NULL,
	attrs      TEXT NOT NULL,
	created_at BIGINT,
	updated_at BIGINT,
	revision   BIGINT NOT NULL,
	PRIMARY KEY (account, kind, id),
	CONSTRAINT iam_entities_name UNIQUE (account, kind, name)
);

-- Entities lists one kind in (created_at, id) order, read off the index.
CREATE INDEX iam_entities_created ON iam_entities (account, kind, created_at NULLS FIRST, id);

CREATE TABLE iam_policies (
	account         TEXT COLLATE "C" NOT NULL,
	id              TEXT COLLATE "C" NOT NULL,
	name            TEXT COLLATE "C" NOT NULL,
	description     TEXT NOT NULL,
	default_version BIGINT NOT NULL,
	next_version    BIGINT NOT NULL,
	created_at      BIGINT,
	updated_at      BIGINT,
	revision        BIGINT NOT NULL,
	PRIMARY KEY (account, id),
	-- The version methods of store.IAMTx name a policy by its id alone, with
	-- no account: a policy id must therefore be unique across the
	-- deployment, or two accounts' policies would share (and delete) each
	-- other's versions.
	CONSTRAINT iam_policies_id UNIQUE (id),
	CONSTRAINT iam_policies_name UNIQUE (account, name)
);

CREATE INDEX iam_policies_created ON iam_policies (account, created_at NULLS FIRST, id);

CREATE TABLE iam_policy_tags (
	account   TEXT COLLATE "C" NOT NULL,
	policy_id TEXT COLLATE "C" NOT NULL,
	position  INTEGER NOT NULL,
	key       TEXT NOT NULL,
	value     TEXT NOT NULL,
	PRIMARY KEY (account, policy_id, position),
	FOREIGN KEY (account, policy_id) REFERENCES iam_policies (account, id) ON DELETE CASCADE
);

-- Version numbers are the caller's (Policy.NextVersion hands them out), so
-- the key is (policy_id, version) and no counter lives here.
CREATE TABLE iam_policy_versions (
	policy_id  TEXT COLLATE "C" NOT NULL REFERENCES iam_policies (id) ON DELETE CASCADE,
	version    BIGINT NOT NULL,
	document   TEXT NOT NULL,
	created_at BIGINT,
	PRIMARY KEY (policy_id, version)
);

-- The foreign key makes an attachment name an entity that exists, and go
-- with it. The policy has none: internal/iam attaches preset policies,
-- which live in code and have no row in iam_policies; DeletePolicy removes
-- a stored policy's attachments itself.
CREATE TABLE iam_attachments (
	account     TEXT COLLATE "C" NOT NULL,
	policy_id   TEXT COLLATE "C" NOT NULL,
	kind        TEXT COLLATE "C" NOT NULL,
	entity_id   TEXT COLLATE "C" NOT NULL,
	attached_at BIGINT,
	PRIMARY KEY (account, policy_id, kind, entity_id),
	FOREIGN KEY (account, kind, entity_id) REFERENCES iam_entities (account, kind, id) ON DELETE CASCADE
);

-- AttachmentsOf and AttachedTo read these in their listing orders; they
-- also serve DeletePolicy and the cascade from iam_entities.
CREATE INDEX iam_attachments_policy ON iam_attachments
	(account, policy_id, attached_at NULLS FIRST, kind, entity_id);
CREATE INDEX iam_attachments_entity ON iam_attachments
	(account, kind, entity_id, attached_at NULLS FIRST, policy_id);

-- group_kind and user_kind are constants, there only so the foreign keys
-- can say the group id names a group and the user id a user: a group and a
-- user may share an id, and deleting one must not take the other's
-- memberships.
CREATE TABLE iam_memberships (
	account    TEXT COLLATE "C" NOT NULL,
	group_id   TEXT COLLATE "C" NOT NULL,
	user_id    TEXT COLLATE "C" NOT NULL,
	added_at   BIGINT,
	group_kind TEXT COLLATE "C" NOT NULL GENERATED ALWAYS AS ('group') STORED,
	user_kind  TEXT COLLATE "C" NOT NULL GENERATED ALWAYS AS ('user') STORED,
	PRIMARY KEY (account, group_id, user_id),
	FOREIGN KEY (account, group_kind, group_id) REFERENCES iam_entities (account, kind, id) ON DELETE CASCADE,
	FOREIGN KEY (account, user_kind, user_id) REFERENCES iam_entities (account, kind, id) ON DELETE CASCADE
);

-- Members and GroupsOf read these in their listing orders; they also serve
-- the cascades from iam_entities.
CREATE INDEX iam_memberships_group ON iam_memberships (account, group_id, added_at NULLS FIRST, user_id);
CREATE INDEX iam_memberships_user ON iam_memberships (account, user_id, added_at NULLS FIRST, group_id);
