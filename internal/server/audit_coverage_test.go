package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/api/awsjson"
	"github.com/coffer-secrets/coffer/internal/api/tc3"
	"github.com/coffer-secrets/coffer/internal/signature/sigv4"
	tc3sig "github.com/coffer-secrets/coffer/internal/signature/tc3"
	"github.com/coffer-secrets/coffer/internal/store"
)

// auditCase is one call of the audit coverage walk and what its event
// must say.
type auditCase struct {
	family, action string
	body           any
	resource       string // the Resource the event names
	version        string // the VersionID the event names, "" for none, "*" for one made up by the server
	fails          bool   // the call is expected to fail (its error code is then recorded)
}

// Distinctive values no event may contain.
const (
	covValue1 = "cov-plaintext-alpha-7f3a"
	covValue2 = "cov-plaintext-beta-91c2"
	covValue3 = "cov-plaintext-gamma-55d0"
	covToken1 = "00000000-0000-4000-8000-00000000c0v1"
	covToken2 = "00000000-0000-4000-8000-00000000c0v2"
)

var tencentCoverage = []auditCase{
	{"ssm", "CreateSecret", map[string]any{"SecretName": "cov-t", "VersionId": "v1", "SecretString": covValue1}, "cov-t", "v1", false},
	{"ssm", "GetSecretValue", map[string]any{"SecretName": "cov-t", "VersionId": "v1"}, "cov-t", "v1", false},
	{"ssm", "CreateSecret", map[string]any{"SecretName": "cov-both", "SecretString": "a", "SecretBinary": "Yg=="}, "cov-both", "", true},
	{"ssm", "CreateSecret", map[string]any{"SecretName": "bad name"}, "", "", true},
	{"ssm", "PutSecretValue", map[string]any{"SecretName": "cov-t", "VersionId": "v2", "SecretString": covValue2}, "cov-t", "v2", false},
	{"ssm", "UpdateSecret", map[string]any{"SecretName": "cov-t", "VersionId": "v2", "SecretString": covValue3}, "cov-t", "v2", false},
	{"ssm", "GetSecretValue", map[string]any{"SecretName": "cov-t", "VersionId": "SSM_Current"}, "cov-t", "v2", false},
	{"ssm", "StartSecretRollout", map[string]any{"SecretName": "cov-t", "VersionId": "v1", "Percent": 10}, "cov-t", "", false},
	{"ssm", "AbandonSecretRollout", map[string]any{"SecretName": "cov-t"}, "cov-t", "", false},
	{"ssm", "PromoteSecretRollout", map[string]any{"SecretName": "cov-t"}, "cov-t", "", true}, // no roll-out left
	{"ssm", "WaitSecretChange", map[string]any{"SecretName": "cov-t", "VersionId": "v0", "WaitSeconds": 0}, "cov-t", "", false},
	{"ssm", "ListSecretVersionIds", map[string]any{"SecretName": "cov-t"}, "cov-t", "", false},
	{"ssm", "DescribeSecret", map[string]any{"SecretName": "cov-t"}, "cov-t", "", false},
	{"ssm", "UpdateDescription", map[string]any{"SecretName": "cov-t", "Description": "d"}, "cov-t", "", false},
	{"ssm", "DeleteSecretVersion", map[string]any{"SecretName": "cov-t", "VersionId": "v1"}, "cov-t", "v1", false},
	{"ssm", "DescribeSecretConsumers", map[string]any{"SecretName": "cov-t"}, "cov-t", "", false},
	{"ssm", "DescribeUsage", map[string]any{}, "", "", false},
	{"ssm", "DisableSecret", map[string]any{"SecretName": "cov-t"}, "cov-t", "", false},
	{"ssm", "GetSecretValue", map[string]any{"SecretName": "cov-t", "VersionId": "v2"}, "cov-t", "", true},
	{"ssm", "EnableSecret", map[string]any{"SecretName": "cov-t"}, "cov-t", "", false},
	{"ssm", "DisableSecret", map[string]any{"SecretName": "cov-t"}, "cov-t", "", false},
	{"ssm", "DeleteSecret", map[string]any{"SecretName": "cov-t", "RecoveryWindowInDays": 7}, "cov-t", "", false},
	{"ssm", "RestoreSecret", map[string]any{"SecretName": "cov-t"}, "cov-t", "", false},
	{"ssm", "ListSecrets", map[string]any{}, "", "", false},
	{"ssm", "GetRegions", map[string]any{}, "", "", false},
	{"ssm", "GetServiceStatus", map[string]any{}, "", "", false},
	{"ssm", "DescribeSupportedProducts", map[string]any{}, "", "", false},
	{"ssm", "CreateProductSecret", map[string]any{"SecretName": "cov-p", "UserNamePrefix": "cov", "ProductName": "Mysql", "InstanceID": "cov-none",
		"Domains": []string{"%"}, "PrivilegesList": []map[string]any{{"PrivilegeName": "GlobalPrivileges", "Privileges": []string{"SELECT"}}}}, "cov-p", "", true},
	{"ssm", "CreateSSHKeyPairSecret", map[string]any{"SecretName": "cov-ssh", "ProjectId": 0}, "cov-ssh", "*", false},
	{"ssm", "GetSSHKeyPairValue", map[string]any{"SecretName": "cov-ssh"}, "cov-ssh", "*", false},
	{"ssm", "RotateProductSecret", map[string]any{"SecretName": "cov-ssh"}, "cov-ssh", "", false},
	{"ssm", "UpdateRotationStatus", map[string]any{"SecretName": "cov-ssh", "EnableRotation": false}, "cov-ssh", "", false},
	{"ssm", "DescribeRotationDetail", map[string]any{"SecretName": "cov-ssh"}, "cov-ssh", "", false},
	{"ssm", "DescribeRotationHistory", map[string]any{"SecretName": "cov-ssh"}, "cov-ssh", "", false},
	{"ssm", "ReplicateSecretToRegions", map[string]any{"SecretName": "cov-ssh", "Regions": []map[string]any{{"Region": "ap-shanghai"}}}, "cov-ssh", "", false},
	{"ssm", "RemoveRegionsFromReplication", map[string]any{"SecretName": "cov-ssh", "Regions": []string{"ap-shanghai"}}, "cov-ssh", "", false},
	{"ssm", "StopReplicationToReplica", map[string]any{"SecretName": "cov-ssh"}, "cov-ssh", "", true}, // not a replica
	{"ssm", "DescribeAsyncRequestInfo", map[string]any{"FlowID": 987654321}, "", "", true},
	{"ssm", "RegisterDatabase", map[string]any{"InstanceID": "cov-db", "Engine": "postgresql", "Host": "127.0.0.1", "AdminSecret": "cov-t", "SkipCheck": true}, "", "", false},
	{"ssm", "DescribeDatabases", map[string]any{}, "", "", false},
	{"ssm", "DeregisterDatabase", map[string]any{"InstanceID": "cov-db"}, "", "", false},
	{"ssm", "NoSuchAction", map[string]any{}, "", "", true},
	{"cloudaudit", "LookUpEvents", nil, "", "", false}, // body set at run time (a time window)
	{"cloudaudit", "DescribeEvents", nil, "", "", false},

	{"cam", "AddUser", map[string]any{"Name": "cov-u", "UseApi": 1, "ConsoleLogin": 1, "Password": covPassword}, "cov-u", "", false},
	{"cam", "GetUser", map[string]any{"Name": "cov-u"}, "cov-u", "", false},
	{"cam", "ListUsers", map[string]any{}, "", "", false},
	{"cam", "UpdateUser", map[string]any{"Name": "cov-u", "Remark": "r"}, "cov-u", "", false},
	{"cam", "CreateGroup", map[string]any{"GroupName": "cov-g"}, "cov-g", "", false},
	{"cam", "GetGroup", map[string]any{"GroupId": 1}, "1", "", true},
	{"cam", "ListGroups", map[string]any{}, "", "", false},
	{"cam", "UpdateGroup", map[string]any{"GroupId": 1, "Remark": "x"}, "1", "", true},
	{"cam", "DeleteGroup", map[string]any{"GroupId": "1"}, "1", "", true},
	{"cam", "AddUserToGroup", map[string]any{"Info": []map[string]any{{"GroupId": 1, "Uin": 1}}}, "", "", true},
	{"cam", "RemoveUserFromGroup", map[string]any{"Info": []map[string]any{{"GroupId": 1, "Uin": 1}}}, "", "", true},
	{"cam", "ListUsersForGroup", map[string]any{"GroupId": 1}, "1", "", true},
	{"cam", "ListGroupsForUser", map[string]any{"SubUin": 1}, "", "", true},
	{"cam", "CreateAccessKey", map[string]any{"Description": "cov"}, "", "", false},
	{"cam", "ListAccessKeys", map[string]any{}, "", "", false},
	{"cam", "UpdateAccessKey", map[string]any{"AccessKeyId": "AKIDnope", "Status": "Inactive"}, "AKIDnope", "", true},
	{"cam", "DeleteAccessKey", map[string]any{"AccessKeyId": "AKIDnope"}, "AKIDnope", "", true},
	{"cam", "GetSecurityLastUsed", map[string]any{"SecretIdList": []string{testKeyID}}, "", "", false},
	{"cam", "CreatePolicy", map[string]any{"PolicyName": "cov-p", "PolicyDocument": covPolicy}, "cov-p", "", false},
	{"cam", "GetPolicy", map[string]any{"PolicyId": 1}, "1", "", false},
	{"cam", "ListPolicies", map[string]any{}, "", "", false},
	{"cam", "UpdatePolicy", map[string]any{"PolicyName": "cov-p", "Description": "d"}, "", "", false},
	{"cam", "CreatePolicyVersion", map[string]any{"PolicyId": 1, "PolicyDocument": covPolicy, "SetAsDefault": false}, "1", "", true},
	{"cam", "ListPolicyVersions", map[string]any{"PolicyId": 1}, "1", "", false},
	{"cam", "GetPolicyVersion", map[string]any{"PolicyId": 1, "VersionId": 1}, "1", "", false},
	{"cam", "SetDefaultPolicyVersion", map[string]any{"PolicyId": 1, "VersionId": 1}, "1", "", true},
	{"cam", "DeletePolicyVersion", map[string]any{"PolicyId": 1, "VersionId": []int{1}}, "1", "", true},
	{"cam", "AttachUserPolicy", map[string]any{"PolicyId": 1, "AttachUin": 1}, "1", "", true},
	{"cam", "DetachUserPolicy", map[string]any{"PolicyId": 1, "DetachUin": 1}, "1", "", true},
	{"cam", "AttachGroupPolicy", map[string]any{"PolicyId": 1, "AttachGroupId": 1}, "1", "", true},
	{"cam", "DetachGroupPolicy", map[string]any{"PolicyId": 1, "DetachGroupId": 1}, "1", "", true},
	{"cam", "CreateRole", map[string]any{"RoleName": "cov-r", "PolicyDocument": covTrust}, "cov-r", "", false},
	{"cam", "GetRole", map[string]any{"RoleName": "cov-r"}, "cov-r", "", false},
	{"cam", "DescribeRoleList", map[string]any{"Page": 1, "Rp": 20}, "", "", false},
	{"cam", "AttachRolePolicy", map[string]any{"PolicyId": 4, "AttachRoleName": "cov-r"}, "4", "", false},
	{"cam", "ListAttachedRolePolicies", map[string]any{"Page": 1, "Rp": 20, "RoleName": "cov-r"}, "cov-r", "", false},
	{"cam", "ListAttachedUserPolicies", map[string]any{"TargetUin": 1}, "1", "", true},
	{"cam", "ListAttachedGroupPolicies", map[string]any{"TargetGroupId": 1}, "1", "", true},
	{"cam", "ListEntitiesForPolicy", map[string]any{"PolicyId": 4}, "4", "", false},
	{"cam", "DetachRolePolicy", map[string]any{"PolicyId": 4, "DetachRoleName": "cov-r"}, "4", "", false},
	{"cam", "UpdateAssumeRolePolicy", map[string]any{"RoleName": "cov-r", "PolicyDocument": covTrust}, "cov-r", "", false},
	{"cam", "UpdateRoleDescription", map[string]any{"RoleName": "cov-r", "Description": "d"}, "cov-r", "", false},
	{"sts", "AssumeRole", map[string]any{"RoleArn": "qcs::cam::uin/" + testAccount + ":roleName/cov-r", "RoleSessionName": "cov"}, "qcs::cam::uin/" + testAccount + ":roleName/cov-r", "", false},
	{"sts", "GetCallerIdentity", map[string]any{}, "", "", false},
	{"cam", "GetUserAppId", map[string]any{}, "", "", false},
	{"cam", "GetAccountSummary", map[string]any{}, "", "", false},
	{"cam", "ExplainAccess", map[string]any{"Action": "ssm:GetSecretValue", "SecretName": "cov-t"}, "", "", false},
	{"cam", "DeleteRole", map[string]any{"RoleName": "cov-r"}, "cov-r", "", false},
	{"cam", "DeletePolicy", map[string]any{"PolicyId": []int{1}}, "", "", true},
	{"cam", "DeleteUser", map[string]any{"Name": "cov-u", "Force": 1}, "cov-u", "", false},

	{"kms", "CreateKey", map[string]any{"Alias": "cov-k", "Description": "d"}, "cov-k", "", false},
	{"kms", "DescribeKey", map[string]any{"KeyId": "cov-k"}, "cov-k", "", false},
	{"kms", "DescribeKeys", map[string]any{"KeyIds": []string{"cov-k"}}, "", "", false},
	{"kms", "ListKeys", map[string]any{}, "", "", false},
	{"kms", "ListKeyDetail", map[string]any{}, "", "", false},
	{"kms", "UpdateAlias", map[string]any{"KeyId": "cov-k", "Alias": "cov-k2"}, "cov-k", "", false},
	{"kms", "UpdateKeyDescription", map[string]any{"KeyId": "cov-k2", "Description": "d2"}, "cov-k2", "", false},
	{"kms", "Encrypt", map[string]any{"KeyId": "cov-k2", "Plaintext": "Y292LXZhbHVl"}, "cov-k2", "", false},
	{"kms", "Decrypt", map[string]any{"CiphertextBlob": "bm90LWEtYmxvYg=="}, "", "", true},
	{"kms", "ReEncrypt", map[string]any{"CiphertextBlob": "bm90LWEtYmxvYg=="}, "", "", true},
	{"kms", "GenerateDataKey", map[string]any{"KeyId": "cov-k2", "KeySpec": "AES_256"}, "cov-k2", "", false},
	{"kms", "GenerateRandom", map[string]any{"NumberOfBytes": 16}, "", "", false},
	{"kms", "EnableKeyRotation", map[string]any{"KeyId": "cov-k2"}, "cov-k2", "", false},
	{"kms", "GetKeyRotationStatus", map[string]any{"KeyId": "cov-k2"}, "cov-k2", "", false},
	{"kms", "RotateKeyOnDemand", map[string]any{"KeyId": "cov-k2"}, "cov-k2", "", false},
	{"kms", "DisableKeyRotation", map[string]any{"KeyId": "cov-k2"}, "cov-k2", "", false},
	{"kms", "DisableKey", map[string]any{"KeyId": "cov-k2"}, "cov-k2", "", false},
	{"kms", "EnableKey", map[string]any{"KeyId": "cov-k2"}, "cov-k2", "", false},
	{"kms", "ScheduleKeyDeletion", map[string]any{"KeyId": "cov-k2", "PendingWindowInDays": 7}, "cov-k2", "", true},
	{"kms", "CancelKeyDeletion", map[string]any{"KeyId": "cov-k2"}, "cov-k2", "", true},
	{"kms", "GetServiceStatus", map[string]any{}, "", "", false},
}

