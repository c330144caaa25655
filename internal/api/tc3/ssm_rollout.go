package tc3

import (
	"context"
	"time"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/secrets"
)

// Coffer's own SSM actions: roll-outs of a new version to some callers
// before all, and waiting for a secret's version to change.

type rolloutSelector struct {
	Users   []string
	Roles   []string
	Tags    []tagIn
	Percent *int64
}

func (r *rolloutSelector) rollout(versionID string) (secrets.Rollout, error) {
	out := secrets.Rollout{VersionID: versionID, Users: r.Users, Roles: r.Roles}
	if r.Percent != nil {
		out.Percent = int(*r.Percent)
	}
	if len(r.Tags) > 0 {
		tg, err := tags(r.Tags)
		if err != nil {
			return out, err
		}
		out.Tags = map[string]string{}
		for _, t := range tg {
			out.Tags[t.Key] = t.Value
		}
	}
	return out, nil
}

type startRolloutRequest struct {
	SecretName string
	VersionId  string
	rolloutSelector
}

func (r *startRolloutRequest) resource() string { return r.SecretName }
func (r *startRolloutRequest) check() error {
	if err := readName(r.SecretName); err != nil {
		return err
	}
	if err := required("VersionId", r.VersionId); err != nil {
		return err
	}
	return checkVersion(r.VersionId)
}

type rolloutOut struct {
	VersionId string
	Users     []string
	Roles     []string
	Tags      []tagOut
	Percent   int64
	StartTime uint64
}

func rolloutOf(sec *secrets.Secret) *rolloutOut {
	r := secrets.RolloutOf(sec)
	if r == nil {
		return nil
	}
	out := &rolloutOut{VersionId: r.VersionID, Users: r.Users, Roles: r.Roles, Tags: []tagOut{}, Percent: int64(r.Percent), StartTime: unix(r.Started)}
	if out.Users == nil {
		out.Users = []string{}
	}
	if out.Roles == nil {
		out.Roles = []string{}
	}
	for k, v := range r.Tags {
		out.Tags = append(out.Tags, tagOut{k, v})
	}
	return out
}

type rolloutResponse struct {
	SecretName string
	Rollout    *rolloutOut
}

func startSecretRollout(ctx context.Context, e *Edge, sc secrets.Scope, _ *api.Call, r *startRolloutRequest) (*rolloutResponse, error) {
	ro, err := r.rollout(r.VersionId)
	if err != nil {
		return nil, err
	}
	sec, err := e.Gate.Secrets.StartRollout(ctx, sc, r.SecretName, ro)
	if err != nil {
		return nil, err
	}
	return &rolloutResponse{SecretName: r.SecretName, Rollout: rolloutOf(sec)}, nil
}

func promoteSecretRollout(ctx context.Context, e *Edge, sc secrets.Scope, _ *api.Call, r *nameRequest) (*nameResponse, error) {
	if _, err := e.Gate.Secrets.EndRollout(ctx, sc, r.SecretName, true); err != nil {
		return nil, err
	}
	return &nameResponse{SecretName: r.SecretName}, nil
}

func abandonSecretRollout(ctx context.Context, e *Edge, sc secrets.Scope, _ *api.Call, r *nameRequest) (*nameResponse, error) {
	if _, err := e.Gate.Secrets.EndRollout(ctx, sc, r.SecretName, false); err != nil {
		return nil, err
	}
	return &nameResponse{SecretName: r.SecretName}, nil
}

type waitChangeRequest struct {
	SecretName  string
	VersionId   string
	WaitSeconds *int64
}

// maxWaitSeconds stays under the server's write timeout (30 s).
const maxWaitSeconds = 20

func (r *waitChangeRequest) resource() string { return r.SecretName }
func (r *waitChangeRequest) check() error {
	if err := readName(r.SecretName); err != nil {
		return err
	}
	if r.WaitSeconds != nil && (*r.WaitSeconds < 0 || *r.WaitSeconds > maxWaitSeconds) {
		return wire(codeInvalidValue, "The parameter `WaitSeconds` must be 0 to 20.")
	}
	return nil
}

type waitChangeResponse struct {
	SecretName string
	VersionId  string
	Changed    bool
}

func waitSecretChange(ctx context.Context, e *Edge, sc secrets.Scope, _ *api.Call, r *waitChangeRequest) (*waitChangeResponse, error) {
	wait := 10 * time.Second
	if r.WaitSeconds != nil {
		wait = time.Duration(*r.WaitSeconds) * time.Second
	}
	id, changed, err := e.Gate.Secrets.WaitChange(ctx, sc, r.SecretName, r.VersionId, wait)
	if err != nil {
		return nil, err
	}
	return &waitChangeResponse{SecretName: r.SecretName, VersionId: id, Changed: changed}, nil
}
