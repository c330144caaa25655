package console

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/secrets"
)

// userAgentPrefix marks the console's calls in the audit log.
const userAgentPrefix = "coffer-console/1"

// op is one console action as the gate sees it: the API action it stands
// for, so that policies written for the API decide it.
type op struct {
	family, action string
	secret         string         // the secret it acts on, for a secret-level action
	resource       string         // what the audit record names; defaults to secret
	resourceNames  []string       // a non-secret resource for authorization (a user's keys)
	operationLevel bool           // CAM authorizes it on "*" only (CreateSecret)
	params         map[string]any // recorded, with secret values replaced by HMACs
}

// call builds the gate's call for o made by the session's principal.
func (h *Handler) call(r *http.Request, s *session, o op) *api.Call {
	region := s.region
	if o.family != api.FamilySSM && o.family != "kms" {
		region = h.gate.DefaultRegion() // CAM and CloudAudit are global
	}
	c := &api.Call{
		Family: o.family, Action: o.action, Region: region, Principal: s.principal,
		RequestID: secrets.NewRequestID(), SourceIP: api.SourceIP(r.RemoteAddr), UserAgent: userAgent(r),
		Resource: o.resource, SecretName: o.secret, ResourceNames: o.resourceNames,
		OperationLevel: o.operationLevel, Secure: r.TLS != nil, Known: true, Code: code, Start: time.Now(),
	}
	if c.Resource == "" {
		c.Resource = o.secret
	}
	if o.params != nil {
		c.Body, _ = json.Marshal(o.params)
	}
	return c
}

// do runs fn as o through the gate: authorized, audited and logged like
// the API call it stands for. It returns the gate's or fn's error.
func (h *Handler) do(r *http.Request, s *session, o op, fn func(ctx context.Context, sc secrets.Scope) error) error {
	return h.gate.Do(r.Context(), h.call(r, s, o), fn)
}

// can reports whether the session's principal may make the action on the
// named secret ("" for an operation-level action): what decides whether
// the console shows a button. It records nothing.
func (h *Handler) can(r *http.Request, s *session, family, action, secret string) bool {
	return h.canOp(r, s, op{family: family, action: action, secret: secret})
}

// canOp is can for an action on another kind of resource (a user's keys).
func (h *Handler) canOp(r *http.Request, s *session, o op) bool {
	return h.gate.Check(r.Context(), h.call(r, s, o), o.action, o.secret) == nil
}

func userAgent(r *http.Request) string {
	ua := r.UserAgent()
	if len(ua) > 200 {
		ua = ua[:200]
	}
	if ua == "" {
		return userAgentPrefix
	}
	return userAgentPrefix + " (" + ua + ")"
}

// codes spells a fault kind as the audit record's error code, in the
// Tencent API's terms, so a console call reads like the API call.
var codes = map[fault.Kind]string{
	fault.Internal:        "InternalError",
	fault.Invalid:         "InvalidParameterValue",
	fault.Missing:         "MissingParameter",
	fault.NotFound:        "ResourceNotFound",
	fault.Exists:          "ResourceInUse",
	fault.Conflict:        "FailedOperation",
	fault.WrongState:      "FailedOperation",
	fault.Limit:           "LimitExceeded",
	fault.Denied:          "UnauthorizedOperation",
	fault.Unauthenticated: "AuthFailure",
	fault.Unavailable:     "ServiceUnavailable",
	fault.KeyUnavailable:  "FailedOperation.AccessKmsError",
	fault.Throttled:       "RequestLimitExceeded",
	fault.Unsupported:     "UnsupportedOperation",
}

func code(err error) string {
	if c, ok := codes[fault.KindOf(err)]; ok {
		return c
	}
	return "InternalError"
}

// status is the HTTP status of a page that failed with err.
func status(err error) int {
	switch fault.KindOf(err) {
	case fault.Invalid, fault.Missing:
		return http.StatusBadRequest
	case fault.NotFound:
		return http.StatusNotFound
	case fault.Denied:
		return http.StatusForbidden
	case fault.Unauthenticated:
		return http.StatusUnauthorized
	case fault.Exists, fault.Conflict, fault.WrongState, fault.Limit, fault.KeyUnavailable:
		return http.StatusConflict
	case fault.Throttled:
		return http.StatusTooManyRequests
	case fault.Unavailable:
		return http.StatusServiceUnavailable
	case fault.Unsupported:
		return http.StatusNotImplemented
	}
	return http.StatusInternalServerError
}

// message is what a person is told about err: the core's client-safe
// message, never an internal cause.
func message(err error) string {
	if fault.Is(err, fault.Denied) {
		if d := api.DenialOf(err); d != nil {
			return "You are not allowed to do this: " + d.Action + " on " + d.Resource + " (" + whyDenied(d.Explicit) + ")."
		}
		return "You are not allowed to do this."
	}
	return fault.Message(err)
}

func whyDenied(explicit bool) string {
	if explicit {
		return "a policy denies it"
	}
	return "no policy allows it"
}
