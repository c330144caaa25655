package webhook

import (
	"errors"
	"fmt"
	"strconv"
)

// Sentinels for errors.Is. Errors wrap them with context that never holds a
// secret value, the signing key, or more of the endpoint URL than its
// scheme and host.
var (
	// ErrURL: the endpoint URL is not one Coffer will call.
	ErrURL = errors.New("webhook: invalid endpoint URL")
	// ErrStatus: the endpoint answered with a status other than 2xx; the
	// error is a *StatusError.
	ErrStatus = errors.New("webhook: endpoint failed the step")
	// ErrReply: createSecret's reply is too large or malformed.
	ErrReply = errors.New("webhook: invalid reply")
	// ErrSignature: Verify rejected the call.
	ErrSignature = errors.New("webhook: invalid signature")
)

// StatusError is an endpoint's refusal of a step. Message is what the
// endpoint said, clipped and withheld if it may quote a secret value, so it
// is safe to log and to show an operator.
type StatusError struct {
	Step    string
	Status  int    // the HTTP status code
	Message string // "" when the endpoint gave none
}

// Error returns "webhook: <step>: endpoint returned HTTP <status>[: <message>]".
func (e *StatusError) Error() string {
	s := "webhook: " + e.Step + ": endpoint returned HTTP " + strconv.Itoa(e.Status)
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Is makes errors.Is(err, ErrStatus) true for every StatusError.
func (e *StatusError) Is(target error) bool { return target == ErrStatus }

// The reasons Verify gives, each an ErrSignature.
var (
	errNoSignature = fmt.Errorf("%w: no Coffer-Signature header", ErrSignature)
	errMalformed   = fmt.Errorf("%w: malformed Coffer-Signature header", ErrSignature)
	errMismatch    = fmt.Errorf("%w: signature does not match", ErrSignature)
	errExpired     = fmt.Errorf("%w: timestamp outside the allowed skew", ErrSignature)
)
