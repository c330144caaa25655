package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

const keyCols = `id, account, region, alias, description, state, is_default,
	delete_at, created_at, revision, rotation_enabled, rotation_days, rotation_next, rotation_last`

// keySelect reads a CMK of "keys k" with its material, oldest version
// first, aggregated into three arrays.
const keySelect = `SELECT k.id, k.account, k.region, k.alias, k.description, k.state,
	k.is_default, k.delete_at, k.created_at, k.revision,
	k.rotation_enabled, k.rotation_days, k.rotation_next, k.rotation_last,
	ARRAY(SELECT version FROM key_material WHERE key_id = k.id ORDER BY version),
	ARRAY(SELECT wrapped FROM key_material WHERE key_id = k.id ORDER BY version),
	ARRAY(SELECT created_at FROM key_material WHERE key_id = k.id ORDER BY version)
	FROM keys k`

func scanKey(row pgx.Row) (*store.Key, error) {
	k := &store.Key{}
	var versions []int
	var wrapped [][]byte
	var created []pgtype.Int8
	r := &k.Rotation
	err := row.Scan(&k.ID, &k.Account, &k.Region, &k.Alias, &k.Description, &k.State,
		&k.Default, timeCol{&k.DeleteAt}, timeCol{&k.CreatedAt}, &k.Revision,
		&r.Enabled, &r.Days, timeCol{&r.Next}, timeCol{&r.Last},
		&versions, &wrapped, &created)
	if err != nil {
		return nil, err
	}
	for i := range versions {
		k.Material = append(k.Material, store.KeyMaterial{
			Version: versions[i], Wrapped: wrapped[i], CreatedAt: fromMillis(created[i]),
		})
	}
	return k, nil
}

// materialArrays splits material into the arrays its statements unnest,
// never nil (pgx sends a nil slice as NULL).
func materialArrays(ms []store.KeyMaterial) (versions []int32, wrapped [][]byte, created []pgtype.Int8) {
	versions, wrapped, created = []int32{}, [][]byte{}, []pgtype.Int8{}
	for _, m := range ms {
		versions = append(versions, int32(m.Version))
		wrapped = append(wrapped, blob(m.Wrapped))
		created = append(created, millis(m.CreatedAt))
	}
	return versions, wrapped, created
}

func (t *tx) keyWhere(ctx context.Context, op, where string, args ...any) (*store.Key, error) {
	k, err := scanKey(t.conn.QueryRow(ctx, keySelect+` WHERE `+where, args...))
	if err != nil {
		return nil, dbError(op, err, "key")
	}
	return k, nil
}

// Key returns the CMK with the given id in (account, region); NotFound when
// there is none there, even if the id exists elsewhere.
func (t *tx) Key(ctx context.Context, account, region, id string) (*store.Key, error) {
	return t.keyWhere(ctx, "postgres.Key", `k.id = $1 AND k.account = $2 AND k.region = $3`, id, account, region)
}

// KeyByAlias returns the CMK with the given alias in (account, region);
// NotFound when there is none, or when alias is empty.
func (t *tx) KeyByAlias(ctx context.Context, account, region, alias string) (*store.Key, error) {
	const op = "postgres.KeyByAlias"
	if alias == "" {
		return nil, fault.E(op, fault.NotFound, "key not found")
	}
	return t.keyWhere(ctx, op, `k.account = $1 AND k.region = $2 AND k.alias = $3 AND k.alias <> ''`,
		account, region, alias)
}

// insertMaterial stores a key's material from its arrays.
const insertMaterial = `INSERT INTO key_material (key_id, version, wrapped, created_at)
	SELECT $1, m.version, m.wrapped, m.created_at
	FROM unnest($2::integer[], $3::bytea[], $4::bigint[]) AS m (version, wrapped, created_at)`

// InsertKey stores a new CMK and its material; Exists when its id, its
// alias in (account, region), or one of its material versions is taken.
func (t *tx) InsertKey(ctx context.Context, k *store.Key) error {
	b := savepoint()
	r := &k.Rotation
	b.Queue(`INSERT INTO keys (`+keyCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		k.ID, k.Account, k.Region, k.Alias, k.Description, string(k.State), k.Default,
		millis(k.DeleteAt), millis(k.CreatedAt), k.Revision,
		r.Enabled, r.Days, millis(r.Next), millis(r.Last))
	if len(k.Material) > 0 {
		versions, wrapped, created := materialArrays(k.Material)
		b.Queue(insertMaterial, k.ID, versions, wrapped, created)
	}
	return dbError("postgres.InsertKey", t.atomic(ctx, b), "key")
}

