package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/coffer-secrets/coffer/internal/store"
)

// replicasCol scans the replicas column into Secret.Replicas: nil for "".
type replicasCol struct{ rs *[]store.Replica }

// ScanText implements pgtype.TextScanner.
func (c replicasCol) ScanText(v pgtype.Text) error {
	rs, err := store.ParseReplicas(v.String)
	*c.rs = rs
	return err
}

// replicatedSecrets reads the partial index secrets_replicated in its
// order; the predicate is the literal the index says.
const replicatedSecrets = secretSelect + ` WHERE s.replicas <> '' AND s.id > $1
	ORDER BY s.id LIMIT $2`

// ReplicatedSecrets returns up to limit (all when limit <= 0) secrets, any
// account and region, whose Replicas are not empty, in ID order after
// afterID ("" starts at the beginning), with their tags. Failures are
// fault errors.
func (t *tx) ReplicatedSecrets(ctx context.Context, afterID string, limit int) ([]*store.Secret, error) {
	out, err := t.querySecrets(ctx, replicatedSecrets, afterID, limitArg(limit))
	return out, dbError("postgres.ReplicatedSecrets", err, "secret")
}

// SetReplicas replaces a secret's Replicas without touching its Revision.
func (t *tx) SetReplicas(ctx context.Context, id string, rs []store.Replica) error {
	const op = "postgres.SetReplicas"
	text, err := store.ReplicasText(op, rs)
	if err != nil {
		return err
	}
	n, err := t.exec(ctx, `UPDATE secrets SET replicas = $2 WHERE id = $1`, id, text)
	return gone(op, n, err, "secret")
}
