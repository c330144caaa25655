package awsjson

import (
	"context"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/secrets"
)

// request is what every decoded request offers the generic handler.
type request interface {
	check(c *api.Call) error // edge-level validation in AWS's terms
	resource() string        // the secret the call names, "" for none
}

// handle turns a typed action into an action: decode, check, then run
// through the gate.
func handle[R any, PR interface {
	*R
	request
}, Res any](run func(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, req PR) (Res, error)) func(e *Edge, ctx context.Context, c *api.Call, body []byte) (any, error) {
	return func(e *Edge, ctx context.Context, c *api.Call, body []byte) (any, error) {
		req := PR(new(R))
		err := decode(body, req)
		if err == nil {
			// The target first: an ARN may name another account, which
			// the checks resolve names in.
			c.Resource = req.resource()
			err = target(c, req)
		}
		if err == nil {
			err = req.check(c)
		}
		if err != nil {
			c.Resource = ""          // a refused request names nothing
			e.Gate.Fail(ctx, c, err) // refused before the gate: record it here
			return nil, err
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

// target sets what authorization needs: the secret the call names (and
// its account, for another account's ARN) and the tags it sets.
func target(c *api.Call, req request) error {
	if t, ok := req.(interface{ requestTags() map[string]string }); ok {
		c.RequestTags = t.requestTags()
	}
	if c.Resource == "" {
		return nil
	}
	if c.Action == "CreateSecret" {
		c.SecretName = c.Resource
		return nil
	}
	name, account, err := resolveAccount(c, c.Resource)
	if err != nil {
		return err
	}
	c.SecretName = name
	if account != c.Principal.Account {
		c.ResourceAccount = account
	}
	return nil
}

func reads(run func(e *Edge, ctx context.Context, c *api.Call, body []byte) (any, error)) action {
	return action{run: run}
}

func writes(run func(e *Edge, ctx context.Context, c *api.Call, body []byte) (any, error)) action {
	return action{run: run, writes: true}
}

// actions is the Secrets Manager action table. The cross-account replica
// actions and ListResourcePolicies answer InvalidRequestException saying
// they are not served.
var actions = map[string]action{
	"CreateSecret":             writes(handle(createSecret)),
	"GetSecretValue":           reads(handle(getSecretValue)),
	"BatchGetSecretValue":      reads(handle(batchGetSecretValue)),
	"PutSecretValue":           writes(handle(putSecretValue)),
	"UpdateSecret":             writes(handle(updateSecret)),
	"UpdateSecretVersionStage": reads(handle(updateSecretVersionStage)),
	"DescribeSecret":           reads(handle(describeSecret)),
	"ListSecrets":              reads(handle(listSecrets)),
	"ListSecretVersionIds":     reads(handle(listSecretVersionIds)),
	"DeleteSecret":             reads(handle(deleteSecret)),
	"RestoreSecret":            reads(handle(restoreSecret)),
	"TagResource":              reads(handle(tagResource)),
	"UntagResource":            reads(handle(untagResource)),
	"GetRandomPassword":        reads(handle(getRandomPassword)),
	"GetResourcePolicy":        reads(handle(getResourcePolicy)),
	"PutResourcePolicy":        reads(handle(putResourcePolicy)),
	"DeleteResourcePolicy":     reads(handle(deleteResourcePolicy)),
	"ValidateResourcePolicy":   reads(handle(validateResourcePolicy)),

	"RotateSecret":       writes(handle(rotateSecret)),
	"CancelRotateSecret": reads(handle(cancelRotateSecret)),

	"ReplicateSecretToRegions":     writes(handle(replicateSecretToRegions)),
	"RemoveRegionsFromReplication": reads(handle(removeRegionsFromReplication)),
	"StopReplicationToReplica":     reads(handle(stopReplicationToReplica)),

	"AssociateCrossAccountReplica":    reads(notYet),
	"DisassociateCrossAccountReplica": reads(notYet),
	"ListResourcePolicies":            reads(notYet),
}

func notYet(e *Edge, ctx context.Context, c *api.Call, _ []byte) (any, error) {
	err := fail(errInvalidRequest, c.Action+" is not supported by this Coffer server yet.")
	e.Gate.Fail(ctx, c, err)
	return nil, err
}
