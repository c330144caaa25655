-- Cross-region replication: a primary secret's replicas, a replica's
-- primary region, and the index the replication worker reads primaries by.
--
-- replicas holds Secret.Replicas as the JSON of encoding/json, '' for none,
-- in TEXT as in SQLite (replication.go): the worker reads the list whole,
-- nothing queries inside it, and a snapshot carries the text between the
-- backends as it is. Existing rows are neither primaries nor replicas; a
-- constant default adds the columns without rewriting the table.
ALTER TABLE secrets
	ADD COLUMN replicas TEXT NOT NULL DEFAULT '',
	ADD COLUMN primary_region TEXT NOT NULL DEFAULT '';

-- ReplicatedSecrets reads the secrets with replicas, any account, in id
-- order after a cursor; only those are in this index. replication.go
-- writes the predicate as the literal the index says, so the planner can
-- prove it.
CREATE INDEX secrets_replicated ON secrets (id) WHERE replicas <> '';
