package tc3

import (
	"fmt"
	"strconv"
)

// Kind classifies a failure. The set is closed and follows the Tencent Cloud
// common error codes, so an edge maps each kind to one wire code.
type Kind uint8

// The kinds, in the order a server meets them (spec §1.3). An unknown
// SecretId (AuthFailure.SecretIdNotFound) sits between SignatureExpire and
// SignatureFailure; it is the caller's to report, since only it holds keys.
const (
	// InvalidAuthorization: Authorization or X-TC-Timestamp is missing or
	// malformed, a signed header is missing, or the credential scope does not
	// match the request (AuthFailure.InvalidAuthorization).
	InvalidAuthorization Kind = iota + 1
	// SignatureExpire: X-TC-Timestamp is too far in the past or the future
	// (AuthFailure.SignatureExpire).
	SignatureExpire
	// SignatureFailure: the signature does not match the request
	// (AuthFailure.SignatureFailure).
	SignatureFailure
)

var kindNames = [...]string{
	InvalidAuthorization: "invalid authorization",
	SignatureExpire:      "signature expired",
	SignatureFailure:     "signature mismatch",
}

// String returns the kind's name, or kind(N) for a value outside the set.
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Error is the only error type the package returns. Reason is for logs, not
// for clients: it never holds key material or the expected signature, but it
// may quote (clipped) values the client sent.
type Error struct {
	Kind   Kind
	Reason string
}

// Error returns "tc3: <kind>: <reason>".
func (e *Error) Error() string {
	if e.Reason == "" {
		return "tc3: " + e.Kind.String()
	}
	return "tc3: " + e.Kind.String() + ": " + e.Reason
}

// Is reports whether target is an *Error of the same Kind without a Reason,
// so errors.Is(err, ErrSignatureExpire) matches every expiry.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Reason == "" && t.Kind == e.Kind
}

// Sentinels for errors.Is, one per Kind.
var (
	ErrInvalidAuthorization = &Error{Kind: InvalidAuthorization}
	ErrSignatureExpire      = &Error{Kind: SignatureExpire}
	ErrSignatureFailure     = &Error{Kind: SignatureFailure}
)

func invalid(format string, args ...any) error {
	return &Error{Kind: InvalidAuthorization, Reason: fmt.Sprintf(format, args...)}
}

// errMismatch is static on purpose: a mismatch must not say how close it was.
var errMismatch = &Error{Kind: SignatureFailure, Reason: "signature does not match"}
