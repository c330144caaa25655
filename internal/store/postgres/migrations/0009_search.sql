-- Name search (ListSecrets' Search: a case-sensitive substring, matched
-- with LIKE) through a trigram index, so a search over a million names
-- reads the few that match instead of every name of the account.
--
-- The index needs the pg_trgm extension, which ships with PostgreSQL
-- (contrib) and is trusted: a role that may create objects in the
-- database and in schema public can install it. Where pg_trgm is not
-- installed and cannot be, the migration goes on without the index and
-- says so; searches then scan, as before, and give the same answers.
-- Installing pg_trgm later and running
--   CREATE INDEX secrets_name_trgm ON secrets USING gin (name gin_trgm_ops);
-- in Coffer's schema adds it (docs/operations.md).
DO $$
DECLARE
	ext text;
BEGIN
	SELECT extnamespace::regnamespace::text INTO ext FROM pg_extension WHERE extname = 'pg_trgm';
	IF ext IS NULL THEN
		BEGIN
			CREATE EXTENSION pg_trgm SCHEMA public;
		EXCEPTION WHEN OTHERS THEN
			RAISE WARNING 'coffer: name search will scan: cannot install pg_trgm: %', SQLERRM;
			RETURN;
		END;
		SELECT extnamespace::regnamespace::text INTO ext FROM pg_extension WHERE extname = 'pg_trgm';
	END IF;
	EXECUTE format('CREATE INDEX secrets_name_trgm ON secrets USING gin (name %s.gin_trgm_ops)', ext);
END
$$;
