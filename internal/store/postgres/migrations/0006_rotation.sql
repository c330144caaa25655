-- Rotation: the runs of the rotation state machine, the databases
-- registered as rotation targets, and the index the rotation scheduler
-- reads secrets by.
--
-- Times are BIGINT unix milliseconds, NULL for the zero time, as in 0001.
-- A run names its secret by id with no foreign key: its record outlives
-- the secret (history), and a secret's deletion must not pull a run from
-- under the worker that holds it.

-- rotation_run_id hands out RotationRun.ID, the flow id, as version_seq
-- hands out Version.Seq: a counter rather than an identity column, because
-- counters travels in snapshots (a sequence does not: a restore by COPY
-- would leave it at 1) and SQLite keeps the same one.
INSERT INTO counters (name, value) VALUES ('rotation_run_id', 0);

CREATE TABLE rotation_runs (
	id          BIGINT PRIMARY KEY,
	account     TEXT COLLATE "C" NOT NULL,
	region      TEXT COLLATE "C" NOT NULL,
	secret_id   TEXT COLLATE "C" NOT NULL,
	secret_name TEXT COLLATE "C" NOT NULL,
	kind        TEXT NOT NULL,
	rotator     TEXT NOT NULL,
	version_id  TEXT NOT NULL,
	step        TEXT NOT NULL,
	state       TEXT NOT NULL,
	attempts    INTEGER NOT NULL,
	error       TEXT NOT NULL,
	detail      TEXT NOT NULL,
	next_at     BIGINT,
	started_at  BIGINT,
	updated_at  BIGINT,
	ended_at    BIGINT
);

-- RotationRunsDue reads the Running runs in (next_at, id) order; only
-- those are in this index. A zero NextAt (NULL) is due at once and sorts
-- first, so the key is COALESCE(next_at, -62135596800000), the zero time's
-- unix milliseconds, as in 0001. rotation.go writes the state as a literal
-- and the expression identically, so the planner matches both.
CREATE INDEX rotation_runs_due ON rotation_runs (COALESCE(next_at, -62135596800000), id)
	WHERE state = 'Running';
-- RotationRuns: a secret's runs, newest first.
CREATE INDEX rotation_runs_secret ON rotation_runs (secret_id, id DESC);

CREATE TABLE databases (
	account      TEXT COLLATE "C" NOT NULL,
	region       TEXT COLLATE "C" NOT NULL,
	id           TEXT COLLATE "C" NOT NULL,
	engine       TEXT NOT NULL,
	host         TEXT NOT NULL,
	port         INTEGER NOT NULL,
	admin_secret TEXT NOT NULL,
	options      TEXT NOT NULL,
	description  TEXT NOT NULL,
	created_at   BIGINT,
	PRIMARY KEY (account, region, id)
);

-- SecretsRotationDue reads the Enabled secrets with rotation enabled in
-- (rotation_next, id) order; only those are in this index. A zero
-- rotation_next (NULL) is never due. rotation.go writes the predicate as
-- literals, as secrets_due's is written, so the planner can prove it.
CREATE INDEX secrets_rotation_due ON secrets (rotation_next, id)
	WHERE rotation_enabled AND status = 'Enabled';
