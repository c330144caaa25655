package awsjson

import (
	"errors"
	"net/http"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/fault"
)

// awsError is an error in AWS's terms: the __type, the HTTP status and a
// message safe for the client.
type awsError struct {
	Type   string
	Status int
	Msg    string
}

func (e *awsError) Error() string { return e.Type + ": " + e.Msg }

func fail(typ, msg string) error { return &awsError{Type: typ, Status: statusOf(typ), Msg: msg} }

// The codes the edge uses.
const (
	errResourceNotFound    = "ResourceNotFoundException"
	errInvalidParameter    = "InvalidParameterException"
	errInvalidRequest      = "InvalidRequestException"
	errResourceExists      = "ResourceExistsException"
	errLimitExceeded       = "LimitExceededException"
	errInvalidNextToken    = "InvalidNextTokenException"
	errMalformedPolicy     = "MalformedPolicyDocumentException"
	errPublicPolicy        = "PublicPolicyException"
	errDecryptionFailure   = "DecryptionFailure"
	errEncryptionFailure   = "EncryptionFailure"
	errInternal            = "InternalServiceError"
	errValidation          = "ValidationException"
	errAccessDenied        = "AccessDeniedException"
	errThrottling          = "ThrottlingException"
	errUnrecognizedClient  = "UnrecognizedClientException"
	errExpiredToken        = "ExpiredTokenException"
	errInvalidSignature    = "InvalidSignatureException"
	errIncompleteSignature = "IncompleteSignatureException"
	errMissingToken        = "MissingAuthenticationTokenException"
	errUnknownOperation    = "UnknownOperationException"
	errSerialization       = "SerializationException"
	errUnavailable         = "ServiceUnavailable"
)

func statusOf(typ string) int {
	switch typ {
	case errInternal:
		return http.StatusInternalServerError
	case errUnavailable:
		return http.StatusServiceUnavailable
	case errMissingToken:
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}

type kindReason struct {
	kind   fault.Kind
	reason fault.Reason
}

// The messages AWS clients recognize (External Secrets Operator looks for
// "was marked for deletion").
const (
	msgMarkedDeleted = "You can't perform this operation on the secret because it was marked for deletion."
	msgNotFound      = "Secrets Manager can't find the specified secret."
)

// reasonErrors maps a fault kind and reason to AWS's code and message where
// the reason decides; the message "" keeps the core's.
var reasonErrors = map[kindReason]awsError{
	{fault.WrongState, fault.SecretPendingDeletion}: {Type: errInvalidRequest, Msg: msgMarkedDeleted},
	{fault.WrongState, fault.SecretDisabled}:        {Type: errInvalidRequest, Msg: "You can't perform this operation on the secret because it is disabled."},
	{fault.WrongState, fault.SecretCreating}:        {Type: errInvalidRequest, Msg: "You can't perform this operation on the secret because it is still being created."},
	{fault.WrongState, fault.AutoRotated}:           {Type: errInvalidRequest},
	{fault.WrongState, fault.IsReplica}:             {Type: errInvalidRequest, Msg: "Operation not permitted on a replica secret. Call must be made in primary secret's region."},
	{fault.WrongState, fault.NotReplica}:            {Type: errInvalidRequest},
	{fault.WrongState, fault.NoRotator}:             {Type: errInvalidRequest, Msg: "No Lambda rotation function ARN is associated with this secret."},
	{fault.Exists, fault.SecretPendingDeletion}:     {Type: errInvalidRequest, Msg: "You can't create this secret because a secret with this name is already scheduled for deletion."},
	{fault.Invalid, api.UnsupportedRegion}:          {Type: errInvalidRequest},
}

// kindErrors maps every fault kind to AWS's code when no reason decides.
var kindErrors = map[fault.Kind]string{
	fault.Invalid:         errInvalidParameter,
	fault.Missing:         errInvalidParameter,
	fault.NotFound:        errResourceNotFound,
	fault.Exists:          errResourceExists,
	fault.Conflict:        errInternal,
	fault.WrongState:      errInvalidRequest,
	fault.Limit:           errLimitExceeded,
	fault.Denied:          errAccessDenied,
	fault.Unauthenticated: errUnrecognizedClient,
	fault.Unavailable:     errUnavailable,
	fault.KeyUnavailable:  errDecryptionFailure,
	fault.Throttled:       errThrottling,
	fault.Unsupported:     errInvalidRequest,
}

// toAWS returns err in AWS's terms. writes says whether the call encrypts
// (a key failure is then EncryptionFailure rather than DecryptionFailure).
func toAWS(err error, writes bool) *awsError {
	var a *awsError
	if errors.As(err, &a) {
		return a
	}
	var f *fault.Error
	if !errors.As(err, &f) || f.Kind == fault.Internal {
		return &awsError{Type: errInternal, Status: http.StatusInternalServerError, Msg: "An internal error occurred. Quote the request id when reporting it."}
	}
	out := awsError{Type: kindErrors[f.Kind], Msg: f.Msg}
	if r, ok := reasonErrors[kindReason{f.Kind, f.Reason}]; ok {
		out.Type = r.Type
		if r.Msg != "" {
			out.Msg = r.Msg
		}
	}
	if f.Kind == fault.KeyUnavailable && writes {
		out.Type = errEncryptionFailure
	}
	if f.Kind == fault.NotFound && f.Reason == fault.ReasonNone {
		out.Msg = msgNotFound
	}
	if d := api.DenialOf(err); d != nil {
		out.Msg = "User: " + d.Principal + " is not authorized to perform: " + d.Action + " on resource: " + d.Resource
		switch {
		case d.Explicit:
			out.Msg += " with an explicit deny"
		case d.CrossAccount:
			out.Msg += " because no resource-based policy allows the " + d.Action + " action"
		default:
			out.Msg += " because no identity-based policy allows the " + d.Action + " action"
		}
	}
	out.Status = statusOf(out.Type)
	return &out
}
