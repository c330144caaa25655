package tc3

import (
	"errors"
	"fmt"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/fault"
)

// wireError is an error the edge itself raises, already in Tencent's terms.
type wireError struct {
	Code string
	Msg  string
}

func (e *wireError) Error() string { return e.Code + ": " + e.Msg }

func wire(code, msg string) error { return &wireError{Code: code, Msg: msg} }

// The common codes the edge raises itself.
const (
	codeInvalidAuthorization = "AuthFailure.InvalidAuthorization"
	codeSecretIDNotFound     = "AuthFailure.SecretIdNotFound"
	codeSignatureExpire      = "AuthFailure.SignatureExpire"
	codeSignatureFailure     = "AuthFailure.SignatureFailure"
	codeTokenFailure         = "AuthFailure.TokenFailure"
	codeInvalidAction        = "InvalidAction"
	codeNoSuchVersion        = "NoSuchVersion"
	codeInvalidParameter     = "InvalidParameter"
	codeInvalidValue         = "InvalidParameterValue"
	codeMissingParameter     = "MissingParameter"
	codeUnknownParameter     = "UnknownParameter"
	codeUnsupportedOperation = "UnsupportedOperation"
	codeUnsupportedProtocol  = "UnsupportedProtocol"
	codeRequestTooLarge      = "RequestSizeLimitExceeded"
	codeInternal             = "InternalError"
)

type kindReason struct {
	kind   fault.Kind
	reason fault.Reason
}

// reasonCodes maps a fault kind and reason to its code where the reason
// decides. A reason absent here falls back to its kind's code, so a name
// taken by a secret pending deletion is still ResourceInUse.SecretExists.
var reasonCodes = map[kindReason]string{
	{fault.WrongState, fault.SecretDisabled}:        "ResourceUnavailable.ResourceDisabled",
	{fault.WrongState, fault.SecretPendingDeletion}: "ResourceUnavailable.ResourcePendingDeleted",
	{fault.WrongState, fault.SecretCreating}:        "ResourceUnavailable.ResourceUninitialized",
	{fault.WrongState, fault.SecretEnabled}:         "OperationDenied",
	{fault.WrongState, fault.SecretNotPending}:      "FailedOperation",
	{fault.WrongState, fault.AutoRotated}:           "OperationDenied.AutoRotatedResource",
	{fault.Exists, fault.VersionExists}:             "ResourceInUse.VersionIdExists",
	{fault.NotFound, fault.NoSuchProduct}:           "ResourceNotFound",
	{fault.WrongState, fault.IsReplica}:             "OperationDenied",
	{fault.Exists, fault.DatabaseExists}:            "ResourceInUse",
	{fault.WrongState, fault.NotReplica}:            "FailedOperation",
	{fault.WrongState, fault.RotationInProgress}:    "FailedOperation.RotationForbidden",
	{fault.WrongState, fault.NoRotator}:             "FailedOperation.RotationForbidden",
	{fault.WrongState, fault.RotationForbidden}:     "FailedOperation.RotationForbidden",
	{fault.Exists, fault.TokenReused}:               "ResourceInUse.VersionIdExists",
	{fault.Invalid, fault.TagKeysDuplicated}:        "InvalidParameterValue.TagKeysDuplicated",
	{fault.Invalid, api.UnsupportedRegion}:          "UnsupportedRegion",
	{fault.Throttled, api.SourceLimited}:            "RequestLimitExceeded.IPLimitExceeded",
}

// kindCodes maps every fault kind to its code when no reason decides.
var kindCodes = map[fault.Kind]string{
	fault.Internal:        codeInternal,
	fault.Invalid:         codeInvalidValue,
	fault.Missing:         codeMissingParameter,
	fault.NotFound:        "ResourceNotFound",
	fault.Exists:          "ResourceInUse.SecretExists",
	fault.Conflict:        "FailedOperation",
	fault.WrongState:      "FailedOperation",
	fault.Limit:           "LimitExceeded",
	fault.Denied:          "UnauthorizedOperation",
	fault.Unauthenticated: "AuthFailure",
	fault.Unavailable:     "ServiceUnavailable",
	fault.KeyUnavailable:  "FailedOperation.AccessKmsError",
	fault.Throttled:       "RequestLimitExceeded",
	fault.Unsupported:     codeUnsupportedOperation,
}

// codeOf returns the Tencent code and client-safe message for err.
func codeOf(err error) (code, msg string) {
	var w *wireError
	if errors.As(err, &w) {
		return w.Code, w.Msg
	}
	var f *fault.Error
	if !errors.As(err, &f) || f.Kind == fault.Internal {
		return codeInternal, "An internal error occurred. Quote the RequestId when reporting it."
	}
	if d := api.DenialOf(err); d != nil {
		return "UnauthorizedOperation", fmt.Sprintf("you are not authorized to perform operation (%s)\nresource (%s) has no permission\n", d.Action, d.Resource)
	}
	if c, ok := reasonCodes[kindReason{f.Kind, f.Reason}]; ok {
		return c, f.Msg
	}
	if c, ok := camReasonCodes[f.Reason]; ok {
		return c, f.Msg
	}
	if c, ok := kmsReasonCodes[f.Reason]; ok {
		return c, f.Msg
	}
	if c, ok := kindCodes[f.Kind]; ok {
		return c, f.Msg
	}
	return codeInternal, "An internal error occurred. Quote the RequestId when reporting it."
}
