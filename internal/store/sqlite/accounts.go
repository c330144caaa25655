package sqlite

import (
	"context"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// Account returns an account by id; NotFound when there is none.
func (t *tx) Account(ctx context.Context, id string) (*store.Account, error) {
	a := &store.Account{}
	err := t.tx.QueryRowContext(ctx, `SELECT id, name, created_at FROM accounts WHERE id = ?`, id).
		Scan(&a.ID, &a.Name, timeCol{&a.CreatedAt})
	if err != nil {
		return nil, dbError("sqlite.Account", err, "account")
	}
	return a, nil
}

// InsertAccount stores a new account; Exists when the id is taken.
func (t *tx) InsertAccount(ctx context.Context, a *store.Account) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO accounts (id, name, created_at) VALUES (?, ?, ?)`,
		a.ID, a.Name, millis(a.CreatedAt))
	return dbError("sqlite.InsertAccount", err, "account")
}

// Accounts lists every account, oldest first (ties by id). Failures are
// fault errors.
func (t *tx) Accounts(ctx context.Context) ([]*store.Account, error) {
	out, err := queryAll(ctx, t, func(row scanner) (*store.Account, error) {
		a := &store.Account{}
		return a, row.Scan(&a.ID, &a.Name, timeCol{&a.CreatedAt})
	}, `SELECT id, name, created_at FROM accounts ORDER BY created_at, id`)
	return out, dbError("sqlite.Accounts", err, "account")
}

const accessKeyCols = `id, account, principal, sealed, status, description,
	created_at, last_used_at`

func scanAccessKey(row scanner) (*store.AccessKey, error) {
	k := &store.AccessKey{}
	err := row.Scan(&k.ID, &k.Account, &k.Principal, &k.Sealed, &k.Status, &k.Description,
		timeCol{&k.CreatedAt}, timeCol{&k.LastUsedAt})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// AccessKey returns an access key by id; NotFound when there is none.
func (t *tx) AccessKey(ctx context.Context, id string) (*store.AccessKey, error) {
	row := t.tx.QueryRowContext(ctx, `SELECT `+accessKeyCols+` FROM access_keys WHERE id = ?`, id)
	k, err := scanAccessKey(row)
	if err != nil {
		return nil, dbError("sqlite.AccessKey", err, "access key")
	}
	return k, nil
}

// InsertAccessKey stores a new access key; Exists when the id is taken.
func (t *tx) InsertAccessKey(ctx context.Context, k *store.AccessKey) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO access_keys (`+accessKeyCols+`)
		VALUES (`+placeholders(8)+`)`, k.ID, k.Account, k.Principal, blob(k.Sealed),
		string(k.Status), k.Description, millis(k.CreatedAt), millis(k.LastUsedAt))
	return dbError("sqlite.InsertAccessKey", err, "access key")
}

// UpdateAccessKey replaces an access key's status, description and
// last-used time; NotFound when there is no such key.
func (t *tx) UpdateAccessKey(ctx context.Context, k *store.AccessKey) error {
	n, err := affected(t.tx.ExecContext(ctx,
		`UPDATE access_keys SET status = ?, description = ?, last_used_at = ? WHERE id = ?`,
		string(k.Status), k.Description, millis(k.LastUsedAt), k.ID))
	return gone("sqlite.UpdateAccessKey", n, err, "access key")
}

// DeleteAccessKey removes an access key; NotFound when there is none.
func (t *tx) DeleteAccessKey(ctx context.Context, id string) error {
	n, err := affected(t.tx.ExecContext(ctx, `DELETE FROM access_keys WHERE id = ?`, id))
	return gone("sqlite.DeleteAccessKey", n, err, "access key")
}

// AccessKeys lists the access keys of a principal, oldest first (ties by
// id). Failures are fault errors.
func (t *tx) AccessKeys(ctx context.Context, account, principal string) ([]*store.AccessKey, error) {
	const op = "sqlite.AccessKeys"
	rows, err := t.tx.QueryContext(ctx, `SELECT `+accessKeyCols+` FROM access_keys
		WHERE account = ? AND principal = ? ORDER BY created_at, id`, account, principal)
	if err != nil {
		return nil, dbError(op, err, "access key")
	}
	defer rows.Close()
	var out []*store.AccessKey
	for rows.Next() {
		k, err := scanAccessKey(rows)
		if err != nil {
			return nil, dbError(op, err, "access key")
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError(op, err, "access key")
	}
	return out, nil
}

// AllAccessKeys lists every access key, by id.
func (t *tx) AllAccessKeys(ctx context.Context) ([]*store.AccessKey, error) {
	const op = "sqlite.AllAccessKeys"
	rows, err := t.tx.QueryContext(ctx, `SELECT `+accessKeyCols+` FROM access_keys ORDER BY id`)
	if err != nil {
		return nil, dbError(op, err, "access key")
	}
	defer rows.Close()
	var out []*store.AccessKey
	for rows.Next() {
		k, err := scanAccessKey(rows)
		if err != nil {
			return nil, dbError(op, err, "access key")
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError(op, err, "access key")
	}
	return out, nil
}

// SetAccessKeySealed replaces an access key's sealed secret half.
func (t *tx) SetAccessKeySealed(ctx context.Context, id string, sealed []byte) error {
	const op = "sqlite.SetAccessKeySealed"
	n, err := affected(t.tx.ExecContext(ctx, `UPDATE access_keys SET sealed = ? WHERE id = ?`, blob(sealed), id))
	if err != nil {
		return dbError(op, err, "access key")
	}
	if n == 0 {
		return fault.E(op, fault.NotFound, "access key not found")
	}
	return nil
}
