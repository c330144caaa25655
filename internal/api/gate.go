// Package api is the gate every edge passes through: it authenticates the
// caller, checks the region, authorizes the call, runs it against the core,
// records it in the audit log, and logs the outcome. Edges (api/tc3,
// api/awsjson, and later the console) only decode requests and encode results.
package api

import (
	"context"
	"log/slog"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/iam"
	"github.com/coffer-secrets/coffer/internal/metrics"
	"github.com/coffer-secrets/coffer/internal/ratelimit"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/usage"
)

// Call is one API call as the gate sees it, whatever the edge.
type Call struct {
	Family    string // the API family: "ssm", "secretsmanager", ...
	Action    string
	Region    string
	Principal iam.Principal
	RequestID string
	SourceIP  string
	UserAgent string
	Resource  string // the secret name or other resource the call names, if any
	// ClaimedKeyID is the access key id a request was signed with, recorded
	// even when the signature fails.
	ClaimedKeyID string
	Body         []byte // the request parameters, recorded with secret values replaced by HMACs
	// Code spells an error in the caller's protocol, for the audit record
	// and the metrics.
	Code func(error) string
	// Known says Family and Action name an action the edge serves. The
	// metrics label other calls' family and action "unknown", so a client
	// cannot grow the label set by inventing names; the audit log records
	// them as sent.
	Known bool
	// Start is when the edge received the request, for the latency metric;
	// zero means Do's own start, and 0 s for a call refused by Fail.
	Start time.Time

	// Authorization inputs, set by the edge (see authorize.go).
	//
	// SecretName is the core name (possibly pinned) of the secret the call
	// acts on, for a secret-level action; "" otherwise.
	SecretName string
	// ResourceAccount is the account that owns the resource when a call
	// names another account's (an AWS ARN); "" means the caller's own.
	ResourceAccount string
	// ResourceNames name a resource other than a secret (a CAM user's
	// access keys, a role), in every spelling; nil for none.
	ResourceNames []string
	// OperationLevel marks an action CAM authorizes on resource "*" only,
	// even when it names a secret (ssm:CreateSecret).
	OperationLevel bool
	// SelfAuthorized marks an action whose handler decides itself
	// (sts:AssumeRole against the trust policy) or that any caller may
	// make (sts:GetCallerIdentity).
	SelfAuthorized bool
	// RequestTags are the tags the call sets (aws:RequestTag, qcs:request_tag).
	RequestTags map[string]string
	// Secure says the request came over TLS (aws:SecureTransport).
	Secure bool

	loaded *secrets.Secret // the secret authorize read, for the core to reuse
}

// SourceIP returns the address part of a connection's remote address.
func SourceIP(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return remoteAddr
	}
	return host
}

// Scope returns the account and region the call acts in: the resource's
// account for a call naming another account's resource, else the caller's.
func (c *Call) Scope() secrets.Scope {
	if c.ResourceAccount != "" {
		return secrets.Scope{Account: c.ResourceAccount, Region: c.Region}
	}
	return secrets.Scope{Account: c.Principal.Account, Region: c.Region}
}

// Gate runs calls. Its fields are set once at start-up.
type Gate struct {
	IAM     *iam.Service
	Secrets *secrets.Service
	Regions []string // the regions served; the first is the default
	// AnyRegion serves every region a request names (development mode).
	AnyRegion bool
	Audit     *audit.Writer   // nil: calls are not audited (unit tests of edges)
	Redactor  *audit.Redactor // turns request bodies into recordable parameters
	Lookup    *audit.Lookup   // searches the audit log (CloudAudit, consumers)
	Usage     *usage.Reader   // reads metered usage (DescribeUsage); nil when not metered
	Log       *slog.Logger
	Clock     func() time.Time
	Metrics   *metrics.Metrics // nil: calls are not counted
	// Limits throttles calls per account and action, and failed
	// authentications per source address; nil limits nothing.
	Limits *ratelimit.Limiter

	signing signingKeys // SigningKey
}

// Authenticate returns the credential for an access key id: fault.NotFound
// when the id is unknown, fault.Denied when the key is inactive.
func (g *Gate) Authenticate(ctx context.Context, accessKeyID string) (*iam.Credential, error) {
	return g.IAM.Lookup(ctx, accessKeyID)
}