// Policies the CAM coverage cases use.
const (
	covPassword = "Cov-Pa55word!secret"
	covPolicy   = `{"version":"2.0","statement":[{"effect":"allow","action":"ssm:DescribeSecret","resource":"*"}]}`
	covTrust    = `{"version":"2.0","statement":[{"effect":"allow","action":"sts:AssumeRole","principal":{"qcs":["qcs::cam::uin/` + testAccount + `:root"]}}]}`
)

// tencentVersions are the API versions of the Tencent products served.
var tencentVersions = map[string]string{"ssm": "2019-09-23", "cloudaudit": "2019-03-19", "cam": "2019-01-16", "sts": "2018-08-13", "kms": "2019-01-18"}

var awsCoverage = []auditCase{
	{"secretsmanager", "CreateSecret", map[string]any{"Name": "cov-a", "SecretString": covValue1, "ClientRequestToken": covToken1}, "cov-a", covToken1, false},
	{"secretsmanager", "GetSecretValue", map[string]any{"SecretId": "cov-a"}, "cov-a", covToken1, false},
	{"secretsmanager", "PutSecretValue", map[string]any{"SecretId": "cov-a", "SecretString": "a", "SecretBinary": "Yg==", "ClientRequestToken": covToken2}, "cov-a", "", true},
	{"secretsmanager", "GetSecretValue", map[string]any{"SecretId": "bad name"}, "", "", true},
	{"secretsmanager", "CreateSecret", map[string]any{"Name": "cov-b", "SecretString": covValue3, "ClientRequestToken": covToken2}, "cov-b", covToken2, false},
	{"secretsmanager", "BatchGetSecretValue", map[string]any{"SecretIdList": []string{"cov-a", "cov-b"}}, "cov-a,cov-b", covToken1 + "," + covToken2, false},
	{"secretsmanager", "PutSecretValue", map[string]any{"SecretId": "cov-a", "SecretString": covValue2, "ClientRequestToken": covToken2}, "cov-a", covToken2, false},
	{"secretsmanager", "UpdateSecret", map[string]any{"SecretId": "cov-a", "Description": "d"}, "cov-a", "", false},
	{"secretsmanager", "UpdateSecretVersionStage", map[string]any{"SecretId": "cov-a", "VersionStage": "blue", "MoveToVersionId": covToken1}, "cov-a", "", false},
	{"secretsmanager", "DescribeSecret", map[string]any{"SecretId": "cov-a"}, "cov-a", "", false},
	{"secretsmanager", "ListSecrets", map[string]any{}, "", "", false},
	{"secretsmanager", "ListSecretVersionIds", map[string]any{"SecretId": "cov-a"}, "cov-a", "", false},
	{"secretsmanager", "TagResource", map[string]any{"SecretId": "cov-a", "Tags": []map[string]string{{"Key": "k", "Value": "v"}}}, "cov-a", "", false},
	{"secretsmanager", "UntagResource", map[string]any{"SecretId": "cov-a", "TagKeys": []string{"k"}}, "cov-a", "", false},
	{"secretsmanager", "GetRandomPassword", map[string]any{}, "", "", false},
	{"secretsmanager", "PutResourcePolicy", map[string]any{"SecretId": "cov-a", "ResourcePolicy": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::100000000001:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`}, "cov-a", "", false},
	{"secretsmanager", "GetResourcePolicy", map[string]any{"SecretId": "cov-a"}, "cov-a", "", false},
	{"secretsmanager", "ValidateResourcePolicy", map[string]any{"ResourcePolicy": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::100000000001:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`}, "", "", false},
	{"secretsmanager", "DeleteResourcePolicy", map[string]any{"SecretId": "cov-a"}, "cov-a", "", false},
	{"secretsmanager", "DeleteSecret", map[string]any{"SecretId": "cov-a", "RecoveryWindowInDays": 7}, "cov-a", "", false},
	{"secretsmanager", "RestoreSecret", map[string]any{"SecretId": "cov-a"}, "cov-a", "", false},
	{"secretsmanager", "RotateSecret", map[string]any{"SecretId": "cov-a"}, "cov-a", "", true}, // no rotation function yet
	{"secretsmanager", "RotateSecret", map[string]any{"SecretId": "cov-a", "RotationLambdaARN": "coffer:random", "RotateImmediately": false}, "cov-a", "", false},
	{"secretsmanager", "CancelRotateSecret", map[string]any{"SecretId": "cov-a"}, "cov-a", "", false},
	{"secretsmanager", "ReplicateSecretToRegions", map[string]any{"SecretId": "cov-b", "AddReplicaRegions": []map[string]any{{"Region": "ap-shanghai"}}}, "cov-b", "", false},
	{"secretsmanager", "RemoveRegionsFromReplication", map[string]any{"SecretId": "cov-b", "RemoveReplicaRegions": []string{"ap-shanghai"}}, "cov-b", "", false},
	{"secretsmanager", "StopReplicationToReplica", map[string]any{"SecretId": "cov-b"}, "cov-b", "", true}, // not a replica
	{"secretsmanager", "AssociateCrossAccountReplica", map[string]any{}, "", "", true},
	{"secretsmanager", "DisassociateCrossAccountReplica", map[string]any{}, "", "", true},
	{"secretsmanager", "ListResourcePolicies", map[string]any{}, "", "", true},
	{"secretsmanager", "NoSuchAction", map[string]any{}, "", "", true},
}

