-- Hourly usage for metering, rolled up from the audit log (internal/usage).
--
-- hour is the hour's start in INTEGER unix milliseconds, UTC. A row of
-- usage_calls is a running count: the roller adds to it (upsert adds), so
-- its key is every column but calls. A row of usage_secret_hours is the
-- latest sample of the secrets held in its hour (upsert replaces).
CREATE TABLE usage_calls (
	hour    INTEGER NOT NULL,
	account TEXT NOT NULL,
	region  TEXT NOT NULL,
	family  TEXT NOT NULL,
	action  TEXT NOT NULL,
	result  TEXT NOT NULL,
	calls   INTEGER NOT NULL,
	PRIMARY KEY (hour, account, region, family, action, result)
) STRICT, WITHOUT ROWID;

-- A report reads one account over a window of hours.
CREATE INDEX usage_calls_account ON usage_calls (account, hour);

CREATE TABLE usage_secret_hours (
	hour    INTEGER NOT NULL,
	account TEXT NOT NULL,
	region  TEXT NOT NULL,
	secrets INTEGER NOT NULL,
	PRIMARY KEY (hour, account, region)
) STRICT, WITHOUT ROWID;

CREATE INDEX usage_secret_hours_account ON usage_secret_hours (account, hour);
