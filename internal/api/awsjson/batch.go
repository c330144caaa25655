package awsjson

import (
	"context"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
)

type batchRequest struct {
	SecretIdList []string
	Filters      []filterIn
	MaxResults   *int64
	NextToken    *string
}

func (r *batchRequest) resource() string { return "" }
func (r *batchRequest) check(*api.Call) error {
	switch {
	case len(r.SecretIdList) > 0 && len(r.Filters) > 0, len(r.SecretIdList) == 0 && len(r.Filters) == 0:
		return fail(errInvalidParameter, "Either 'SecretIdList' or 'Filters' must be provided, but not both.")
	case len(r.SecretIdList) > 20:
		return fail(errInvalidParameter, "SecretIdList holds at most 20 secrets.")
	case r.MaxResults != nil && len(r.Filters) == 0:
		return fail(errInvalidParameter, "'Filters' not specified. 'Filters' must also be specified when 'MaxResults' is provided.")
	case r.MaxResults != nil && (*r.MaxResults < 1 || *r.MaxResults > 20):
		return fail(errInvalidParameter, "MaxResults must be between 1 and 20.")
	}
	return nil
}

type apiError struct {
	SecretId  string
	ErrorCode string
	Message   string
}

type batchResponse struct {
	SecretValues []valueResponse
	Errors       []apiError `json:",omitempty"`
	NextToken    *string    `json:",omitempty"`
}

// batchGetSecretValue reads the current value of several secrets: by id,
// where each failure is reported per secret, or by filters, page by page.
func batchGetSecretValue(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *batchRequest) (*batchResponse, error) {
	out := &batchResponse{SecretValues: []valueResponse{}}
	if len(r.SecretIdList) > 0 {
		for _, id := range r.SecretIdList {
			v, err := e.currentValue(ctx, sc, c, id)
			if err != nil {
				a := toAWS(err, false)
				out.Errors = append(out.Errors, apiError{SecretId: id, ErrorCode: a.Type, Message: a.Msg})
				continue
			}
			out.SecretValues = append(out.SecretValues, *v)
		}
		return out, nil
	}
	return e.batchByFilter(ctx, sc, c, r, out)
}

func (e *Edge) batchByFilter(ctx context.Context, sc secrets.Scope, c *api.Call, r *batchRequest, out *batchResponse) (*batchResponse, error) {
	match, err := matcher(r.Filters)
	if err != nil {
		return nil, err
	}
	in := secrets.ScanInput{Asc: true, Limit: 20, Match: match, NamePrefixes: namePrefixes(r.Filters),
		NotStatus: store.StatusPendingDelete}
	if r.MaxResults != nil {
		in.Limit = int(*r.MaxResults)
	}
	page, err := scanPage(ctx, e, sc, in, r.NextToken, "batch")
	if err != nil {
		return nil, err
	}
	for _, sec := range page.Secrets {
		v, err := e.currentValue(ctx, sc, c, sec.Name)
		if api.DenialOf(err) != nil {
			a := toAWS(err, false)
			out.Errors = append(out.Errors, apiError{SecretId: ARN(c, sec), ErrorCode: a.Type, Message: a.Msg})
			continue
		}
		if err != nil {
			return nil, err
		}
		out.SecretValues = append(out.SecretValues, *v)
	}
	out.NextToken = nextToken(page.Next, "batch")
	return out, nil
}

// currentValue reads one secret of a batch, which needs its own
// GetSecretValue grant.
func (e *Edge) currentValue(ctx context.Context, sc secrets.Scope, c *api.Call, id string) (*valueResponse, error) {
	name, account, err := resolveAccount(c, id)
	if err != nil {
		return nil, err
	}
	one := *c
	if account != c.Principal.Account {
		one.ResourceAccount, sc.Account = account, account
	}
	if err := e.Gate.Check(ctx, &one, "GetSecretValue", name); err != nil {
		return nil, err
	}
	sec, ver, val, err := e.Gate.Secrets.GetValue(ctx, sc, name, secrets.Selector{})
	if err != nil {
		return nil, valueError(err, secrets.Selector{})
	}
	return valueOut(c, sec, ver, val), nil
}
