-- Audit look-up indexes maintained in the background.
--
-- Every audited call, reads included, waits for its event to be committed
-- and synced. With six indexes on audit_events, a group commit of a few
-- events wrote some thirty pages to the log: the events' page and, for
-- each index, the page its key falls on (the resource index on a page per
-- secret named). An event now lands unindexed (indexed = 0), on the
-- table's last page only, and the store's indexer (audit.go) marks events
-- indexed a few hundred at a time, so each index page is written once for
-- many events.
--
-- The indexes are partial (WHERE indexed = 1). A look-up reads the indexed
-- events through them and the few unindexed ones, all after the mark, by a
-- scan of the table's end; the two parts never overlap.
ALTER TABLE audit_events ADD COLUMN indexed INTEGER NOT NULL DEFAULT 1;

DROP INDEX audit_events_account;
DROP INDEX audit_events_account_time;
DROP INDEX audit_events_resource;
DROP INDEX audit_events_action;
DROP INDEX audit_events_access_key;
DROP INDEX audit_events_request;

CREATE INDEX audit_events_account ON audit_events (account, seq) WHERE indexed = 1;
CREATE INDEX audit_events_account_time ON audit_events (account, time) WHERE indexed = 1;
CREATE INDEX audit_events_resource ON audit_events (account, resource, seq) WHERE indexed = 1;
CREATE INDEX audit_events_action ON audit_events (account, action, seq) WHERE indexed = 1;
CREATE INDEX audit_events_access_key ON audit_events (account, access_key_id, seq) WHERE indexed = 1;
CREATE INDEX audit_events_request ON audit_events (request_id) WHERE indexed = 1;

-- Every event with indexed = 0 has a seq above the mark. The indexer moves
-- it; InsertEvents indexes at once an event it is given at or below it.
-- Derived, like the indexes: not in snapshots.
CREATE TABLE audit_index_mark (
	id  INTEGER PRIMARY KEY CHECK (id = 1),
	seq INTEGER NOT NULL
) STRICT;
INSERT INTO audit_index_mark (id, seq) SELECT 1, coalesce(max(seq), 0) FROM audit_events;
