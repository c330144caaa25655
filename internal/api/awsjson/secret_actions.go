package awsjson

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/secrets"
)

// idRequest is any request naming one secret by SecretId.
type idRequest struct {
	SecretId string
	name     string // resolved by check
}

func (r *idRequest) check(c *api.Call) (err error) {
	r.name, err = resolve(c, r.SecretId)
	return err
}
func (r *idRequest) resource() string { return r.SecretId }

type arnName struct {
	ARN  string
	Name string
}

func names(c *api.Call, sec *secrets.Secret) arnName { return arnName{ARN(c, sec), sec.Name} }

type createRequest struct {
	Name                        string
	ClientRequestToken          *string
	Description                 *string
	KmsKeyId                    *string
	SecretBinary                *string
	SecretString                *string
	Tags                        []tagIn
	AddReplicaRegions           []replicaRegionIn
	ForceOverwriteReplicaSecret bool
	Type                        *string
}

func (r *createRequest) resource() string { return r.Name }
func (r *createRequest) check(c *api.Call) error {
	if err := checkName(r.Name); err != nil {
		return err
	}
	if err := checkReplicaRegions(c, r.AddReplicaRegions, r.ForceOverwriteReplicaSecret); err != nil {
		return err
	}
	return checkToken(r.ClientRequestToken)
}

type createResponse struct {
	ARN       string
	Name      string
	VersionId string `json:",omitempty"`
}

func createSecret(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *createRequest) (*createResponse, error) {
	v, err := value(r.SecretString, r.SecretBinary)
	if err != nil {
		return nil, err
	}
	tg, err := tags(r.Tags)
	if err != nil {
		return nil, err
	}
	in := secrets.CreateInput{Name: r.Name, Tags: tg, CreatedBy: c.Principal.ID, Value: v, Replicas: replicaInputs(r.AddReplicaRegions)}
	if err := e.knownRegions(r.AddReplicaRegions); err != nil {
		return nil, err
	}
	if r.Description != nil {
		in.Description = *r.Description
	}
	if k := kmsKey(r.KmsKeyId); k != nil {
		in.KeyID = *k
	}
	if v != nil {
		if err := needToken(r.ClientRequestToken); err != nil {
			return nil, err
		}
		in.Token, in.VersionID = *r.ClientRequestToken, *r.ClientRequestToken
	}
	sec, ver, err := e.Gate.Secrets.Create(ctx, sc, in)
	if err != nil {
		return nil, createError(c, r, err)
	}
	out := &createResponse{ARN: ARN(c, sec), Name: sec.Name}
	if ver != nil {
		out.VersionId = ver.ID
	}
	return out, nil
}

func createError(c *api.Call, r *createRequest, err error) error {
	switch {
	case fault.ReasonOf(err) == fault.TokenReused:
		return fail(errResourceExists, fmt.Sprintf("You can't use ClientRequestToken %s because that value is already in use for a version of secret %s.", *r.ClientRequestToken, r.Name))
	case fault.Is(err, fault.Exists) && fault.ReasonOf(err) == fault.ReasonNone:
		return fail(errResourceExists, "The operation failed because the secret "+r.Name+" already exists.")
	}
	return err
}

type getRequest struct {
	idRequest
	VersionId    *string
	VersionStage *string
}

type valueResponse struct {
	ARN           string
	Name          string
	VersionId     string
	SecretBinary  string `json:",omitempty"`
	SecretString  string `json:",omitempty"`
	VersionStages []string
	CreatedDate   *epoch
}

func (r *getRequest) selector() (secrets.Selector, error) {
	var sel secrets.Selector
	if r.VersionId != nil {
		sel.VersionID = *r.VersionId
	}
	if r.VersionStage != nil {
		st, err := toCore(*r.VersionStage)
		if err != nil {
			return sel, err
		}
		sel.Stage = st
	}
	return sel, nil
}

func getSecretValue(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *getRequest) (*valueResponse, error) {
	sel, err := r.selector()
	if err != nil {
		return nil, err
	}
	sec, ver, val, err := e.Gate.Secrets.GetValue(ctx, sc, r.name, sel)
	if err != nil {
		return nil, valueError(err, sel)
	}
	return valueOut(c, sec, ver, val), nil
}

// valueOut is a version's value as GetSecretValue and BatchGetSecretValue show it.
func valueOut(c *api.Call, sec *secrets.Secret, ver *secrets.Version, val secrets.Value) *valueResponse {
	out := &valueResponse{
		ARN: ARN(c, sec), Name: sec.Name, VersionId: ver.ID,
		VersionStages: toAWSLabels(ver.Stages), CreatedDate: at(ver.CreatedAt),
	}
	if val.IsBinary() {
		out.SecretBinary = base64.StdEncoding.EncodeToString(val.Bytes())
	} else {
		out.SecretString = val.Text()
	}
	return out
}

