package store

import (
	"encoding/json"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
)

// ReplicasText is the stored form of a secret's Replicas, the same in every
// backend (snapshots carry it from one to another): their JSON, with each
// SyncedAt in UTC and cut to the millisecond like every stored time; ""
// for none, which keeps the secret out of the backends' index of
// replicated secrets. It fails only for a SyncedAt that JSON cannot hold (a
// year outside 0–9999), with a fault.Invalid error naming op.
func ReplicasText(op string, rs []Replica) (string, error) {
	if len(rs) == 0 {
		return "", nil
	}
	kept := make([]Replica, len(rs))
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

// ParseReplicas reads ReplicasText's form: nil for "" or an empty list.
func ParseReplicas(text string) ([]Replica, error) {
	if text == "" {
		return nil, nil
	}
	var rs []Replica
	if err := json.Unmarshal([]byte(text), &rs); err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, nil
	}
	for i := range rs {
		rs[i].SyncedAt = rs[i].SyncedAt.UTC()
	}
	return rs, nil
}
