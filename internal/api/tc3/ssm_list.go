package tc3

import (
	"context"
	"fmt"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
)

// listStates maps ListSecrets' State numbers to statuses ("" = all).
var listStates = []store.SecretStatus{
	0: "", 1: store.StatusEnabled, 2: store.StatusDisabled, 3: store.StatusPendingDelete,
	4: store.StatusCreating, 5: store.StatusFailed,
}

func (r *listSecretsRequest) resource() string { return "" }
func (r *listSecretsRequest) check() error {
	for _, f := range []struct {
		name     string
		v        *int64
		min, max int64
	}{
		{"Offset", r.Offset, 0, 1 << 31},
		{"Limit", r.Limit, 0, 1000},
		{"OrderType", r.OrderType, 0, 1},
		{"State", r.State, 0, int64(len(listStates) - 1)},
		{"SecretType", r.SecretType, 0, 4},
		{"EncryptType", r.EncryptType, 0, 1},
	} {
		if f.v != nil && (*f.v < f.min || *f.v > f.max) {
			return wire(codeInvalidValue, fmt.Sprintf("The parameter `%s` must be %d to %d.", f.name, f.min, f.max))
		}
	}
	for i, t := range r.TagFilters {
		if t.TagKey == nil || *t.TagKey == "" {
			return wire(codeMissingParameter, fmt.Sprintf("The parameter `TagFilters.%d.TagKey` is required.", i))
		}
	}
	return nil
}

func (r *listSecretsRequest) input() secrets.ListInput {
	in := secrets.ListInput{Search: r.SearchSecretName, Types: []store.SecretType{store.TypeUserDefined}}
	if r.Offset != nil {
		in.Offset = int(*r.Offset)
	}
	if r.Limit != nil {
		in.Limit = int(*r.Limit)
	}
	in.Asc = r.OrderType != nil && *r.OrderType == 1
	if r.State != nil {
		in.Status = listStates[*r.State]
	}
	if r.SecretType != nil {
		in.Types = []store.SecretType{store.SecretType(*r.SecretType)}
	}
	for _, t := range r.TagFilters {
		in.Tags = append(in.Tags, store.TagFilter{Key: *t.TagKey, Values: t.TagValue})
	}
	return in
}

func listSecrets(ctx context.Context, e *Edge, sc secrets.Scope, _ *api.Call, r *listSecretsRequest) (*listSecretsResponse, error) {
	if r.EncryptType != nil && *r.EncryptType == 1 {
		return &listSecretsResponse{SecretMetadatas: []secretMetadata{}}, nil // no software-key secrets exist
	}
	list, total, err := e.Gate.Secrets.List(ctx, sc, r.input())
	if err != nil {
		return nil, err
	}
	out := &listSecretsResponse{TotalCount: uint64(total), SecretMetadatas: make([]secretMetadata, 0, len(list))}
	memo := map[string][2]string{}
	for _, sec := range list {
		m := metadata(sec)
		m.KmsKeyType, _ = e.keyKind(ctx, sc, sec.KeyID, memo)
		out.SecretMetadatas = append(out.SecretMetadatas, m)
	}
	return out, nil
}
