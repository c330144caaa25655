package client

import (
	"context"
	"time"
)

// GetRegions returns the regions the server serves. It fails only as every
// call may (transport, authentication).
func (c *Client) GetRegions(ctx context.Context) ([]string, error) {
	var out struct{ Regions []string }
	if err := c.call(ctx, "GetRegions", retryIdempotent, nil, &out); err != nil {
		return nil, err
	}
	return out.Regions, nil
}

// ServiceStatus is GetServiceStatus's answer.
type ServiceStatus struct {
	ServiceEnabled bool
	TotalCount     int // secrets the account holds in the region
	SecretLimit    int // the most it may hold
	QPSLimit       int // the account's rate limit a second; 0 for none
	PayModel       string
}

// GetServiceStatus returns the account's service status in the client's
// region. It fails only as every call may.
func (c *Client) GetServiceStatus(ctx context.Context) (*ServiceStatus, error) {
	var out struct {
		ServiceEnabled                    bool
		TotalCount, SecretLimit, QPSLimit int64
		PayModel                          string
	}
	if err := c.call(ctx, "GetServiceStatus", retryIdempotent, nil, &out); err != nil {
		return nil, err
	}
	return &ServiceStatus{ServiceEnabled: out.ServiceEnabled, TotalCount: int(out.TotalCount),
		SecretLimit: int(out.SecretLimit), QPSLimit: int(out.QPSLimit), PayModel: out.PayModel}, nil
}

// DescribeSupportedProducts returns the products whose credentials the
// server can rotate, the ProductName values of CreateProductSecret. It
// fails only as every call may.
func (c *Client) DescribeSupportedProducts(ctx context.Context) ([]string, error) {
	var out struct{ Products []string }
	if err := c.call(ctx, "DescribeSupportedProducts", retryIdempotent, nil, &out); err != nil {
		return nil, err
	}
	return out.Products, nil
}

// Consumer is a principal that read a secret's value, from the audit log.
type Consumer struct {
	PrincipalID, PrincipalName, PrincipalType, AccessKeyID string
	VersionIDs                                             []string
	ReadCount                                              int
	FirstRead, LastRead                                    time.Time
}

// DescribeSecretConsumers returns who read which versions of a secret
// between from and to (both included, to the second; zero times for the
// server's default: the last 30 days), most recent reader first. It
// returns an *Error: InvalidParameterValue for from after to.
func (c *Client) DescribeSecretConsumers(ctx context.Context, name string, from, to time.Time) ([]Consumer, error) {
	req := struct {
		SecretName         string
		StartTime, EndTime *int64 `json:",omitempty"`
	}{SecretName: name, StartTime: unixPtr(from), EndTime: unixPtr(to)}
	var out struct {
		Consumers []struct {
			PrincipalId, PrincipalName, PrincipalType, AccessKeyId string
			VersionIds                                             []string
			ReadCount, FirstReadTime, LastReadTime                 uint64
		}
	}
	if err := c.call(ctx, "DescribeSecretConsumers", retryIdempotent, req, &out); err != nil {
		return nil, err
	}
	cs := make([]Consumer, len(out.Consumers))
	for i, w := range out.Consumers {
		cs[i] = Consumer{PrincipalID: w.PrincipalId, PrincipalName: w.PrincipalName, PrincipalType: w.PrincipalType,
			AccessKeyID: w.AccessKeyId, VersionIDs: w.VersionIds, ReadCount: int(w.ReadCount),
			FirstRead: unixTime(w.FirstReadTime), LastRead: unixTime(w.LastReadTime)}
	}
	return cs, nil
}

func unixPtr(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	u := t.Unix()
	return &u
}

// UsageInput selects the usage DescribeUsage reports.
type UsageInput struct {
	From, To    time.Time // hours starting in [From, To); zero for the current month
	Granularity string    // "hour" (default), "day" or "month"
}

// Usage is the account's metered usage (docs/usage.md).
type Usage struct {
	Calls            []UsageCalls
	SecretHours      []UsageSecretHours
	TotalCalls       int
	TotalSecretHours int
}

// UsageCalls counts calls in one bucket by region, family, action and result.
type UsageCalls struct {
	Time                           time.Time
	Region, Family, Action, Result string
	Calls                          int
}

// UsageSecretHours sums the hourly secret samples of one bucket and region.
type UsageSecretHours struct {
	Time        time.Time
	Region      string
	SecretHours int
}

// DescribeUsage returns the account's usage, every region. It returns an
// *Error: InvalidParameterValue for a bad window or granularity,
// ServiceUnavailable when the server meters no usage.
func (c *Client) DescribeUsage(ctx context.Context, in UsageInput) (*Usage, error) {
	req := struct {
		StartTime, EndTime *int64 `json:",omitempty"`
		Granularity        string `json:",omitempty"`
	}{unixPtr(in.From), unixPtr(in.To), in.Granularity}
	var out struct {
		Rows []struct {
			Time                           uint64
			Region, Family, Action, Result string
			Calls                          uint64
		}
		SecretHours []struct {
			Time        uint64
			Region      string
			SecretHours uint64
		}
		TotalCalls, TotalSecretHours uint64
	}
	if err := c.call(ctx, "DescribeUsage", retryIdempotent, req, &out); err != nil {
		return nil, err
	}
	u := &Usage{TotalCalls: int(out.TotalCalls), TotalSecretHours: int(out.TotalSecretHours)}
	for _, r := range out.Rows {
		u.Calls = append(u.Calls, UsageCalls{Time: unixTime(r.Time), Region: r.Region, Family: r.Family,
			Action: r.Action, Result: r.Result, Calls: int(r.Calls)})
	}
	for _, s := range out.SecretHours {
		u.SecretHours = append(u.SecretHours, UsageSecretHours{Time: unixTime(s.Time), Region: s.Region, SecretHours: int(s.SecretHours)})
	}
	return u, nil
}
