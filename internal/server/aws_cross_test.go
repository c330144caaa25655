package server_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// The cross-API tests drive one secret through both APIs: they share one
// core (docs/api-aws.md "One core, two spellings").

// awsyTCNames returns the names Tencent's ListSecrets gives for p.
func awsyTCNames(t testing.TB, tc *ssm, p map[string]any) []string {
	t.Helper()
	out := tc.must("ListSecrets", p)
	metas, _ := out["SecretMetadatas"].([]any)
	var names []string
	for _, m := range metas {
		meta, _ := m.(map[string]any)
		names = append(names, mxStr(t, meta, "SecretName"))
	}
	return names
}

// awsyTCString returns the SecretString of name's version through Tencent.
func awsyTCString(t testing.TB, tc *ssm, name, version string) string {
	t.Helper()
	out := tc.must("GetSecretValue", map[string]any{"SecretName": name, "VersionId": version})
	return mxStr(t, out, "SecretString")
}

func awsyWantValue(t testing.TB, a *awsy, in secretsmanager.GetSecretValueInput, value, version string) {
	t.Helper()
	out, err := a.c.GetSecretValue(a.ctx, &in)
	if err != nil {
		t.Fatalf("GetSecretValue(%s): %v", awsyJSON(in), err)
	}
	if aws.ToString(out.SecretString) != value || aws.ToString(out.VersionId) != version {
		t.Errorf("GetSecretValue(%s): got %q version %s, want %q version %s",
			awsyJSON(in), aws.ToString(out.SecretString), aws.ToString(out.VersionId), value, version)
	}
}

