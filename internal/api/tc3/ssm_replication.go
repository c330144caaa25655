package tc3

import (
	"context"
	"time"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/secrets"
)

// Coffer's own SSM actions for cross-region replication, the Tencent
// spelling of AWS's ReplicateSecretToRegions, RemoveRegionsFromReplication
// and StopReplicationToReplica (docs/replication.md).

type replicaRegionIn struct {
	Region   string
	KmsKeyId string
}

type replicateRequest struct {
	SecretName string
	Regions    []replicaRegionIn
}

func (r *replicateRequest) resource() string { return r.SecretName }
func (r *replicateRequest) check() error {
	if err := readName(r.SecretName); err != nil {
		return err
	}
	if len(r.Regions) == 0 {
		return wire(codeMissingParameter, "The parameter `Regions` is required.")
	}
	seen := map[string]bool{}
	for _, x := range r.Regions {
		if x.Region == "" || seen[x.Region] {
			return wire(codeInvalidValue, "Each of `Regions` names one region, once.")
		}
		seen[x.Region] = true
	}
	return nil
}

type replicaStatusOut struct {
	Region         string
	KmsKeyId       string
	Status         string
	StatusMessage  string
	LastSyncedTime uint64
	LagSeconds     float64
}

type replicationResponse struct {
	SecretName        string
	PrimaryRegion     string
	ReplicationStatus []replicaStatusOut
}

func replicationOut(sec *secrets.Secret, now time.Time) []replicaStatusOut {
	out := []replicaStatusOut{}
	for _, r := range secrets.ReplicaReports(sec, now) {
		out = append(out, replicaStatusOut{Region: r.Region, KmsKeyId: r.KeyID, Status: r.Status, StatusMessage: r.Message,
			LastSyncedTime: unix(r.SyncedAt), LagSeconds: r.Lag.Seconds()})
	}
	return out
}

func primaryOf(sec *secrets.Secret) string {
	if sec.PrimaryRegion != "" {
		return sec.PrimaryRegion
	}
	if len(sec.Replicas) > 0 {
		return sec.Region
	}
	return ""
}

func replicateSecretToRegions(ctx context.Context, e *Edge, sc secrets.Scope, _ *api.Call, r *replicateRequest) (*replicationResponse, error) {
	var in []secrets.ReplicaInput
	for _, x := range r.Regions {
		if x.Region == sc.Region {
			return nil, wire(codeInvalidValue, "A secret cannot be replicated to its own region "+x.Region+".")
		}
		if e.ReplicaRegion == nil || !e.ReplicaRegion(x.Region) {
			return nil, wire(codeInvalidValue, "Region "+x.Region+" is neither served by this deployment nor linked to it.")
		}
		in = append(in, secrets.ReplicaInput{Region: x.Region, KeyID: x.KmsKeyId})
	}
	sec, err := e.Gate.Secrets.AddReplicas(ctx, sc, r.SecretName, in)
	if err != nil {
		return nil, err
	}
	return &replicationResponse{SecretName: sec.Name, PrimaryRegion: primaryOf(sec), ReplicationStatus: replicationOut(sec, e.now())}, nil
}

type removeRegionsRequest struct {
	SecretName string
	Regions    []string
}

func (r *removeRegionsRequest) resource() string { return r.SecretName }
func (r *removeRegionsRequest) check() error {
	if err := readName(r.SecretName); err != nil {
		return err
	}
	if len(r.Regions) == 0 {
		return wire(codeMissingParameter, "The parameter `Regions` is required.")
	}
	return nil
}

func removeRegionsFromReplication(ctx context.Context, e *Edge, sc secrets.Scope, _ *api.Call, r *removeRegionsRequest) (*replicationResponse, error) {
	sec, err := e.Gate.Secrets.RemoveReplicas(ctx, sc, r.SecretName, r.Regions)
	if err != nil {
		return nil, err
	}
	return &replicationResponse{SecretName: sec.Name, PrimaryRegion: primaryOf(sec), ReplicationStatus: replicationOut(sec, e.now())}, nil
}

func stopReplicationToReplica(ctx context.Context, e *Edge, sc secrets.Scope, _ *api.Call, r *nameRequest) (*nameResponse, error) {
	if _, err := e.Gate.Secrets.Promote(ctx, sc, r.SecretName); err != nil {
		return nil, err
	}
	return &nameResponse{SecretName: r.SecretName}, nil
}
