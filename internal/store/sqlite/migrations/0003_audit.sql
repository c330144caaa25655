-- The audit chain: events, its head, and signed checkpoints.
--
-- seq is the chain position the audit log assigns, not a counter of the
-- store: a plain INTEGER PRIMARY KEY (the rowid), never AUTOINCREMENT, so
-- a taken seq fails the insert and retention may delete from the front.
-- Times are INTEGER unix milliseconds, NULL for the zero time, as in 0001.
CREATE TABLE audit_events (
	seq            INTEGER PRIMARY KEY,
	time           INTEGER,
	account        TEXT NOT NULL,
	principal_id   TEXT NOT NULL,
	principal_name TEXT NOT NULL,
	principal_kind TEXT NOT NULL,
	session        TEXT NOT NULL,
	access_key_id  TEXT NOT NULL,
	source_ip      TEXT NOT NULL,
	user_agent     TEXT NOT NULL,
	region         TEXT NOT NULL,
	family         TEXT NOT NULL,
	action         TEXT NOT NULL,
	read_only      INTEGER NOT NULL,
	resource       TEXT NOT NULL,
	version_id     TEXT NOT NULL,
	request_id     TEXT NOT NULL,
	error_code     TEXT NOT NULL,
	params         TEXT NOT NULL,
	prev_hash      BLOB NOT NULL,
	hash           BLOB NOT NULL
) STRICT;

-- An account's look-ups read newest first (seq DESC) within a time window,
-- a page at a time (seq < the last one shown). An index with an equality
-- prefix and seq last (every index ends in the rowid, seq, anyway) walks
-- backwards with no sort step and stops at the page's limit; a bare window
-- reads (account, time) and sorts its events. audit.go's eventIndex picks
-- one per query and names it in INDEXED BY: rename none without it.
-- Verification and export need none: they scan the rowid.
CREATE INDEX audit_events_account ON audit_events (account, seq);
CREATE INDEX audit_events_account_time ON audit_events (account, time);
CREATE INDEX audit_events_resource ON audit_events (account, resource, seq);
CREATE INDEX audit_events_action ON audit_events (account, action, seq);
CREATE INDEX audit_events_access_key ON audit_events (account, access_key_id, seq);
CREATE INDEX audit_events_request ON audit_events (request_id);

-- The chain's head: at most one row, absent until the first append.
CREATE TABLE audit_head (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	seq  INTEGER NOT NULL,
	hash BLOB NOT NULL
) STRICT;

CREATE TABLE audit_checkpoints (
	seq       INTEGER PRIMARY KEY,
	head      BLOB NOT NULL,
	time      INTEGER,
	key_id    TEXT NOT NULL,
	signature BLOB NOT NULL
) STRICT;
