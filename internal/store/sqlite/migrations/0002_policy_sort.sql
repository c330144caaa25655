-- Resource policies, the Tagged flag, and the indexes of the listing orders.
--
-- Existing rows get no policy and Tagged false.
ALTER TABLE secrets ADD COLUMN policy TEXT NOT NULL DEFAULT '';
ALTER TABLE secrets ADD COLUMN tagged INTEGER NOT NULL DEFAULT 0;

-- ListSecrets sorts by a time and pages by keyset: (time, name) strictly
-- after a cursor. The zero time is stored as NULL, and NULL compares as
-- nothing, so each time order uses the key COALESCE(col, -62135596800000):
-- the zero time's unix milliseconds, which sorts before every real time as
-- the zero time does. One index per order, walked in either direction,
-- serves the (account, region) prefix, the keyset seek and the order
-- without a sort step. The expression must stay textually identical to the
-- one list.go writes, or SQLite will not match it to the index.
DROP INDEX secrets_created;
CREATE INDEX secrets_created ON secrets
	(account, region, COALESCE(created_at, -62135596800000), name);
CREATE INDEX secrets_updated ON secrets
	(account, region, COALESCE(updated_at, -62135596800000), name);
CREATE INDEX secrets_accessed ON secrets
	(account, region, COALESCE(accessed_at, -62135596800000), name);
-- The name order uses secrets_name (account, region, name) from 0001.
