package sqlite

import (
	"context"
	"fmt"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// replicasCol scans the replicas column into Secret.Replicas: nil for "".
type replicasCol struct{ rs *[]store.Replica }

func (c replicasCol) Scan(v any) error {
	var text string
	switch v := v.(type) {
	case string:
		text = v
	case []byte:
		text = string(v)
	default:
		return fmt.Errorf("replicas column holds %T", v)
	}
	rs, err := store.ParseReplicas(text)
	*c.rs = rs
	return err
}

// ReplicatedSecrets returns up to limit (all when limit <= 0) secrets, any
// account and region, whose Replicas are not empty, in ID order after
// afterID ("" starts at the beginning), with their tags. Failures are
// fault errors.
func (t *tx) ReplicatedSecrets(ctx context.Context, afterID string, limit int) ([]*store.Secret, error) {
	out, err := t.querySecrets(ctx, replicatedSecrets, afterID, sqlLimit(limit))
	if err != nil {
		return nil, dbError("sqlite.ReplicatedSecrets", err, "secret")
	}
	return out, nil
}

// replicatedSecrets is ReplicatedSecrets' statement: it walks the partial
// index secrets_replicated, whose predicate it repeats word for word.
const replicatedSecrets = `SELECT ` + secretCols + ` FROM secrets
	WHERE replicas <> '' AND id > ? ORDER BY id LIMIT ?`

// SetReplicas replaces a secret's Replicas without touching its Revision.
func (t *tx) SetReplicas(ctx context.Context, id string, rs []store.Replica) error {
	const op = "sqlite.SetReplicas"
	t.touch(id)
	text, err := store.ReplicasText(op, rs)
	if err != nil {
		return err
	}
	n, err := affected(t.tx.ExecContext(ctx, `UPDATE secrets SET replicas = ? WHERE id = ?`, text, id))
	if err != nil {
		return dbError(op, err, "secret")
	}
	if n == 0 {
		return fault.E(op, fault.NotFound, "secret not found")
	}
	return nil
}
