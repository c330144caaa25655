package client

import (
	"context"
	"time"
)

// Coffer's own actions: roll-outs of a version to some callers before all,
// and waiting for a secret's version to change.

// RolloutSelector selects the callers a roll-out serves its version to:
// any caller named in Users (user names or ids, "root" for account roots)
// or Roles (role names), holding every one of Tags, or within Percent (a
// stable share, 0 to 100, of the other callers).
type RolloutSelector struct {
	Users   []string
	Roles   []string
	Tags    []Tag
	Percent int
}

type wireSelector struct {
	Users   []string  `json:",omitempty"`
	Roles   []string  `json:",omitempty"`
	Tags    []wireTag `json:",omitempty"`
	Percent *int64    `json:",omitempty"`
}

func (s RolloutSelector) wire() wireSelector {
	return wireSelector{Users: s.Users, Roles: s.Roles, Tags: wireTags(s.Tags), Percent: positive(s.Percent)}
}

// Rollout is a roll-out in progress: VersionID is what the selected
// callers read instead of the current version.
type Rollout struct {
	VersionID string
	RolloutSelector
	Started time.Time
}

// StartSecretRollout serves an existing, not current, version first to the
// callers sel selects, replacing a roll-out in progress. It returns an
// *Error: ResourceNotFound for an unknown secret or version,
// InvalidParameterValue for a current version or an empty selector.
func (c *Client) StartSecretRollout(ctx context.Context, name, versionID string, sel RolloutSelector) (*Rollout, error) {
	req := struct {
		SecretName, VersionId string
		wireSelector
	}{name, versionID, sel.wire()}
	var out struct {
		Rollout *struct {
			VersionId    string
			Users, Roles []string
			Tags         []Tag
			Percent      int64
			StartTime    uint64
		}
	}
	if err := c.call(ctx, "StartSecretRollout", retryIdempotent, req, &out); err != nil {
		return nil, err
	}
	r := &Rollout{VersionID: versionID}
	if w := out.Rollout; w != nil {
		r = &Rollout{VersionID: w.VersionId, Started: unixTime(w.StartTime),
			RolloutSelector: RolloutSelector{Users: w.Users, Roles: w.Roles, Tags: w.Tags, Percent: int(w.Percent)}}
	}
	return r, nil
}

// PromoteSecretRollout makes the roll-out's version current for everyone
// and ends the roll-out. It is retried only when the server surely did not
// run it. It returns an *Error: FailedOperation when no roll-out runs,
// ResourceNotFound when its version is gone.
func (c *Client) PromoteSecretRollout(ctx context.Context, name string) error {
	return c.call(ctx, "PromoteSecretRollout", retrySafe, nameReq{name}, nil)
}

// AbandonSecretRollout ends the roll-out: the current version serves
// everyone again. It is retried only when the server surely did not run
// it. It returns an *Error: FailedOperation when no roll-out runs,
// ResourceNotFound.
func (c *Client) AbandonSecretRollout(ctx context.Context, name string) error {
	return c.call(ctx, "AbandonSecretRollout", retrySafe, nameReq{name}, nil)
}

// MaxWait is the longest wait WaitSecretChange accepts.
const MaxWait = 20 * time.Second

// VersionChange is WaitSecretChange's answer.
type VersionChange struct {
	Name string
	// VersionID is the version the caller reads by default now: the
	// current one, or a roll-out's the caller is selected for.
	VersionID string
	Changed   bool // VersionID differs from the one the caller knew
}

// WaitSecretChange waits up to wait (whole seconds, at most MaxWait) for
// the version the caller reads by default to differ from known, and
// returns it; known "" returns at once with Changed set. Each attempt may
// take Options.Timeout on top of the wait. It returns an *Error:
// ResourceNotFound, InvalidParameterValue for a wait out of range, and
// UnsupportedOperation or InvalidAction from a server without it.
func (c *Client) WaitSecretChange(ctx context.Context, name, known string, wait time.Duration) (*VersionChange, error) {
	secs := int64(wait / time.Second)
	req := struct {
		SecretName  string
		VersionId   string `json:",omitempty"`
		WaitSeconds *int64
	}{name, known, &secs}
	var out struct {
		SecretName, VersionId string
		Changed               bool
	}
	if _, err := c.sendFor(ctx, SSM, "WaitSecretChange", retryIdempotent, c.timeout+wait, req, &out); err != nil {
		return nil, err
	}
	return &VersionChange{Name: out.SecretName, VersionID: out.VersionId, Changed: out.Changed}, nil
}
