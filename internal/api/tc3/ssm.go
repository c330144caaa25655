package tc3

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
)

// ssmActions is the SSM action table. Actions of capabilities not served
// yet answer UnsupportedOperation rather than InvalidAction, so a client
// can tell "not here yet" from a typo.
var ssmActions = map[string]action{
	"CreateSecret":         operationLevel(handle(createSecret)),
	"GetSecretValue":       handle(getSecretValue),
	"PutSecretValue":       handle(putSecretValue),
	"UpdateSecret":         handle(updateSecret),
	"DeleteSecret":         handle(deleteSecret),
	"RestoreSecret":        handle(restoreSecret),
	"DisableSecret":        handle(disableSecret),
	"EnableSecret":         handle(enableSecret),
	"DescribeSecret":       handle(describeSecret),
	"ListSecrets":          handle(listSecrets),
	"ListSecretVersionIds": handle(listSecretVersionIds),
	"DeleteSecretVersion":  handle(deleteSecretVersion),
	"UpdateDescription":    handle(updateDescription),
	"GetRegions":           handle(getRegions),
	"GetServiceStatus":     handle(getServiceStatus),

	"DescribeSecretConsumers":   handle(describeSecretConsumers),
	"DescribeSupportedProducts": handle(describeSupportedProducts),
	"DescribeUsage":             handle(describeUsage),
	"CreateProductSecret":       operationLevel(handle(createProductSecret)),
	"RotateProductSecret":       handle(rotateProductSecret),
	"UpdateRotationStatus":      handle(updateRotationStatus),
	"DescribeRotationDetail":    handle(describeRotationDetail),
	"DescribeRotationHistory":   handle(describeRotationHistory),
	"DescribeAsyncRequestInfo":  handle(describeAsyncRequestInfo),
	"CreateSSHKeyPairSecret":    operationLevel(handle(createSSHKeyPairSecret)),
	"GetSSHKeyPairValue":        handle(getSSHKeyPairValue),

	// Coffer's own: the database instances product secrets rotate on.
	"RegisterDatabase":   operationLevel(handle(registerDatabase)),
	"DescribeDatabases":  handle(describeDatabases),
	"DeregisterDatabase": operationLevel(handle(deregisterDatabase)),

	// Coffer's own: roll-outs and change notification.
	"StartSecretRollout":   handle(startSecretRollout),
	"PromoteSecretRollout": handle(promoteSecretRollout),
	"AbandonSecretRollout": handle(abandonSecretRollout),
	"WaitSecretChange":     handle(waitSecretChange),

	// Coffer's own: cross-region replication.
	"ReplicateSecretToRegions":     handle(replicateSecretToRegions),
	"RemoveRegionsFromReplication": handle(removeRegionsFromReplication),
	"StopReplicationToReplica":     handle(stopReplicationToReplica),
}

// operationLevel marks an action CAM authorizes on resource "*" only,
// though it names a secret (spec §4.7).
func operationLevel(a action) action {
	return func(e *Edge, ctx context.Context, c *api.Call, body []byte) (any, error) {
		c.OperationLevel = true
		return a(e, ctx, c, body)
	}
}

func notYet(e *Edge, ctx context.Context, c *api.Call, _ []byte) (any, error) {
	err := wire(codeUnsupportedOperation, "The action "+c.Action+" is not supported by this Coffer server yet.")
	e.Gate.Fail(ctx, c, err)
	return nil, err
}

// request is what every decoded request offers the generic handler.
type request interface {
	check() error     // edge-level validation: required fields, Tencent's name rules
	resource() string // the secret the call names, "" for none
}