// TestAWSCrossFromTencent creates secrets through Tencent and reads,
// writes and lists them through AWS.
func TestAWSCrossFromTencent(t *testing.T) {
	s := startServer(t, "")
	a := awsyClient(t, s, testRegion)
	tc := s.client(testRegion)
	tc.must("CreateSecret", map[string]any{
		"SecretName": "x-tc", "SecretString": "tc-1", "Description": "made by tencent",
		"Tags": []any{map[string]any{"TagKey": "team", "TagValue": "core"}},
	})

	// AWSCURRENT is the version SSM_Current names.
	awsyWantValue(t, a, secretsmanager.GetSecretValueInput{SecretId: aws.String("x-tc")}, "tc-1", "SSM_Current")
	awsyWantValue(t, a, secretsmanager.GetSecretValueInput{SecretId: aws.String("x-tc"), VersionId: aws.String("SSM_Current")}, "tc-1", "SSM_Current")
	d := a.describe("x-tc")
	if aws.ToString(d.Description) != "made by tencent" || len(d.Tags) != 1 || aws.ToString(d.Tags[0].Key) != "team" || aws.ToString(d.Tags[0].Value) != "core" {
		t.Errorf("DescribeSecret: got Description %q Tags %s, want the Tencent ones", aws.ToString(d.Description), awsyJSON(d.Tags))
	}
	if want := map[string][]string{"SSM_Current": {"AWSCURRENT"}}; !awsyEqualStages(d.VersionIdsToStages, want) {
		t.Errorf("DescribeSecret: got VersionIdsToStages %v, want %v", d.VersionIdsToStages, want)
	}
	for _, f := range []types.Filter{awsyFilter("name", "x-tc"), awsyFilter("tag-key", "team"), awsyFilter("tag-value", "core"), awsyFilter("description", "tencent")} {
		if got := a.listNames(secretsmanager.ListSecretsInput{Filters: []types.Filter{f}}); !slices.Equal(got, []string{"x-tc"}) {
			t.Errorf("ListSecrets %s: got %v, want [x-tc]", awsyJSON(f), got)
		}
	}

	// An AWS write becomes current; Tencent's SSM_Current still names the
	// literal version of that id, as docs/api-tencent.md says.
	put := a.put("x-tc", "aws-2")
	awsyWantValue(t, a, secretsmanager.GetSecretValueInput{SecretId: aws.String("x-tc")}, "aws-2", *put.VersionId)
	awsyWantValue(t, a, secretsmanager.GetSecretValueInput{SecretId: aws.String("x-tc"), VersionStage: aws.String("AWSPREVIOUS")}, "tc-1", "SSM_Current")
	if got := awsyTCString(t, tc, "x-tc", "SSM_Current"); got != "tc-1" {
		t.Errorf("Tencent GetSecretValue SSM_Current after an AWS put: got %q, want the literal version's tc-1", got)
	}
	if got := awsyTCString(t, tc, "x-tc", *put.VersionId); got != "aws-2" {
		t.Errorf("Tencent GetSecretValue %s: got %q, want aws-2", *put.VersionId, got)
	}
	vs := tc.must("ListSecretVersionIds", map[string]any{"SecretName": "x-tc"})
	var ids []string
	for _, v := range vs["Versions"].([]any) {
		ids = append(ids, mxStr(t, v.(map[string]any), "VersionId"))
	}
	if want := []string{"SSM_Current", *put.VersionId}; !slices.Equal(ids, want) {
		t.Errorf("Tencent ListSecretVersionIds: got %v, want %v", ids, want)
	}

	// Without a literal SSM_Current version, Tencent's SSM_Current is the
	// current version, whichever API wrote it.
	tc.must("CreateSecret", map[string]any{"SecretName": "x-tc-v1", "VersionId": "v1", "SecretString": "tc-1"})
	awsyWantValue(t, a, secretsmanager.GetSecretValueInput{SecretId: aws.String("x-tc-v1")}, "tc-1", "v1")
	put = a.put("x-tc-v1", "aws-2")
	if got := awsyTCString(t, tc, "x-tc-v1", "SSM_Current"); got != "aws-2" {
		t.Errorf("Tencent GetSecretValue SSM_Current of x-tc-v1 after an AWS put: got %q, want aws-2", got)
	}
	if got := awsyTCString(t, tc, "x-tc-v1", "v1"); got != "tc-1" {
		t.Errorf("Tencent GetSecretValue v1: got %q, want tc-1", got)
	}

	// Tags set through AWS filter through Tencent.
	if _, err := a.c.TagResource(a.ctx, &secretsmanager.TagResourceInput{SecretId: aws.String("x-tc-v1"), Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}); err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	for _, tf := range []map[string]any{
		{"TagKey": "env", "TagValue": []string{"prod"}},
		{"TagKey": "env"},
	} {
		if got := awsyTCNames(t, tc, map[string]any{"TagFilters": []any{tf}}); !slices.Equal(got, []string{"x-tc-v1"}) {
			t.Errorf("Tencent ListSecrets TagFilters %v: got %v, want [x-tc-v1]", tf, got)
		}
	}
	if _, err := a.c.UntagResource(a.ctx, &secretsmanager.UntagResourceInput{SecretId: aws.String("x-tc-v1"), TagKeys: []string{"env"}}); err != nil {
		t.Fatalf("UntagResource: %v", err)
	}
	if got := awsyTCNames(t, tc, map[string]any{"TagFilters": []any{map[string]any{"TagKey": "env"}}}); len(got) != 0 {
		t.Errorf("Tencent ListSecrets TagFilters env after UntagResource: got %v, want none", got)
	}
	if got := awsyTCNames(t, tc, map[string]any{"TagFilters": []any{map[string]any{"TagKey": "team", "TagValue": []string{"core"}}}}); !slices.Equal(got, []string{"x-tc"}) {
		t.Errorf("Tencent ListSecrets TagFilters team=core: got %v, want [x-tc]", got)
	}

	// A deletion through AWS shows through Tencent with the same time.
	del, err := a.c.DeleteSecret(a.ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("x-tc"), RecoveryWindowInDays: aws.Int64(7)})
	if err != nil {
		t.Fatalf("DeleteSecret: %v", err)
	}
	td := tc.must("DescribeSecret", map[string]any{"SecretName": "x-tc"})
	if st := mxStr(t, td, "Status"); st != "PendingDelete" {
		t.Errorf("Tencent Status after an AWS delete: got %s, want PendingDelete", st)
	}
	if got, want := int64(mxNum(t, td, "DeleteTime")), aws.ToTime(del.DeletionDate).Unix(); got != want {
		t.Errorf("Tencent DeleteTime %d, want AWS DeletionDate %d", got, want)
	}
	if got := aws.ToTime(a.describe("x-tc").DeletedDate).Unix(); got != int64(mxNum(t, td, "DeleteTime")) {
		t.Errorf("AWS DeletedDate %d, want Tencent DeleteTime %v", got, td["DeleteTime"])
	}
	tc.fails("ResourceUnavailable.ResourcePendingDeleted", "GetSecretValue", map[string]any{"SecretName": "x-tc", "VersionId": "SSM_Current"})
	if _, err := a.c.RestoreSecret(a.ctx, &secretsmanager.RestoreSecretInput{SecretId: aws.String("x-tc")}); err != nil {
		t.Fatalf("RestoreSecret: %v", err)
	}
	if st := mxStr(t, tc.must("DescribeSecret", map[string]any{"SecretName": "x-tc"}), "Status"); st != "Enabled" {
		t.Errorf("Tencent Status after an AWS restore: got %s, want Enabled", st)
	}
	if got := awsyTCString(t, tc, "x-tc", *a.get("x-tc").VersionId); got != "aws-2" {
		t.Errorf("Tencent read after an AWS restore: got %q, want aws-2", got)
	}
}

