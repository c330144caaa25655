package tc3

import (
	"context"
	"time"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/secrets"
)

// consumersWindow is the default window of DescribeSecretConsumers.
const consumersWindow = 30 * 24 * time.Hour

type describeSecretConsumersRequest struct {
	SecretName string
	StartTime  *number
	EndTime    *number
}

type describeSecretConsumersResponse struct {
	SecretName string
	Consumers  []secretConsumer
	TotalCount uint64
}

type secretConsumer struct {
	PrincipalId   string
	PrincipalName string
	PrincipalType string // Root, CAMUser or CAMRole, as CloudAudit's userIdentity.type
	AccessKeyId   string
	VersionIds    []string
	ReadCount     uint64
	FirstReadTime uint64
	LastReadTime  uint64
}

func (r *describeSecretConsumersRequest) resource() string { return r.SecretName }
func (r *describeSecretConsumersRequest) check() error {
	if err := readName(r.SecretName); err != nil {
		return err
	}
	for _, t := range []*number{r.StartTime, r.EndTime} {
		if t != nil && (*t < 0 || *t > maxUnix) {
			return wire(codeInvalidValue, "`StartTime` and `EndTime` are unix times in seconds.")
		}
	}
	if r.StartTime != nil && r.EndTime != nil && *r.StartTime > *r.EndTime {
		return wire(codeInvalidValue, "`StartTime` is after `EndTime`.")
	}
	return nil
}

// window returns the request's window as [from, to), to the second.
func (r *describeSecretConsumersRequest) window(now time.Time) (from, to time.Time) {
	to = now.Add(time.Second).Truncate(time.Second)
	if r.EndTime != nil {
		to = time.Unix(int64(*r.EndTime)+1, 0)
	}
	from = to.Add(-consumersWindow)
	if r.StartTime != nil {
		from = time.Unix(int64(*r.StartTime), 0)
	}
	return from, to
}

// describeSecretConsumers serves DescribeSecretConsumers, a Coffer
// extension of the SSM family with no Tencent counterpart: from the audit
// log, which principals read a secret's value in a time window, which
// versions, how often and when — what a team needs to know before it
// retires a version or a key.
//
// Request: SecretName (required); StartTime and EndTime, unix seconds, both
// included (default: the 30 days up to now; one given alone bounds the
// window from that side). Numeric strings are accepted for both.
// Response: SecretName; Consumers, most recent reader first, one per
// principal and access key; TotalCount. Reads of every API family count;
// failed reads do not. A secret never read, or deleted since, has none.
func describeSecretConsumers(ctx context.Context, e *Edge, sc secrets.Scope, _ *api.Call, r *describeSecretConsumersRequest) (*describeSecretConsumersResponse, error) {
	l, err := e.lookup()
	if err != nil {
		return nil, err
	}
	from, to := r.window(e.now())
	cs, err := l.Consumers(ctx, sc.Account, sc.Region, r.SecretName, from, to)
	if err != nil {
		return nil, err
	}
	out := &describeSecretConsumersResponse{SecretName: r.SecretName, Consumers: make([]secretConsumer, 0, len(cs)), TotalCount: uint64(len(cs))}
	for _, c := range cs {
		out.Consumers = append(out.Consumers, wireConsumer(c))
	}
	return out, nil
}

func wireConsumer(c audit.Consumer) secretConsumer {
	name := c.PrincipalName
	if c.Session != "" {
		name = c.Session
	}
	return secretConsumer{
		PrincipalId: c.PrincipalID, PrincipalName: name, PrincipalType: identityTypes[c.PrincipalKind],
		AccessKeyId: c.AccessKeyID, VersionIds: append([]string{}, c.VersionIDs...), ReadCount: uint64(c.Reads),
		FirstReadTime: unix(c.First), LastReadTime: unix(c.Last),
	}
}
