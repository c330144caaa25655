package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"
)

// CurrentVersion is the version id Tencent clients ask GetSecretValue for
// to get the current version. A secret created without a version id has a
// version literally named so, which this id then selects (see
// docs/api-tencent.md); GetCurrentSecretValue avoids that ambiguity.
const CurrentVersion = "SSM_Current"

// SecretType is Tencent's SecretType: 0 for a user-defined secret, 4 for
// a Redis one (the rotated kinds cannot be created with CreateSecret).
type SecretType int

// The secret types.
const (
	TypeUserDefined SecretType = 0
	TypeRedis       SecretType = 4
)

// Tag is a key and value attached to a secret.
type Tag struct{ Key, Value string }

type wireTag struct{ TagKey, TagValue string }

// VersionRef names a version of a secret: what a write returns.
type VersionRef struct {
	Name      string
	VersionID string
}

// SecretValue is one version's value.
type SecretValue struct {
	Name      string
	VersionID string
	Value     Value
}

// CreateSecretInput describes a new secret and its first value.
type CreateSecretInput struct {
	Name  string // letters, digits, '_' and '-', at most 128
	Value Value  // required
	// VersionID names the first version; "" names it SSM_Current, as
	// Tencent does.
	VersionID        string
	Description      string
	KmsKeyID         string // "" for the account's default key
	Tags             []Tag
	Type             SecretType
	AdditionalConfig string // Redis secrets' configuration (JSON)
}

// CreateSecret creates a secret with its first version. A retry after an
// ambiguous failure that finds the name taken by the same value succeeds.
// It returns an *Error: ResourceInUse.SecretExists when the name is taken
// (also by a secret pending deletion), InvalidParameterValue for a bad
// name or value, LimitExceeded at the account's secret quota.
func (c *Client) CreateSecret(ctx context.Context, in CreateSecretInput) (*VersionRef, error) {
	req := struct {
		SecretName       string
		VersionId        string    `json:",omitempty"`
		Description      string    `json:",omitempty"`
		KmsKeyId         string    `json:",omitempty"`
		SecretType       *int64    `json:",omitempty"`
		AdditionalConfig string    `json:",omitempty"`
		Tags             []wireTag `json:",omitempty"`
		wireValue
	}{SecretName: in.Name, VersionId: in.VersionID, Description: in.Description, KmsKeyId: in.KmsKeyID,
		AdditionalConfig: in.AdditionalConfig, wireValue: toWire(in.Value)}
	if in.Type != TypeUserDefined {
		t := int64(in.Type)
		req.SecretType = &t
	}
	for _, t := range in.Tags {
		req.Tags = append(req.Tags, wireTag{t.Key, t.Value})
	}
	var out struct{ SecretName, VersionId string }
	retried, err := c.send(ctx, SSM, "CreateSecret", retryIdempotent, req, &out)
	if retried && CodeOf(err) == CodeSecretExists {
		id := in.VersionID
		if id == "" {
			id = CurrentVersion
		}
		return c.ownWrite(ctx, in.Name, id, in.Value, err)
	}
	if err != nil {
		return nil, err
	}
	return &VersionRef{Name: out.SecretName, VersionID: out.VersionId}, nil
}

// ownWrite decides whether a retried write that met a taken name or
// version id met its own earlier attempt: it did when that version holds
// the value written. Otherwise it returns conflict.
func (c *Client) ownWrite(ctx context.Context, name, versionID string, v Value, conflict error) (*VersionRef, error) {
	got, err := c.GetSecretValue(ctx, name, versionID)
	if err != nil || !got.Value.Equal(v) {
		return nil, conflict
	}
	return &VersionRef{Name: name, VersionID: versionID}, nil
}