// valueError words a failed read as AWS does.
func valueError(err error, sel secrets.Selector) error {
	switch fault.ReasonOf(err) {
	case fault.NoSuchStage:
		stage := sel.Stage
		if stage == "" {
			stage = secrets.StageCurrent
		}
		return fail(errResourceNotFound, "Secrets Manager can't find the specified secret value for staging label: "+toAWSLabel(stage))
	case fault.NoSuchVersion:
		return fail(errResourceNotFound, "Secrets Manager can't find the specified secret value for VersionId: "+sel.VersionID)
	case fault.StageMismatch:
		return fail(errInvalidRequest, "You provided a VersionStage that is not associated to the provided VersionId.")
	}
	return err
}

type putRequest struct {
	idRequest
	ClientRequestToken *string
	SecretBinary       *string
	SecretString       *string
	VersionStages      []string
	RotationToken      *string
}

func (r *putRequest) check(c *api.Call) error {
	if err := r.idRequest.check(c); err != nil {
		return err
	}
	return checkToken(r.ClientRequestToken)
}

type putResponse struct {
	ARN           string
	Name          string
	VersionId     string
	VersionStages []string
}

func putSecretValue(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *putRequest) (*putResponse, error) {
	v, err := value(r.SecretString, r.SecretBinary)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, fail(errInvalidRequest, "You must provide either SecretString or SecretBinary.")
	}
	if err := needToken(r.ClientRequestToken); err != nil {
		return nil, err
	}
	in, err := putInput(*v, *r.ClientRequestToken, r.VersionStages)
	if err != nil {
		return nil, err
	}
	sec, ver, err := e.Gate.Secrets.PutValue(ctx, sc, r.name, in)
	if err != nil {
		return nil, putError(err, *r.ClientRequestToken, r.SecretId)
	}
	return &putResponse{ARN: ARN(c, sec), Name: sec.Name, VersionId: ver.ID, VersionStages: toAWSLabels(ver.Stages)}, nil
}

func putInput(v secrets.Value, token string, labels []string) (secrets.PutInput, error) {
	stages, err := toCoreAll(labels)
	if err != nil {
		return secrets.PutInput{}, err
	}
	return secrets.PutInput{
		VersionID: token, Token: token, Value: v, Stages: stages,
		MaxVersions: maxVersions, PruneDeprecated: true,
	}, nil
}

func putError(err error, token, id string) error {
	if fault.Is(err, fault.Exists) {
		return fail(errResourceExists, fmt.Sprintf("You can't use ClientRequestToken %s because that value is already in use for a version of secret %s.", token, id))
	}
	return err
}

type updateRequest struct {
	idRequest
	ClientRequestToken *string
	Description        *string
	KmsKeyId           *string
	SecretBinary       *string
	SecretString       *string
	Type               *string
}

func (r *updateRequest) check(c *api.Call) error {
	if err := r.idRequest.check(c); err != nil {
		return err
	}
	return checkToken(r.ClientRequestToken)
}

func updateSecret(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *updateRequest) (*createResponse, error) {
	v, err := value(r.SecretString, r.SecretBinary)
	if err != nil {
		return nil, err
	}
	var put *secrets.PutInput
	if v != nil {
		if err := needToken(r.ClientRequestToken); err != nil {
			return nil, err
		}
		in, err := putInput(*v, *r.ClientRequestToken, nil)
		if err != nil {
			return nil, err
		}
		put = &in
	}
	sec, ver, err := e.Gate.Secrets.Update(ctx, sc, r.name, secrets.MetaPatch{Description: r.Description, KeyID: kmsKey(r.KmsKeyId)}, put)
	if err != nil {
		if put != nil {
			return nil, putError(err, put.Token, r.SecretId)
		}
		return nil, err
	}
	out := &createResponse{ARN: ARN(c, sec), Name: sec.Name}
	if ver != nil {
		out.VersionId = ver.ID
	}
	return out, nil
}

type stageRequest struct {
	idRequest
	VersionStage        string
	RemoveFromVersionId *string
	MoveToVersionId     *string
}

func (r *stageRequest) check(c *api.Call) error {
	if err := r.idRequest.check(c); err != nil {
		return err
	}
	if r.VersionStage == "" {
		return fail(errInvalidParameter, "VersionStage is required.")
	}
	return nil
}

