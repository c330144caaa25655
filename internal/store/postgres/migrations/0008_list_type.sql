-- Tencent's ListSecrets lists one secret type (user-defined, unless asked
-- otherwise) in creation order. With the type in the index, a page deep
-- into a million secrets skips index entries only, never table rows.
CREATE INDEX secrets_created_type ON secrets
	(account, region, type, COALESCE(created_at, -62135596800000), name);
