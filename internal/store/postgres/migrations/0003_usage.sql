-- Hourly usage for metering, rolled up from the audit log (internal/usage).
--
-- hour is the hour's start in BIGINT unix milliseconds, UTC. A row of
-- usage_calls is a running count: the roller adds to it (upsert adds), so
-- its key is every column but calls. A row of usage_secret_hours is the
-- latest sample of the secrets held in its hour (upsert replaces).
CREATE TABLE usage_calls (
	hour    BIGINT NOT NULL,
	account TEXT COLLATE "C" NOT NULL,
	region  TEXT COLLATE "C" NOT NULL,
	family  TEXT COLLATE "C" NOT NULL,
	action  TEXT COLLATE "C" NOT NULL,
	result  TEXT COLLATE "C" NOT NULL,
	calls   BIGINT NOT NULL,
	PRIMARY KEY (hour, account, region, family, action, result)
);

-- A report reads one account over a window of hours.
CREATE INDEX usage_calls_account ON usage_calls (account, hour);

CREATE TABLE usage_secret_hours (
	hour    BIGINT NOT NULL,
	account TEXT COLLATE "C" NOT NULL,
	region  TEXT COLLATE "C" NOT NULL,
	secrets BIGINT NOT NULL,
	PRIMARY KEY (hour, account, region)
);

CREATE INDEX usage_secret_hours_account ON usage_secret_hours (account, hour);