// Credential returns the credential a request was signed with: a role
// session's when it carries a session token, else an access key's. A bad
// or expired token is fault.Unauthenticated; an access key as for
// Authenticate.
func (g *Gate) Credential(ctx context.Context, accessKeyID, token string) (*iam.Credential, error) {
	if token != "" {
		return g.IAM.LookupSession(ctx, accessKeyID, token)
	}
	return g.IAM.Lookup(ctx, accessKeyID)
}

// Used records that a credential signed a verified request (an access
// key's last-used time).
func (g *Gate) Used(cred *iam.Credential) {
	if cred.Principal.Session == nil {
		g.IAM.Used(cred.Principal.AccessKeyID, g.now())
	}
}

// DefaultRegion returns the region a request that names none acts in.
func (g *Gate) DefaultRegion() string { return g.Regions[0] }

// Serves reports whether region is served.
func (g *Gate) Serves(region string) bool {
	return g.AnyRegion || slices.Contains(g.Regions, region)
}

// Do authorizes c and runs fn in c's scope, records the call in the audit
// log, then logs the outcome. A state change records its event in its own
// transaction; any other call's event is made durable before Do returns,
// and when it cannot be, Do fails with fault.Unavailable and the caller
// must return nothing (a value is never handed out unaudited). Otherwise
// it returns fn's error, or fault.Throttled when the account is over a rate
// limit, or fault.Invalid with reason UnsupportedRegion, or fault.Denied
// when the principal may not make the call.
func (g *Gate) Do(ctx context.Context, c *Call, fn func(ctx context.Context, sc secrets.Scope) error) error {
	start := time.Now()
	ev := g.event(c)
	ctx = audit.With(ctx, ev)
	err := g.do(ctx, c, fn)
	if !audit.Committed(ctx) {
		if aerr := g.record(ctx, c, ev, err); aerr != nil && err == nil {
			err = aerr
		}
	}
	g.log(ctx, c, err, time.Since(start), false)
	if !c.Start.IsZero() {
		start = c.Start
	}
	g.measure(c, err, time.Since(start))
	return err
}

func (g *Gate) do(ctx context.Context, c *Call, fn func(ctx context.Context, sc secrets.Scope) error) error {
	if !g.Limits.Allow(c.Principal.Account, c.Family, c.Action) {
		return fault.E("api.Do", fault.Throttled, "Requests to "+c.Action+" exceed this account's rate limit; retry later.")
	}
	if !g.Serves(c.Region) {
		return fault.E("api.Do", fault.Invalid, "region "+c.Region+" is not served here").Because(UnsupportedRegion)
	}
	ctx = g.Secrets.WithChecks(ctx)
	if err := g.authorize(ctx, c); err != nil {
		return err
	}
	if c.loaded != nil {
		ctx = secrets.WithLoaded(ctx, c.Scope(), c.SecretName, c.loaded)
	}
	ctx = secrets.WithCaller(ctx, secrets.Caller{ID: c.Principal.ID, Name: c.Principal.Name, Kind: string(c.Principal.Kind), Tags: c.Principal.Tags})
	return fn(ctx, c.Scope())
}

// Admit returns fault.Throttled with reason SourceLimited when c's source
// address has failed authentication more often than the limits allow, so
// edges can refuse it before checking a signature: a flood of garbage then
// costs little and does not slow down callers elsewhere.
func (g *Gate) Admit(c *Call) error {
	if g.Limits.Admits(c.SourceIP) {
		return nil
	}
	return fault.E("api.Admit", fault.Throttled, "Too many requests from this address failed authentication; retry later.").Because(SourceLimited)
}

// SourceLimited is the reason for a call refused by Admit.
const SourceLimited fault.Reason = "source address limited"

