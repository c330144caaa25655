package awsjson

import (
	"context"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
)

// secretEntry is DescribeSecret's output and, with SecretVersionsToStages
// instead of VersionIdsToStages, a ListSecrets entry. Absent members are
// omitted, never null.
type secretEntry struct {
	ARN                    string
	Name                   string
	Description            string               `json:",omitempty"`
	KmsKeyId               string               `json:",omitempty"`
	KmsKeyState            string               `json:",omitempty"` // Coffer extension
	LastChangedDate        *epoch               `json:",omitempty"`
	LastAccessedDate       *epoch               `json:",omitempty"`
	DeletedDate            *epoch               `json:",omitempty"`
	RotationEnabled        *bool                `json:",omitempty"`
	RotationLambdaARN      string               `json:",omitempty"`
	RotationRules          *rotationRules       `json:",omitempty"`
	LastRotatedDate        *epoch               `json:",omitempty"`
	NextRotationDate       *epoch               `json:",omitempty"`
	Tags                   *[]tagOut            `json:",omitempty"`
	VersionIdsToStages     map[string][]string  `json:",omitempty"`
	SecretVersionsToStages map[string][]string  `json:",omitempty"`
	CreatedDate            *epoch               `json:",omitempty"`
	PrimaryRegion          string               `json:",omitempty"`
	ReplicationStatus      *[]replicationStatus `json:",omitempty"`
}

// entry describes sec and its versions as AWS does. KmsKeyId is shown
// only for a key other than the account's default (setKey).
func entry(c *api.Call, sec *secrets.Secret, vs []*secrets.Version) secretEntry {
	e := secretEntry{
		ARN: ARN(c, sec), Name: sec.Name, Description: sec.Description,
		LastChangedDate: at(sec.UpdatedAt), LastAccessedDate: at(sec.AccessedAt),
		Tags: tagsOut(sec), CreatedDate: at(sec.CreatedAt),
	}
	if sec.Status == store.StatusPendingDelete {
		e.DeletedDate = at(sec.DeleteAt)
	}
	setRotation(&e, sec)
	for _, v := range vs {
		if len(v.Stages) == 0 {
			continue
		}
		if e.VersionIdsToStages == nil {
			e.VersionIdsToStages = map[string][]string{}
		}
		e.VersionIdsToStages[v.ID] = toAWSLabels(v.Stages)
	}
	return e
}

func describeSecret(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *idRequest) (*secretEntry, error) {
	sec, vs, err := e.Gate.Secrets.Describe(ctx, sc, r.name)
	if err != nil {
		return nil, err
	}
	out := entry(c, sec, vs)
	e.setKey(ctx, sc, &out, sec.KeyID, nil)
	e.setReplication(&out, sec)
	return &out, nil
}

// setKey shows a customer key's id, and (a Coffer extension) the key's
// state when it is not Enabled: "Deleted" means the values are
// crypto-shredded. memo, when not nil, remembers keys across a listing.
func (e *Edge) setKey(ctx context.Context, sc secrets.Scope, out *secretEntry, keyID string, memo map[string]*store.Key) {
	k, ok := memo[keyID]
	if !ok {
		k, _ = e.Gate.Secrets.Key(ctx, sc, keyID)
		if memo != nil {
			memo[keyID] = k
		}
	}
	if k == nil {
		return
	}
	if !k.Default {
		out.KmsKeyId = k.ID
	}
	if k.State != store.KeyEnabled {
		out.KmsKeyState = string(k.State)
	}
}
