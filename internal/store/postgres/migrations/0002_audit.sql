-- The audit chain: events, its head, and signed checkpoints.
--
-- seq is the chain position the audit log assigns, not a sequence of the
-- store: a taken seq fails the insert, and retention deletes from the front.
-- Times are BIGINT unix milliseconds, NULL for the zero time, as in 0001.
CREATE TABLE audit_events (
	seq            BIGINT PRIMARY KEY,
	time           BIGINT,
	account        TEXT COLLATE "C" NOT NULL,
	principal_id   TEXT COLLATE "C" NOT NULL,
	principal_name TEXT NOT NULL,
	principal_kind TEXT NOT NULL,
	session        TEXT NOT NULL,
	access_key_id  TEXT COLLATE "C" NOT NULL,
	source_ip      TEXT NOT NULL,
	user_agent     TEXT NOT NULL,
	region         TEXT NOT NULL,
	family         TEXT NOT NULL,
	action         TEXT COLLATE "C" NOT NULL,
	read_only      BOOLEAN NOT NULL,
	resource       TEXT COLLATE "C" NOT NULL,
	version_id     TEXT NOT NULL,
	request_id     TEXT COLLATE "C" NOT NULL,
	error_code     TEXT NOT NULL,
	params         TEXT NOT NULL,
	prev_hash      BYTEA NOT NULL,
	hash           BYTEA NOT NULL
);

-- An account's look-ups read newest first (seq DESC), a page at a time
-- (seq < the last one shown). An index with an equality prefix and seq last
-- walks backwards with no sort step and stops at the page's limit; a bare
-- time window reads (account, time) and sorts that window's events.
-- Verification and export read the primary key in seq order.
CREATE INDEX audit_events_account ON audit_events (account, seq);
CREATE INDEX audit_events_account_time ON audit_events (account, time);
CREATE INDEX audit_events_resource ON audit_events (account, resource, seq);
CREATE INDEX audit_events_action ON audit_events (account, action, seq);
CREATE INDEX audit_events_access_key ON audit_events (account, access_key_id, seq);
CREATE INDEX audit_events_request ON audit_events (request_id);

-- The chain's head: at most one row, absent until the first append.
CREATE TABLE audit_head (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	seq  BIGINT NOT NULL,
	hash BYTEA NOT NULL
);

CREATE TABLE audit_checkpoints (
	seq       BIGINT PRIMARY KEY,
	head      BYTEA NOT NULL,
	time      BIGINT,
	key_id    TEXT NOT NULL,
	signature BYTEA NOT NULL
);