// Fail records a call that failed before it reached the core: a bad
// signature, an unknown action, a request that does not decode. A call
// refused before its caller was identified is charged to its source
// address (see Admit).
func (g *Gate) Fail(ctx context.Context, c *Call, err error) {
	if c.Principal.ID == "" {
		g.Limits.Failed(c.SourceIP)
	}
	if aerr := g.record(ctx, c, g.event(c), err); aerr != nil && g.Log != nil {
		g.Log.LogAttrs(ctx, slog.LevelError, "audit", slog.String("request_id", c.RequestID), slog.String("error", aerr.Error()))
	}
	g.log(ctx, c, err, 0, true)
	var d time.Duration
	if !c.Start.IsZero() {
		d = time.Since(c.Start)
	}
	g.measure(c, err, d)
}

// measure counts c's outcome and latency. Only actions the edge serves
// get their own labels (see Call.Known).
func (g *Gate) measure(c *Call, err error, d time.Duration) {
	if g.Metrics == nil {
		return
	}
	family, action, code := metrics.Unknown, metrics.Unknown, metrics.OK
	if c.Known {
		family, action = c.Family, c.Action
	}
	if err != nil {
		code = fault.KindOf(err).String()
		if c.Code != nil {
			code = c.Code(err)
		}
	}
	g.Metrics.Request(family, action, code, d)
}

// UnsupportedRegion is the reason for a call naming a region not served.
const UnsupportedRegion fault.Reason = "unsupported region"

// event starts the audit event of c.
func (g *Gate) event(c *Call) *audit.Event {
	ev := &audit.Event{
		Time: g.now(), Account: c.Principal.Account, PrincipalID: c.Principal.ID, PrincipalName: c.Principal.Name,
		PrincipalKind: string(c.Principal.Kind), AccessKeyID: c.Principal.AccessKeyID,
		SourceIP: c.SourceIP, UserAgent: c.UserAgent, Region: c.Region, Family: c.Family,
		Action: c.Action, ReadOnly: ReadOnly(c.Action), Resource: c.Resource, RequestID: c.RequestID,
	}
	if ev.AccessKeyID == "" {
		ev.AccessKeyID = c.ClaimedKeyID
	}
	if g.Redactor != nil {
		ev.Params = g.Redactor.Params(c.Body)
	}
	return ev
}

// record makes ev durable with the call's outcome.
func (g *Gate) record(ctx context.Context, c *Call, ev *audit.Event, err error) error {
	if g.Audit == nil {
		return nil
	}
	if err != nil {
		ev.ErrorCode = fault.KindOf(err).String()
		if c.Code != nil {
			ev.ErrorCode = c.Code(err)
		}
	}
	if aerr := g.Audit.Record(ctx, ev); aerr != nil {
		return fault.Wrap("api.audit", fault.Unavailable, "the call could not be audited, so it was not completed", aerr)
	}
	return nil
}

func (g *Gate) now() time.Time {
	c := g.Clock
	if c == nil {
		c = time.Now
	}
	return c().UTC().Truncate(time.Millisecond)
}

// ReadOnly reports whether an action only reads, by the naming rule every
// API family here follows (CloudAudit's actionType Read).
func ReadOnly(action string) bool {
	for _, p := range []string{"Get", "Describe", "List", "LookUp", "BatchGet", "Validate"} {
		if strings.HasPrefix(action, p) {
			return true
		}
	}
	return false
}

func (g *Gate) log(ctx context.Context, c *Call, err error, d time.Duration, rejected bool) {
	if g.Log == nil {
		return
	}
	attrs := []slog.Attr{
		slog.String("request_id", c.RequestID), slog.String("family", c.Family),
		slog.String("action", c.Action), slog.String("region", c.Region),
		slog.String("account", c.Principal.Account), slog.String("access_key", c.Principal.AccessKeyID),
		slog.String("source_ip", c.SourceIP), slog.Duration("duration", d),
	}
	if err == nil {
		g.Log.LogAttrs(ctx, slog.LevelInfo, "call", attrs...)
		return
	}
	level, kind := slog.LevelInfo, "rejected" // refused by the edge before the core
	if !rejected {
		k := fault.KindOf(err)
		if kind = k.String(); k == fault.Internal || k == fault.Unavailable {
			level = slog.LevelError
		}
	}
	attrs = append(attrs, slog.String("kind", kind), slog.String("error", err.Error()))
	g.Log.LogAttrs(ctx, level, "call failed", attrs...)
}
