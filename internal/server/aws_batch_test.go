package server_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

func TestAWSListSecretVersionIdsPaging(t *testing.T) {
	s := startServer(t, "")
	a := awsyClient(t, s, testRegion)
	created := a.create("ver/paged", "v0", nil)
	ids := []string{*created.VersionId}
	for i := 1; i <= 4; i++ {
		ids = append(ids, *a.put("ver/paged", fmt.Sprintf("v%d", i)).VersionId)
	}
	// ids[4] is AWSCURRENT, ids[3] AWSPREVIOUS, the rest deprecated.
	labeled := map[string][]string{ids[4]: {"AWSCURRENT"}, ids[3]: {"AWSPREVIOUS"}}
	for _, tc := range []struct {
		deprecated bool
		want       []string
	}{
		{false, []string{ids[3], ids[4]}},
		{true, ids},
	} {
		for _, id := range []string{"ver/paged", *created.ARN} {
			for _, size := range []*int32{nil, aws.Int32(1), aws.Int32(2), aws.Int32(3), aws.Int32(100)} {
				what := fmt.Sprintf("SecretId %s IncludeDeprecated %t MaxResults %d", id, tc.deprecated, aws.ToInt32(size))
				p := secretsmanager.NewListSecretVersionIdsPaginator(a.c, &secretsmanager.ListSecretVersionIdsInput{
					SecretId: aws.String(id), IncludeDeprecated: aws.Bool(tc.deprecated), MaxResults: size,
				})
				var got []string
				for p.HasMorePages() {
					page, err := p.NextPage(a.ctx)
					if err != nil {
						t.Fatalf("%s: %v", what, err)
					}
					if aws.ToString(page.ARN) != *created.ARN || aws.ToString(page.Name) != "ver/paged" {
						t.Errorf("%s: got ARN %s Name %s, want %s ver/paged", what, aws.ToString(page.ARN), aws.ToString(page.Name), *created.ARN)
					}
					if size != nil && len(page.Versions) > int(*size) {
						t.Errorf("%s: got a page of %d", what, len(page.Versions))
					}
					for _, v := range page.Versions {
						id := aws.ToString(v.VersionId)
						got = append(got, id)
						if want := labeled[id]; !slices.Equal(v.VersionStages, want) {
							t.Errorf("%s: version %s: got VersionStages %v, want %v", what, id, v.VersionStages, want)
						}
						if v.CreatedDate == nil {
							t.Errorf("%s: version %s has no CreatedDate", what, id)
						}
					}
					if len(got) > len(ids) {
						t.Fatalf("%s: more versions than the secret has: %v", what, got)
					}
				}
				if slices.Sort(got); !slices.Equal(got, slices.Sorted(slices.Values(tc.want))) {
					t.Errorf("%s: got %v, want each of %v once", what, got, tc.want)
				}
			}
		}
	}

	out, err := a.c.ListSecretVersionIds(a.ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("ver/paged"), IncludeDeprecated: aws.Bool(true), MaxResults: aws.Int32(2)})
	if err != nil || out.NextToken == nil {
		t.Fatalf("ListSecretVersionIds: got %v, %v, want a NextToken", out, err)
	}
	for _, tc := range []struct {
		what string
		in   secretsmanager.ListSecretVersionIdsInput
	}{
		{"garbage", secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("ver/paged"), NextToken: aws.String("garbage!")}},
		{"a token of IncludeDeprecated true without it", secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("ver/paged"), NextToken: out.NextToken}},
	} {
		_, err := a.c.ListSecretVersionIds(a.ctx, &tc.in)
		t.Run(tc.what, func(t *testing.T) { awsyCode(t, err, "InvalidNextTokenException") })
	}
	_, err = a.c.ListSecretVersionIds(a.ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("ver/none")})
	awsyCode(t, err, "ResourceNotFoundException")
}

