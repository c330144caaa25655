-- Customer master keys: rotation schedules, and an index to find the
-- versions a key wraps (re-wrap after rotation, crypto-shred reports).

ALTER TABLE keys ADD COLUMN rotation_enabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE keys ADD COLUMN rotation_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE keys ADD COLUMN rotation_next INTEGER;
ALTER TABLE keys ADD COLUMN rotation_last INTEGER;

-- KeysDue: pending deletions and rotations due, oldest first.
CREATE INDEX keys_delete_due ON keys (state, delete_at, id);
CREATE INDEX keys_rotation_due ON keys (rotation_enabled, rotation_next, id);

-- VersionsByKey / CountVersionsByKey walk the versions of one key by
-- wrapping version, then in (secret_id, version_id) order.
CREATE INDEX versions_key ON versions (key_id, key_version, secret_id, version_id);