// updateKey stores the mutable fields of a key whose revision matches and
// replaces its material, in one statement, as updateSecret replaces tags:
// versions no longer listed are deleted, the others upserted.
const updateKey = `WITH u AS (
	UPDATE keys SET alias = $3, description = $4, state = $5, is_default = $6, delete_at = $7,
		rotation_enabled = $8, rotation_days = $9, rotation_next = $10, rotation_last = $11,
		revision = revision + 1
	WHERE id = $1 AND revision = $2
	RETURNING id
), gone AS (
	DELETE FROM key_material WHERE key_id = (SELECT id FROM u) AND version <> ALL ($12::integer[])
), put AS (
	INSERT INTO key_material (key_id, version, wrapped, created_at)
	SELECT u.id, m.version, m.wrapped, m.created_at
	FROM u, unnest($12::integer[], $13::bytea[], $14::bigint[]) AS m (version, wrapped, created_at)
	ON CONFLICT (key_id, version) DO UPDATE SET wrapped = excluded.wrapped, created_at = excluded.created_at
)
SELECT count(*) FROM u`

// UpdateKey stores k's mutable fields and material if k.Revision matches,
// and increments k.Revision. ID, Account, Region and CreatedAt never
// change. It returns NotFound when the key is gone, Conflict when the
// revision is stale, Exists when the new alias is taken or a material
// version is listed twice.
func (t *tx) UpdateKey(ctx context.Context, k *store.Key) error {
	const op = "postgres.UpdateKey"
	if repeatedVersion(k.Material) {
		// An upsert may not touch one row twice; say what an insert would.
		return fault.E(op, fault.Exists, "key material version already exists")
	}
	versions, wrapped, created := materialArrays(k.Material)
	var n int64
	b := savepoint()
	r := &k.Rotation
	b.Queue(updateKey, k.ID, k.Revision, k.Alias, k.Description, string(k.State), k.Default,
		millis(k.DeleteAt), r.Enabled, r.Days, millis(r.Next), millis(r.Last), versions, wrapped, created).
		QueryRow(func(row pgx.Row) error { return row.Scan(&n) })
	if err := t.atomic(ctx, b); err != nil {
		return dbError(op, err, "key")
	}
	if n == 0 {
		return t.revisionMiss(ctx, op, `SELECT 1 FROM keys WHERE id = $1`, "key", k.ID)
	}
	k.Revision++
	return nil
}

func repeatedVersion(ms []store.KeyMaterial) bool {
	seen := make(map[int]bool, len(ms))
	for _, m := range ms {
		if seen[m.Version] {
			return true
		}
		seen[m.Version] = true
	}
	return false
}

// Keys lists an account's CMKs in a region, oldest first (ties by id).
// Failures are fault errors.
func (t *tx) Keys(ctx context.Context, account, region string) ([]*store.Key, error) {
	out, err := queryAll(ctx, t, scanKey, keySelect+` WHERE k.account = $1 AND k.region = $2
		ORDER BY k.created_at NULLS FIRST, k.id`, account, region)
	return out, dbError("postgres.Keys", err, "key")
}

// KeysDue returns up to limit (all when limit <= 0) keys of any account
// and region whose deletion or rotation is due at t: PendingDelete with
// DeleteAt at or before t, or rotation enabled with Rotation.Next at or
// before t. Oldest first (ties by id). Failures are fault errors.
func (t *tx) KeysDue(ctx context.Context, at time.Time, limit int) ([]*store.Key, error) {
	// The predicates are literals, as the partial indexes of 0005 say them.
	out, err := queryAll(ctx, t, scanKey, keySelect+`
		WHERE (k.state = 'PendingDelete' AND k.delete_at <= $1)
			OR (k.rotation_enabled AND k.rotation_next <= $1)
		ORDER BY k.created_at NULLS FIRST, k.id LIMIT $2`, millis(at), limitArg(limit))
	return out, dbError("postgres.KeysDue", err, "key")
}

// AllKeys returns every key of every account, oldest first (ties by id).
// Failures are fault errors.
func (t *tx) AllKeys(ctx context.Context) ([]*store.Key, error) {
	out, err := queryAll(ctx, t, scanKey, keySelect+` ORDER BY k.created_at NULLS FIRST, k.id`)
	return out, dbError("postgres.AllKeys", err, "key")
}
