package awsjson

import (
	"context"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/rotation"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
)

type rotationRules struct {
	AutomaticallyAfterDays *int64  `json:",omitempty"`
	ScheduleExpression     *string `json:",omitempty"`
	Duration               *string `json:",omitempty"`
}

type rotateRequest struct {
	SecretId                       string
	ClientRequestToken             *string
	RotationLambdaARN              *string
	RotationRules                  *rotationRules
	RotateImmediately              *bool
	ExternalSecretRotationMetadata any
	ExternalSecretRotationRoleArn  *string
	name                           string
}

func (r *rotateRequest) resource() string { return r.SecretId }
func (r *rotateRequest) check(c *api.Call) (err error) {
	if r.name, err = resolve(c, r.SecretId); err != nil {
		return err
	}
	if err := checkToken(r.ClientRequestToken); err != nil {
		return err
	}
	if r.ExternalSecretRotationMetadata != nil || r.ExternalSecretRotationRoleArn != nil {
		return fail(errInvalidRequest, "Managed external secret rotation is not supported by this Coffer server; use RotationLambdaARN.")
	}
	if rr := r.RotationRules; rr != nil {
		if rr.AutomaticallyAfterDays != nil && (*rr.AutomaticallyAfterDays < 1 || *rr.AutomaticallyAfterDays > 1000) {
			return fail(errInvalidParameter, "RotationRules.AutomaticallyAfterDays must be within 1-1000.")
		}
		if rr.AutomaticallyAfterDays != nil && rr.ScheduleExpression != nil {
			return fail(errInvalidParameter, "You can't specify both AutomaticallyAfterDays and ScheduleExpression in RotationRules.")
		}
	}
	return nil
}

type rotateResponse struct {
	ARN       string
	Name      string
	VersionId string `json:",omitempty"`
}

func rotateSecret(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *rotateRequest) (*rotateResponse, error) {
	if e.Rotation == nil {
		return nil, fail(errInvalidRequest, "Rotation is not enabled on this Coffer server.")
	}
	in := rotation.RotateInput{Enable: true, Immediately: r.RotateImmediately == nil || *r.RotateImmediately}
	if r.ClientRequestToken != nil {
		in.Token = *r.ClientRequestToken
	}
	if r.RotationLambdaARN != nil && *r.RotationLambdaARN != "" {
		sp, err := rotation.FromLambda(*r.RotationLambdaARN)
		if err != nil {
			return nil, fail(errInvalidParameter, fault.Message(err))
		}
		in.Spec = &sp
	}
	if rr := r.RotationRules; rr != nil {
		rules := rotation.Rules{}
		if rr.AutomaticallyAfterDays != nil {
			rules.Days = int(*rr.AutomaticallyAfterDays)
		}
		if rr.ScheduleExpression != nil {
			rules.Schedule = *rr.ScheduleExpression
		}
		if rr.Duration != nil {
			rules.Duration = *rr.Duration
		}
		in.Rules = &rules
	}
	run, sec, err := e.Rotation.Rotate(ctx, sc, r.name, in)
	if err != nil {
		return nil, err
	}
	out := &rotateResponse{ARN: ARN(c, sec), Name: sec.Name}
	if run != nil {
		out.VersionId = run.VersionID
	}
	return out, nil
}

func cancelRotateSecret(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *idRequest) (*rotateResponse, error) {
	if e.Rotation == nil {
		return nil, fail(errInvalidRequest, "Rotation is not enabled on this Coffer server.")
	}
	run, sec, err := e.Rotation.Cancel(ctx, sc, r.name)
	if err != nil {
		return nil, err
	}
	out := &rotateResponse{ARN: ARN(c, sec), Name: sec.Name}
	if run != nil {
		out.VersionId = run.VersionID
	}
	return out, nil
}

// setRotation fills DescribeSecret's rotation members, which AWS shows
// only once a secret has been given a rotation.
func setRotation(out *secretEntry, sec *secrets.Secret) {
	if sec.Rotation.Rotator == "" {
		return
	}
	sp, err := rotation.ParseSpec(sec.Rotation.Rotator)
	if err != nil {
		return
	}
	enabled := sec.Rotation.Enabled
	out.RotationEnabled = &enabled
	out.RotationLambdaARN = rotation.FunctionOf(sp)
	rr := &rotationRules{}
	if sp.Schedule != "" {
		s := sp.Schedule
		rr.ScheduleExpression = &s
	} else if sec.Rotation.Days > 0 {
		d := int64(sec.Rotation.Days)
		rr.AutomaticallyAfterDays = &d
	}
	if sp.Duration != "" {
		d := sp.Duration
		rr.Duration = &d
	}
	out.RotationRules = rr
	out.LastRotatedDate = at(sec.Rotation.Last)
	if enabled && sec.Status != store.StatusPendingDelete {
		out.NextRotationDate = at(sec.Rotation.Next)
	}
}
