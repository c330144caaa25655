package dbtarget

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/coffer-secrets/coffer/internal/fault"
)

// The kinds of failure callers branch on. Every error this package returns
// wraps exactly one of them (or an unexported Internal one), so errors.Is
// and fault.KindOf both work on it. Their text, like every error text here,
// never holds a password or a password verifier.
var (
	// ErrExists: the user (an account of it, on MySQL) already exists.
	ErrExists error = fault.E("dbtarget", fault.Exists, "database user already exists")
	// ErrNotFound: the user (an account of it, on MySQL) does not exist.
	ErrNotFound error = fault.E("dbtarget", fault.NotFound, "database user does not exist")
	// ErrLogin: the server refused the credential.
	ErrLogin error = fault.E("dbtarget", fault.Unauthenticated, "database refused the credential")
	// ErrDenied: the admin credential lacks a privilege the operation needs.
	ErrDenied error = fault.E("dbtarget", fault.Denied, "database admin lacks a privilege")
	// ErrUnreachable: no usable connection to the server (network, TLS,
	// timeout, server overloaded or shutting down, context canceled).
	ErrUnreachable error = fault.E("dbtarget", fault.Unavailable, "database unreachable")
	// ErrInvalid: a name, host, privilege, password or Conn field is not
	// acceptable, or the server rejected an object the request names.
	ErrInvalid error = fault.E("dbtarget", fault.Invalid, "invalid database request")

	errFailed error = fault.E("dbtarget", fault.Internal, "database statement failed")
)

// Error is the error every operation of this package returns: the
// operation, one of the kinds above, and the cause with every secret the
// operation handled cut out of its text.
type Error struct {
	Op   string // e.g. "CreateUser"
	Kind error  // ErrExists, ErrLogin, …
	Err  error  // the cause, redacted; may be nil
}

func (e *Error) Error() string {
	s := "dbtarget: " + e.Op + ": " + fault.Message(e.Kind)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the kind first, so fault.KindOf finds it before any
// *fault.Error the cause may hold.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// newError builds an *Error around cause, which it redacts of secrets; a
// cause that is already an *Error keeps its kind unless kind is given.
func newError(op string, kind error, cause error, secrets ...string) error {
	var inner *Error
	if errors.As(cause, &inner) {
		if kind == nil {
			kind = inner.Kind
		}
		cause = inner.Err
	}
	if kind == nil {
		kind = errFailed
	}
	return &Error{Op: op, Kind: kind, Err: redact(cause, secrets)}
}

// invalid builds an ErrInvalid error with a plain message.
func invalid(op, msg string) error {
	return &Error{Op: op, Kind: ErrInvalid, Err: errors.New(msg)}
}

// redacted is a cause whose text held a secret. It keeps no chain: the
// original's Error() would print the secret again.
type redacted struct{ msg string }

func (r redacted) Error() string { return r.msg }

// redact returns err, or a stand-in without its chain when err's text holds
// one of secrets. Drivers do not echo passwords, but a server's syntax
// error quotes the statement near the fault, and that statement may carry a
// password literal or a SCRAM verifier.
func redact(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	hit := false
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			msg, hit = strings.ReplaceAll(msg, s, "[redacted]"), true
		}
	}
	if !hit {
		return err
	}
	return redacted{msg}
}

// transport reports whether err is a failure to reach or keep the server,
// rather than an answer from it.
func transport(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, context.Canceled) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, net.ErrClosed)
}
