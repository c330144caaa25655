package store

import (
	"context"
	"time"
)

// CallCount is how many calls of one kind an account made in one hour.
type CallCount struct {
	Hour    time.Time // the hour's start, UTC
	Account string
	Region  string
	Family  string
	Action  string
	Result  string // "ok", or the error code the caller got
	Calls   int64
}

// SecretHours is how many secrets an account held in a region during one hour.
type SecretHours struct {
	Hour    time.Time
	Account string
	Region  string
	Secrets int64
}

// UsageQuery selects usage rows: one account (or all when ""), the hours
// in [From, To).
type UsageQuery struct {
	Account  string
	From, To time.Time
}

// UsageTx keeps hourly usage for metering and charge-back.
type UsageTx interface {
	// AddCalls adds each count to the stored count of its hour, account,
	// region, family, action and result (creating it at 0 first).
	AddCalls(ctx context.Context, counts []CallCount) error
	// SetSecretHours records the secrets held in an hour, replacing an
	// earlier sample of the same hour, account and region.
	SetSecretHours(ctx context.Context, rows []SecretHours) error
	// Calls returns the call counts matching q, by hour then account,
	// region, family, action and result.
	Calls(ctx context.Context, q UsageQuery) ([]CallCount, error)
	// SecretHoursIn returns the secret samples matching q, by hour then
	// account and region.
	SecretHoursIn(ctx context.Context, q UsageQuery) ([]SecretHours, error)
	// SecretCounts returns how many secrets (any status) each account holds
	// in each region now.
	SecretCounts(ctx context.Context) ([]SecretHours, error)
}