// TestAWSCrossFromAWS creates a secret through AWS and reads, writes,
// lists, disables and deletes it through Tencent.
func TestAWSCrossFromAWS(t *testing.T) {
	s := startServer(t, "")
	a := awsyClient(t, s, testRegion)
	tc := s.client(testRegion)
	const name = "x/aws" // an AWS name, reachable through Tencent too
	created := a.create(name, "aws-1", func(in *secretsmanager.CreateSecretInput) {
		in.Description = aws.String("made by aws")
		in.Tags = []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}
	})
	v1 := *created.VersionId

	if got := awsyTCString(t, tc, name, "SSM_Current"); got != "aws-1" {
		t.Errorf("Tencent GetSecretValue SSM_Current: got %q, want aws-1", got)
	}
	if got := awsyTCString(t, tc, name, v1); got != "aws-1" {
		t.Errorf("Tencent GetSecretValue %s: got %q, want aws-1", v1, got)
	}
	td := tc.must("DescribeSecret", map[string]any{"SecretName": name})
	if mxStr(t, td, "Description") != "made by aws" || mxStr(t, td, "Status") != "Enabled" {
		t.Errorf("Tencent DescribeSecret: got %v, want Description made by aws, Enabled", td)
	}
	for _, p := range []map[string]any{
		{"SearchSecretName": "x/aws"},
		{"TagFilters": []any{map[string]any{"TagKey": "env", "TagValue": []string{"prod"}}}},
	} {
		if got := awsyTCNames(t, tc, p); !slices.Equal(got, []string{name}) {
			t.Errorf("Tencent ListSecrets %v: got %v, want [%s]", p, got, name)
		}
	}

	// A Tencent write becomes AWSCURRENT; the AWS version AWSPREVIOUS.
	tc.must("PutSecretValue", map[string]any{"SecretName": name, "VersionId": "v2", "SecretString": "tc-2"})
	awsyWantValue(t, a, secretsmanager.GetSecretValueInput{SecretId: aws.String(name)}, "tc-2", "v2")
	awsyWantValue(t, a, secretsmanager.GetSecretValueInput{SecretId: created.ARN, VersionStage: aws.String("AWSPREVIOUS")}, "aws-1", v1)
	if got := awsyTCString(t, tc, name, "SSM_Current"); got != "tc-2" {
		t.Errorf("Tencent GetSecretValue SSM_Current after a Tencent put: got %q, want tc-2", got)
	}
	if want := map[string][]string{v1: {"AWSPREVIOUS"}, "v2": {"AWSCURRENT"}}; !awsyEqualStages(a.describe(name).VersionIdsToStages, want) {
		t.Errorf("VersionIdsToStages: got %v, want %v", a.describe(name).VersionIdsToStages, want)
	}
	tc.must("UpdateDescription", map[string]any{"SecretName": name, "Description": "changed by tencent"})
	if got := aws.ToString(a.describe(name).Description); got != "changed by tencent" {
		t.Errorf("AWS Description after Tencent UpdateDescription: got %q", got)
	}

	// Disabled through Tencent: AWS can describe and list but not read.
	tc.must("DisableSecret", map[string]any{"SecretName": name})
	_, err := a.c.GetSecretValue(a.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
	if msg := awsyCode(t, err, "InvalidRequestException"); !strings.Contains(msg, "disabled") {
		t.Errorf("GetSecretValue of a disabled secret: got message %q, want it to say disabled", msg)
	}
	if got := a.listNames(secretsmanager.ListSecretsInput{}); !slices.Equal(got, []string{name}) {
		t.Errorf("ListSecrets with the secret disabled: got %v, want [%s]", got, name)
	}

	// Deleted through Tencent: both APIs show the same deletion time.
	tdel := tc.must("DeleteSecret", map[string]any{"SecretName": name, "RecoveryWindowInDays": 7})
	deleteTime := int64(mxNum(t, tdel, "DeleteTime"))
	if got := aws.ToTime(a.describe(name).DeletedDate).Unix(); got != deleteTime {
		t.Errorf("AWS DeletedDate %d, want Tencent DeleteTime %d", got, deleteTime)
	}
	if got := int64(mxNum(t, tc.must("DescribeSecret", map[string]any{"SecretName": name}), "DeleteTime")); got != deleteTime {
		t.Errorf("Tencent DescribeSecret DeleteTime %d, want DeleteSecret's %d", got, deleteTime)
	}
	if got := a.listNames(secretsmanager.ListSecretsInput{}); len(got) != 0 {
		t.Errorf("ListSecrets with the secret scheduled for deletion: got %v, want none", got)
	}
	es := a.list(secretsmanager.ListSecretsInput{IncludePlannedDeletion: aws.Bool(true)})
	if len(es) != 1 || aws.ToTime(es[0].DeletedDate).Unix() != deleteTime {
		t.Errorf("ListSecrets IncludePlannedDeletion: got %s, want %s with DeletedDate %d", awsyJSON(es), name, deleteTime)
	}
	_, err = a.c.GetSecretValue(a.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
	if msg := awsyCode(t, err, "InvalidRequestException"); !strings.Contains(msg, "marked for deletion") {
		t.Errorf("GetSecretValue of a secret scheduled for deletion: got message %q", msg)
	}
	_, err = a.c.PutSecretValue(a.ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String("x")})
	awsyCode(t, err, "InvalidRequestException")

	// Restored through Tencent: Disabled, so AWS still cannot read it until
	// Tencent enables it.
	tc.must("RestoreSecret", map[string]any{"SecretName": name})
	if d := a.describe(name); d.DeletedDate != nil {
		t.Errorf("AWS DeletedDate after a Tencent restore: got %v, want none", d.DeletedDate)
	}
	_, err = a.c.GetSecretValue(a.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
	awsyCode(t, err, "InvalidRequestException")
	tc.must("EnableSecret", map[string]any{"SecretName": name})
	awsyWantValue(t, a, secretsmanager.GetSecretValueInput{SecretId: aws.String(name)}, "tc-2", "v2")

	// Disabled and deleted through Tencent, restored through AWS: readable,
	// since the AWS API has no disabled state (docs/api-aws.md).
	tc.must("DisableSecret", map[string]any{"SecretName": name})
	tc.must("DeleteSecret", map[string]any{"SecretName": name, "RecoveryWindowInDays": 7})
	if _, err := a.c.RestoreSecret(a.ctx, &secretsmanager.RestoreSecretInput{SecretId: aws.String(name)}); err != nil {
		t.Fatalf("RestoreSecret: %v", err)
	}
	awsyWantValue(t, a, secretsmanager.GetSecretValueInput{SecretId: aws.String(name)}, "tc-2", "v2")
	if st := mxStr(t, tc.must("DescribeSecret", map[string]any{"SecretName": name}), "Status"); st != "Enabled" {
		t.Errorf("Tencent Status after an AWS restore of a disabled secret: got %s, want Enabled", st)
	}

	// Deleted through Tencent at once: gone for AWS too.
	tc.must("DisableSecret", map[string]any{"SecretName": name})
	tc.must("DeleteSecret", map[string]any{"SecretName": name, "RecoveryWindowInDays": 0})
	_, err = a.c.DescribeSecret(a.ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
	awsyCode(t, err, "ResourceNotFoundException")
}
