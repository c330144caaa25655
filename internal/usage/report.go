package usage

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// Granularity is how a report buckets its hours: by hour, day or calendar
// month, in UTC.
type Granularity string

// The granularities of a report.
const (
	ByHour  Granularity = "hour"
	ByDay   Granularity = "day"
	ByMonth Granularity = "month"
)

// ParseGranularity returns the granularity s names ("" is ByHour), or
// fault.Invalid.
func ParseGranularity(s string) (Granularity, error) {
	switch g := Granularity(s); g {
	case "":
		return ByHour, nil
	case ByHour, ByDay, ByMonth:
		return g, nil
	}
	return "", fault.E("usage.ParseGranularity", fault.Invalid, "granularity must be hour, day or month")
}

// Start returns the start of the bucket t falls in.
func (g Granularity) Start(t time.Time) time.Time {
	t = Hour(t)
	switch g {
	case ByDay:
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	case ByMonth:
		return MonthStart(t)
	}
	return t
}

// MonthStart returns the start of t's calendar month in UTC.
func MonthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// RotationActions are the actions that rotate a secret; a successful call
// of one counts as a rotation.
var RotationActions = map[string]bool{"RotateProductSecret": true, "RotateSecret": true}

// SystemFamily is the family of Coffer's own actions (the deletion
// sweep's purges): counted, but not calls an account made.
const SystemFamily = "coffer"

// CallRow is the calls of one kind in one bucket.
type CallRow struct {
	Time   time.Time `json:"time"` // the bucket's start, UTC
	Region string    `json:"region"`
	Family string    `json:"family"`
	Action string    `json:"action"`
	Result string    `json:"result"`
	Calls  int64     `json:"calls"`
}

// SecretRow is the secret-hours of one region in one bucket: the sum of
// its hours' samples.
type SecretRow struct {
	Time        time.Time `json:"time"`
	Region      string    `json:"region"`
	SecretHours int64     `json:"secret_hours"`
}

// ActionTotal is the calls of one family, action and result over a whole report.
type ActionTotal struct {
	Family string `json:"family"`
	Action string `json:"action"`
	Result string `json:"result"`
	Calls  int64  `json:"calls"`
}

// Report is one account's usage over the hours starting in [From, To).
type Report struct {
	Account          string        `json:"account"`
	From             time.Time     `json:"from"`
	To               time.Time     `json:"to"`
	Granularity      Granularity   `json:"granularity"`
	Calls            []CallRow     `json:"calls"`   // by time, region, family, action, result
	Secrets          []SecretRow   `json:"secrets"` // by time, region
	Actions          []ActionTotal `json:"actions"` // by family, action, result
	TotalCalls       int64         `json:"total_calls"`
	APICalls         int64         `json:"api_calls"` // TotalCalls less the SystemFamily's
	TotalSecretHours int64         `json:"total_secret_hours"`
	Rotations        int64         `json:"rotations"`
}

// Reader reads usage reports from a store. It only reads; authorization
// is the gate's, which passes the caller's account.
type Reader struct {
	Store store.Store
}

// Report returns account's hourly usage over the hours starting in
// [from, to). It returns fault.Invalid when account is "" or the window is
// empty or reversed, and the store's fault errors.
func (r *Reader) Report(ctx context.Context, account string, from, to time.Time) (Report, error) {
	const op = "usage.Report"
	if account == "" {
		return Report{}, fault.E(op, fault.Invalid, "a usage report must name an account")
	}
	if !from.Before(to) {
		return Report{}, fault.E(op, fault.Invalid, "the report's start must be before its end")
	}
	var calls []store.CallCount
	var secrets []store.SecretHours
	err := r.Store.View(ctx, func(tx store.Tx) error {
		q := store.UsageQuery{Account: account, From: from, To: to}
		var err error
		if calls, err = tx.Calls(ctx, q); err != nil {
			return err
		}
		secrets, err = tx.SecretHoursIn(ctx, q)
		return err
	})
	if err != nil {
		return Report{}, err
	}
	return build(account, from.UTC(), to.UTC(), calls, secrets), nil
}

