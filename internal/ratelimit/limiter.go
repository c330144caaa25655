package ratelimit

import "time"

// Config is the limits a Limiter applies. A zero Limit turns its check off.
type Config struct {
	// Account bounds each account's requests, whatever the action.
	Account Limit
	// Action bounds each account's requests to one action, keyed
	// "family.Action" (ssm.GetSecretValue); Actions overrides it for the
	// actions it names.
	Action  Limit
	Actions map[string]Limit
	// Unauthenticated bounds failed authentications per source address;
	// an address over it is refused before its signature is checked.
	Unauthenticated Limit
	// MaxKeys bounds the buckets tracked in each set (DefaultMaxKeys when 0).
	MaxKeys int
	Clock   func() time.Time // time.Now when nil
}

// Limiter applies a Config. Safe for concurrent use; a nil *Limiter admits
// everything.
type Limiter struct {
	cfg                        Config
	accounts, actions, sources *Buckets
}

// New returns a Limiter applying cfg.
func New(cfg Config) *Limiter {
	return &Limiter{
		cfg:      cfg,
		accounts: NewBuckets(cfg.MaxKeys, cfg.Clock),
		actions:  NewBuckets(cfg.MaxKeys, cfg.Clock),
		sources:  NewBuckets(cfg.MaxKeys, cfg.Clock),
	}
}

// Allow takes one request of account's to family's action and reports
// whether the limits admit it.
func (l *Limiter) Allow(account, family, action string) bool {
	if l == nil {
		return true
	}
	name := family + "." + action
	lim, ok := l.cfg.Actions[name]
	if !ok {
		lim = l.cfg.Action
	}
	// The action's bucket is taken first: a request refused there does
	// not spend the account's budget for other actions.
	if !l.actions.Take(account+"\x00"+name, lim) {
		return false
	}
	return l.accounts.Take(account, l.cfg.Account)
}

// AccountRate returns the requests a second each account may make; 0 when
// unlimited.
func (l *Limiter) AccountRate() float64 {
	if l == nil || l.cfg.Account.Off() {
		return 0
	}
	return l.cfg.Account.Rate
}

// Admits reports whether source has failed authentication less often than
// the Unauthenticated limit allows.
func (l *Limiter) Admits(source string) bool {
	return l == nil || l.sources.Ready(source, l.cfg.Unauthenticated)
}

// Failed charges one failed authentication to source.
func (l *Limiter) Failed(source string) {
	if l != nil {
		l.sources.Take(source, l.cfg.Unauthenticated)
	}
}

// SSMDefaults is Tencent's documented per-account limit of each SSM action
// (requests a second; the spec's §1.8), keyed as Config.Actions is.
func SSMDefaults() map[string]Limit {
	table := map[string]float64{
		"GetSecretValue": 300, "CreateSecret": 100, "PutSecretValue": 100,
		"DescribeSecret": 40, "ListSecretVersionIds": 40, "ListSecrets": 30,
		"CreateProductSecret": 20, "RotateProductSecret": 20, "DescribeRotationHistory": 20,
		"UpdateRotationStatus": 20, "DescribeRotationDetail": 20, "DescribeAsyncRequestInfo": 20,
	}
	out := make(map[string]Limit, len(table))
	for a, n := range table {
		out["ssm."+a] = PerSecond(n)
	}
	return out
}
