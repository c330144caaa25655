package client

import (
	"context"
	"iter"
	"time"
)

// Status is a secret's state.
type Status string

// The statuses a secret can have.
const (
	StatusEnabled       Status = "Enabled"
	StatusDisabled      Status = "Disabled"
	StatusPendingDelete Status = "PendingDelete"
	StatusCreating      Status = "Creating"
	StatusFailed        Status = "Failed"
)

// Secret is a secret's metadata, as DescribeSecret and ListSecrets return it.
type Secret struct {
	Name        string
	Description string
	KmsKeyID    string
	KmsKeyType  string // ListSecrets only
	Status      Status
	Type        SecretType
	CreateUin   string
	CreateTime  time.Time
	DeleteTime  time.Time // when a secret pending deletion is purged; zero otherwise
	ProductName string
	ResourceID  string

	RotationEnabled   bool
	RotationFrequency int // days
	NextRotationTime  time.Time

	AdditionalConfig string // DescribeSecret only
}

// wireSecret is the fields DescribeSecret and ListSecrets share.
type wireSecret struct {
	SecretName, Description, KmsKeyId, Status, ProductName, ResourceID, CreateUinString string
	DeleteTime, CreateTime                                                              uint64
	SecretType                                                                          int64
	RotationFrequency                                                                   int64
}

func (w wireSecret) secret() Secret {
	return Secret{
		Name: w.SecretName, Description: w.Description, KmsKeyID: w.KmsKeyId, Status: Status(w.Status),
		Type: SecretType(w.SecretType), CreateUin: w.CreateUinString, CreateTime: unixTime(w.CreateTime),
		DeleteTime: unixTime(w.DeleteTime), ProductName: w.ProductName, ResourceID: w.ResourceID,
		RotationFrequency: int(w.RotationFrequency),
	}
}

// DescribeSecret returns a secret's metadata. It returns an *Error:
// ResourceNotFound.
func (c *Client) DescribeSecret(ctx context.Context, name string) (*Secret, error) {
	var out struct {
		wireSecret
		RotationStatus   bool
		NextRotationTime string
		AdditionalConfig string
	}
	if err := c.call(ctx, "DescribeSecret", retryIdempotent, nameReq{name}, &out); err != nil {
		return nil, err
	}
	s := out.secret()
	s.RotationEnabled, s.NextRotationTime = out.RotationStatus, parseTencentTime(out.NextRotationTime)
	s.AdditionalConfig = out.AdditionalConfig
	return &s, nil
}

// TagFilter matches secrets with tag Key whose value is one of Values (any
// value when Values is empty).
type TagFilter struct {
	Key    string
	Values []string
}

// ListSecretsInput filters and pages ListSecrets.
type ListSecretsInput struct {
	Search    string      // a substring of the name (case-sensitive); an exact match comes first
	Status    Status      // "" for every status
	Tags      []TagFilter // all must match
	Ascending bool        // oldest first; newest first otherwise
	Offset    int
	Limit     int // per page, 1 to 1000; 0 means 100
}

// ListSecretsOutput is one page of secrets.
type ListSecretsOutput struct {
	Secrets    []Secret
	TotalCount int // secrets matching, over every page
}

var listStates = map[Status]int64{
	"": 0, StatusEnabled: 1, StatusDisabled: 2, StatusPendingDelete: 3, StatusCreating: 4, StatusFailed: 5,
}

// ListSecrets returns one page of the account's secrets in the client's
// region. It returns an *Error: InvalidParameterValue for a limit or
// offset out of range; an unknown Status is InvalidParameterValue too.
func (c *Client) ListSecrets(ctx context.Context, in ListSecretsInput) (*ListSecretsOutput, error) {
	state, ok := listStates[in.Status]
	if !ok {
		return nil, &Error{Action: "ListSecrets", Code: "InvalidParameterValue", Message: "unknown status " + string(in.Status)}
	}
	type tagFilter struct {
		TagKey   string
		TagValue []string `json:",omitempty"`
	}
	req := struct {
		Offset, Limit, OrderType, State int64
		SearchSecretName                string      `json:",omitempty"`
		TagFilters                      []tagFilter `json:",omitempty"`
	}{Offset: int64(in.Offset), Limit: int64(pageSize(in.Limit)), State: state, SearchSecretName: in.Search}
	if in.Ascending {
		req.OrderType = 1
	}
	for _, t := range in.Tags {
		req.TagFilters = append(req.TagFilters, tagFilter{t.Key, t.Values})
	}
	var out struct {
		TotalCount      uint64
		SecretMetadatas []struct {
			wireSecret
			KmsKeyType       string
			RotationStatus   int64
			NextRotationTime uint64
		}
	}
	if err := c.call(ctx, "ListSecrets", retryIdempotent, req, &out); err != nil {
		return nil, err
	}
	page := &ListSecretsOutput{TotalCount: int(out.TotalCount), Secrets: make([]Secret, 0, len(out.SecretMetadatas))}
	for _, m := range out.SecretMetadatas {
		s := m.secret()
		s.KmsKeyType, s.RotationEnabled, s.NextRotationTime = m.KmsKeyType, m.RotationStatus == 1, unixTime(m.NextRotationTime)
		page.Secrets = append(page.Secrets, s)
	}
	return page, nil
}

func pageSize(n int) int {
	if n <= 0 {
		return 100
	}
	return n
}

// ListSecretsPages iterates over the pages of ListSecrets from in.Offset,
// until a short page or the total is reached. The iteration yields the
// error that ends it. Pages in Ascending order neither skip nor repeat a
// secret created meanwhile (new secrets come last); in descending order
// an insertion shifts the pages by one.
func (c *Client) ListSecretsPages(ctx context.Context, in ListSecretsInput) iter.Seq2[*ListSecretsOutput, error] {
	return func(yield func(*ListSecretsOutput, error) bool) {
		in.Limit = pageSize(in.Limit)
		for {
			page, err := c.ListSecrets(ctx, in)
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(page, nil) || len(page.Secrets) < in.Limit || in.Offset+len(page.Secrets) >= page.TotalCount {
				return
			}
			in.Offset += len(page.Secrets)
		}
	}
}

// AllSecrets iterates over every secret ListSecretsPages returns.
func (c *Client) AllSecrets(ctx context.Context, in ListSecretsInput) iter.Seq2[Secret, error] {
	return func(yield func(Secret, error) bool) {
		for page, err := range c.ListSecretsPages(ctx, in) {
			if err != nil {
				yield(Secret{}, err)
				return
			}
			for _, s := range page.Secrets {
				if !yield(s, nil) {
					return
				}
			}
		}
	}
}

// Version is one version of a secret, without its value.
type Version struct {
	ID         string
	CreateTime time.Time
}

// ListSecretVersionIds returns a secret's versions, oldest first; the last
// is the current one. It reads no value. It returns an *Error:
// ResourceNotFound.
func (c *Client) ListSecretVersionIds(ctx context.Context, name string) ([]Version, error) {
	var out struct {
		Versions []struct {
			VersionId  string
			CreateTime uint64
		}
	}
	if err := c.call(ctx, "ListSecretVersionIds", retryIdempotent, nameReq{name}, &out); err != nil {
		return nil, err
	}
	vs := make([]Version, len(out.Versions))
	for i, v := range out.Versions {
		vs[i] = Version{ID: v.VersionId, CreateTime: unixTime(v.CreateTime)}
	}
	return vs, nil
}
