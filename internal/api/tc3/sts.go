package tc3

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/iam"
	"github.com/coffer-secrets/coffer/internal/iam/policy"
	"github.com/coffer-secrets/coffer/internal/secrets"
)

// stsActions is the STS action table (spec §4).
var stsActions = map[string]action{
	"AssumeRole":        handle(assumeRole),
	"GetCallerIdentity": handle(getCallerIdentity),
}

type assumeRoleRequest struct {
	noCheck
	RoleArn         string
	RoleSessionName string
	DurationSeconds *flexUint
	Policy          string
	ExternalId      string
	Tags            []camTag
	SourceIdentity  string
	SerialNumber    string
	TokenCode       string
}

func (r *assumeRoleRequest) check() error {
	if err := required("RoleArn", r.RoleArn); err != nil {
		return err
	}
	if err := required("RoleSessionName", r.RoleSessionName); err != nil {
		return err
	}
	if r.DurationSeconds.set() && r.DurationSeconds.val() == 0 {
		return wire("InvalidParameter.ParamError", "The parameter `DurationSeconds` must be positive.")
	}
	if r.DurationSeconds.val() > iam.MaxSessionDuration {
		return wire("InvalidParameter.OverTimeError", "The parameter `DurationSeconds` is at most 43200.")
	}
	if r.SerialNumber != "" || r.TokenCode != "" {
		return wire("FailedOperation.MFATypeNotSupported", "MFA is not supported by this Coffer server.")
	}
	return nil
}
func (r *assumeRoleRequest) resource() string               { return r.RoleArn }
func (r *assumeRoleRequest) requestTags() map[string]string { return tagMapOf(r.Tags) }

// prepare leaves the decision to AssumeRole, which needs the trust policy.
func (r *assumeRoleRequest) prepare(c *api.Call) { c.SelfAuthorized = true }

type credentials struct {
	Token        string
	TmpSecretId  string
	TmpSecretKey string
}

type assumeRoleResponse struct {
	Credentials credentials
	ExpiredTime int64
	Expiration  string
}

func assumeRole(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *assumeRoleRequest) (*assumeRoleResponse, error) {
	doc := r.Policy
	if dec, err := url.QueryUnescape(doc); err == nil {
		doc = dec
	}
	tc, err := e.Gate.IAM.AssumeRole(ctx, c.Principal, iam.AssumeRoleInput{
		RoleArn: r.RoleArn, SessionName: r.RoleSessionName, Duration: int64(r.DurationSeconds.val()), Policy: doc,
		ExternalID: r.ExternalId, Tags: tagMapOf(r.Tags), Context: e.Gate.ConditionContext(c),
	})
	if err != nil {
		return nil, err
	}
	return &assumeRoleResponse{
		Credentials: credentials{Token: tc.Token, TmpSecretId: tc.SecretID, TmpSecretKey: tc.SecretKey},
		ExpiredTime: tc.Expires.Unix(), Expiration: tc.Expires.UTC().Format(time.RFC3339),
	}, nil
}

type callerIdentityRequest struct{ noCheck }

// prepare: any authenticated caller may ask who it is.
func (r *callerIdentityRequest) prepare(c *api.Call) { c.SelfAuthorized = true }

type callerIdentity struct {
	Arn         string
	AccountId   string
	UserId      string
	PrincipalId string
	Type        string
}

func getCallerIdentity(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *callerIdentityRequest) (*callerIdentity, error) {
	p := c.Principal
	switch p.Kind {
	case iam.KindRole:
		out := &callerIdentity{Arn: "qcs::sts:" + p.Account + ":assumed-role/" + p.ID, AccountId: p.Account,
			UserId: p.ID, PrincipalId: p.ID, Type: "CAMRole"}
		if p.Session != nil {
			out.UserId += ":" + p.Session.Name
			out.PrincipalId = p.Session.SourceID
		}
		return out, nil
	case iam.KindUser:
		return &callerIdentity{Arn: "qcs::cam:" + p.Account + ":uin/" + p.ID, AccountId: p.Account, UserId: p.ID, PrincipalId: p.ID, Type: "CAMUser"}, nil
	}
	return &callerIdentity{Arn: "qcs::cam::uin/" + p.Account + ":root", AccountId: p.Account, UserId: p.Account, PrincipalId: p.Account, Type: "CAMUser"}, nil
}

// ---- ExplainAccess: a Coffer extension on the cam service ----

type explainRequest struct {
	noCheck
	// The principal: TargetUin (a user, or the owner uin for the root),
	// or RoleId; neither means the caller.
	TargetUin *flexUint
	RoleId    string
	// The question: an action as "service:Action" and a resource name
	// ("" or "*" for an operation-level action). For a secret, give
	// SecretName and Region instead of Resource.
	Action     string
	Resource   string
	SecretName string
	Region     string
	SourceIp   string
}

func (r *explainRequest) check() error { return required("Action", r.Action) }

type explainStep struct {
	Statement string
	Effect    string
	Applies   bool
	Notes     []string
}

type explainResponse struct {
	Decision  string // Allowed, ExplicitDeny or ImplicitDeny
	Allowed   bool
	Summary   string
	Statement string
	Documents []string
	Steps     []explainStep
	Session   *explainResponse `json:",omitempty"`
	Text      string
}

func explainOut(x policy.Explanation) *explainResponse {
	out := &explainResponse{Decision: x.Decision.Reason.String(), Allowed: x.Decision.Allowed, Summary: x.Summary,
		Statement: x.Decision.Statement.String(), Steps: []explainStep{}, Documents: []string{}, Text: x.String()}
	for _, s := range x.Steps {
		notes := s.Notes
		if notes == nil {
			notes = []string{}
		}
		out.Steps = append(out.Steps, explainStep{Statement: s.Statement.String(), Effect: s.Effect.String(), Applies: s.Applies, Notes: notes})
	}
	return out
}

func explainAccess(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *explainRequest) (*explainResponse, error) {
	p := c.Principal
	if r.TargetUin.set() || r.RoleId != "" {
		var err error
		if p, err = e.Gate.IAM.PrincipalFor(ctx, sc.Account, r.TargetUin.str(), r.RoleId); err != nil {
			return nil, err
		}
	}
	family, action, ok := strings.Cut(r.Action, ":")
	if !ok || family == "" || action == "" {
		return nil, wire(codeInvalidValue, "The parameter `Action` must be service:Action, e.g. ssm:GetSecretValue.")
	}
	q := &api.Call{Family: family, Action: action, Region: c.Region, Principal: p, SourceIP: c.SourceIP, Secure: c.Secure}
	if r.Region != "" {
		q.Region = r.Region
	}
	if r.SourceIp != "" {
		q.SourceIP = r.SourceIp
	}
	if r.Resource != "" && r.Resource != "*" {
		q.ResourceNames = []string{r.Resource}
	}
	x, err := e.Gate.Explain(ctx, q, action, r.SecretName)
	if err != nil {
		return nil, err
	}
	out := explainOut(x.Explanation)
	out.Documents = append(out.Documents, x.Identity...)
	if x.Session != nil {
		out.Session = explainOut(*x.Session)
		if !x.Session.Decision.Allowed && out.Allowed {
			out.Allowed, out.Decision = false, x.Session.Decision.Reason.String()
			out.Summary = "The role allows it, but the session policy does not: " + x.Session.Summary
		}
	}
	return out, nil
}
