package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"github.com/coffer-secrets/coffer/internal/iam"
	"github.com/coffer-secrets/coffer/internal/server"
)

// tcClient is the official Tencent common client with any credential,
// temporary ones included (sent as X-TC-Token by the SDK).
func tcClient(s *testServer, k key, token string) *common.Client {
	var cred common.CredentialIface = common.NewCredential(k.id, k.secret)
	if token != "" {
		cred = common.NewTokenCredential(k.id, k.secret, token)
	}
	prof := profile.NewClientProfile()
	prof.HttpProfile.Endpoint = strings.TrimPrefix(s.URL(), "http://")
	prof.HttpProfile.Scheme = "HTTP"
	prof.HttpProfile.ReqTimeout = 10
	prof.Language = "en-US"
	return common.NewCommonClient(cred, testRegion, prof)
}

// tcSend calls a Tencent product with the common client and decodes the
// Response into out (when not nil). It returns the SDK's error.
func tcSend(t *testing.T, c *common.Client, service, action string, params map[string]any, out any) error {
	t.Helper()
	req := tchttp.NewCommonRequest(service, tencentVersions[service], action)
	if params == nil {
		params = map[string]any{}
	}
	if err := req.SetActionParameters(params); err != nil {
		t.Fatal(err)
	}
	resp := tchttp.NewCommonResponse()
	if err := c.Send(req, resp); err != nil {
		return err
	}
	if out != nil {
		var env struct{ Response json.RawMessage }
		if err := json.Unmarshal(resp.GetBody(), &env); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(env.Response, out); err != nil {
			t.Fatal(err)
		}
	}
	return nil
}

func tcCode(err error) string {
	var e *tcerr.TencentCloudSDKError
	if errors.As(err, &e) {
		return e.Code
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func awsCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// awsClient is aws-sdk-go-v2's Secrets Manager client with any credential.
func awsClient(s *testServer, k key, token string) *secretsmanager.Client {
	return secretsmanager.New(secretsmanager.Options{
		Region: testRegion, BaseEndpoint: aws.String(s.URL()), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(k.id, k.secret, token),
	})
}

func TestAccountsAreIsolated(t *testing.T) {
	s := startServer(t, "")
	ctx := t.Context()
	b, err := s.IAM.CreateAccount(ctx, "tenant-b")
	if err != nil {
		t.Fatal(err)
	}
	bKey := key{b.KeyID, b.Secret}
	for _, c := range []struct {
		k     key
		value string
	}{{rootKey, "value-of-a"}, {bKey, "value-of-b"}} {
		s.mustAs(t, c.k, "", "ssm", "CreateSecret", map[string]any{"SecretName": "db", "VersionId": "v1", "SecretString": c.value}, nil)
		s.mustAs(t, c.k, "", "ssm", "CreateSecret", map[string]any{"SecretName": "only-" + c.value, "VersionId": "v1", "SecretString": "x"}, nil)
	}
	for _, c := range []struct {
		k           key
		value, peer string
	}{{rootKey, "value-of-a", "value-of-b"}, {bKey, "value-of-b", "value-of-a"}} {
		var v struct{ SecretString string }
		s.mustAs(t, c.k, "", "ssm", "GetSecretValue", map[string]any{"SecretName": "db", "VersionId": "v1"}, &v)
		if v.SecretString != c.value {
			t.Fatalf("same name, other account's value: %q", v.SecretString)
		}
		var list struct {
			SecretMetadatas []struct{ SecretName string }
			TotalCount      int
		}
		s.mustAs(t, c.k, "", "ssm", "ListSecrets", map[string]any{}, &list)
		if list.TotalCount != 2 {
			t.Fatalf("listing shows %d secrets, want this account's 2: %+v", list.TotalCount, list)
		}
		// The other account's name is as unknown as a name never used.
		_, code1, _ := s.callAs(t, c.k, "", "ssm", "DescribeSecret", map[string]any{"SecretName": "only-" + c.peer})
		_, code2, _ := s.callAs(t, c.k, "", "ssm", "DescribeSecret", map[string]any{"SecretName": "never-existed"})
		if code1 != "ResourceNotFound" || code1 != code2 {
			t.Fatalf("another account's name answers %q, an unused one %q", code1, code2)
		}
	}
	accounts, err := s.IAM.Accounts(ctx)
	if err != nil || len(accounts) != 2 {
		t.Fatalf("accounts %v %v", accounts, err)
	}
}

func TestCrossAccountNeedsResourcePolicy(t *testing.T) {
	s := startServer(t, "")
	ctx := t.Context()
	b, err := s.IAM.CreateAccount(ctx, "tenant-b")
	if err != nil {
		t.Fatal(err)
	}
	bRoot := key{b.KeyID, b.Secret}
	bUser, bUserKey := s.addUser(t, b.AccountID, "reader")
	a := awsClient(s, rootKey, "")
	created, err := a.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("shared"), SecretString: aws.String("cross-value")})
	if err != nil {
		t.Fatal(err)
	}
	arn := *created.ARN
	missing := strings.Replace(arn, "shared-", "absent-", 1)
	fromB := awsClient(s, bRoot, "")
	for _, id := range []string{arn, missing} {
		_, err = fromB.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		if awsCode(err) != "AccessDeniedException" {
			t.Fatalf("cross-account read of %s without a grant: %v", id, err)
		}
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + b.AccountID +
		`:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	if _, err := a.PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{SecretId: aws.String("shared"), ResourcePolicy: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	got, err := fromB.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil || *got.SecretString != "cross-value" {
		t.Fatalf("granted cross-account read: %v", err)
	}
	// The grant names B's account, so B's own users still need B's grant.
	userB := awsClient(s, bUserKey, "")
	if _, err := userB.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)}); awsCode(err) != "AccessDeniedException" {
		t.Fatalf("B's user without B's grant: %v", err)
	}
	s.grant(t, b.AccountID, bUser, "read-a", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:*:`+testAccount+`:secret:shared-*"}]}`)
	if _, err := userB.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)}); err != nil {
		t.Fatalf("B's user with both grants: %v", err)
	}
	// The grant is for reading only.
	if _, err := fromB.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(arn), SecretString: aws.String("overwritten")}); awsCode(err) != "AccessDeniedException" {
		t.Fatalf("cross-account write: %v", err)
	}
	if v, err := a.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("shared")}); err != nil || *v.SecretString != "cross-value" {
		t.Fatalf("owner's value after a refused write: %v", err)
	}
}