// handle turns a typed action into an action: decode strictly, check, then
// run through the gate.
func handle[R any, PR interface {
	*R
	request
}, Res any](run func(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, req PR) (Res, error)) action {
	return func(e *Edge, ctx context.Context, c *api.Call, body []byte) (any, error) {
		req := PR(new(R))
		err := decode(body, req)
		if err == nil {
			err = req.check()
		}
		if err != nil {
			e.Gate.Fail(ctx, c, err) // refused before the gate: record it here
			return nil, err
		}
		c.Resource = req.resource()
		c.SecretName = c.Resource
		if t, ok := any(req).(interface{ requestTags() map[string]string }); ok {
			c.RequestTags = t.requestTags()
		}
		if p, ok := any(req).(interface{ prepare(c *api.Call) }); ok {
			p.prepare(c) // names the resource for authorization
		}
		var res Res
		err = e.Gate.Do(ctx, c, func(ctx context.Context, sc secrets.Scope) error {
			var err error
			res, err = run(ctx, e, sc, c, req)
			return err
		})
		return res, err
	}
}

// Tencent's own rules, stricter than the core's.
var (
	tencentName    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`)
	tencentVersion = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
)

func checkName(name string) error {
	if err := required("SecretName", name); err != nil {
		return err
	}
	if !tencentName.MatchString(name) {
		return wire(codeInvalidValue, "The parameter `SecretName` must be 1 to 128 characters of letters, digits, '_' and '-', starting with a letter or digit.")
	}
	return nil
}

func checkVersion(id string) error {
	if err := required("VersionId", id); err != nil {
		return err
	}
	if !tencentVersion.MatchString(id) {
		return wire(codeInvalidValue, "The parameter `VersionId` must be 1 to 64 characters of letters, digits, '.', '_' and '-', starting with a letter or digit.")
	}
	return nil
}

// readName is the rule for names a request reads rather than creates: any
// name the core accepts, so secrets created through another API family stay
// reachable here.
func readName(name string) error {
	if err := required("SecretName", name); err != nil {
		return err
	}
	if err := secrets.CheckName("tc3", name); err != nil {
		return wire(codeInvalidValue, "The parameter `SecretName` is not a valid secret name.")
	}
	return nil
}

func (r *nameRequest) check() error     { return readName(r.SecretName) }
func (r *nameRequest) resource() string { return r.SecretName }

// value decodes the exactly-one-of SecretString / SecretBinary pair.
func value(str, bin *string, maxBytes int) (secrets.Value, error) {
	switch {
	case str != nil && bin != nil:
		return secrets.Value{}, wire(codeInvalidValue, "Give exactly one of `SecretString` and `SecretBinary`, not both.")
	case str == nil && bin == nil:
		return secrets.Value{}, wire(codeMissingParameter, "One of the parameters `SecretString` and `SecretBinary` is required.")
	case str != nil:
		if *str == "" {
			return secrets.Value{}, wire(codeInvalidValue, "The parameter `SecretString` must not be empty.")
		}
		if len(*str) > maxBytes {
			return secrets.Value{}, wire(codeInvalidValue, fmt.Sprintf("The parameter `SecretString` is longer than %d bytes.", maxBytes))
		}
		return secrets.StringValue(*str), nil
	}
	if len(*bin) > base64.StdEncoding.EncodedLen(maxBytes) {
		return secrets.Value{}, wire(codeInvalidValue, fmt.Sprintf("The parameter `SecretBinary` decodes to more than %d bytes.", maxBytes))
	}
	b, err := base64.StdEncoding.DecodeString(*bin)
	if err != nil {
		return secrets.Value{}, wire(codeInvalidValue, "The parameter `SecretBinary` is not valid base64.")
	}
	if len(b) == 0 {
		return secrets.Value{}, wire(codeInvalidValue, "The parameter `SecretBinary` must not be empty.")
	}
	return secrets.BinaryValue(b), nil
}

func tags(in []tagIn) ([]store.Tag, error) {
	out := make([]store.Tag, 0, len(in))
	for i, t := range in {
		if t.TagKey == nil || *t.TagKey == "" {
			return nil, wire(codeMissingParameter, fmt.Sprintf("The parameter `Tags.%d.TagKey` is required.", i))
		}
		if t.TagValue == nil {
			return nil, wire(codeMissingParameter, fmt.Sprintf("The parameter `Tags.%d.TagValue` is required.", i))
		}
		out = append(out, store.Tag{Key: *t.TagKey, Value: *t.TagValue})
	}
	return out, nil
}