// build makes an hourly report of stored rows.
func build(account string, from, to time.Time, calls []store.CallCount, secrets []store.SecretHours) Report {
	rep := Report{Account: account, From: from, To: to, Granularity: ByHour,
		Calls: []CallRow{}, Secrets: []SecretRow{}}
	for _, c := range calls {
		rep.Calls = append(rep.Calls, CallRow{Time: c.Hour, Region: c.Region, Family: c.Family,
			Action: c.Action, Result: c.Result, Calls: c.Calls})
	}
	for _, s := range secrets {
		rep.Secrets = append(rep.Secrets, SecretRow{Time: s.Hour, Region: s.Region, SecretHours: s.Secrets})
	}
	rep.total()
	return rep
}

// total sets the report's totals from its rows.
func (r *Report) total() {
	r.TotalCalls, r.APICalls, r.TotalSecretHours, r.Rotations = 0, 0, 0, 0
	actions := map[ActionTotal]int64{}
	for _, c := range r.Calls {
		r.TotalCalls += c.Calls
		if c.Family != SystemFamily {
			r.APICalls += c.Calls
		}
		if RotationActions[c.Action] && c.Result == ResultOK {
			r.Rotations += c.Calls
		}
		actions[ActionTotal{Family: c.Family, Action: c.Action, Result: c.Result}] += c.Calls
	}
	r.Actions = make([]ActionTotal, 0, len(actions))
	for k, n := range actions {
		k.Calls = n
		r.Actions = append(r.Actions, k)
	}
	slices.SortFunc(r.Actions, func(a, b ActionTotal) int {
		return cmp.Or(cmp.Compare(a.Family, b.Family), cmp.Compare(a.Action, b.Action), cmp.Compare(a.Result, b.Result))
	})
	for _, s := range r.Secrets {
		r.TotalSecretHours += s.SecretHours
	}
}

// By returns the report with its rows summed into g's buckets; the totals
// do not change.
func (r Report) By(g Granularity) Report {
	out := r
	out.Granularity = g
	out.Calls = []CallRow{}
	callAt := map[CallRow]int{}
	for _, c := range r.Calls {
		key := CallRow{Time: g.Start(c.Time), Region: c.Region, Family: c.Family, Action: c.Action, Result: c.Result}
		if i, ok := callAt[key]; ok {
			out.Calls[i].Calls += c.Calls
			continue
		}
		callAt[key] = len(out.Calls)
		key.Calls = c.Calls
		out.Calls = append(out.Calls, key)
	}
	out.Secrets = []SecretRow{}
	secretAt := map[SecretRow]int{}
	for _, s := range r.Secrets {
		key := SecretRow{Time: g.Start(s.Time), Region: s.Region}
		if i, ok := secretAt[key]; ok {
			out.Secrets[i].SecretHours += s.SecretHours
			continue
		}
		secretAt[key] = len(out.Secrets)
		key.SecretHours = s.SecretHours
		out.Secrets = append(out.Secrets, key)
	}
	sortRows(&out)
	return out
}

// sortRows orders the rows by time, then their other columns.
func sortRows(r *Report) {
	slices.SortFunc(r.Calls, func(a, b CallRow) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Region, b.Region), cmp.Compare(a.Family, b.Family),
			cmp.Compare(a.Action, b.Action), cmp.Compare(a.Result, b.Result))
	})
	slices.SortFunc(r.Secrets, func(a, b SecretRow) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Region, b.Region))
	})
}

// Within returns the report cut to the hours starting in [from, to).
func (r Report) Within(from, to time.Time) Report {
	out := r
	out.From, out.To = from.UTC(), to.UTC()
	out.Calls = slices.DeleteFunc(slices.Clone(r.Calls), func(c CallRow) bool { return !inWindow(c.Time, from, to) })
	out.Secrets = slices.DeleteFunc(slices.Clone(r.Secrets), func(s SecretRow) bool { return !inWindow(s.Time, from, to) })
	out.total()
	return out
}

func inWindow(t, from, to time.Time) bool { return !t.Before(from) && t.Before(to) }
