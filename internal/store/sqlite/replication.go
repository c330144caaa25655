package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// replicasText is the replicas column's value for rs: their JSON, with each
// SyncedAt in UTC and cut to the millisecond like every stored time; ""
// for none, which keeps the secret out of secrets_replicated. The text
// travels in snapshots to PostgreSQL, whose store writes the same. It
// fails only for a SyncedAt that JSON cannot hold (a year outside 0–9999),
// with a fault.Invalid error.
func replicasText(op string, rs []store.Replica) (string, error) {
	if len(rs) == 0 {
		return "", nil
	}
	kept := make([]store.Replica, len(rs))
	for i, r := range rs {
		r.SyncedAt = r.SyncedAt.Truncate(time.Millisecond).UTC()
		kept[i] = r
	}
	b, err := json.Marshal(kept)
	if err != nil {
		return "", fault.Wrap(op, fault.Invalid, "replica sync time out of range", err)
	}
	return string(b), nil
}

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
	*c.rs = nil
	if text == "" {
		return nil
	}
	var rs []store.Replica
	if err := json.Unmarshal([]byte(text), &rs); err != nil {
		return err
	}
	for i := range rs {
		rs[i].SyncedAt = rs[i].SyncedAt.UTC()
	}
	if len(rs) > 0 {
		*c.rs = rs
	}
	return nil
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
	text, err := replicasText(op, rs)
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
