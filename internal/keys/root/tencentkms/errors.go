package tencentkms

import (
	"errors"
	"fmt"
	"strings"

	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	"github.com/coffer-secrets/coffer/internal/fault"
)

// classify maps an SDK error to a fault kind (spec §5.2, §5.4):
//   - the CMK cannot be used for this request — it is missing, disabled,
//     pending deletion or denied (ResourceUnavailable.*, UnauthorizedOperation,
//     InvalidParameterValue.InvalidKeyId) — is KeyUnavailable;
//   - on Unwrap, a refused ciphertext or context (InvalidParameter*,
//     FailedOperation.EncryptionError) is KeyUnavailable; on Wrap a refused
//     parameter is Invalid;
//   - everything else — network errors, InternalError, RequestLimitExceeded,
//     refused credentials (AuthFailure.*) — is Unavailable.
func classify(op string, err error, unwrap bool) error {
	var sdk *tcerr.TencentCloudSDKError
	if !errors.As(err, &sdk) {
		return fault.Wrap(op, fault.Unavailable, "root key holder (Tencent KMS) unavailable", err)
	}
	code, cause := sdk.GetCode(), safeCause(sdk)
	switch {
	case isKeyCode(code):
		return fault.Wrap(op, fault.KeyUnavailable, "root key cannot be used: "+code, cause)
	case unwrap && (strings.HasPrefix(code, "InvalidParameter") || code == "FailedOperation.EncryptionError"):
		return fault.Wrap(op, fault.KeyUnavailable, "root key cannot open key material: "+code, cause)
	case strings.HasPrefix(code, "InvalidParameter"):
		return fault.Wrap(op, fault.Invalid, "Tencent KMS refused the request: "+code, cause)
	}
	return fault.Wrap(op, fault.Unavailable, "root key holder (Tencent KMS) unavailable: "+code, cause)
}

func isKeyCode(code string) bool {
	return strings.HasPrefix(code, "ResourceUnavailable.") || code == "ResourceNotFound" ||
		code == "UnauthorizedOperation" || code == "AuthFailure.UnauthorizedOperation" ||
		code == "InvalidParameterValue.InvalidKeyId"
}

// safeCause keeps the code, message and request id of an SDK error but not
// the SDK's parse-error text, which quotes the response body (and a
// response body may hold a plaintext).
func safeCause(e *tcerr.TencentCloudSDKError) error {
	if strings.HasPrefix(e.GetCode(), "ClientError.ParseJsonError") {
		return fmt.Errorf("%s (RequestId %s)", e.GetCode(), e.GetRequestId())
	}
	if errors.Unwrap(e) != nil {
		return e // a network error: its cause says what failed
	}
	return fmt.Errorf("%s: %s (RequestId %s)", e.GetCode(), e.GetMessage(), e.GetRequestId())
}
