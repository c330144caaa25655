package client

import (
	"context"
	"time"
)

// ReplicaRegion asks for a secret to be replicated to a region, sealed
// there under KmsKeyID ("" for the account's default key in that region).
type ReplicaRegion struct {
	Region   string
	KmsKeyID string
}

// ReplicaStatus is how a replica region stands, as the primary reports it.
type ReplicaStatus struct {
	Region        string
	KmsKeyID      string
	Status        string // InProgress, InSync, Failed
	StatusMessage string
	// LastSynced is when the state the replica holds was read on the
	// primary: every write acknowledged before it is there. Zero when never.
	LastSynced time.Time
	// Lag is zero when the replica holds the primary's current state; it
	// is how long ago LastSynced was otherwise.
	Lag time.Duration
}

// Replication is a secret's replication as the primary reports it.
type Replication struct {
	Name          string
	PrimaryRegion string // "" for a secret that is neither replicated nor a replica
	Replicas      []ReplicaStatus
}

type replicationWire struct {
	SecretName        string
	PrimaryRegion     string
	ReplicationStatus []struct {
		Region, KmsKeyId, Status, StatusMessage string
		LastSyncedTime                          int64
		LagSeconds                              float64
	}
}

func (w *replicationWire) out() *Replication {
	r := &Replication{Name: w.SecretName, PrimaryRegion: w.PrimaryRegion}
	for _, s := range w.ReplicationStatus {
		rs := ReplicaStatus{Region: s.Region, KmsKeyID: s.KmsKeyId, Status: s.Status, StatusMessage: s.StatusMessage,
			Lag: time.Duration(s.LagSeconds * float64(time.Second))}
		if s.LastSyncedTime > 0 {
			rs.LastSynced = time.Unix(s.LastSyncedTime, 0).UTC()
		}
		r.Replicas = append(r.Replicas, rs)
	}
	return r
}

// ReplicateSecretToRegions replicates a secret to more regions of this
// deployment or of linked ones (Coffer's action; docs/replication.md). It
// returns an *Error: InvalidParameterValue for a region that is the
// secret's own or is not served, OperationDenied on a replica,
// ResourceNotFound.
func (c *Client) ReplicateSecretToRegions(ctx context.Context, name string, regions ...ReplicaRegion) (*Replication, error) {
	type region struct{ Region, KmsKeyId string }
	req := struct {
		SecretName string
		Regions    []region
	}{SecretName: name}
	for _, r := range regions {
		req.Regions = append(req.Regions, region{r.Region, r.KmsKeyID})
	}
	var out replicationWire
	if err := c.call(ctx, "ReplicateSecretToRegions", retryIdempotent, req, &out); err != nil {
		return nil, err
	}
	return out.out(), nil
}

// RemoveRegionsFromReplication stops replicating a secret to regions; the
// replicas there are deleted.
func (c *Client) RemoveRegionsFromReplication(ctx context.Context, name string, regions ...string) (*Replication, error) {
	req := struct {
		SecretName string
		Regions    []string
	}{name, regions}
	var out replicationWire
	if err := c.call(ctx, "RemoveRegionsFromReplication", retryIdempotent, req, &out); err != nil {
		return nil, err
	}
	return out.out(), nil
}

// StopReplicationToReplica promotes the replica of a secret in the
// client's region to a writable primary (failover; docs/replication.md).
// It returns an *Error: FailedOperation for a secret that is not a replica.
func (c *Client) StopReplicationToReplica(ctx context.Context, name string) error {
	req := struct{ SecretName string }{name}
	return c.call(ctx, "StopReplicationToReplica", retrySafe, req, nil)
}
