package server_test

import (
	"strings"
	"testing"
)

// TestCAMBadInputs: every bad input gets CAM's code and changes nothing.
func TestCAMBadInputs(t *testing.T) {
	s := startServer(t, "")
	good := `{"version":"2.0","statement":[{"effect":"allow","action":"ssm:GetRegions","resource":"*"}]}`
	trust := `{"version":"2.0","statement":[{"action":"sts:AssumeRole","effect":"allow","principal":{"qcs":["qcs::cam::uin/` + testAccount + `:root"]}}]}`
	s.mustAs(t, rootKey, "", "cam", "AddUser", map[string]any{"Name": "taken", "UseApi": "1"}, nil) // a numeric string, as CAM's examples send
	var pol struct{ PolicyId uint64 }
	s.mustAs(t, rootKey, "", "cam", "CreatePolicy", map[string]any{"PolicyName": "taken", "PolicyDocument": good}, &pol)
	s.mustAs(t, rootKey, "", "cam", "CreateRole", map[string]any{"RoleName": "taken", "PolicyDocument": trust}, nil)
	for _, c := range []struct {
		name, action string
		body         map[string]any
		code         string
	}{
		{"missing name", "AddUser", map[string]any{}, "MissingParameter"},
		{"bad name", "AddUser", map[string]any{"Name": "bad name!"}, "InvalidParameter.ParamError"},
		{"name in use", "AddUser", map[string]any{"Name": "taken"}, "InvalidParameter.SubUserNameInUse"},
		{"weak password", "AddUser", map[string]any{"Name": "weak", "ConsoleLogin": 1, "Password": "password"}, "InvalidParameter.PasswordViolatedRules"},
		{"wrong type", "AddUser", map[string]any{"Name": "typed", "UseApi": "yes"}, "InvalidParameter"},
		{"unknown parameter", "AddUser", map[string]any{"Name": "x", "Nmae": "y"}, "UnknownParameter"},
		{"no such user", "GetUser", map[string]any{"Name": "nobody"}, "ResourceNotFound.UserNotExist"},
		{"user with keys", "DeleteUser", map[string]any{"Name": "taken"}, "OperationDenied.HaveKeys"},
		{"not JSON", "CreatePolicy", map[string]any{"PolicyName": "p1", "PolicyDocument": "{"}, "InvalidParameter.PolicyDocumentError"},
		{"no version", "CreatePolicy", map[string]any{"PolicyName": "p1", "PolicyDocument": `{"statement":[{"effect":"allow","action":"*","resource":"*"}]}`}, "InvalidParameter.PolicyDocumentError"},
		{"principal in identity policy", "CreatePolicy", map[string]any{"PolicyName": "p1", "PolicyDocument": trust}, "InvalidParameter.PrincipalError"},
		{"too long", "CreatePolicy", map[string]any{"PolicyName": "p1", "PolicyDocument": strings.Replace(good, "ssm:GetRegions", "ssm:"+strings.Repeat("x", 6200), 1)}, "InvalidParameter.PolicyDocumentLengthOverLimit"},
		{"policy name in use", "CreatePolicy", map[string]any{"PolicyName": "taken", "PolicyDocument": good}, "FailedOperation.PolicyNameInUse"},
		{"preset name", "CreatePolicy", map[string]any{"PolicyName": "AdministratorAccess", "PolicyDocument": good}, "FailedOperation.PolicyNameInUse"},
		{"bad policy name", "CreatePolicy", map[string]any{"PolicyName": "a b", "PolicyDocument": good}, "InvalidParameter.PolicyNameError"},
		{"no such policy", "GetPolicy", map[string]any{"PolicyId": 999}, "ResourceNotFound.PolicyIdNotFound"},
		{"preset is read-only", "UpdatePolicy", map[string]any{"PolicyId": 1, "Description": "x"}, "InvalidParameter.PolicyIdError"},
		{"delete the default version", "DeletePolicyVersion", map[string]any{"PolicyId": pol.PolicyId, "VersionId": []int{1}}, "FailedOperation.PolicyVersionAlreadyDefault"},
		{"no such version", "GetPolicyVersion", map[string]any{"PolicyId": pol.PolicyId, "VersionId": 9}, "InvalidParameter.PolicyVersionNotExists"},
		{"role name in use", "CreateRole", map[string]any{"RoleName": "taken", "PolicyDocument": trust}, "InvalidParameter.RoleNameInUse"},
		{"trust without principal", "CreateRole", map[string]any{"RoleName": "r2", "PolicyDocument": good}, "InvalidParameter.PrincipalError"},
		{"session too long", "CreateRole", map[string]any{"RoleName": "r3", "PolicyDocument": trust, "SessionDuration": 50000}, "InvalidParameter.OverTimeError"},
		{"no such role", "GetRole", map[string]any{"RoleName": "nope"}, "InvalidParameter.RoleNotExist"},
		{"attach to no one", "AttachUserPolicy", map[string]any{"PolicyId": pol.PolicyId, "AttachUin": 1}, "ResourceNotFound.UserNotExist"},
		{"membership without user", "AddUserToGroup", map[string]any{"Info": []map[string]any{{"GroupId": 1}}}, "InvalidParameter.UserUinAndUinNotAllNull"},
		{"no such group", "AddUserToGroup", map[string]any{"Info": []map[string]any{{"GroupId": 1, "Uin": 1}}}, "InvalidParameter.GroupNotExist"},
		{"bad key status", "UpdateAccessKey", map[string]any{"AccessKeyId": "AKIDx", "Status": "Off"}, "InvalidParameter.ParamError"},
		{"no such key", "UpdateAccessKey", map[string]any{"AccessKeyId": "AKIDnope", "Status": "Inactive"}, "ResourceNotFound.SecretNotExist"},
		{"bootstrap key", "DeleteAccessKey", map[string]any{"AccessKeyId": testKeyID}, "FailedOperation"},
		{"page zero", "ListGroups", map[string]any{"Page": 0}, "InvalidParameterValue"},
		{"bad scope", "ListPolicies", map[string]any{"Scope": "Mine"}, "InvalidParameter.ScopeError"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, code, raw := s.callAs(t, rootKey, "", "cam", c.action, c.body)
			if code != c.code {
				t.Fatalf("%s: code %q, want %q: %s", c.action, code, c.code, raw)
			}
		})
	}
	var users struct{ Data []struct{ Name string } }
	s.mustAs(t, rootKey, "", "cam", "ListUsers", map[string]any{}, &users)
	if len(users.Data) != 1 {
		t.Fatalf("bad inputs changed the users: %+v", users)
	}
	var roles struct{ TotalNum int }
	s.mustAs(t, rootKey, "", "cam", "DescribeRoleList", map[string]any{"Page": 1, "Rp": 200}, &roles)
	var policies struct{ TotalNum int }
	s.mustAs(t, rootKey, "", "cam", "ListPolicies", map[string]any{"Scope": "Local"}, &policies)
	if roles.TotalNum != 1 || policies.TotalNum != 1 {
		t.Fatalf("bad inputs changed roles (%d) or policies (%d)", roles.TotalNum, policies.TotalNum)
	}
	// A third key for one user is refused.
	var u struct{ Uin uint64 }
	s.mustAs(t, rootKey, "", "cam", "GetUser", map[string]any{"Name": "taken"}, &u)
	s.mustAs(t, rootKey, "", "cam", "CreateAccessKey", map[string]any{"TargetUin": u.Uin}, nil)
	if _, code, _ := s.callAs(t, rootKey, "", "cam", "CreateAccessKey", map[string]any{"TargetUin": u.Uin}); code != "OperationDenied.AccessKeyOverLimit" {
		t.Fatalf("third key: %q", code)
	}
}