// GetSecretValue returns the value of one version of a secret; versionID
// CurrentVersion asks for the current one (but see CurrentVersion). It
// returns an *Error: ResourceNotFound for an unknown secret or version,
// ResourceUnavailable.* for a Disabled secret or one pending deletion.
func (c *Client) GetSecretValue(ctx context.Context, name, versionID string) (*SecretValue, error) {
	req := struct{ SecretName, VersionId string }{name, versionID}
	var out struct{ SecretName, VersionId, SecretString, SecretBinary string }
	if err := c.call(ctx, "GetSecretValue", retryIdempotent, req, &out); err != nil {
		return nil, err
	}
	v, err := fromWire(out.SecretString, out.SecretBinary)
	clearString(&out.SecretString)
	if err != nil {
		return nil, err
	}
	return &SecretValue{Name: name, VersionID: out.VersionId, Value: v}, nil
}

// clearString drops a reference to a decoded value as soon as it is
// copied (Go strings cannot be wiped; this keeps it from living longer).
func clearString(s *string) { *s = "" }

// GetCurrentSecretValue returns the value of the version the server serves
// this caller by default — the current one, or a roll-out's — with that
// version's real id: it asks WaitSecretChange which version that is (without
// waiting), then reads it by id. A server or caller without WaitSecretChange
// gets the newest version instead (listed with ListSecretVersionIds), which
// is the current one unless a rotation or a roll-out is in progress. It
// fails as GetSecretValue does, with ResourceNotFound for a secret without
// versions.
func (c *Client) GetCurrentSecretValue(ctx context.Context, name string) (*SecretValue, error) {
	if !c.noCurrentCall.Load() {
		ch, err := c.WaitSecretChange(ctx, name, "", 0)
		switch {
		case err == nil && ch.VersionID != "":
			return c.GetSecretValue(ctx, name, ch.VersionID)
		case hasCode(CodeOf(err), "InvalidAction") || hasCode(CodeOf(err), "UnsupportedOperation") || hasCode(CodeOf(err), CodeUnauthorized):
			// An older server, or a caller not allowed WaitSecretChange:
			// list instead, from now on.
			c.noCurrentCall.Store(true)
		case err != nil:
			return nil, err
		}
	}
	vs, err := c.ListSecretVersionIds(ctx, name)
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return nil, &Error{Action: "GetCurrentSecretValue", Code: CodeNotFound, Message: "secret " + name + " has no versions"}
	}
	return c.GetSecretValue(ctx, name, vs[len(vs)-1].ID)
}

// PutSecretValueInput is a new version of a secret.
type PutSecretValueInput struct {
	Name  string
	Value Value
	// VersionID names the version; "" makes the client generate one
	// (NewVersionID), so a retried put cannot write the value twice.
	VersionID string
}

// PutSecretValue adds a version and makes it current. A retry after an
// ambiguous failure that finds its version id taken by the same value
// succeeds. It returns an *Error: ResourceInUse.VersionIdExists for a
// taken id, LimitExceeded when the secret holds the most versions allowed,
// ResourceUnavailable.ResourcePendingDeleted, ResourceNotFound.
func (c *Client) PutSecretValue(ctx context.Context, in PutSecretValueInput) (*VersionRef, error) {
	if in.VersionID == "" {
		in.VersionID = NewVersionID(time.Now())
	}
	req := struct {
		SecretName, VersionId string
		wireValue
	}{in.Name, in.VersionID, toWire(in.Value)}
	var out struct{ SecretName, VersionId string }
	retried, err := c.send(ctx, SSM, "PutSecretValue", retryIdempotent, req, &out)
	if retried && CodeOf(err) == CodeVersionExists {
		return c.ownWrite(ctx, in.Name, in.VersionID, in.Value, err)
	}
	if err != nil {
		return nil, err
	}
	return &VersionRef{Name: out.SecretName, VersionID: out.VersionId}, nil
}

// NewVersionID returns a fresh version id: the UTC time, to the second,
// and 32 random bits, e.g. 20260102T150405Z-1a2b3c4d. Ids so made sort by
// time and fit Tencent's version id rule.
func NewVersionID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// UpdateSecretInput replaces the value of an existing version in place.
type UpdateSecretInput struct {
	Name      string
	VersionID string // required
	Value     Value
}

