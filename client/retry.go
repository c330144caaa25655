package client

import (
	"context"
	"math/rand/v2"
	"time"
)

// RetryPolicy says how often and how patiently a call is retried. A call
// is retried only when that is safe: see the package documentation.
type RetryPolicy struct {
	// MaxAttempts counts every attempt, the first included. 0 means 4;
	// 1 turns retries off.
	MaxAttempts int
	// BaseDelay is the wait before the first retry; each retry doubles it,
	// up to MaxDelay. The actual wait is drawn between half of that and
	// all of it (jitter), so clients refused together do not return
	// together. Defaults 100 ms and 5 s.
	BaseDelay, MaxDelay time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 4
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 100 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 5 * time.Second
	}
	if p.MaxDelay < p.BaseDelay {
		p.MaxDelay = p.BaseDelay
	}
	return p
}

// delay returns the wait after the given attempt (1 for the first).
func (p RetryPolicy) delay(attempt int) time.Duration {
	d := p.BaseDelay
	for i := 1; i < attempt && d < p.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, p.MaxDelay)
	return d/2 + rand.N(d/2+1)
}

// wait sleeps before the next attempt; it returns ctx's error if ctx ends
// first.
func (p RetryPolicy) wait(ctx context.Context, attempt int) error {
	t := time.NewTimer(p.delay(attempt))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// retryMode says which failures of a call may be retried.
type retryMode uint8

const (
	// retrySafe: only failures that prove the call did not run — a rate
	// limit (refused before the call reaches the secrets), or no
	// connection at all.
	retrySafe retryMode = iota
	// retryIdempotent: also failures that leave it unknown whether the
	// call ran (timeouts, InternalError, ServiceUnavailable, proxy
	// errors), for calls that do the same thing when run twice.
	retryIdempotent
)

func (m retryMode) allows(err error) bool {
	if IsThrottled(err) || (isTransport(err) && notSent(err)) {
		return true
	}
	return m == retryIdempotent && IsUnavailable(err)
}
