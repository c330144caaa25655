-- Rotation: the runs of the rotation state machine, the databases
-- registered as rotation targets, and the index the rotation scheduler
-- reads secrets by.
--
-- Times are INTEGER unix milliseconds, NULL for the zero time, as in 0001.
-- A run names its secret by id with no foreign key: its record outlives
-- the secret (history), and a secret's deletion must not pull a run from
-- under the worker that holds it.

-- rotation_run_id hands out RotationRun.ID, the flow id, as version_seq
-- hands out Version.Seq: a counter rather than AUTOINCREMENT, because
-- counters travels in snapshots (sqlite_sequence does not) and PostgreSQL
-- keeps the same one, so no restore hands out a flow id twice.
INSERT INTO counters (name, value) VALUES ('rotation_run_id', 0);

CREATE TABLE rotation_runs (
	id          INTEGER PRIMARY KEY,
	account     TEXT NOT NULL,
	region      TEXT NOT NULL,
	secret_id   TEXT NOT NULL,
	secret_name TEXT NOT NULL,
	kind        TEXT NOT NULL,
	rotator     TEXT NOT NULL,
	version_id  TEXT NOT NULL,
	step        TEXT NOT NULL,
	state       TEXT NOT NULL,
	attempts    INTEGER NOT NULL,
	error       TEXT NOT NULL,
	detail      TEXT NOT NULL,
	next_at     INTEGER,
	started_at  INTEGER,
	updated_at  INTEGER,
	ended_at    INTEGER
) STRICT;

-- RotationRunsDue: state = 'Running' AND next_at at or before t, in
-- (next_at, id) order. A zero NextAt (NULL) is due at once and sorts
-- first, so the key is COALESCE(next_at, -62135596800000), the zero
-- time's unix milliseconds, as in 0002; rotation.go must write the
-- expression identically or SQLite will not match it to the index.
CREATE INDEX rotation_runs_due ON rotation_runs
	(state, COALESCE(next_at, -62135596800000), id);
-- RotationRuns: a secret's runs, newest first.
CREATE INDEX rotation_runs_secret ON rotation_runs (secret_id, id DESC);

CREATE TABLE databases (
	account      TEXT NOT NULL,
	region       TEXT NOT NULL,
	id           TEXT NOT NULL,
	engine       TEXT NOT NULL,
	host         TEXT NOT NULL,
	port         INTEGER NOT NULL,
	admin_secret TEXT NOT NULL,
	options      TEXT NOT NULL,
	description  TEXT NOT NULL,
	created_at   INTEGER,
	PRIMARY KEY (account, region, id)
) STRICT, WITHOUT ROWID;

-- SecretsRotationDue: Enabled secrets with rotation enabled whose
-- rotation_next is at or before t, in (rotation_next, id) order. A zero
-- rotation_next (NULL) is never due, and a range on the column skips the
-- NULLs at the head of the index.
CREATE INDEX secrets_rotation_due ON secrets (rotation_enabled, status, rotation_next, id);
