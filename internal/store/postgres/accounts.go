package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/coffer-secrets/coffer/internal/store"
)

func scanAccount(row pgx.Row) (*store.Account, error) {
	a := &store.Account{}
	if err := row.Scan(&a.ID, &a.Name, timeCol{&a.CreatedAt}); err != nil {
		return nil, err
	}
	return a, nil
}

// Account returns an account by id; NotFound when there is none.
func (t *tx) Account(ctx context.Context, id string) (*store.Account, error) {
	a, err := scanAccount(t.conn.QueryRow(ctx, `SELECT id, name, created_at FROM accounts WHERE id = $1`, id))
	if err != nil {
		return nil, dbError("postgres.Account", err, "account")
	}
	return a, nil
}

// Accounts lists every account, oldest first (ties by id). Failures are
// fault errors.
func (t *tx) Accounts(ctx context.Context) ([]*store.Account, error) {
	out, err := queryAll(ctx, t, scanAccount, `SELECT id, name, created_at FROM accounts
		ORDER BY created_at NULLS FIRST, id`)
	return out, dbError("postgres.Accounts", err, "account")
}

// InsertAccount stores a new account; Exists when the id is taken.
func (t *tx) InsertAccount(ctx context.Context, a *store.Account) error {
	_, err := t.exec(ctx, `INSERT INTO accounts (id, name, created_at) VALUES ($1, $2, $3)`,
		a.ID, a.Name, millis(a.CreatedAt))
	return dbError("postgres.InsertAccount", err, "account")
}

const accessKeyCols = `id, account, principal, sealed, status, description,
	created_at, last_used_at`

func scanAccessKey(row pgx.Row) (*store.AccessKey, error) {
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
	k, err := scanAccessKey(t.conn.QueryRow(ctx, `SELECT `+accessKeyCols+` FROM access_keys WHERE id = $1`, id))
	if err != nil {
		return nil, dbError("postgres.AccessKey", err, "access key")
	}
	return k, nil
}

// InsertAccessKey stores a new access key; Exists when the id is taken.
func (t *tx) InsertAccessKey(ctx context.Context, k *store.AccessKey) error {
	_, err := t.exec(ctx, `INSERT INTO access_keys (`+accessKeyCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, k.ID, k.Account, k.Principal, blob(k.Sealed),
		string(k.Status), k.Description, millis(k.CreatedAt), millis(k.LastUsedAt))
	return dbError("postgres.InsertAccessKey", err, "access key")
}

// UpdateAccessKey replaces an access key's status, description and
// last-used time; NotFound when there is no such key.
func (t *tx) UpdateAccessKey(ctx context.Context, k *store.AccessKey) error {
	n, err := t.exec(ctx, `UPDATE access_keys SET status = $2, description = $3, last_used_at = $4
		WHERE id = $1`, k.ID, string(k.Status), k.Description, millis(k.LastUsedAt))
	return gone("postgres.UpdateAccessKey", n, err, "access key")
}

// DeleteAccessKey removes an access key; NotFound when there is none.
func (t *tx) DeleteAccessKey(ctx context.Context, id string) error {
	n, err := t.exec(ctx, `DELETE FROM access_keys WHERE id = $1`, id)
	return gone("postgres.DeleteAccessKey", n, err, "access key")
}

// AccessKeys lists the access keys of a principal, oldest first (ties by
// id). Failures are fault errors.
func (t *tx) AccessKeys(ctx context.Context, account, principal string) ([]*store.AccessKey, error) {
	out, err := queryAll(ctx, t, scanAccessKey, `SELECT `+accessKeyCols+` FROM access_keys
		WHERE account = $1 AND principal = $2 ORDER BY created_at NULLS FIRST, id`, account, principal)
	return out, dbError("postgres.AccessKeys", err, "access key")
}

// AllAccessKeys lists every access key, by id.
func (t *tx) AllAccessKeys(ctx context.Context) ([]*store.AccessKey, error) {
	out, err := queryAll(ctx, t, scanAccessKey, `SELECT `+accessKeyCols+` FROM access_keys ORDER BY id COLLATE "C"`)
	return out, dbError("postgres.AllAccessKeys", err, "access key")
}

// SetAccessKeySealed replaces an access key's sealed secret half.
func (t *tx) SetAccessKeySealed(ctx context.Context, id string, sealed []byte) error {
	n, err := t.exec(ctx, `UPDATE access_keys SET sealed = $2 WHERE id = $1`, id, sealed)
	return gone("postgres.SetAccessKeySealed", n, err, "access key")
}