func TestSubUserPolicies(t *testing.T) {
	s := startServer(t, "")
	root := tcClient(s, rootKey, "")
	for _, n := range []string{"app-db", "app-api", "other"} {
		if err := tcSend(t, root, "ssm", "CreateSecret", map[string]any{"SecretName": n, "VersionId": "v1", "SecretString": "v-" + n,
			"Tags": []map[string]string{{"TagKey": "team", "TagValue": map[bool]string{true: "app", false: "ops"}[strings.HasPrefix(n, "app")]}}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	// A user, a group with a policy, and the user in the group: CAM calls
	// through the official client.
	var added struct {
		Uin                 uint64
		SecretId, SecretKey string
	}
	if err := tcSend(t, root, "cam", "AddUser", map[string]any{"Name": "alice", "UseApi": 1}, &added); err != nil {
		t.Fatal(err)
	}
	alice := tcClient(s, key{added.SecretId, added.SecretKey}, "")
	if code := tcCode(tcSend(t, alice, "ssm", "GetSecretValue", map[string]any{"SecretName": "app-db", "VersionId": "v1"}, nil)); code != "UnauthorizedOperation" {
		t.Fatalf("a user without policies: %q", code)
	}
	var group struct{ GroupId uint64 }
	if err := tcSend(t, root, "cam", "CreateGroup", map[string]any{"GroupName": "app-readers"}, &group); err != nil {
		t.Fatal(err)
	}
	doc := `{"version":"2.0","statement":[
	 {"effect":"allow","action":["ssm:GetSecretValue","ssm:DescribeSecret"],"resource":"qcs::ssm:` + testRegion + `:uin/` + testAccount + `:secret/creatorUin/` + testAccount + `/app-*"},
	 {"effect":"deny","action":"ssm:GetSecretValue","resource":"*","condition":{"for_any_value:string_equal":{"qcs:resource_tag":["team&ops"]}}}]}`
	var pol struct{ PolicyId uint64 }
	if err := tcSend(t, root, "cam", "CreatePolicy", map[string]any{"PolicyName": "app-read", "PolicyDocument": doc}, &pol); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		action string
		params map[string]any
	}{
		{"AttachGroupPolicy", map[string]any{"PolicyId": pol.PolicyId, "AttachGroupId": group.GroupId}},
		{"AddUserToGroup", map[string]any{"Info": []map[string]any{{"GroupId": group.GroupId, "Uin": added.Uin}}}},
	} {
		if err := tcSend(t, root, "cam", c.action, c.params, nil); err != nil {
			t.Fatalf("%s: %v", c.action, err)
		}
	}
	for name, want := range map[string]string{"app-db": "", "app-api": "", "other": "UnauthorizedOperation"} {
		err := tcSend(t, alice, "ssm", "GetSecretValue", map[string]any{"SecretName": name, "VersionId": "v1"}, nil)
		if tcCode(err) != want {
			t.Fatalf("alice reads %s: %v, want %q", name, err, want)
		}
	}
	// Denial message names the action and the resource, in CAM's words.
	err := tcSend(t, alice, "ssm", "PutSecretValue", map[string]any{"SecretName": "app-db", "VersionId": "v2", "SecretString": "x"}, nil)
	var te *tcerr.TencentCloudSDKError
	if !errors.As(err, &te) || te.Code != "UnauthorizedOperation" ||
		!strings.Contains(te.Message, "(ssm:PutSecretValue)") || !strings.Contains(te.Message, "secret/creatorUin/"+testAccount+"/app-db") {
		t.Fatalf("denial: %v", err)
	}
	// A new policy version takes effect on the next request: a deny by tag.
	doc2 := strings.Replace(doc, "team&ops", "team&app", 1)
	if err := tcSend(t, root, "cam", "CreatePolicyVersion", map[string]any{"PolicyId": pol.PolicyId, "PolicyDocument": doc2, "SetAsDefault": true}, nil); err != nil {
		t.Fatal(err)
	}
	if code := tcCode(tcSend(t, alice, "ssm", "GetSecretValue", map[string]any{"SecretName": "app-db", "VersionId": "v1"}, nil)); code != "UnauthorizedOperation" {
		t.Fatalf("after the deny by tag: %q", code)
	}
	// Removing alice from the group takes her rights away at once.
	if err := tcSend(t, root, "cam", "SetDefaultPolicyVersion", map[string]any{"PolicyId": pol.PolicyId, "VersionId": 1}, nil); err != nil {
		t.Fatal(err)
	}
	if err := tcSend(t, alice, "ssm", "DescribeSecret", map[string]any{"SecretName": "app-db"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := tcSend(t, root, "cam", "RemoveUserFromGroup", map[string]any{"Info": []map[string]any{{"GroupId": group.GroupId, "Uin": added.Uin}}}, nil); err != nil {
		t.Fatal(err)
	}
	if code := tcCode(tcSend(t, alice, "ssm", "DescribeSecret", map[string]any{"SecretName": "app-db"}, nil)); code != "UnauthorizedOperation" {
		t.Fatalf("after leaving the group: %q", code)
	}
	// A sub-user cannot manage users without cam rights.
	if code := tcCode(tcSend(t, alice, "cam", "AddUser", map[string]any{"Name": "mallory"}, nil)); code != "UnauthorizedOperation" {
		t.Fatalf("alice adds a user: %q", code)
	}
}

func TestConditions(t *testing.T) {
	s := startServer(t, "")
	s.mustAs(t, rootKey, "", "ssm", "CreateSecret", map[string]any{"SecretName": "c1", "VersionId": "v1", "SecretString": "x"}, nil)
	for _, c := range []struct {
		name, condition string
		allowed         bool
	}{
		{"source ip in range", `{"ip_equal":{"qcs:ip":["127.0.0.0/8"]}}`, true},
		{"source ip out of range", `{"ip_equal":{"qcs:ip":["10.0.0.0/8"]}}`, false},
		{"aws source ip", `{"IpAddress":{"aws:SourceIp":"127.0.0.1/32"}}`, true},
		{"before a date in the past", `{"date_less_than":{"qcs:current_time":"2020-01-01T00:00:00Z"}}`, false},
		{"after a date in the past", `{"date_greater_than":{"qcs:current_time":"2020-01-01T00:00:00Z"}}`, true},
		{"secure transport required", `{"bool_equal":{"qcs:secure_transport":"true"}}`, false},
		{"principal tag", `{"string_equal":{"aws:PrincipalTag/team":"app"}}`, true},
		{"principal tag mismatch", `{"string_equal":{"aws:PrincipalTag/team":"ops"}}`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := s.IAM.AddUser(t.Context(), testAccount, iam.AddUserInput{Name: "u-" + strings.ReplaceAll(c.name, " ", "-"), UseAPI: true, Tags: map[string]string{"team": "app"}})
			if err != nil {
				t.Fatal(err)
			}
			doc := `{"version":"2.0","statement":[{"effect":"allow","action":"ssm:DescribeSecret","resource":"*","condition":` + c.condition + `}]}`
			if strings.Contains(c.condition, "aws:SourceIp") || strings.Contains(c.condition, "PrincipalTag") {
				doc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:DescribeSecret","Resource":"*","Condition":` + strings.NewReplacer("string_equal", "StringEquals").Replace(c.condition) + `}]}`
			}
			s.grant(t, testAccount, out.User, "p-"+strings.ReplaceAll(c.name, " ", "-"), doc)
			_, code, raw := s.callAs(t, key{out.AccessKey.ID, out.AccessKey.Secret}, "", "ssm", "DescribeSecret", map[string]any{"SecretName": "c1"})
			if (code == "") != c.allowed {
				t.Fatalf("code %q, want allowed %v: %s", code, c.allowed, raw)
			}
		})
	}
}

func TestAccessKeyDisabledStopsAtOnce(t *testing.T) {
	s := startServer(t, "")
	u, k := s.addUser(t, testAccount, "keyholder")
	s.grant(t, testAccount, u, "regions", `{"version":"2.0","statement":[{"effect":"allow","action":"ssm:GetRegions","resource":"*"}]}`)
	if _, code, raw := s.callAs(t, k, "", "ssm", "GetRegions", map[string]any{}); code != "" {
		t.Fatalf("before: %s", raw)
	}
	s.mustAs(t, rootKey, "", "cam", "UpdateAccessKey", map[string]any{"AccessKeyId": k.id, "Status": "Inactive", "TargetUin": u.Uin}, nil)
	if _, code, _ := s.callAs(t, k, "", "ssm", "GetRegions", map[string]any{}); code != "AuthFailure.SecretIdNotFound" {
		t.Fatalf("a disabled key: %q", code)
	}
	if _, err := awsClient(s, k, "").ListSecrets(t.Context(), &secretsmanager.ListSecretsInput{}); awsCode(err) != "UnrecognizedClientException" {
		t.Fatalf("a disabled key, AWS: %v", err)
	}
	s.mustAs(t, rootKey, "", "cam", "UpdateAccessKey", map[string]any{"AccessKeyId": k.id, "Status": "Active", "TargetUin": u.Uin}, nil)
	if _, code, _ := s.callAs(t, k, "", "ssm", "GetRegions", map[string]any{}); code != "" {
		t.Fatalf("re-enabled: %q", code)
	}
	var keys struct {
		AccessKeys []struct{ AccessKeyId, Status, LastUsedTime string }
	}
	s.mustAs(t, rootKey, "", "cam", "ListAccessKeys", map[string]any{"TargetUin": u.Uin}, &keys)
	if len(keys.AccessKeys) != 1 || keys.AccessKeys[0].LastUsedTime == "" {
		t.Fatalf("keys %+v: want one, with a last-used time", keys)
	}
	s.mustAs(t, rootKey, "", "cam", "DeleteAccessKey", map[string]any{"AccessKeyId": k.id, "TargetUin": u.Uin}, nil)
	if _, code, _ := s.callAs(t, k, "", "ssm", "GetRegions", map[string]any{}); code != "AuthFailure.SecretIdNotFound" {
		t.Fatalf("a deleted key: %q", code)
	}
	// The secret half is never shown again.
	var again struct{ AccessKeys []map[string]any }
	s.mustAs(t, rootKey, "", "cam", "ListAccessKeys", map[string]any{"TargetUin": u.Uin}, &again)
	b, _ := json.Marshal(again)
	if strings.Contains(string(b), k.secret) {
		t.Fatal("a secret key listed")
	}
}

func TestTemporaryCredentials(t *testing.T) {
	clock := &mxClock{}
	s := mxStartServer(t, func(c *server.Config) { c.Clock = clock.now })
	ctx := t.Context()
	root := tcClient(s, rootKey, "")
	if err := tcSend(t, root, "ssm", "CreateSecret", map[string]any{"SecretName": "role-secret", "VersionId": "v1", "SecretString": "from-a-role"}, nil); err != nil {
		t.Fatal(err)
	}
	trust := `{"version":"2.0","statement":[{"action":"name/sts:AssumeRole","effect":"allow","principal":{"qcs":["qcs::cam::uin/` + testAccount + `:root"]},"condition":{"string_equal":{"sts:external_id":"ext-123"}}}]}`
	var role struct{ RoleId string }
	if err := tcSend(t, root, "cam", "CreateRole", map[string]any{"RoleName": "reader", "PolicyDocument": trust, "SessionDuration": 3600}, &role); err != nil {
		t.Fatal(err)
	}
	if err := tcSend(t, root, "cam", "AttachRolePolicy", map[string]any{"PolicyId": 4, "AttachRoleName": "reader"}, nil); err != nil {
		t.Fatal(err)
	}
	arn := "qcs::cam::uin/" + testAccount + ":roleName/reader"
	type creds struct {
		Credentials struct{ Token, TmpSecretId, TmpSecretKey string }
		ExpiredTime int64
		Expiration  string
	}
	// The trust policy's condition: the external id must match.
	if code := tcCode(tcSend(t, root, "sts", "AssumeRole", map[string]any{"RoleArn": arn, "RoleSessionName": "s1"}, nil)); code != "UnauthorizedOperation" {
		t.Fatalf("without the external id: %q", code)
	}
	if code := tcCode(tcSend(t, root, "sts", "AssumeRole", map[string]any{"RoleArn": arn, "RoleSessionName": "s1", "ExternalId": "ext-123", "DurationSeconds": 7200}, nil)); code != "InvalidParameter.OverTimeError" {
		t.Fatalf("over the role's session duration: %q", code)
	}
	var c creds
	if err := tcSend(t, root, "sts", "AssumeRole", map[string]any{"RoleArn": arn, "RoleSessionName": "s1", "ExternalId": "ext-123", "DurationSeconds": 120}, &c); err != nil {
		t.Fatal(err)
	}
	exp, err := time.Parse(time.RFC3339, c.Expiration)
	if err != nil || exp.Unix() != c.ExpiredTime {
		t.Fatalf("Expiration %q ExpiredTime %d", c.Expiration, c.ExpiredTime)
	}
	tmp := key{c.Credentials.TmpSecretId, c.Credentials.TmpSecretKey}
	session := tcClient(s, tmp, c.Credentials.Token)
	var who struct{ Type, UserId, AccountId string }
	if err := tcSend(t, session, "sts", "GetCallerIdentity", map[string]any{}, &who); err != nil {
		t.Fatal(err)
	}
	if who.Type != "CAMRole" || who.UserId != role.RoleId+":s1" || who.AccountId != testAccount {
		t.Fatalf("caller identity %+v", who)
	}
	var v struct{ SecretString string }
	if err := tcSend(t, session, "ssm", "GetSecretValue", map[string]any{"SecretName": "role-secret", "VersionId": "v1"}, &v); err != nil || v.SecretString != "from-a-role" {
		t.Fatalf("read as the role: %v", err)
	}
	if code := tcCode(tcSend(t, session, "ssm", "PutSecretValue", map[string]any{"SecretName": "role-secret", "VersionId": "v2", "SecretString": "x"}, nil)); code != "UnauthorizedOperation" {
		t.Fatalf("write as a read-only role: %q", code)
	}
	// The same credentials work with the AWS SDK (X-Amz-Security-Token).
	awsSession := awsClient(s, tmp, c.Credentials.Token)
	if out, err := awsSession.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("role-secret")}); err != nil || *out.SecretString != "from-a-role" {
		t.Fatalf("AWS read as the role: %v", err)
	}
	// A wrong token, or the token with another id, is refused.
	if code := tcCode(tcSend(t, tcClient(s, tmp, c.Credentials.Token+"x"), "ssm", "GetRegions", nil, nil)); code != "AuthFailure.TokenFailure" {
		t.Fatalf("tampered token: %q", code)
	}
	if code := tcCode(tcSend(t, tcClient(s, rootKey, c.Credentials.Token), "ssm", "GetRegions", nil, nil)); code != "AuthFailure.TokenFailure" {
		t.Fatalf("token with another id: %q", code)
	}
	// A session policy narrows the role: this one allows DescribeSecret only.
	var narrow creds
	sp := `{"version":"2.0","statement":[{"effect":"allow","action":"ssm:DescribeSecret","resource":"*"}]}`
	if err := tcSend(t, root, "sts", "AssumeRole", map[string]any{"RoleArn": arn, "RoleSessionName": "s2", "ExternalId": "ext-123", "Policy": sp}, &narrow); err != nil {
		t.Fatal(err)
	}
	ns := tcClient(s, key{narrow.Credentials.TmpSecretId, narrow.Credentials.TmpSecretKey}, narrow.Credentials.Token)
	if err := tcSend(t, ns, "ssm", "DescribeSecret", map[string]any{"SecretName": "role-secret"}, nil); err != nil {
		t.Fatal(err)
	}
	if code := tcCode(tcSend(t, ns, "ssm", "GetSecretValue", map[string]any{"SecretName": "role-secret", "VersionId": "v1"}, nil)); code != "UnauthorizedOperation" {
		t.Fatalf("outside the session policy: %q", code)
	}
	// Sessions expire.
	clock.advance(121 * time.Second)
	if code := tcCode(tcSend(t, session, "ssm", "GetRegions", nil, nil)); code != "AuthFailure.TokenFailure" {
		t.Fatalf("expired session: %q", code)
	}
	if _, err := awsSession.ListSecrets(ctx, &secretsmanager.ListSecretsInput{}); awsCode(err) != "ExpiredTokenException" {
		t.Fatalf("expired session, AWS: %v", err)
	}
	// Deleting the role ends its sessions at once.
	if err := tcSend(t, ns, "ssm", "DescribeSecret", map[string]any{"SecretName": "role-secret"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := tcSend(t, root, "cam", "DeleteRole", map[string]any{"RoleName": "reader"}, nil); err != nil {
		t.Fatal(err)
	}
	if code := tcCode(tcSend(t, ns, "ssm", "DescribeSecret", map[string]any{"SecretName": "role-secret"}, nil)); code != "AuthFailure.TokenFailure" {
		t.Fatalf("after the role is deleted: %q", code)
	}
}

func TestAssumeRoleRights(t *testing.T) {
	s := startServer(t, "")
	b, err := s.IAM.CreateAccount(t.Context(), "tenant-b")
	if err != nil {
		t.Fatal(err)
	}
	trustA := `{"version":"2.0","statement":[{"action":"sts:AssumeRole","effect":"allow","principal":{"qcs":["qcs::cam::uin/` + testAccount + `:root"]}}]}`
	s.mustAs(t, rootKey, "", "cam", "CreateRole", map[string]any{"RoleName": "local", "PolicyDocument": trustA}, nil)
	arn := "qcs::cam::uin/" + testAccount + ":roleName/local"
	// A sub-user of the trusted account also needs sts:AssumeRole itself.
	u, k := s.addUser(t, testAccount, "assumer")
	if _, code, _ := s.callAs(t, k, "", "sts", "AssumeRole", map[string]any{"RoleArn": arn, "RoleSessionName": "s1"}); code != "UnauthorizedOperation" {
		t.Fatalf("sub-user without sts:AssumeRole: %q", code)
	}
	s.grant(t, testAccount, u, "assume", `{"version":"2.0","statement":[{"effect":"allow","action":"sts:AssumeRole","resource":"`+arn+`"}]}`)
	if _, code, raw := s.callAs(t, k, "", "sts", "AssumeRole", map[string]any{"RoleArn": arn, "RoleSessionName": "s1"}); code != "" {
		t.Fatalf("sub-user with sts:AssumeRole: %s", raw)
	}
	// Another account is not trusted, and cannot tell a missing role from
	// one it may not assume.
	bKey := key{b.KeyID, b.Secret}
	for _, target := range []string{arn, "qcs::cam::uin/" + testAccount + ":roleName/absent"} {
		if _, code, _ := s.callAs(t, bKey, "", "sts", "AssumeRole", map[string]any{"RoleArn": target, "RoleSessionName": "s1"}); code != "UnauthorizedOperation" {
			t.Fatalf("other account assumes %s: %q", target, code)
		}
	}
	if _, code, _ := s.callAs(t, rootKey, "", "sts", "AssumeRole", map[string]any{"RoleArn": "qcs::cam::uin/" + testAccount + ":roleName/absent", "RoleSessionName": "s1"}); code != "ResourceNotFound.RoleNotFound" {
		t.Fatalf("own missing role: %q", code)
	}
	// Trusting account B lets B's root in, across accounts.
	trustB := strings.Replace(trustA, testAccount, b.AccountID, 1)
	s.mustAs(t, rootKey, "", "cam", "UpdateAssumeRolePolicy", map[string]any{"RoleName": "local", "PolicyDocument": trustB}, nil)
	var c struct {
		Credentials struct{ Token, TmpSecretId, TmpSecretKey string }
	}
	s.mustAs(t, bKey, "", "sts", "AssumeRole", map[string]any{"RoleArn": arn, "RoleSessionName": "from-b"}, &c)
	var who struct{ AccountId string }
	s.mustAs(t, key{c.Credentials.TmpSecretId, c.Credentials.TmpSecretKey}, c.Credentials.Token, "sts", "GetCallerIdentity", map[string]any{}, &who)
	if who.AccountId != testAccount {
		t.Fatalf("a session acts in the role's account, got %q", who.AccountId)
	}
}

func TestExplainAccess(t *testing.T) {
	s := startServer(t, "")
	u, _ := s.addUser(t, testAccount, "explained")
	s.grant(t, testAccount, u, "read-app", `{"version":"2.0","statement":[{"effect":"allow","action":"ssm:GetSecretValue","resource":"qcs::ssm:*:uin/`+testAccount+`:secret/creatorUin/*/app-*"},{"effect":"deny","action":"ssm:GetSecretValue","resource":"*","condition":{"ip_not_equal":{"qcs:ip":"127.0.0.0/8"}}}]}`)
	var x struct {
		Decision, Summary, Statement, Text string
		Allowed                            bool
		Documents                          []string
	}
	for _, c := range []struct {
		secret, ip, want string
	}{{"app-db", "", "Allowed"}, {"ops-db", "", "ImplicitDeny"}, {"app-db", "192.0.2.1", "ExplicitDeny"}} {
		s.mustAs(t, rootKey, "", "cam", "ExplainAccess", map[string]any{"TargetUin": u.Uin, "Action": "ssm:GetSecretValue", "SecretName": c.secret, "SourceIp": c.ip}, &x)
		if x.Decision != c.want || x.Summary == "" || x.Text == "" || len(x.Documents) != 1 || !strings.Contains(x.Documents[0], "read-app") {
			t.Fatalf("%s from %q: %+v", c.secret, c.ip, x)
		}
	}
	if _, code, _ := s.callAs(t, rootKey, "", "cam", "ExplainAccess", map[string]any{"Action": "GetSecretValue"}); code != "InvalidParameterValue" {
		t.Fatalf("bad action: %q", code)
	}
	_ = context.Background
}

// TestRequestTagCondition: a user may create secrets only with the tag
// its policy names, and tag them only so on the AWS edge.
func TestRequestTagCondition(t *testing.T) {
	s := startServer(t, "")
	u, k := s.addUser(t, testAccount, "tagger")
	s.grant(t, testAccount, u, "tagged-only", `{"version":"2.0","statement":[{"effect":"allow","action":["ssm:CreateSecret","secretsmanager:CreateSecret","secretsmanager:TagResource"],"resource":"*",
		"condition":{"for_any_value:string_equal":{"qcs:request_tag":["team&app"]}}}]}`)
	for _, c := range []struct {
		name string
		tags []map[string]string
		ok   bool
	}{
		{"right-tag", []map[string]string{{"TagKey": "team", "TagValue": "app"}}, true},
		{"wrong-tag", []map[string]string{{"TagKey": "team", "TagValue": "ops"}}, false},
		{"no-tag", nil, false},
	} {
		body := map[string]any{"SecretName": c.name, "VersionId": "v1", "SecretString": "x"}
		if c.tags != nil {
			body["Tags"] = c.tags
		}
		_, code, raw := s.callAs(t, k, "", "ssm", "CreateSecret", body)
		if (code == "") != c.ok {
			t.Fatalf("%s: code %q: %s", c.name, code, raw)
		}
	}
	aws := awsClient(s, k, "")
	if _, err := aws.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{Name: aws2("aws-right"), SecretString: aws2("x"),
		Tags: []smtypes.Tag{{Key: aws2("team"), Value: aws2("app")}}}); err != nil {
		t.Fatalf("AWS create with the tag: %v", err)
	}
	if _, err := aws.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{Name: aws2("aws-wrong"), SecretString: aws2("x")}); awsCode(err) != "AccessDeniedException" {
		t.Fatalf("AWS create without the tag: %v", err)
	}
}

func aws2(s string) *string { return &s }
