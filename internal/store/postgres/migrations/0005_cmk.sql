-- Customer master keys: rotation schedules, and an index to find the
-- versions a key wraps (re-wrap after rotation, crypto-shred reports).
--
-- Times are BIGINT unix milliseconds, NULL for the zero time, as in 0001.
-- Existing keys get no rotation.
ALTER TABLE keys
	ADD COLUMN rotation_enabled BOOLEAN NOT NULL DEFAULT false,
	ADD COLUMN rotation_days    INTEGER NOT NULL DEFAULT 0,
	ADD COLUMN rotation_next    BIGINT,
	ADD COLUMN rotation_last    BIGINT;

-- KeysDue reads the keys pending deletion and those with a rotation
-- scheduled; only those are in these indexes. keys.go writes the
-- predicates as literals, so the planner can match them (a BitmapOr).
CREATE INDEX keys_delete_due ON keys (delete_at) WHERE state = 'PendingDelete';
CREATE INDEX keys_rotation_due ON keys (rotation_next) WHERE rotation_enabled;

-- VersionsByKey walks the versions of one key in (secret_id, version_id)
-- order from a keyset position; CountVersionsByKey counts them off the
-- index alone, key_version included.
CREATE INDEX versions_key ON versions (key_id, secret_id, version_id) INCLUDE (key_version);
