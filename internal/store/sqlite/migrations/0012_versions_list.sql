-- A covering index for a secret's version list.
--
-- versions is a WITHOUT ROWID table whose rows carry the sealed value, a
-- kilobyte or more each, so a leaf page holds few of them. Every put and
-- every version delete lists the secret's versions (VersionList: all
-- columns but the sealed value, in seq order); through versions_seq that
-- was one look-up in the table per version, a third of the writer's time
-- for those calls. versions_list holds every column the list reads, so the
-- list is one walk of a few small index pages.
CREATE INDEX versions_list ON versions (secret_id, seq, version_id, is_binary, key_id, key_version, token, created_at);
DROP INDEX versions_seq;
