package awskms

import (
	"errors"

	"github.com/aws/smithy-go"

	"github.com/coffer-secrets/coffer/internal/fault"
)

// keyCodes are KMS error codes that mean this key cannot be used for this
// request: it does not exist, is disabled or pending deletion, is denied to
// us, or refuses the ciphertext (another key, another encryption context,
// altered bytes). Retrying does not help.
var keyCodes = map[string]bool{
	"InvalidCiphertextException": true,
	"IncorrectKeyException":      true,
	"NotFoundException":          true,
	"DisabledException":          true,
	"KMSInvalidStateException":   true,
	"InvalidKeyUsageException":   true,
	"AccessDeniedException":      true,
}

// classify maps an SDK error to a fault kind. Key errors are
// KeyUnavailable; a ValidationException is KeyUnavailable on Unwrap (KMS
// found the ciphertext malformed) and Invalid on Wrap; everything else —
// transport errors, timeouts, throttling, KMS's internal errors, missing or
// refused credentials — is Unavailable: KMS could not do the work now.
func classify(op string, err error, unwrap bool) error {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return fault.Wrap(op, fault.Unavailable, "root key holder (AWS KMS) unreachable", err)
	}
	code := api.ErrorCode()
	switch {
	case keyCodes[code] && unwrap:
		return fault.Wrap(op, fault.KeyUnavailable, "root key cannot open key material: "+code, err)
	case keyCodes[code]:
		return fault.Wrap(op, fault.KeyUnavailable, "root key cannot be used: "+code, err)
	case code == "ValidationException" && unwrap:
		return fault.Wrap(op, fault.KeyUnavailable, "root key cannot open key material: "+code, err)
	case code == "ValidationException":
		return fault.Wrap(op, fault.Invalid, "AWS KMS refused the request: "+code, err)
	}
	return fault.Wrap(op, fault.Unavailable, "root key holder (AWS KMS) unavailable: "+code, err)
}
