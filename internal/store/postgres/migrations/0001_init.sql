-- Coffer's schema on PostgreSQL: the tables of the SQLite store
-- (internal/store/sqlite/migrations) in PostgreSQL's types.
--
-- Times are BIGINT unix milliseconds, NULL for the zero time, as in SQLite.
-- The store keeps milliseconds and no zone; timestamptz would keep
-- microseconds to truncate and a zone to ignore, and the same integer in
-- both backends keeps sort keys and keyset cursors alike. Blobs are BYTEA,
-- flags BOOLEAN.
--
-- Text that is sorted, or compared in a keyset seek, is COLLATE "C": names
-- order byte by byte, case-sensitive, as Go's strings.Compare and SQLite
-- order them, whatever collation the database was created with.
--
-- Listings say NULLS FIRST where a nullable time leads the order, as SQLite
-- sorts NULL (the zero time) first; each index says it too, or it cannot
-- serve the order.
--
-- Child rows (tags, versions, stages, key material) go with their parent
-- through ON DELETE CASCADE.

CREATE TABLE accounts (
	id         TEXT COLLATE "C" PRIMARY KEY,
	name       TEXT NOT NULL,
	created_at BIGINT
);

CREATE TABLE access_keys (
	id           TEXT COLLATE "C" PRIMARY KEY,
	account      TEXT COLLATE "C" NOT NULL,
	principal    TEXT COLLATE "C" NOT NULL,
	sealed       BYTEA NOT NULL,
	status       TEXT NOT NULL,
	description  TEXT NOT NULL,
	created_at   BIGINT,
	last_used_at BIGINT
);

CREATE INDEX access_keys_principal ON access_keys (account, principal, created_at NULLS FIRST, id);

CREATE TABLE secrets (
	id               TEXT COLLATE "C" PRIMARY KEY,
	account          TEXT COLLATE "C" NOT NULL,
	region           TEXT COLLATE "C" NOT NULL,
	name             TEXT COLLATE "C" NOT NULL,
	description      TEXT NOT NULL,
	type             INTEGER NOT NULL,
	key_id           TEXT NOT NULL,
	status           TEXT NOT NULL,
	delete_at        BIGINT,
	created_at       BIGINT,
	updated_at       BIGINT,
	accessed_at      BIGINT,
	created_by       TEXT NOT NULL,
	config           TEXT NOT NULL,
	product          TEXT NOT NULL,
	resource_id      TEXT NOT NULL,
	rotation_enabled BOOLEAN NOT NULL,
	rotation_days    INTEGER NOT NULL,
	rotation_begin   BIGINT,
	rotation_next    BIGINT,
	rotation_last    BIGINT,
	rotator          TEXT NOT NULL,
	policy           TEXT NOT NULL,
	tagged           BOOLEAN NOT NULL,
	revision         BIGINT NOT NULL,
	-- Secret by name is one probe; the name order of ListSecrets walks it.
	CONSTRAINT secrets_name UNIQUE (account, region, name)
);

-- ListSecrets sorts by a time then name and pages by keyset: (time, name)
-- strictly after a cursor, a row comparison the index seeks to. The zero
-- time is stored as NULL, so each time order sorts by
-- COALESCE(col, -62135596800000), the zero time's unix milliseconds, which
-- sorts before every real time as the zero time does. One index per order,
-- walked in either direction, serves the (account, region) prefix, the seek
-- and the order without a sort step. The expressions must stay textually
-- identical to those of list.go, or the planner will not match them.
CREATE INDEX secrets_created ON secrets
	(account, region, COALESCE(created_at, -62135596800000), name);
CREATE INDEX secrets_updated ON secrets
	(account, region, COALESCE(updated_at, -62135596800000), name);
CREATE INDEX secrets_accessed ON secrets
	(account, region, COALESCE(accessed_at, -62135596800000), name);

-- SecretsDue reads the secrets pending deletion in (delete_at, id) order;
-- only those are in this index. list.go writes the status as a literal, so
-- the planner can prove the predicate for any parameter values.
CREATE INDEX secrets_due ON secrets (delete_at, id) WHERE status = 'PendingDelete';

CREATE TABLE secret_tags (
	secret_id TEXT COLLATE "C" NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
	position  INTEGER NOT NULL,
	key       TEXT NOT NULL,
	value     TEXT NOT NULL,
	PRIMARY KEY (secret_id, position)
);

-- A tag filter of ListSecrets reads the ids of the secrets carrying a tag
-- off this index alone.
CREATE INDEX secret_tags_key_value ON secret_tags (key, value, secret_id);

CREATE TABLE versions (
	secret_id   TEXT COLLATE "C" NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
	version_id  TEXT COLLATE "C" NOT NULL,
	seq         BIGINT NOT NULL,
	is_binary   BOOLEAN NOT NULL,
	ciphertext  BYTEA NOT NULL,
	wrapped_key BYTEA NOT NULL,
	key_id      TEXT NOT NULL,
	key_version INTEGER NOT NULL,
	token       TEXT NOT NULL,
	created_at  BIGINT,
	PRIMARY KEY (secret_id, version_id)
);

-- An idempotency token names at most one version of a secret; most
-- versions carry none, so the index holds only those that do. A query
-- uses it only when it says token <> '' too.
CREATE UNIQUE INDEX versions_token ON versions (secret_id, token) WHERE token <> '';
CREATE INDEX versions_seq ON versions (secret_id, seq);

-- The key (secret_id, stage) makes a label sit on at most one version of a
-- secret, and makes "which version is AWSCURRENT" one index probe.
CREATE TABLE version_stages (
	secret_id  TEXT COLLATE "C" NOT NULL,
	stage      TEXT COLLATE "C" NOT NULL,
	version_id TEXT COLLATE "C" NOT NULL,
	PRIMARY KEY (secret_id, stage),
	FOREIGN KEY (secret_id, version_id) REFERENCES versions (secret_id, version_id) ON DELETE CASCADE
);

CREATE INDEX version_stages_version ON version_stages (secret_id, version_id);

-- Counters that only grow: version_seq hands out Version.Seq, so a deleted
-- version's number is never reused. Writers hold the store's write lock
-- (db.go), so the row is no point of contention beyond that lock.
CREATE TABLE counters (
	name  TEXT PRIMARY KEY,
	value BIGINT NOT NULL
);

INSERT INTO counters (name, value) VALUES ('version_seq', 0);

CREATE TABLE keys (
	id          TEXT COLLATE "C" PRIMARY KEY,
	account     TEXT COLLATE "C" NOT NULL,
	region      TEXT COLLATE "C" NOT NULL,
	alias       TEXT COLLATE "C" NOT NULL,
	description TEXT NOT NULL,
	state       TEXT NOT NULL,
	is_default  BOOLEAN NOT NULL,
	delete_at   BIGINT,
	created_at  BIGINT,
	revision    BIGINT NOT NULL
);

CREATE UNIQUE INDEX keys_alias ON keys (account, region, alias) WHERE alias <> '';
CREATE INDEX keys_created ON keys (account, region, created_at NULLS FIRST, id);

CREATE TABLE key_material (
	key_id     TEXT COLLATE "C" NOT NULL REFERENCES keys (id) ON DELETE CASCADE,
	version    INTEGER NOT NULL,
	wrapped    BYTEA NOT NULL,
	created_at BIGINT,
	PRIMARY KEY (key_id, version)
);

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
