package awsjson

import (
	"context"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/iam/policy"
	"github.com/coffer-secrets/coffer/internal/password"
	"github.com/coffer-secrets/coffer/internal/secrets"
)

type passwordRequest struct {
	PasswordLength          *int64
	ExcludeCharacters       string
	ExcludeNumbers          bool
	ExcludePunctuation      bool
	ExcludeUppercase        bool
	ExcludeLowercase        bool
	IncludeSpace            bool
	RequireEachIncludedType *bool
}

func (r *passwordRequest) resource() string { return "" }
func (r *passwordRequest) check(*api.Call) error {
	if r.PasswordLength != nil && (*r.PasswordLength < password.MinLength || *r.PasswordLength > password.MaxLength) {
		return fail(errValidation, "1 validation error detected: Value at 'passwordLength' failed to satisfy constraint: Member must have value between 1 and 4096")
	}
	return nil
}

type passwordResponse struct {
	RandomPassword string
}

func getRandomPassword(_ context.Context, _ *Edge, _ secrets.Scope, _ *api.Call, r *passwordRequest) (*passwordResponse, error) {
	o := password.Options{
		Length: password.DefaultLength, ExcludeCharacters: r.ExcludeCharacters,
		ExcludeNumbers: r.ExcludeNumbers, ExcludePunctuation: r.ExcludePunctuation,
		ExcludeUppercase: r.ExcludeUppercase, ExcludeLowercase: r.ExcludeLowercase,
		IncludeSpace: r.IncludeSpace, RequireEachIncludedType: r.RequireEachIncludedType == nil || *r.RequireEachIncludedType,
	}
	if r.PasswordLength != nil {
		o.Length = int(*r.PasswordLength)
	}
	p, err := password.Generate(o)
	if err != nil {
		return nil, err
	}
	return &passwordResponse{RandomPassword: p}, nil
}

// policyRequest names a secret's resource policy. Only the policy named
// "default" exists, as at AWS.
type policyRequest struct {
	idRequest
	PolicyName        *string
	ResourcePolicy    *string
	BlockPublicPolicy bool
}

func (r *policyRequest) check(c *api.Call) error {
	if err := r.idRequest.check(c); err != nil {
		return err
	}
	if r.PolicyName != nil && *r.PolicyName != "default" {
		return fail(errInvalidParameter, "PolicyName must be default.")
	}
	return nil
}

type policyResponse struct {
	ARN            string
	Name           string
	ResourcePolicy string  `json:",omitempty"`
	PolicyName     *string `json:",omitempty"`
}

func getResourcePolicy(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *policyRequest) (*policyResponse, error) {
	sec, _, err := e.Gate.Secrets.Describe(ctx, sc, r.name)
	if err != nil {
		return nil, err
	}
	return &policyResponse{ARN: ARN(c, sec), Name: sec.Name, ResourcePolicy: sec.Policy, PolicyName: r.PolicyName}, nil
}

func putResourcePolicy(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *policyRequest) (*policyResponse, error) {
	if r.ResourcePolicy == nil {
		return nil, fail(errInvalidParameter, "ResourcePolicy is required.")
	}
	doc, err := policy.Parse(*r.ResourcePolicy)
	if err != nil {
		return nil, fail(errMalformedPolicy, "The policy document is malformed: "+fault.Message(err))
	}
	if r.BlockPublicPolicy && doc.IsPublic() {
		return nil, fail(errPublicPolicy, "The policy allows public access to the secret and BlockPublicPolicy is set.")
	}
	sec, err := e.Gate.Secrets.SetPolicy(ctx, sc, r.name, *r.ResourcePolicy)
	if err != nil {
		return nil, err
	}
	return &policyResponse{ARN: ARN(c, sec), Name: sec.Name, PolicyName: r.PolicyName}, nil
}

func deleteResourcePolicy(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *policyRequest) (*policyResponse, error) {
	sec, err := e.Gate.Secrets.SetPolicy(ctx, sc, r.name, "")
	if err != nil {
		return nil, err
	}
	return &policyResponse{ARN: ARN(c, sec), Name: sec.Name, PolicyName: r.PolicyName}, nil
}

type validateRequest struct {
	SecretId       *string
	ResourcePolicy *string
	name           string
}

func (r *validateRequest) resource() string { return deref(r.SecretId, "") }
func (r *validateRequest) check(c *api.Call) (err error) {
	if r.ResourcePolicy == nil {
		return fail(errInvalidParameter, "ResourcePolicy is required.")
	}
	if r.SecretId != nil {
		r.name, err = resolve(c, *r.SecretId)
	}
	return err
}

type validationEntry struct {
	CheckName    string
	ErrorMessage string
}

type validateResponse struct {
	PolicyValidationPassed bool
	ValidationErrors       []validationEntry
}

// validateResourcePolicy checks a policy without storing it. A document
// that is not JSON at all is MalformedPolicyDocumentException; every other
// problem is a validation finding.
func validateResourcePolicy(ctx context.Context, e *Edge, sc secrets.Scope, _ *api.Call, r *validateRequest) (*validateResponse, error) {
	if r.name != "" {
		if _, _, err := e.Gate.Secrets.Describe(ctx, sc, r.name); err != nil {
			return nil, err
		}
	}
	out := &validateResponse{ValidationErrors: []validationEntry{}}
	for _, f := range policy.Validate(*r.ResourcePolicy) {
		if f.Check == policy.CheckSyntax || f.Check == policy.CheckSize {
			return nil, fail(errMalformedPolicy, f.Message)
		}
		out.ValidationErrors = append(out.ValidationErrors, validationEntry{CheckName: f.Check, ErrorMessage: f.Message})
	}
	out.PolicyValidationPassed = len(out.ValidationErrors) == 0
	return out, nil
}
