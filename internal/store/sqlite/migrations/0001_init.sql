-- Coffer's initial schema.
--
-- Times are INTEGER unix milliseconds, NULL for the zero time.
-- Child rows (tags, versions, stages, key material) go with their parent
-- through ON DELETE CASCADE; the DSN turns foreign keys on.

CREATE TABLE accounts (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	created_at INTEGER
) STRICT;

CREATE TABLE access_keys (
	id           TEXT PRIMARY KEY,
	account      TEXT NOT NULL,
	principal    TEXT NOT NULL,
	sealed       BLOB NOT NULL,
	status       TEXT NOT NULL,
	created_at   INTEGER,
	last_used_at INTEGER
) STRICT;

CREATE INDEX access_keys_principal ON access_keys (account, principal, created_at, id);

CREATE TABLE secrets (
	id               TEXT PRIMARY KEY,
	account          TEXT NOT NULL,
	region           TEXT NOT NULL,
	name             TEXT NOT NULL,
	description      TEXT NOT NULL,
	type             INTEGER NOT NULL,
	key_id           TEXT NOT NULL,
	status           TEXT NOT NULL,
	delete_at        INTEGER,
	created_at       INTEGER,
	updated_at       INTEGER,
	accessed_at      INTEGER,
	created_by       TEXT NOT NULL,
	config           TEXT NOT NULL,
	product          TEXT NOT NULL,
	resource_id      TEXT NOT NULL,
	rotation_enabled INTEGER NOT NULL,
	rotation_days    INTEGER NOT NULL,
	rotation_begin   INTEGER,
	rotation_next    INTEGER,
	rotation_last    INTEGER,
	rotator          TEXT NOT NULL,
	revision         INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX secrets_name ON secrets (account, region, name);
-- ListSecrets walks this index in either direction: (created_at, name) is
-- the listing order, so pages need no sort.
CREATE INDEX secrets_created ON secrets (account, region, created_at, name);
-- SecretsDue: status = 'PendingDelete' AND delete_at <= ?, in (delete_at, id)
-- order, read off the index without a sort.
CREATE INDEX secrets_due ON secrets (status, delete_at, id);

CREATE TABLE secret_tags (
	secret_id TEXT NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
	position  INTEGER NOT NULL,
	key       TEXT NOT NULL,
	value     TEXT NOT NULL,
	PRIMARY KEY (secret_id, position)
) STRICT, WITHOUT ROWID;

CREATE INDEX secret_tags_key_value ON secret_tags (key, value);

CREATE TABLE versions (
	secret_id   TEXT NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
	version_id  TEXT NOT NULL,
	seq         INTEGER NOT NULL,
	is_binary   INTEGER NOT NULL,
	ciphertext  BLOB NOT NULL,
	wrapped_key BLOB NOT NULL,
	key_id      TEXT NOT NULL,
	key_version INTEGER NOT NULL,
	token       TEXT NOT NULL,
	created_at  INTEGER,
	PRIMARY KEY (secret_id, version_id)
) STRICT, WITHOUT ROWID;

-- An idempotency token names at most one version of a secret; most
-- versions carry none, so the index holds only those that do. A query
-- uses it only when it says token <> '' too.
CREATE UNIQUE INDEX versions_token ON versions (secret_id, token) WHERE token <> '';
CREATE INDEX versions_seq ON versions (secret_id, seq);

-- The key (secret_id, stage) makes a label sit on at most one version of a
-- secret, and makes "which version is AWSCURRENT" one index probe.
CREATE TABLE version_stages (
	secret_id  TEXT NOT NULL,
	stage      TEXT NOT NULL,
	version_id TEXT NOT NULL,
	PRIMARY KEY (secret_id, stage),
	FOREIGN KEY (secret_id, version_id) REFERENCES versions (secret_id, version_id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

CREATE INDEX version_stages_version ON version_stages (secret_id, version_id);

-- Counters that only grow: version_seq hands out Version.Seq, so a deleted
-- version's number is never reused.
CREATE TABLE counters (
	name  TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

INSERT INTO counters (name, value) VALUES ('version_seq', 0);

CREATE TABLE keys (
	id          TEXT PRIMARY KEY,
	account     TEXT NOT NULL,
	region      TEXT NOT NULL,
	alias       TEXT NOT NULL,
	description TEXT NOT NULL,
	state       TEXT NOT NULL,
	is_default  INTEGER NOT NULL,
	delete_at   INTEGER,
	created_at  INTEGER,
	revision    INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX keys_alias ON keys (account, region, alias) WHERE alias <> '';
CREATE INDEX keys_created ON keys (account, region, created_at, id);

CREATE TABLE key_material (
	key_id     TEXT NOT NULL REFERENCES keys (id) ON DELETE CASCADE,
	version    INTEGER NOT NULL,
	wrapped    BLOB NOT NULL,
	created_at INTEGER,
	PRIMARY KEY (key_id, version)
) STRICT, WITHOUT ROWID;

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT, WITHOUT ROWID;
