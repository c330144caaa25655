package sigv4

import (
	"fmt"
	"strconv"
	"time"
)

// Kind classifies a failure. The set is closed; each kind names the AWS wire
// code an edge should send for it, so the edge maps kinds in one table.
type Kind uint8

// The kinds; ParseRequest lists the order in which it checks for them. An
// unknown access key ID (UnrecognizedClientException, HTTP 400) comes after
// ParseRequest and before Verify; it is the caller's to report, since only
// it holds keys.
const (
	// MissingAuthentication: the request has no Authorization header
	// (MissingAuthenticationTokenException, HTTP 403).
	MissingAuthentication Kind = iota + 1
	// IncompleteSignature: the Authorization header, X-Amz-Date (or Date),
	// X-Amz-Content-Sha256 or the query string is malformed, host is not
	// signed, a signed header is absent, or X-Amz-Security-Token is present
	// but not signed (IncompleteSignatureException, HTTP 400).
	IncompleteSignature
	// ScopeMismatch: the credential scope names another service, or another
	// date than the request time (InvalidSignatureException, HTTP 400).
	ScopeMismatch
	// SignatureExpired: the request time is more than the allowed skew from
	// the server clock, either way (InvalidSignatureException, HTTP 400).
	SignatureExpired
	// SignatureMismatch: the signature does not match the request, or the
	// body does not match X-Amz-Content-Sha256 (InvalidSignatureException,
	// HTTP 400).
	SignatureMismatch
)

var kindNames = [...]string{
	MissingAuthentication: "missing authentication",
	IncompleteSignature:   "incomplete signature",
	ScopeMismatch:         "credential scope mismatch",
	SignatureExpired:      "signature expired",
	SignatureMismatch:     "signature mismatch",
}

// The messages AWS sends for each kind when nothing more specific applies.
// They are safe to show a client.
var kindMessages = [...]string{
	MissingAuthentication: "Missing Authentication Token",
	IncompleteSignature:   "The request signature does not conform to AWS standards.",
	ScopeMismatch:         "Credential should be scoped to a valid region, service and date.",
	SignatureExpired:      "Signature expired.",
	SignatureMismatch: "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
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
// may quote (clipped) values the client sent. Message is what a client may
// see.
type Error struct {
	Kind   Kind
	Reason string

	message string // the AWS message for this failure; "" means the kind's
}

// Error returns "sigv4: <kind>: <reason>".
func (e *Error) Error() string {
	if e.Reason == "" {
		return "sigv4: " + e.Kind.String()
	}
	return "sigv4: " + e.Kind.String() + ": " + e.Reason
}

// Message returns the text AWS sends in the "Message" member for this
// failure, such as "Signature expired: 20251105T220858Z is now earlier than
// 20251106T132108Z (20251106T132608Z - 5 min.)". It quotes only values the
// package validated, never a key or the expected signature, so an edge may
// send it as is. For a kind outside the set it returns "".
func (e *Error) Message() string {
	if e.message != "" {
		return e.message
	}
	if int(e.Kind) < len(kindMessages) {
		return kindMessages[e.Kind]
	}
	return ""
}

// Is reports whether target is an *Error of the same Kind without a Reason,
// so errors.Is(err, ErrSignatureExpired) matches every expiry.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Reason == "" && t.Kind == e.Kind
}

// Sentinels for errors.Is, one per Kind.
var (
	ErrMissingAuthentication = &Error{Kind: MissingAuthentication}
	ErrIncompleteSignature   = &Error{Kind: IncompleteSignature}
	ErrScopeMismatch         = &Error{Kind: ScopeMismatch}
	ErrSignatureExpired      = &Error{Kind: SignatureExpired}
	ErrSignatureMismatch     = &Error{Kind: SignatureMismatch}
)

func incomplete(format string, args ...any) error {
	return &Error{Kind: IncompleteSignature, Reason: fmt.Sprintf(format, args...)}
}

// errMismatch is static on purpose: a mismatch must not say how close it was.
var errMismatch = &Error{Kind: SignatureMismatch, Reason: "signature does not match"}

// expired reports t outside [now-maxSkew, now+maxSkew] with the message AWS
// sends, which names the request time, the bound it crossed and the server
// clock, all to the second.
func expired(t, now time.Time, maxSkew time.Duration) error {
	skew := skewText(maxSkew)
	e := &Error{Kind: SignatureExpired, Reason: "server clock minus request time is " + now.Sub(t).Round(time.Second).String()}
	if t.Before(now) {
		e.message = fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %s)",
			amzTime(t), amzTime(now.Add(-maxSkew)), amzTime(now), skew)
	} else {
		e.message = fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + %s)",
			amzTime(t), amzTime(now.Add(maxSkew)), amzTime(now), skew)
	}
	return e
}

// skewText writes a skew as AWS does: "5 min.".
func skewText(d time.Duration) string {
	if d%time.Minute == 0 {
		return strconv.FormatInt(int64(d/time.Minute), 10) + " min."
	}
	return d.String() + "."
}
