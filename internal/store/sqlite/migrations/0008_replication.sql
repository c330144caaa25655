-- Cross-region replication: a primary secret's replicas, a replica's
-- primary region, and the index the replication worker reads primaries by.
--
-- replicas holds Secret.Replicas as the JSON of encoding/json, '' for none
-- (replication.go): the worker reads the list whole, and nothing queries
-- inside it. Existing rows are neither primaries nor replicas.
ALTER TABLE secrets ADD COLUMN replicas TEXT NOT NULL DEFAULT '';
ALTER TABLE secrets ADD COLUMN primary_region TEXT NOT NULL DEFAULT '';

-- ReplicatedSecrets: the secrets with replicas, any account, in id order
-- after a cursor. Few secrets are primaries, so only those are in this
-- index; replication.go writes the predicate as the literal the index
-- says, or SQLite will not match the two.
CREATE INDEX secrets_replicated ON secrets (id) WHERE replicas <> '';
