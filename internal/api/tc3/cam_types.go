package tc3

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/iam"
)

// CAM decodes leniently where its own examples do (spec §1.2): an integer
// may come as a numeric string, a boolean as "true"/"false".

// flexUint is an unsigned integer parameter sent as a number or a numeric string.
type flexUint uint64

var errFlexType = errors.New("not an unsigned integer")

func (f *flexUint) UnmarshalJSON(b []byte) error {
	b = bytes.Trim(b, `"`)
	n, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return wire(codeInvalidParameter, "An integer parameter holds something other than an unsigned integer.")
	}
	*f = flexUint(n)
	return nil
}

func (f *flexUint) set() bool { return f != nil }

func (f *flexUint) val() uint64 {
	if f == nil {
		return 0
	}
	return uint64(*f)
}

func (f *flexUint) str() string {
	if f == nil {
		return ""
	}
	return strconv.FormatUint(uint64(*f), 10)
}

// flexBool is a boolean parameter sent as a boolean, "true"/"false" or 0/1.
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	switch string(bytes.Trim(b, `"`)) {
	case "true", "1":
		*f = true
	case "false", "0":
		*f = false
	default:
		return wire(codeInvalidParameter, "A boolean parameter holds something other than true or false.")
	}
	return nil
}

// camTime spells a time as CAM does, "2006-01-02 15:04:05" (UTC here).
func camTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// num turns a numeric id into the uint64 the SDK types want.
func num(id string) uint64 {
	n, _ := strconv.ParseUint(id, 10, 64)
	return n
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// camReasonCodes spells the iam package's reasons as CAM's codes.
var camReasonCodes = map[fault.Reason]string{
	iam.UserNotExist:          "ResourceNotFound.UserNotExist",
	iam.GroupNotExist:         "ResourceNotFound.GroupNotExist",
	iam.RoleNotExist:          "InvalidParameter.RoleNotExist",
	iam.PolicyNotExist:        "ResourceNotFound.PolicyIdNotFound",
	iam.PolicyVersionNotExist: "InvalidParameter.PolicyVersionNotExists",
	iam.AccessKeyNotExist:     "ResourceNotFound.SecretNotExist",
	iam.UserNameInUse:         "InvalidParameter.SubUserNameInUse",
	iam.GroupNameInUse:        "InvalidParameter.GroupNameInUse",
	iam.RoleNameInUse:         "InvalidParameter.RoleNameInUse",
	iam.PolicyNameInUse:       "FailedOperation.PolicyNameInUse",
	iam.HaveKeys:              "OperationDenied.HaveKeys",
	iam.AccessKeyOverLimit:    "OperationDenied.AccessKeyOverLimit",
	iam.PasswordRules:         "InvalidParameter.PasswordViolatedRules",
	iam.BadName:               "InvalidParameter.ParamError",
	iam.BadDocument:           "InvalidParameter.PolicyDocumentError",
	iam.DocumentTooLong:       "InvalidParameter.PolicyDocumentLengthOverLimit",
	iam.PrincipalNotAllowed:   "InvalidParameter.PrincipalError",
	iam.BadPrincipal:          "InvalidParameter.PrincipalError",
	iam.VersionFull:           "FailedOperation.PolicyVersionFull",
	iam.VersionIsDefault:      "FailedOperation.PolicyVersionAlreadyDefault",
	iam.AttachmentFull:        "InvalidParameter.AttachmentFull",
	iam.SubUserFull:           "InvalidParameter.SubUserFull",
	iam.GroupFull:             "InvalidParameter.GroupFull",
	iam.RoleFull:              "InvalidParameter.RoleFull",
	iam.PolicyFull:            "FailedOperation.PolicyFull",
	iam.GroupUserFull:         "InvalidParameter.GroupUserFull",
	iam.UserGroupFull:         "InvalidParameter.UserGroupFull",
	iam.PresetPolicy:          "InvalidParameter.PolicyIdError",
	iam.OverTime:              "InvalidParameter.OverTimeError",
	iam.RoleNotFound:          "ResourceNotFound.RoleNotFound",
	iam.UinNotMatch:           "OperationDenied.UinNotMatch",
	iam.TempKeyNotAllowed:     "FailedOperation.TempKeyNotAllowed",
	iam.NoTarget:              "InvalidParameter.UserNotExist",
}

// mustJSON is json.Marshal for values that always encode.
func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
