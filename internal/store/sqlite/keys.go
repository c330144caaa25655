package sqlite

import (
	"context"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

const keyCols = `id, account, region, alias, description, state, is_default,
	delete_at, created_at, revision, rotation_enabled, rotation_days, rotation_next, rotation_last`

func scanKey(row scanner) (*store.Key, error) {
	k := &store.Key{}
	err := row.Scan(&k.ID, &k.Account, &k.Region, &k.Alias, &k.Description, &k.State,
		&k.Default, timeCol{&k.DeleteAt}, timeCol{&k.CreatedAt}, &k.Revision,
		&k.Rotation.Enabled, &k.Rotation.Days, timeCol{&k.Rotation.Next}, timeCol{&k.Rotation.Last})
	if err != nil {
		return nil, err
	}
	return k, nil
}

func (t *tx) keyWhere(ctx context.Context, op, where string, args ...any) (*store.Key, error) {
	k, err := scanKey(t.tx.QueryRowContext(ctx, `SELECT `+keyCols+` FROM keys WHERE `+where, args...))
	if err != nil {
		return nil, dbError(op, err, "key")
	}
	if k.Material, err = t.material(ctx, k.ID); err != nil {
		return nil, dbError(op, err, "key")
	}
	return k, nil
}

// Key returns the CMK with the given id in (account, region); NotFound when
// there is none there, even if the id exists elsewhere.
func (t *tx) Key(ctx context.Context, account, region, id string) (*store.Key, error) {
	return t.keyWhere(ctx, "sqlite.Key", `id = ? AND account = ? AND region = ?`, id, account, region)
}

// KeyByAlias returns the CMK with the given alias in (account, region);
// NotFound when there is none, or when alias is empty.
func (t *tx) KeyByAlias(ctx context.Context, account, region, alias string) (*store.Key, error) {
	const op = "sqlite.KeyByAlias"
	if alias == "" {
		return nil, fault.E(op, fault.NotFound, "key not found")
	}
	return t.keyWhere(ctx, op, `account = ? AND region = ? AND alias = ?`, account, region, alias)
}

// InsertKey stores a new CMK and its material; Exists when its id, its
// alias in (account, region), or one of its material versions is taken.
func (t *tx) InsertKey(ctx context.Context, k *store.Key) error {
	t.touchKeys()
	err := t.atomic(ctx, func() error {
		_, err := t.tx.ExecContext(ctx, `INSERT INTO keys (`+keyCols+`) VALUES (`+placeholders(14)+`)`,
			k.ID, k.Account, k.Region, k.Alias, k.Description, string(k.State), k.Default,
			millis(k.DeleteAt), millis(k.CreatedAt), k.Revision, k.Rotation.Enabled, k.Rotation.Days,
			millis(k.Rotation.Next), millis(k.Rotation.Last))
		if err != nil {
			return err
		}
		return t.insertMaterial(ctx, k)
	})
	return dbError("sqlite.InsertKey", err, "key")
}

// UpdateKey stores k's mutable fields and material if k.Revision matches,
// and increments k.Revision. ID, Account, Region and CreatedAt never
// change. It returns NotFound when the key is gone, Conflict when the
// revision is stale, Exists when the new alias is taken.
func (t *tx) UpdateKey(ctx context.Context, k *store.Key) error {
	const op = "sqlite.UpdateKey"
	t.touchKeys()
	var n int64
	err := t.atomic(ctx, func() error {
		var err error
		n, err = affected(t.tx.ExecContext(ctx, `UPDATE keys SET alias = ?, description = ?,
			state = ?, is_default = ?, delete_at = ?, rotation_enabled = ?, rotation_days = ?,
			rotation_next = ?, rotation_last = ?, revision = revision + 1
			WHERE id = ? AND revision = ?`,
			k.Alias, k.Description, string(k.State), k.Default, millis(k.DeleteAt), k.Rotation.Enabled,
			k.Rotation.Days, millis(k.Rotation.Next), millis(k.Rotation.Last), k.ID, k.Revision))
		if err != nil || n == 0 {
			return err
		}
		if _, err := t.tx.ExecContext(ctx, `DELETE FROM key_material WHERE key_id = ?`, k.ID); err != nil {
			return err
		}
		return t.insertMaterial(ctx, k)
	})
	if err != nil {
		return dbError(op, err, "key")
	}
	if n == 0 {
		return t.revisionMiss(ctx, op, `SELECT 1 FROM keys WHERE id = ?`, k.ID, "key")
	}
	k.Revision++
	return nil
}

// Keys lists an account's CMKs in a region, oldest first (ties by id).
// Failures are fault errors.
func (t *tx) Keys(ctx context.Context, account, region string) ([]*store.Key, error) {
	const op = "sqlite.Keys"
	keys, err := t.scanKeys(ctx, account, region)
	if err != nil {
		return nil, dbError(op, err, "key")
	}
	for _, k := range keys {
		if k.Material, err = t.material(ctx, k.ID); err != nil {
			return nil, dbError(op, err, "key")
		}
	}
	return keys, nil
}

// KeysDue returns keys whose deletion or rotation is due at t, oldest first.
func (t *tx) KeysDue(ctx context.Context, at time.Time, limit int) ([]*store.Key, error) {
	const op = "sqlite.KeysDue"
	keys, err := t.keysWhere(ctx, `(state = 'PendingDelete' AND delete_at <= ?)
		OR (rotation_enabled = 1 AND rotation_next IS NOT NULL AND rotation_next <= ?)
		ORDER BY created_at, id LIMIT ?`, millis(at), millis(at), limit)
	if err != nil {
		return nil, dbError(op, err, "key")
	}
	return keys, nil
}

// AllKeys returns every key, oldest first.
func (t *tx) AllKeys(ctx context.Context) ([]*store.Key, error) {
	keys, err := t.keysWhere(ctx, `1 = 1 ORDER BY created_at, id`)
	if err != nil {
		return nil, dbError("sqlite.AllKeys", err, "key")
	}
	return keys, nil
}

func (t *tx) keysWhere(ctx context.Context, where string, args ...any) ([]*store.Key, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+keyCols+` FROM keys WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	var keys []*store.Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k.Material, err = t.material(ctx, k.ID); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

func (t *tx) scanKeys(ctx context.Context, account, region string) ([]*store.Key, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+keyCols+` FROM keys
		WHERE account = ? AND region = ? ORDER BY created_at, id`, account, region)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*store.Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// material returns a key's material, oldest version first.
func (t *tx) material(ctx context.Context, keyID string) ([]store.KeyMaterial, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT version, wrapped, created_at FROM key_material
		WHERE key_id = ? ORDER BY version`, keyID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.KeyMaterial
	for rows.Next() {
		var m store.KeyMaterial
		if err := rows.Scan(&m.Version, &m.Wrapped, timeCol{&m.CreatedAt}); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func (t *tx) insertMaterial(ctx context.Context, k *store.Key) error {
	for _, m := range k.Material {
		_, err := t.tx.ExecContext(ctx, `INSERT INTO key_material (key_id, version, wrapped, created_at)
			VALUES (?, ?, ?, ?)`, k.ID, m.Version, blob(m.Wrapped), millis(m.CreatedAt))
		if err != nil {
			return err
		}
	}
	return nil
}
