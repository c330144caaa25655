package tc3

import (
	"context"
	"time"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/usage"
)

// maxUsageWindow bounds the window of one DescribeUsage call, so an
// hourly answer stays a few thousand rows per kind of call.
const maxUsageWindow = 366 * 24 * time.Hour

type describeUsageRequest struct {
	StartTime   *number
	EndTime     *number
	Granularity string
}

type describeUsageResponse struct {
	Rows             []usageRow
	SecretHours      []usageSecretRow
	TotalCalls       uint64
	TotalSecretHours uint64
}

type usageRow struct {
	Time   uint64 // the bucket's start, unix seconds
	Region string
	Family string
	Action string
	Result string // "ok" or the error code the caller got
	Calls  uint64
}

type usageSecretRow struct {
	Time        uint64
	Region      string
	SecretHours uint64
}

func (r *describeUsageRequest) resource() string { return "" }
func (r *describeUsageRequest) check() error {
	for _, t := range []*number{r.StartTime, r.EndTime} {
		if t != nil && (*t < 0 || *t > maxUnix) {
			return wire(codeInvalidValue, "`StartTime` and `EndTime` are unix times in seconds.")
		}
	}
	if _, err := usage.ParseGranularity(r.Granularity); err != nil {
		return wire(codeInvalidValue, "The parameter `Granularity` must be hour, day or month.")
	}
	return nil
}

// window returns the hours the request covers, [from, to): by default the
// calendar month (UTC) of now, or of StartTime when only it is given.
func (r *describeUsageRequest) window(now time.Time) (from, to time.Time, err error) {
	from = usage.MonthStart(now)
	if r.StartTime != nil {
		from = time.Unix(int64(*r.StartTime), 0).UTC()
	}
	to = usage.MonthStart(from).AddDate(0, 1, 0)
	if r.EndTime != nil {
		to = time.Unix(int64(*r.EndTime), 0).UTC()
	}
	switch {
	case !from.Before(to):
		return from, to, wire(codeInvalidValue, "`StartTime` must be before `EndTime`.")
	case to.Sub(from) > maxUsageWindow:
		return from, to, wire(codeInvalidValue, "The time range is longer than 366 days.")
	}
	return from, to, nil
}

// describeUsage serves DescribeUsage, a Coffer extension of the SSM family
// with no Tencent counterpart: the caller's account's metered usage, in
// every region, rolled up from the audit log (docs/usage.md).
//
// Request: StartTime and EndTime, unix seconds; the answer covers the
// hours starting in [StartTime, EndTime) (default: the current calendar
// month, UTC; at most 366 days). Granularity: hour (default), day or month.
// Response: Rows, calls by bucket, region, family, action and result;
// SecretHours, the sum of the hourly secret samples by bucket and region;
// TotalCalls and TotalSecretHours. Usage is rolled up every few minutes,
// so the latest calls may not show yet.
func describeUsage(ctx context.Context, e *Edge, sc secrets.Scope, _ *api.Call, r *describeUsageRequest) (*describeUsageResponse, error) {
	if e.Gate.Usage == nil {
		return nil, fault.E("tc3.DescribeUsage", fault.Unavailable, "Usage is not metered on this server.")
	}
	from, to, err := r.window(e.now())
	if err != nil {
		return nil, err
	}
	g, _ := usage.ParseGranularity(r.Granularity) // check() accepted it
	rep, err := e.Gate.Usage.Report(ctx, sc.Account, from, to)
	if err != nil {
		return nil, err
	}
	return wireUsage(rep.By(g)), nil
}

func wireUsage(rep usage.Report) *describeUsageResponse {
	out := &describeUsageResponse{Rows: make([]usageRow, 0, len(rep.Calls)),
		SecretHours: make([]usageSecretRow, 0, len(rep.Secrets)),
		TotalCalls:  uint64(rep.TotalCalls), TotalSecretHours: uint64(rep.TotalSecretHours)}
	for _, c := range rep.Calls {
		out.Rows = append(out.Rows, usageRow{Time: unix(c.Time), Region: c.Region, Family: c.Family,
			Action: c.Action, Result: c.Result, Calls: uint64(c.Calls)})
	}
	for _, s := range rep.Secrets {
		out.SecretHours = append(out.SecretHours, usageSecretRow{Time: unix(s.Time), Region: s.Region,
			SecretHours: uint64(s.SecretHours)})
	}
	return out
}