// TestAuditEveryActionRecordsOneEvent walks every action of every edge and
// checks that each call leaves exactly one event with the right fields,
// and that no event holds a secret value. An action added to an edge
// without a case here fails the test.
func TestAuditEveryActionRecordsOneEvent(t *testing.T) {
	checkCoverage(t)
	s := startServer(t, "")
	for _, tc := range append(slices.Clone(tencentCoverage), awsCoverage...) {
		if tc.body == nil {
			now := time.Now().Unix()
			tc.body = map[string]any{"StartTime": now - 3600, "EndTime": now + 60}
		}
		var requestID, code string
		if tc.family == "secretsmanager" {
			requestID, code = s.awsCall(t, tc.action, tc.body)
		} else {
			requestID, code = s.tencentCall(t, tc.family, tc.action, tc.body, testSecret)
		}
		if (code != "") != tc.fails {
			t.Fatalf("%s %s: error code %q, want failure %v", tc.family, tc.action, code, tc.fails)
		}
		ev := s.onlyEvent(t, requestID)
		checkEvent(t, tc, ev, code)
	}
	s.noValueInEvents(t, covValue1, covValue2, covValue3, covPassword)
}

// TestAuditRejectedCallRecordsOneEvent: a call the edge refuses (a bad
// signature) is recorded with the access key it claimed.
func TestAuditRejectedCallRecordsOneEvent(t *testing.T) {
	s := startServer(t, "")
	id, code := s.tencentCall(t, "ssm", "GetSecretValue", map[string]any{"SecretName": "x", "VersionId": "v"}, "wrong-key")
	if code != "AuthFailure.SignatureFailure" {
		t.Fatalf("code %q", code)
	}
	ev := s.onlyEvent(t, id)
	if ev.ErrorCode != code || ev.AccessKeyID != testKeyID || ev.Action != "GetSecretValue" || ev.Account != "" {
		t.Fatalf("event %+v", ev)
	}
}

