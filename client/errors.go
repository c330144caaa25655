package client

import (
	"context"
	"errors"
	"net"
	"strings"
)

// Error is an error the server answered, in Tencent's terms. Code is the
// Tencent error code ("ResourceNotFound", "AuthFailure.SignatureFailure");
// RequestID identifies the call in the server's log and audit trail.
// Message is the server's text, which never holds a secret value.
type Error struct {
	Action    string // the action called, e.g. "GetSecretValue"
	Code      string
	Message   string
	RequestID string
	// HTTPStatus is set, with Code "HTTPError", when something other than
	// Coffer (a proxy, a load balancer) answered with an HTTP error.
	HTTPStatus int
}

// Error returns "coffer: Action: Code: Message (RequestId …)".
func (e *Error) Error() string {
	s := "coffer: " + e.Action + ": " + e.Code
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.RequestID != "" {
		s += " (RequestId " + e.RequestID + ")"
	}
	return s
}

// Error codes the helpers below classify, as the server sends them.
const (
	CodeNotFound           = "ResourceNotFound"
	CodeSecretExists       = "ResourceInUse.SecretExists"
	CodeVersionExists      = "ResourceInUse.VersionIdExists"
	CodeRequestLimit       = "RequestLimitExceeded"
	CodeServiceUnavailable = "ServiceUnavailable"
	CodeInternalError      = "InternalError"
	CodeUnauthorized       = "UnauthorizedOperation"
	CodeAuthFailure        = "AuthFailure"
	CodeTokenFailure       = "AuthFailure.TokenFailure"
	CodeResourceDisabled   = "ResourceUnavailable.ResourceDisabled"
	CodePendingDeleted     = "ResourceUnavailable.ResourcePendingDeleted"
	codeHTTP               = "HTTPError"
)

// CodeOf returns the code of the *Error in err's chain, or "".
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// hasCode reports whether code is want or one of its sub-codes (want.X).
func hasCode(code, want string) bool {
	return code == want || strings.HasPrefix(code, want+".")
}

// IsNotFound reports whether err says the secret or version does not exist.
func IsNotFound(err error) bool { return CodeOf(err) == CodeNotFound }

// IsExists reports whether err says the secret name or version id is taken.
func IsExists(err error) bool { return hasCode(CodeOf(err), "ResourceInUse") }

// IsDenied reports whether the server refused the caller: bad or unknown
// credentials, an expired signature or token, or a policy that does not
// allow the call.
func IsDenied(err error) bool {
	c := CodeOf(err)
	return hasCode(c, CodeAuthFailure) || hasCode(c, CodeUnauthorized)
}

// IsThrottled reports whether the server refused the call for a rate limit.
func IsThrottled(err error) bool { return hasCode(CodeOf(err), CodeRequestLimit) }

// IsDisabled reports whether the secret cannot be read because it is
// Disabled or pending deletion.
func IsDisabled(err error) bool {
	c := CodeOf(err)
	return c == CodeResourceDisabled || c == CodePendingDeleted
}

// IsUnavailable reports whether Coffer could not be reached or could not
// serve the call for now: a network error, a timeout, an HTTP error from a
// proxy, ServiceUnavailable, InternalError or a rate limit. Such a call may
// succeed later; a Cache serves stale values through these errors only.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code == CodeServiceUnavailable || e.Code == CodeInternalError || e.Code == codeHTTP || IsThrottled(e)
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) || isTransport(err)
}

// transportError wraps a failure to exchange a request with the server.
type transportError struct {
	action string
	err    error
}

func (e *transportError) Error() string { return "coffer: " + e.action + ": " + e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

func isTransport(err error) bool {
	var t *transportError
	return errors.As(err, &t)
}

// notSent reports whether a transport error happened before the request
// could reach the server (it could not connect), so any call may be retried.
func notSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}
