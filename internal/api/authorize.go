package api

import (
	"context"
	"errors"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/iam"
	"github.com/coffer-secrets/coffer/internal/iam/policy"
	"github.com/coffer-secrets/coffer/internal/secrets"
)

// The API families whose resources are secrets.
const (
	FamilySSM            = "ssm"
	FamilySecretsManager = "secretsmanager"
)

// authorize decides whether c's principal may make c, in one place for
// every edge. The request names the action as its family does
// ("ssm:GetSecretValue", "secretsmanager:GetSecretValue", "cam:AddUser");
// policies written for the other family decide it too (policy.Equivalents).
//
// The resource is, by the first that applies:
//   - none ("*"), for an action marked OperationLevel or naming nothing;
//   - the secret SecretName names, in both spellings
//     (qcs::ssm:REGION:uin/ACCOUNT:secret/creatorUin/CREATOR/NAME and
//     arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-SUFFIX), with its
//     tags and resource policy; a secret that does not exist is named with
//     the caller as creator and the suffix "??????", so a policy granting
//     NAME-* covers creating it;
//   - ResourceNames, as the edge built them.
//
// A denial is fault.Denied wrapping an *iam.Denial.
func (g *Gate) authorize(ctx context.Context, c *Call) error {
	c.loaded = nil
	if c.SelfAuthorized {
		return nil
	}
	if c.Principal.Kind == "" {
		return fault.E("api.authorize", fault.Denied, "the caller is not identified")
	}
	d, denial, err := g.decide(ctx, c, c.Action, c.SecretName)
	if err != nil {
		return err
	}
	if !d.Allowed {
		return denial.Fault("api.authorize")
	}
	return nil
}

// Check decides whether c's principal may perform action (of c's family)
// on the named secret: for calls that act on several secrets, each of
// which needs its own grant (BatchGetSecretValue needs GetSecretValue on
// every secret it returns). A denial is fault.Denied wrapping an *iam.Denial.
func (g *Gate) Check(ctx context.Context, c *Call, action, secretName string) error {
	d, denial, err := g.decide(ctx, c, action, secretName)
	if err != nil {
		return err
	}
	if !d.Allowed {
		return denial.Fault("api.Check")
	}
	return nil
}

func (g *Gate) decide(ctx context.Context, c *Call, action, secretName string) (policy.Decision, *iam.Denial, error) {
	r, shown, err := g.authzRequest(ctx, c, action, secretName)
	if err != nil {
		return policy.Decision{}, nil, err
	}
	d, err := g.IAM.Authorize(ctx, r)
	if err != nil {
		return policy.Decision{}, nil, err
	}
	denial := &iam.Denial{Action: r.Action, Resource: shown, Principal: c.Principal.Arn(), Explicit: d.Reason == policy.ExplicitDeny,
		CrossAccount: c.ResourceAccount != "" && c.ResourceAccount != c.Principal.Account}
	return d, denial, nil
}

// Explain explains the decision on a call as authorize would make it.
func (g *Gate) Explain(ctx context.Context, c *Call, action, secretName string) (*iam.Explanation, error) {
	r, _, err := g.authzRequest(ctx, c, action, secretName)
	if err != nil {
		return nil, err
	}
	return g.IAM.Explain(ctx, r)
}

// authzRequest builds the question for c and the resource name a denial shows.
func (g *Gate) authzRequest(ctx context.Context, c *Call, action, secretName string) (iam.AuthzRequest, string, error) {
	r := iam.AuthzRequest{
		Principal: c.Principal, Action: c.Family + ":" + action, ResourceAccount: c.ResourceAccount,
		RequestTags: c.RequestTags, Context: g.conditionContext(c),
	}
	shown := "*"
	switch {
	case c.OperationLevel && action == c.Action:
	case secretName != "" && (c.Family == FamilySSM || c.Family == FamilySecretsManager):
		names, sec, fresh, err := g.secretNames(ctx, c, secretName)
		if err != nil {
			return r, "", err
		}
		r.Resources = names
		shown = names[0]
		if c.Family == FamilySecretsManager {
			shown = names[1]
		}
		if sec != nil && fresh && action == c.Action && secretName == c.SecretName {
			c.loaded = sec // the core's reads of this secret reuse it
		}
		if sec != nil {
			r.ResourcePolicy = sec.Policy
			if len(sec.Tags) > 0 {
				r.ResourceTags = make(map[string]string, len(sec.Tags))
				for _, t := range sec.Tags {
					r.ResourceTags[t.Key] = t.Value
				}
			}
		}
	case len(c.ResourceNames) > 0:
		r.Resources = c.ResourceNames
		shown = c.ResourceNames[0]
	}
	return r, shown, nil
}

// secretNames returns a secret's names in both spellings and the secret,
// nil when it does not exist. fresh is false when the secret came from the
// authorization cache (secrets.Service.Authz): good for authorization, but
// not for the core to reuse.
func (g *Gate) secretNames(ctx context.Context, c *Call, name string) (names []string, sec *secrets.Secret, fresh bool, err error) {
	sc := c.Scope()
	sec, fresh, err = g.Secrets.Authz(ctx, sc, name)
	switch {
	case fault.Is(err, fault.NotFound), fault.Is(err, fault.Invalid):
		sec = nil
	case err != nil:
		return nil, nil, false, err
	}
	plain := secrets.Unpin(name)
	creator, suffix := c.Principal.ID, "??????"
	if sec != nil {
		creator, suffix = sec.CreatedBy, sec.ID[:6]
		plain = sec.Name
	}
	if creator == "" {
		creator = sc.Account
	}
	return []string{
		"qcs::ssm:" + sc.Region + ":uin/" + sc.Account + ":secret/creatorUin/" + creator + "/" + plain,
		"arn:aws:secretsmanager:" + sc.Region + ":" + sc.Account + ":secret:" + plain + "-" + suffix,
	}, sec, fresh, nil
}

// ConditionContext holds the global condition keys of c: source IP,
// time, secure transport. The evaluator finds each under its AWS and its
// CAM name.
func (g *Gate) ConditionContext(c *Call) map[string][]string { return g.conditionContext(c) }

func (g *Gate) conditionContext(c *Call) map[string][]string {
	secure := "false"
	if c.Secure {
		secure = "true"
	}
	return map[string][]string{
		"aws:SourceIp":         {c.SourceIP},
		"aws:CurrentTime":      {g.now().Format(time.RFC3339)},
		"aws:SecureTransport":  {secure},
		"aws:PrincipalAccount": {c.Principal.Account},
		"aws:username":         {c.Principal.Name},
	}
}

// DenialOf returns the denial inside err, or nil.
func DenialOf(err error) *iam.Denial {
	var d *iam.Denial
	if errors.As(err, &d) {
		return d
	}
	return nil
}