// TestAWSBatchGetSecretValue checks both ways of naming the secrets and
// the parameter rules.
func TestAWSBatchGetSecretValue(t *testing.T) {
	s := startServer(t, "")
	a := awsyClient(t, s, testRegion)
	for i := range 5 {
		a.create(fmt.Sprintf("bat/%d", i), fmt.Sprintf("value-%d", i), nil)
	}
	a.create("bat/empty", "", nil)
	a.create("gone/doomed", "v", nil)
	if _, err := a.c.DeleteSecret(a.ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("gone/doomed")}); err != nil {
		t.Fatalf("DeleteSecret: %v", err)
	}
	arn1 := aws.ToString(a.describe("bat/1").ARN)

	t.Run("SecretIdList", func(t *testing.T) {
		out, err := a.c.BatchGetSecretValue(a.ctx, &secretsmanager.BatchGetSecretValueInput{
			SecretIdList: []string{"bat/0", "bat/missing", arn1, "gone/doomed", "bat/empty"},
		})
		if err != nil {
			t.Fatalf("BatchGetSecretValue: %v", err)
		}
		var got []string
		for _, v := range out.SecretValues {
			got = append(got, aws.ToString(v.Name)+"="+aws.ToString(v.SecretString))
			if !slices.Equal(v.VersionStages, []string{"AWSCURRENT"}) || v.VersionId == nil || v.ARN == nil || v.CreatedDate == nil {
				t.Errorf("entry %s: got VersionStages %v VersionId %v ARN %v CreatedDate %v, want [AWSCURRENT] and all set",
					aws.ToString(v.Name), v.VersionStages, v.VersionId, v.ARN, v.CreatedDate)
			}
		}
		if want := []string{"bat/0=value-0", "bat/1=value-1"}; !slices.Equal(got, want) {
			t.Errorf("SecretValues: got %v, want %v", got, want)
		}
		errs := map[string]types.APIErrorType{}
		for _, e := range out.Errors {
			errs[aws.ToString(e.SecretId)] = e
		}
		for _, tc := range []struct{ id, code, msg string }{
			{"bat/missing", "ResourceNotFoundException", ""},
			{"gone/doomed", "InvalidRequestException", "marked for deletion"},
			{"bat/empty", "ResourceNotFoundException", "AWSCURRENT"},
		} {
			e, ok := errs[tc.id]
			if !ok {
				t.Errorf("Errors: no entry for %s in %s", tc.id, awsyJSON(out.Errors))
				continue
			}
			if aws.ToString(e.ErrorCode) != tc.code || !strings.Contains(aws.ToString(e.Message), tc.msg) {
				t.Errorf("Errors[%s]: got %s %q, want %s containing %q", tc.id, aws.ToString(e.ErrorCode), aws.ToString(e.Message), tc.code, tc.msg)
			}
		}
		if len(out.Errors) != 3 {
			t.Errorf("Errors: got %d entries, want 3: %s", len(out.Errors), awsyJSON(out.Errors))
		}
		if out.NextToken != nil {
			t.Errorf("NextToken: got %s, want none", *out.NextToken)
		}
	})

	// A batch read is a read (spec §3.10).
	for _, tc := range []struct {
		name string
		read bool
	}{{"bat/0", true}, {"bat/1", true}, {"bat/2", false}} {
		if got := a.describe(tc.name).LastAccessedDate; (got != nil) != tc.read {
			t.Errorf("%s after BatchGetSecretValue by id: got LastAccessedDate %v, want set %t", tc.name, got, tc.read)
		}
	}

	t.Run("Filters", func(t *testing.T) {
		in := &secretsmanager.BatchGetSecretValueInput{Filters: []types.Filter{awsyFilter("name", "bat/"), awsyFilter("name", "!bat/empty")}, MaxResults: aws.Int32(2)}
		p := secretsmanager.NewBatchGetSecretValuePaginator(a.c, in)
		var got []string
		var sizes []int
		for p.HasMorePages() {
			page, err := p.NextPage(a.ctx)
			if err != nil {
				t.Fatalf("BatchGetSecretValue: %v", err)
			}
			sizes = append(sizes, len(page.SecretValues))
			for _, v := range page.SecretValues {
				got = append(got, aws.ToString(v.Name)+"="+aws.ToString(v.SecretString))
			}
			if len(page.Errors) != 0 {
				t.Errorf("Errors: got %s, want none", awsyJSON(page.Errors))
			}
			if len(sizes) > 5 {
				t.Fatal("too many pages")
			}
		}
		want := []string{"bat/0=value-0", "bat/1=value-1", "bat/2=value-2", "bat/3=value-3", "bat/4=value-4"}
		if !slices.Equal(got, want) || !slices.Equal(sizes, []int{2, 2, 1}) {
			t.Errorf("pages: got %v in pages of %v, want %v in pages of [2 2 1]", got, sizes, want)
		}
		// A secret scheduled for deletion is not matched.
		out, err := a.c.BatchGetSecretValue(a.ctx, &secretsmanager.BatchGetSecretValueInput{Filters: []types.Filter{awsyFilter("name", "gone/")}})
		if err != nil || len(out.SecretValues) != 0 || len(out.Errors) != 0 {
			t.Errorf("filter matching only a secret scheduled for deletion: got %s, %v, want nothing", awsyJSON(out), err)
		}
		// A matching secret without a value fails the call (spec §3.7).
		_, err = a.c.BatchGetSecretValue(a.ctx, &secretsmanager.BatchGetSecretValueInput{Filters: []types.Filter{awsyFilter("name", "bat/empty")}})
		awsyCode(t, err, "ResourceNotFoundException")
	})

	for _, tc := range []struct {
		what string
		in   secretsmanager.BatchGetSecretValueInput
		code string
	}{
		{"both", secretsmanager.BatchGetSecretValueInput{SecretIdList: []string{"bat/0"}, Filters: []types.Filter{awsyFilter("name", "bat/")}}, "InvalidParameterException"},
		{"neither", secretsmanager.BatchGetSecretValueInput{}, "InvalidParameterException"},
		{"MaxResults without Filters", secretsmanager.BatchGetSecretValueInput{SecretIdList: []string{"bat/0"}, MaxResults: aws.Int32(2)}, "InvalidParameterException"},
		{"MaxResults 21", secretsmanager.BatchGetSecretValueInput{Filters: []types.Filter{awsyFilter("name", "bat/")}, MaxResults: aws.Int32(21)}, "InvalidParameterException"},
		{"bad NextToken", secretsmanager.BatchGetSecretValueInput{Filters: []types.Filter{awsyFilter("name", "bat/")}, NextToken: aws.String("garbage!")}, "InvalidNextTokenException"},
		{"bad filter key", secretsmanager.BatchGetSecretValueInput{Filters: []types.Filter{awsyFilter("colour", "red")}}, "ValidationException"},
	} {
		_, err := a.c.BatchGetSecretValue(a.ctx, &tc.in)
		t.Run(tc.what, func(t *testing.T) { awsyCode(t, err, tc.code) })
	}
}

// TestAWSTags checks TagResource and UntagResource (spec §3.6).
