package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// replicasText is the replicas column's value for rs: their JSON, with each
// SyncedAt in UTC and cut to the millisecond like every stored time; ""
// for none, which keeps the secret out of secrets_replicated. The text
// travels in snapshots to SQLite, whose store writes the same. It fails
// only for a SyncedAt that JSON cannot hold (a year outside 0–9999), with
// a fault.Invalid error.
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

// ScanText implements pgtype.TextScanner.
func (c replicasCol) ScanText(v pgtype.Text) error {
	*c.rs = nil
	if v.String == "" {
		return nil
	}
	var rs []store.Replica
	if err := json.Unmarshal([]byte(v.String), &rs); err != nil {
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
	text, err := replicasText(op, rs)
	if err != nil {
		return err
	}
	n, err := t.exec(ctx, `UPDATE secrets SET replicas = $2 WHERE id = $1`, id, text)
	return gone(op, n, err, "secret")
}