func updateSecretVersionStage(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *stageRequest) (*arnName, error) {
	stage, err := toCore(r.VersionStage)
	if err != nil {
		return nil, err
	}
	in := secrets.MoveInput{Stage: stage}
	if r.MoveToVersionId != nil {
		in.MoveTo = *r.MoveToVersionId
	}
	if r.RemoveFromVersionId != nil {
		in.RemoveFrom = *r.RemoveFromVersionId
	}
	sec, err := e.Gate.Secrets.MoveStage(ctx, sc, r.name, in)
	if err != nil {
		return nil, err
	}
	out := names(c, sec)
	return &out, nil
}

type deleteRequest struct {
	idRequest
	RecoveryWindowInDays       *int64
	ForceDeleteWithoutRecovery bool
}

func (r *deleteRequest) check(c *api.Call) error {
	if err := r.idRequest.check(c); err != nil {
		return err
	}
	if r.ForceDeleteWithoutRecovery && r.RecoveryWindowInDays != nil {
		return fail(errInvalidParameter, "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
	}
	if w := r.RecoveryWindowInDays; w != nil && (*w < 7 || *w > 30) {
		return fail(errInvalidParameter, "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
	}
	return nil
}

type deleteResponse struct {
	ARN          string
	Name         string
	DeletionDate *epoch
}

func deleteSecret(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *deleteRequest) (*deleteResponse, error) {
	in := secrets.DeleteInput{RecoveryDays: 30}
	if r.RecoveryWindowInDays != nil {
		in.RecoveryDays = int(*r.RecoveryWindowInDays)
	}
	if r.ForceDeleteWithoutRecovery {
		in.RecoveryDays = 0
	}
	sec, err := e.Gate.Secrets.Delete(ctx, sc, r.name, in)
	if fault.Is(err, fault.NotFound) && r.ForceDeleteWithoutRecovery && r.name == r.SecretId {
		// AWS answers a forced delete of a secret that does not exist as done.
		return &deleteResponse{ARN: arnFor(c.Region, c.Principal.Account, r.SecretId, secrets.NewID(6)), Name: r.SecretId, DeletionDate: at(e.now())}, nil
	}
	if err != nil {
		return nil, err
	}
	return &deleteResponse{ARN: ARN(c, sec), Name: sec.Name, DeletionDate: at(sec.DeleteAt)}, nil
}

func restoreSecret(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *idRequest) (*arnName, error) {
	sec, err := e.Gate.Secrets.Restore(ctx, sc, r.name, true)
	if fault.ReasonOf(err) == fault.SecretNotPending {
		sec, _, err = e.Gate.Secrets.Describe(ctx, sc, r.name) // AWS restores a live secret as a no-op
	}
	if err != nil {
		return nil, err
	}
	out := names(c, sec)
	return &out, nil
}

type tagRequest struct {
	idRequest
	Tags []tagIn
}

func (r *tagRequest) check(c *api.Call) error {
	if err := r.idRequest.check(c); err != nil {
		return err
	}
	if r.Tags == nil {
		return fail(errInvalidParameter, "Tags is required.")
	}
	return nil
}

type empty struct{}

func tagResource(ctx context.Context, e *Edge, sc secrets.Scope, _ *api.Call, r *tagRequest) (*empty, error) {
	tg, err := tags(r.Tags)
	if err != nil {
		return nil, err
	}
	_, err = e.Gate.Secrets.Tag(ctx, sc, r.name, tg)
	return &empty{}, err
}

type untagRequest struct {
	idRequest
	TagKeys []string
}

func (r *untagRequest) check(c *api.Call) error {
	if err := r.idRequest.check(c); err != nil {
		return err
	}
	if r.TagKeys == nil {
		return fail(errInvalidParameter, "TagKeys is required.")
	}
	return nil
}

func untagResource(ctx context.Context, e *Edge, sc secrets.Scope, _ *api.Call, r *untagRequest) (*empty, error) {
	_, err := e.Gate.Secrets.Untag(ctx, sc, r.name, r.TagKeys)
	return &empty{}, err
}

// tagMap turns request tags into the map conditions read.
func tagMap(in []tagIn) map[string]string {
	if len(in) == 0 {
		return nil
	}
	m := make(map[string]string, len(in))
	for _, t := range in {
		m[deref(t.Key, "")] = deref(t.Value, "")
	}
	return m
}

func (r *createRequest) requestTags() map[string]string { return tagMap(r.Tags) }
func (r *tagRequest) requestTags() map[string]string    { return tagMap(r.Tags) }