func checkCoverage(t *testing.T) {
	t.Helper()
	covered := map[string]bool{}
	for _, c := range append(slices.Clone(tencentCoverage), awsCoverage...) {
		covered[c.family+" "+c.action] = true
	}
	for family, actions := range tc3.Actions() {
		for _, a := range actions {
			if !covered[family+" "+a] {
				t.Errorf("Tencent action %s %s has no audit coverage case", family, a)
			}
		}
	}
	for _, a := range awsjson.Actions() {
		if !covered["secretsmanager "+a] {
			t.Errorf("AWS action %s has no audit coverage case", a)
		}
	}
}

func checkEvent(t *testing.T, tc auditCase, ev *store.Event, code string) {
	t.Helper()
	what := tc.family + " " + tc.action
	if tc.version == "*" && ev.VersionID != "" {
		tc.version = ev.VersionID
	}
	for _, c := range []struct{ field, got, want string }{
		{"Family", ev.Family, tc.family},
		{"Action", ev.Action, tc.action},
		{"AccessKeyID", ev.AccessKeyID, testKeyID},
		{"Region", ev.Region, testRegion},
		{"Resource", ev.Resource, tc.resource},
		{"VersionID", ev.VersionID, tc.version},
		{"ErrorCode", ev.ErrorCode, code},
		{"PrincipalKind", ev.PrincipalKind, "root"},
	} {
		if c.got != c.want {
			t.Errorf("%s: event %s = %q, want %q", what, c.field, c.got, c.want)
		}
	}
	if ev.Account != testAccount {
		t.Errorf("%s: event Account = %q, want %q", what, ev.Account, testAccount)
	}
	if ev.ReadOnly != api.ReadOnly(tc.action) {
		t.Errorf("%s: event ReadOnly = %v", what, ev.ReadOnly)
	}
	if ev.Time.IsZero() || time.Since(ev.Time) > time.Minute || ev.SourceIP != "127.0.0.1" {
		t.Errorf("%s: event time %v, source %q", what, ev.Time, ev.SourceIP)
	}
	if strings.Contains(ev.Params, `"SecretString":"`) && !strings.Contains(ev.Params, `"SecretString":"hmac-sha256:`) {
		t.Errorf("%s: SecretString recorded without an HMAC: %s", what, ev.Params)
	}
}

