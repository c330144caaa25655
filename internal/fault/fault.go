// Package fault is the one error type of Coffer's core: an operation, a kind
// from a small closed set, and a message that is safe to show a client.
//
// Edges map a Kind (and, where a protocol needs more, a Reason) onto their
// wire codes in one table each; the wrapped cause never reaches a client.
package fault

import (
	"errors"
	"fmt"
)

// Kind classifies an error so callers can branch on it.
type Kind uint8

// The kinds. The set is closed: an edge maps every kind, and a new kind means
// a new row in every edge's table.
const (
	Internal        Kind = iota // a bug or an unexpected failure
	Invalid                     // a parameter value is wrong
	Missing                     // a required parameter is absent
	NotFound                    // the resource does not exist (or the caller may not know it does)
	Exists                      // the resource already exists
	Conflict                    // a concurrent change won; retry
	WrongState                  // the resource's state forbids the operation
	Limit                       // a quota would be exceeded
	Denied                      // the caller is not allowed
	Unauthenticated             // the caller could not be identified
	Unavailable                 // a dependency (store, key provider) is down
	KeyUnavailable              // the key protecting the resource cannot be used
	Throttled                   // too many requests
	Unsupported                 // the operation or option is not supported
)

var kindNames = [...]string{
	Internal: "internal", Invalid: "invalid", Missing: "missing", NotFound: "not found",
	Exists: "exists", Conflict: "conflict", WrongState: "wrong state", Limit: "limit",
	Denied: "denied", Unauthenticated: "unauthenticated", Unavailable: "unavailable",
	KeyUnavailable: "key unavailable", Throttled: "throttled", Unsupported: "unsupported",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Reason refines a Kind where a wire protocol distinguishes cases that share
// one kind (a disabled secret and one pending deletion are both WrongState).
type Reason string

// Reasons edges branch on.
const (
	ReasonNone            Reason = ""
	SecretDisabled        Reason = "secret disabled"
	SecretPendingDeletion Reason = "secret pending deletion"
	SecretCreating        Reason = "secret creating"
	SecretEnabled         Reason = "secret enabled"
	SecretNotPending      Reason = "secret not pending deletion"
	VersionExists         Reason = "version exists"
	TokenReused           Reason = "idempotency token reused"
	AutoRotated           Reason = "managed by rotation"
	TagKeysDuplicated     Reason = "tag keys duplicated"
	NoSuchVersion         Reason = "no such version"
	NoSuchStage           Reason = "no such stage"
	StageMismatch         Reason = "version does not carry the stage"
	NoSuchProduct         Reason = "no such product"
	RotationInProgress    Reason = "rotation in progress"
	NoRotator             Reason = "no rotator"
	RotationForbidden     Reason = "rotation forbidden"
	IsReplica             Reason = "secret is a replica"
	NotReplica            Reason = "secret is not a replica"
	HasReplicas           Reason = "secret has replicas"
	DatabaseExists        Reason = "database registered already"
)

// Error is a Coffer error. Msg is safe to return to a client: it never holds a
// secret value. Err is the internal cause, for logs only.
type Error struct {
	Op     string // the operation, e.g. "secrets.PutValue"
	Kind   Kind
	Reason Reason
	Msg    string
	Err    error
}

// E builds an Error.
func E(op string, kind Kind, msg string) *Error {
	return &Error{Op: op, Kind: kind, Msg: msg}
}

// Wrap builds an Error around an internal cause; msg is what clients see.
func Wrap(op string, kind Kind, msg string, err error) *Error {
	return &Error{Op: op, Kind: kind, Msg: msg, Err: err}
}

// Because returns a copy of e with a reason attached.
func (e *Error) Because(r Reason) *Error {
	c := *e
	c.Reason = r
	return &c
}

func (e *Error) Error() string {
	s := e.Op + ": " + e.Kind.String()
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of the first *Error in err's chain, or Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Is reports whether err carries kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }

// ReasonOf returns the reason of the first *Error in err's chain.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ReasonNone
}

// Message returns the client-safe message of err, or a generic one.
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Msg != "" {
		return e.Msg
	}
	return "internal error"
}