// UpdateSecret overwrites a version's value (under a fresh data key). It
// returns an *Error: ResourceNotFound for an unknown secret or version,
// OperationDenied.AutoRotatedResource for a rotated secret.
func (c *Client) UpdateSecret(ctx context.Context, in UpdateSecretInput) (*VersionRef, error) {
	if in.VersionID == "" {
		return nil, errors.New("client: UpdateSecret needs a VersionID")
	}
	req := struct {
		SecretName, VersionId string
		wireValue
	}{in.Name, in.VersionID, toWire(in.Value)}
	var out struct{ SecretName, VersionId string }
	if err := c.call(ctx, "UpdateSecret", retryIdempotent, req, &out); err != nil {
		return nil, err
	}
	return &VersionRef{Name: out.SecretName, VersionID: out.VersionId}, nil
}

// UpdateDescription sets a secret's description. It returns an *Error:
// ResourceNotFound, ResourceUnavailable.ResourcePendingDeleted.
func (c *Client) UpdateDescription(ctx context.Context, name, description string) error {
	req := struct{ SecretName, Description string }{name, description}
	return c.call(ctx, "UpdateDescription", retryIdempotent, req, nil)
}

// EnableSecret makes a Disabled secret readable again; an Enabled one stays
// so. It returns an *Error: ResourceNotFound,
// ResourceUnavailable.ResourcePendingDeleted.
func (c *Client) EnableSecret(ctx context.Context, name string) error {
	return c.call(ctx, "EnableSecret", retryIdempotent, nameReq{name}, nil)
}

// DisableSecret stops a secret's value from being read; a Disabled one
// stays so. It returns an *Error: ResourceNotFound.
func (c *Client) DisableSecret(ctx context.Context, name string) error {
	return c.call(ctx, "DisableSecret", retryIdempotent, nameReq{name}, nil)
}

type nameReq struct{ SecretName string }

// DeleteSecret deletes a Disabled secret: now when recoveryDays is 0, else
// after that many days (at most 30), until when RestoreSecret can undo it.
// It returns when the secret is (or was) purged. It is retried only when
// the server surely did not run it. It returns an *Error: OperationDenied
// for an Enabled secret, ResourceNotFound, InvalidParameterValue for a
// window out of range.
func (c *Client) DeleteSecret(ctx context.Context, name string, recoveryDays int) (time.Time, error) {
	days := int64(recoveryDays)
	req := struct {
		SecretName           string
		RecoveryWindowInDays *int64
	}{name, &days}
	var out struct{ DeleteTime int64 }
	if err := c.call(ctx, "DeleteSecret", retrySafe, req, &out); err != nil {
		return time.Time{}, err
	}
	return unixTime(uint64(max(out.DeleteTime, 0))), nil
}

// RestoreSecret cancels a scheduled deletion; the secret comes back
// Disabled. It is retried only when the server surely did not run it. It
// returns an *Error: FailedOperation for a secret not pending deletion,
// ResourceNotFound.
func (c *Client) RestoreSecret(ctx context.Context, name string) error {
	return c.call(ctx, "RestoreSecret", retrySafe, nameReq{name}, nil)
}

// DeleteSecretVersion deletes one version; when it was current, the newest
// remaining version becomes current. It is retried only when the server
// surely did not run it. It returns an *Error: ResourceNotFound.
func (c *Client) DeleteSecretVersion(ctx context.Context, name, versionID string) error {
	req := struct{ SecretName, VersionId string }{name, versionID}
	return c.call(ctx, "DeleteSecretVersion", retrySafe, req, nil)
}

func unixTime(s uint64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(int64(s), 0).UTC()
}

// parseTencentTime reads Tencent's "2006-01-02 15:04:05" (UTC in Coffer).
func parseTencentTime(s string) time.Time {
	t, err := time.Parse(time.DateTime, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