// onlyEvent returns the one event with requestID, failing unless exactly one exists.
func (s *testServer) onlyEvent(t *testing.T, requestID string) *store.Event {
	t.Helper()
	var evs []*store.Event
	err := s.AuditLog.Store.View(t.Context(), func(tx store.Tx) error {
		var err error
		evs, err = tx.Events(t.Context(), store.EventQuery{RequestID: requestID})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 {
		t.Fatalf("request %s left %d events, want 1", requestID, len(evs))
	}
	return evs[0]
}

// noValueInEvents scans every event for the plaintext values.
func (s *testServer) noValueInEvents(t *testing.T, values ...string) {
	t.Helper()
	err := s.AuditLog.Store.View(t.Context(), func(tx store.Tx) error {
		evs, err := tx.Events(t.Context(), store.EventQuery{})
		if err != nil {
			return err
		}
		for _, ev := range evs {
			b, _ := json.Marshal(ev)
			for _, v := range values {
				if bytes.Contains(b, []byte(v)) {
					t.Errorf("event %d (%s) holds a secret value", ev.Seq, ev.Action)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// tencentCall sends a TC3-signed call of any Tencent product and returns
// the request id and error code ("" on success).
func (s *testServer) tencentCall(t *testing.T, product, action string, body any, key string) (string, string) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-TC-Action", action)
	req.Header.Set("X-TC-Version", tencentVersions[product])
	req.Header.Set("X-TC-Region", testRegion)
	tc3sig.SignRequest(req, b, testKeyID, []byte(key), product, time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Response struct {
			RequestId string
			Error     struct{ Code string }
		}
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s: %q", action, raw)
	}
	return out.Response.RequestId, out.Response.Error.Code
}

// awsCall sends a SigV4-signed Secrets Manager call and returns the request
// id and error code ("" on success).
func (s *testServer) awsCall(t *testing.T, action string, body any) (string, string) {
	t.Helper()
	r := s.awsRaw(t, action, body)
	return r.requestID, r.errType
}

type awsRawResponse struct {
	status    int
	errType   string
	body      string
	requestID string
}

// awsRaw sends a SigV4-signed Secrets Manager call and returns the raw answer.
func (s *testServer) awsRaw(t *testing.T, action string, body any) awsRawResponse {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "secretsmanager."+action)
	sigv4.SignRequest(req, b, testKeyID, []byte(testSecret), testRegion, "secretsmanager", time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return awsRawResponse{resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), string(raw), resp.Header.Get("x-amzn-RequestId")}
}

func nowUTC() time.Time { return time.Now().UTC() }
