package awsjson

import (
	"context"
	"regexp"
	"time"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/secrets"
)

type replicaRegionIn struct {
	Region   string
	KmsKeyId *string
}

var regionPattern = regexp.MustCompile(`^([a-z]+-)+\d+$|^[a-z]{2}-[a-z]+$|^[a-z]+-[a-z]+-\d+$`)

func checkReplicaRegions(c *api.Call, in []replicaRegionIn, force bool) error {
	if force {
		return fail(errInvalidParameter, "ForceOverwriteReplicaSecret is not supported by this Coffer server: delete the secret in the replica region first.")
	}
	seen := map[string]bool{}
	for _, r := range in {
		if r.Region == "" || len(r.Region) > 128 || !regionPattern.MatchString(r.Region) {
			return fail(errInvalidParameter, "Invalid replica region: "+r.Region)
		}
		if seen[r.Region] {
			return fail(errInvalidParameter, "Duplicate replica region: "+r.Region)
		}
		if r.Region == c.Region {
			return fail(errInvalidParameter, "Invalid replica region: a secret cannot be replicated to its own region "+r.Region+".")
		}
		seen[r.Region] = true
	}
	return nil
}

// knownRegions refuses regions neither this deployment nor a linked one serves.
func (e *Edge) knownRegions(in []replicaRegionIn) error {
	for _, r := range in {
		if e.ReplicaRegion == nil || !e.ReplicaRegion(r.Region) {
			return fail(errInvalidParameter, "Invalid replica region: "+r.Region+" is neither served by this deployment nor linked to it (docs/replication.md).")
		}
	}
	return nil
}

func replicaInputs(in []replicaRegionIn) []secrets.ReplicaInput {
	out := make([]secrets.ReplicaInput, 0, len(in))
	for _, r := range in {
		ri := secrets.ReplicaInput{Region: r.Region}
		if k := kmsKey(r.KmsKeyId); k != nil {
			ri.KeyID = *k
		}
		out = append(out, ri)
	}
	return out
}

// replicationStatus is AWS's ReplicationStatusType, with Coffer's lag.
type replicationStatus struct {
	Region           string
	KmsKeyId         string `json:",omitempty"`
	Status           string
	StatusMessage    string `json:",omitempty"`
	LastAccessedDate *epoch `json:",omitempty"`
	// Coffer extensions: when the replica last acknowledged a change, and
	// how many seconds of changes it has not yet acknowledged.
	LastSyncedDate *epoch  `json:",omitempty"`
	LagSeconds     float64 `json:""`
}

func replication(sec *secrets.Secret, now time.Time) []replicationStatus {
	out := []replicationStatus{}
	for _, r := range secrets.ReplicaReports(sec, now) {
		out = append(out, replicationStatus{Region: r.Region, KmsKeyId: r.KeyID, Status: r.Status, StatusMessage: r.Message,
			LastSyncedDate: at(r.SyncedAt), LagSeconds: r.Lag.Seconds()})
	}
	return out
}

// setReplication fills DescribeSecret's replication members.
func (e *Edge) setReplication(out *secretEntry, sec *secrets.Secret) {
	switch {
	case sec.PrimaryRegion != "":
		out.PrimaryRegion = sec.PrimaryRegion
	case len(sec.Replicas) > 0:
		out.PrimaryRegion = sec.Region
		rs := replication(sec, e.now())
		out.ReplicationStatus = &rs
	}
}

type replicateRequest struct {
	SecretId                    string
	AddReplicaRegions           []replicaRegionIn
	ForceOverwriteReplicaSecret bool
	name                        string
}

func (r *replicateRequest) resource() string { return r.SecretId }
func (r *replicateRequest) check(c *api.Call) (err error) {
	if r.name, err = resolve(c, r.SecretId); err != nil {
		return err
	}
	if len(r.AddReplicaRegions) == 0 {
		return fail(errInvalidParameter, "AddReplicaRegions must name at least one region.")
	}
	return checkReplicaRegions(c, r.AddReplicaRegions, r.ForceOverwriteReplicaSecret)
}

type replicationResponse struct {
	ARN               string
	ReplicationStatus []replicationStatus
}

func replicateSecretToRegions(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *replicateRequest) (*replicationResponse, error) {
	if err := e.knownRegions(r.AddReplicaRegions); err != nil {
		return nil, err
	}
	sec, err := e.Gate.Secrets.AddReplicas(ctx, sc, r.name, replicaInputs(r.AddReplicaRegions))
	if err != nil {
		return nil, err
	}
	return &replicationResponse{ARN: ARN(c, sec), ReplicationStatus: replication(sec, e.now())}, nil
}

type removeRegionsRequest struct {
	SecretId             string
	RemoveReplicaRegions []string
	name                 string
}

func (r *removeRegionsRequest) resource() string { return r.SecretId }
func (r *removeRegionsRequest) check(c *api.Call) (err error) {
	if r.name, err = resolve(c, r.SecretId); err != nil {
		return err
	}
	if len(r.RemoveReplicaRegions) == 0 {
		return fail(errInvalidParameter, "RemoveReplicaRegions must name at least one region.")
	}
	return nil
}

func removeRegionsFromReplication(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *removeRegionsRequest) (*replicationResponse, error) {
	sec, err := e.Gate.Secrets.RemoveReplicas(ctx, sc, r.name, r.RemoveReplicaRegions)
	if err != nil {
		return nil, err
	}
	return &replicationResponse{ARN: ARN(c, sec), ReplicationStatus: replication(sec, e.now())}, nil
}

type arnResponse struct {
	ARN string
}

func stopReplicationToReplica(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *idRequest) (*arnResponse, error) {
	sec, err := e.Gate.Secrets.Promote(ctx, sc, r.name)
	if err != nil {
		return nil, err
	}
	return &arnResponse{ARN: ARN(c, sec)}, nil
}
