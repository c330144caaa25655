-- Name search (ListSecrets' Search: a case-sensitive substring) through a
-- trigram index, so a search over a million names reads the few that
-- match instead of scanning every name of the account.
--
-- FTS5 needs an integer key for each row that never changes. The secrets
-- table has none (its rowid is implicit, and VACUUM may renumber it), so
-- secret_names gives each secret one, n, and is the index's content: the
-- index verifies each candidate against the name stored there.
-- Triggers keep both in step with secrets; nothing else writes them.
-- Neither is in a snapshot: a restore's inserts fire the same triggers.
CREATE TABLE secret_names (
	n         INTEGER PRIMARY KEY,
	secret_id TEXT NOT NULL UNIQUE,
	name      TEXT NOT NULL
) STRICT;

-- detail='none' keeps only which rows hold each trigram: enough for GLOB,
-- which the store uses, at a fraction of the size.
CREATE VIRTUAL TABLE secret_search USING fts5(
	name, secret_id UNINDEXED,
	content = 'secret_names', content_rowid = 'n',
	tokenize = 'trigram case_sensitive 1', detail = 'none', columnsize = 0
);

CREATE TRIGGER secrets_search_insert AFTER INSERT ON secrets BEGIN
	INSERT INTO secret_names (secret_id, name) VALUES (new.id, new.name);
	INSERT INTO secret_search (rowid, name, secret_id)
		SELECT n, name, secret_id FROM secret_names WHERE secret_id = new.id;
END;

CREATE TRIGGER secrets_search_delete AFTER DELETE ON secrets BEGIN
	INSERT INTO secret_search (secret_search, rowid, name, secret_id)
		SELECT 'delete', n, name, secret_id FROM secret_names WHERE secret_id = old.id;
	DELETE FROM secret_names WHERE secret_id = old.id;
END;

CREATE TRIGGER secrets_search_rename AFTER UPDATE OF name ON secrets
WHEN old.name IS NOT new.name BEGIN
	INSERT INTO secret_search (secret_search, rowid, name, secret_id)
		SELECT 'delete', n, name, secret_id FROM secret_names WHERE secret_id = old.id;
	UPDATE secret_names SET name = new.name WHERE secret_id = old.id;
	INSERT INTO secret_search (rowid, name, secret_id)
		SELECT n, name, secret_id FROM secret_names WHERE secret_id = old.id;
END;

-- The secrets of an older database, in one pass.
INSERT INTO secret_names (secret_id, name) SELECT id, name FROM secrets ORDER BY rowid;
INSERT INTO secret_search (secret_search) VALUES ('rebuild');
