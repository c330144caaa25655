package awsjson

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
)

// pageToken is what a NextToken carries: where the page ended and the
// listing it belongs to, so a token is not reused with another order.
type pageToken struct {
	T int64  `json:"t,omitempty"` // sort time, unix ms
	N string `json:"n,omitempty"` // name
	S string `json:"s,omitempty"` // sort key and order
	O int    `json:"o,omitempty"` // offset, for version lists
}

func encodeToken(t pageToken) *string {
	b, _ := json.Marshal(t) // plain fields: cannot fail
	s := base64.RawURLEncoding.EncodeToString(b)
	return &s
}

func decodeToken(s *string, listing string) (pageToken, error) {
	var t pageToken
	if s == nil {
		return t, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(*s)
	if err != nil || json.Unmarshal(b, &t) != nil || t.S != listing {
		return t, fail(errInvalidNextToken, "The NextToken value is not valid for this listing.")
	}
	return t, nil
}

type listRequest struct {
	IncludePlannedDeletion bool
	MaxResults             *int64
	NextToken              *string
	Filters                []filterIn
	SortOrder              *string
	SortBy                 *string
}

var sortKeys = map[string]store.SortKey{
	"created-date": store.SortCreated, "name": store.SortName,
	"last-changed-date": store.SortChanged, "last-accessed-date": store.SortAccessed,
}

func (r *listRequest) resource() string { return "" }
func (r *listRequest) check(*api.Call) error {
	if r.MaxResults != nil && (*r.MaxResults < 1 || *r.MaxResults > 100) {
		return fail(errInvalidParameter, "MaxResults must be between 1 and 100.")
	}
	if r.SortOrder != nil && *r.SortOrder != "asc" && *r.SortOrder != "desc" {
		return fail(errValidation, "1 validation error detected: Value at 'sortOrder' failed to satisfy constraint: Member must satisfy enum value set: [asc, desc]")
	}
	if _, ok := sortKeys[deref(r.SortBy, "created-date")]; !ok {
		return fail(errValidation, "1 validation error detected: Value at 'sortBy' failed to satisfy constraint: Member must satisfy enum value set: [created-date, last-accessed-date, last-changed-date, name]")
	}
	return nil
}

func deref(s *string, def string) string {
	if s == nil {
		return def
	}
	return *s
}

type listResponse struct {
	SecretList []secretEntry
	NextToken  *string `json:",omitempty"`
}

func listSecrets(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *listRequest) (*listResponse, error) {
	match, err := matcher(r.Filters)
	if err != nil {
		return nil, err
	}
	in := secrets.ScanInput{
		SortBy: sortKeys[deref(r.SortBy, "created-date")], Asc: deref(r.SortOrder, "asc") == "asc",
		Limit: 100, Match: match, NamePrefixes: namePrefixes(r.Filters), WithVersions: true,
	}
	if r.MaxResults != nil {
		in.Limit = int(*r.MaxResults)
	}
	if !r.IncludePlannedDeletion {
		in.NotStatus = store.StatusPendingDelete
	}
	listing := deref(r.SortBy, "created-date") + " " + deref(r.SortOrder, "asc")
	page, err := scanPage(ctx, e, sc, in, r.NextToken, listing)
	if err != nil {
		return nil, err
	}
	out := &listResponse{SecretList: make([]secretEntry, 0, len(page.Secrets)), NextToken: nextToken(page.Next, listing)}
	memo := map[string]*store.Key{}
	for _, sec := range page.Secrets {
		en := entry(c, sec, page.Versions[sec.ID])
		e.setKey(ctx, sc, &en, sec.KeyID, memo)
		en.SecretVersionsToStages, en.VersionIdsToStages = en.VersionIdsToStages, nil
		out.SecretList = append(out.SecretList, en)
	}
	return out, nil
}

// scanPage runs one page of a scan from a NextToken.
func scanPage(ctx context.Context, e *Edge, sc secrets.Scope, in secrets.ScanInput, token *string, listing string) (secrets.Page, error) {
	t, err := decodeToken(token, listing)
	if err != nil {
		return secrets.Page{}, err
	}
	if token != nil {
		in.After = &store.Cursor{Time: time.UnixMilli(t.T).UTC(), Name: t.N}
	}
	return e.Gate.Secrets.Scan(ctx, sc, in)
}

func nextToken(c *store.Cursor, listing string) *string {
	if c == nil {
		return nil
	}
	// The zero time (a never-read secret's AccessedAt) round-trips too.
	return encodeToken(pageToken{T: c.Time.UnixMilli(), N: c.Name, S: listing})
}

type versionsRequest struct {
	idRequest
	MaxResults        *int64
	NextToken         *string
	IncludeDeprecated bool
}

func (r *versionsRequest) check(c *api.Call) error {
	if err := r.idRequest.check(c); err != nil {
		return err
	}
	if r.MaxResults != nil && (*r.MaxResults < 1 || *r.MaxResults > 100) {
		return fail(errInvalidParameter, "MaxResults must be between 1 and 100.")
	}
	return nil
}

type versionEntry struct {
	VersionId        string
	VersionStages    []string `json:",omitempty"`
	CreatedDate      *epoch
	LastAccessedDate *epoch   `json:",omitempty"`
	KmsKeyIds        []string `json:",omitempty"`
}

type versionsResponse struct {
	ARN       string
	Name      string
	Versions  []versionEntry
	NextToken *string `json:",omitempty"`
}

func listSecretVersionIds(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *versionsRequest) (*versionsResponse, error) {
	t, err := decodeToken(r.NextToken, "versions "+strconv.FormatBool(r.IncludeDeprecated))
	if err != nil {
		return nil, err
	}
	sec, vs, err := e.Gate.Secrets.Describe(ctx, sc, r.name)
	if err != nil {
		return nil, err
	}
	var list []versionEntry
	for i := len(vs) - 1; i >= 0; i-- { // newest first
		v := vs[i]
		if len(v.Stages) == 0 && !r.IncludeDeprecated {
			continue
		}
		list = append(list, versionEntry{VersionId: v.ID, VersionStages: toAWSLabels(v.Stages), CreatedDate: at(v.CreatedAt), KmsKeyIds: []string{"DefaultEncryptionKey"}})
	}
	if t.O > len(list) {
		return nil, fail(errInvalidNextToken, "The NextToken value is not valid for this listing.")
	}
	limit := 100
	if r.MaxResults != nil {
		limit = int(*r.MaxResults)
	}
	out := &versionsResponse{ARN: ARN(c, sec), Name: sec.Name, Versions: list[t.O:min(len(list), t.O+limit)]}
	if t.O+limit < len(list) {
		out.NextToken = encodeToken(pageToken{O: t.O + limit, S: "versions " + strconv.FormatBool(r.IncludeDeprecated)})
	}
	if out.Versions == nil {
		out.Versions = []versionEntry{}
	}
	return out, nil
}
