package server_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/coffer-secrets/coffer/internal/server"
)

func TestAWSTags(t *testing.T) {
	clock := &mxClock{}
	s := mxStartServer(t, func(c *server.Config) { c.Clock = clock.now })
	a := awsyClient(t, s, testRegion)
	a.create("tag/me", "v", nil)
	tagsOf := func() ([]string, any, bool) {
		t.Helper()
		raw := awsyRawOK(t, s.URL(), "DescribeSecret", map[string]any{"SecretId": "tag/me"})
		tags, present := raw["Tags"]
		var kv []string
		for _, tg := range a.describe("tag/me").Tags {
			kv = append(kv, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
		}
		return kv, tags, present
	}
	if _, raw, present := tagsOf(); present {
		t.Errorf("DescribeSecret before any tagging: got Tags %v, want no Tags member", raw)
	}
	changed := aws.ToTime(a.describe("tag/me").LastChangedDate)
	tg := func(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }
	for _, step := range []struct {
		what  string
		do    func() error
		want  []string
		bumps bool
	}{
		{"tag", func() error {
			_, err := a.c.TagResource(a.ctx, &secretsmanager.TagResourceInput{SecretId: aws.String("tag/me"), Tags: []types.Tag{tg("a", "1"), tg("b", "2")}})
			return err
		}, []string{"a=1", "b=2"}, true},
		{"merge in place", func() error {
			_, err := a.c.TagResource(a.ctx, &secretsmanager.TagResourceInput{SecretId: aws.String("tag/me"), Tags: []types.Tag{tg("c", "3"), tg("a", "9")}})
			return err
		}, []string{"a=9", "b=2", "c=3"}, true},
		{"keys are case-sensitive", func() error {
			_, err := a.c.TagResource(a.ctx, &secretsmanager.TagResourceInput{SecretId: aws.String("tag/me"), Tags: []types.Tag{tg("A", "upper")}})
			return err
		}, []string{"a=9", "b=2", "c=3", "A=upper"}, true},
		{"untag, a missing key ignored", func() error {
			_, err := a.c.UntagResource(a.ctx, &secretsmanager.UntagResourceInput{SecretId: aws.String("tag/me"), TagKeys: []string{"b", "nope"}})
			return err
		}, []string{"a=9", "c=3", "A=upper"}, true},
		{"untag the rest", func() error {
			_, err := a.c.UntagResource(a.ctx, &secretsmanager.UntagResourceInput{SecretId: aws.String("tag/me"), TagKeys: []string{"a", "c", "A"}})
			return err
		}, nil, true},
	} {
		clock.advance(time.Second)
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.what, err)
		}
		got, _, _ := tagsOf()
		if !slices.Equal(got, step.want) {
			t.Errorf("%s: got Tags %v, want %v", step.what, got, step.want)
		}
		now := aws.ToTime(a.describe("tag/me").LastChangedDate)
		if step.bumps && !now.After(changed) {
			t.Errorf("%s: LastChangedDate %v did not move past %v", step.what, now, changed)
		}
		changed = now
	}
	if _, raw, present := tagsOf(); !present || raw == nil {
		t.Errorf("DescribeSecret after removing every tag: got Tags %v (present %t), want []", raw, present)
	} else if list, ok := raw.([]any); !ok || len(list) != 0 {
		t.Errorf("DescribeSecret after removing every tag: got Tags %v, want []", raw)
	}

	// Refused tags change nothing.
	_, err := a.c.TagResource(a.ctx, &secretsmanager.TagResourceInput{SecretId: aws.String("tag/me"), Tags: []types.Tag{tg("ok", "1"), tg("aws:reserved", "x")}})
	awsyCode(t, err, "InvalidParameterException")
	if got, _, _ := tagsOf(); len(got) != 0 {
		t.Errorf("after a refused aws: tag: got Tags %v, want none", got)
	}
	_, err = a.c.CreateSecret(a.ctx, &secretsmanager.CreateSecretInput{Name: aws.String("tag/reserved"), Tags: []types.Tag{tg("aws:x", "y")}})
	awsyCode(t, err, "InvalidParameterException")
	_, err = a.c.DescribeSecret(a.ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("tag/reserved")})
	awsyCode(t, err, "ResourceNotFoundException")

	// Tags given at creation keep their order; the other calls keep them.
	a.create("tag/born", "v", func(in *secretsmanager.CreateSecretInput) {
		in.Tags = []types.Tag{tg("z", "1"), tg("m", "2"), tg("a", "3")}
	})
	a.put("tag/born", "v2")
	if _, err := a.c.UpdateSecret(a.ctx, &secretsmanager.UpdateSecretInput{SecretId: aws.String("tag/born"), Description: aws.String("d")}); err != nil {
		t.Fatalf("UpdateSecret: %v", err)
	}
	var got []string
	for _, x := range a.describe("tag/born").Tags {
		got = append(got, aws.ToString(x.Key)+"="+aws.ToString(x.Value))
	}
	if want := []string{"z=1", "m=2", "a=3"}; !slices.Equal(got, want) {
		t.Errorf("tag/born: got Tags %v, want %v", got, want)
	}
	es := a.list(secretsmanager.ListSecretsInput{Filters: []types.Filter{awsyFilter("name", "tag/born")}})
	if len(es) != 1 || len(es[0].Tags) != 3 {
		t.Errorf("ListSecrets tag/born: got %s, want one entry with 3 tags", awsyJSON(es))
	}

	// Tagging a secret scheduled for deletion is refused (spec §3.5).
	if _, err := a.c.DeleteSecret(a.ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("tag/born")}); err != nil {
		t.Fatalf("DeleteSecret: %v", err)
	}
	_, err = a.c.TagResource(a.ctx, &secretsmanager.TagResourceInput{SecretId: aws.String("tag/born"), Tags: []types.Tag{tg("x", "y")}})
	awsyCode(t, err, "InvalidRequestException")
	_, err = a.c.TagResource(a.ctx, &secretsmanager.TagResourceInput{SecretId: aws.String("tag/none"), Tags: []types.Tag{tg("x", "y")}})
	awsyCode(t, err, "ResourceNotFoundException")
}

// TestAWSResourcePolicy checks the policy actions (spec §3.9).
func TestAWSResourcePolicy(t *testing.T) {
	s := startServer(t, "")
	a := awsyClient(t, s, testRegion)
	created := a.create("pol/one", "v", nil)
	const good = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + testAccount + `:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	const public = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	id := aws.String("pol/one")

	policyMember := func() (any, bool) {
		t.Helper()
		raw := awsyRawOK(t, s.URL(), "GetResourcePolicy", map[string]any{"SecretId": "pol/one"})
		if raw["ARN"] != *created.ARN || raw["Name"] != "pol/one" {
			t.Errorf("GetResourcePolicy: got ARN %v Name %v, want %s pol/one", raw["ARN"], raw["Name"], *created.ARN)
		}
		v, ok := raw["ResourcePolicy"]
		return v, ok
	}
	if v, ok := policyMember(); ok {
		t.Errorf("GetResourcePolicy without a policy: got ResourcePolicy %v, want no member", v)
	}

	put, err := a.c.PutResourcePolicy(a.ctx, &secretsmanager.PutResourcePolicyInput{SecretId: id, ResourcePolicy: aws.String(good), BlockPublicPolicy: aws.Bool(true)})
	if err != nil {
		t.Fatalf("PutResourcePolicy: %v", err)
	}
	if aws.ToString(put.ARN) != *created.ARN || aws.ToString(put.Name) != "pol/one" {
		t.Errorf("PutResourcePolicy: got %s %s, want %s pol/one", aws.ToString(put.ARN), aws.ToString(put.Name), *created.ARN)
	}
	got, err := a.c.GetResourcePolicy(a.ctx, &secretsmanager.GetResourcePolicyInput{SecretId: id})
	if err != nil {
		t.Fatalf("GetResourcePolicy: %v", err)
	}
	if aws.ToString(got.ResourcePolicy) != good {
		t.Errorf("GetResourcePolicy: got %s, want %s", aws.ToString(got.ResourcePolicy), good)
	}

	// Refused policies leave the stored one.
	for _, tc := range []struct {
		what, doc string
		block     bool
		code      string
	}{
		{"malformed JSON", `{"Version":"2012-10-17","Statement":[`, false, "MalformedPolicyDocumentException"},
		{"not a policy", `{"Hello":"world"}`, false, "MalformedPolicyDocumentException"},
		{"public with BlockPublicPolicy", public, true, "PublicPolicyException"},
	} {
		_, err := a.c.PutResourcePolicy(a.ctx, &secretsmanager.PutResourcePolicyInput{SecretId: id, ResourcePolicy: aws.String(tc.doc), BlockPublicPolicy: aws.Bool(tc.block)})
		t.Run(tc.what, func(t *testing.T) { awsyCode(t, err, tc.code) })
	}
	if v, _ := policyMember(); v != good {
		t.Errorf("after refused puts: got ResourcePolicy %v, want %s", v, good)
	}
	// Without BlockPublicPolicy a public policy is stored.
	if _, err := a.c.PutResourcePolicy(a.ctx, &secretsmanager.PutResourcePolicyInput{SecretId: id, ResourcePolicy: aws.String(public)}); err != nil {
		t.Errorf("PutResourcePolicy of a public policy without BlockPublicPolicy: %v", err)
	}

	del, err := a.c.DeleteResourcePolicy(a.ctx, &secretsmanager.DeleteResourcePolicyInput{SecretId: id})
	if err != nil || aws.ToString(del.ARN) != *created.ARN || aws.ToString(del.Name) != "pol/one" {
		t.Fatalf("DeleteResourcePolicy: got %s, %v", awsyJSON(del), err)
	}
	if v, ok := policyMember(); ok {
		t.Errorf("GetResourcePolicy after delete: got ResourcePolicy %v, want no member", v)
	}
	if _, err := a.c.DeleteResourcePolicy(a.ctx, &secretsmanager.DeleteResourcePolicyInput{SecretId: id}); err != nil {
		t.Errorf("DeleteResourcePolicy without a policy: got %v, want success", err)
	}
	_, err = a.c.GetResourcePolicy(a.ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String("pol/none")})
	awsyCode(t, err, "ResourceNotFoundException")

	t.Run("PolicyName", func(t *testing.T) {
		// This SDK predates PolicyName: send it by hand.
		for _, action := range []string{"GetResourcePolicy", "PutResourcePolicy", "DeleteResourcePolicy"} {
			body := map[string]any{"SecretId": "pol/one", "PolicyName": "other", "ResourcePolicy": good}
			r := awsyRaw(t, nil, s.URL(), action, awsyBody(t, body), awsySigning(), nil)
			if r.code() != "InvalidParameterException" {
				t.Errorf("%s PolicyName other: got %d %s, want InvalidParameterException", action, r.Status, r.code())
			}
		}
		r := awsyRawOK(t, s.URL(), "GetResourcePolicy", map[string]any{"SecretId": "pol/one", "PolicyName": "default"})
		if r["PolicyName"] != "default" {
			t.Errorf("GetResourcePolicy PolicyName default: got PolicyName %v, want default", r["PolicyName"])
		}
	})

	t.Run("Validate", func(t *testing.T) {
		for _, tc := range []struct {
			what   string
			id     *string
			doc    string
			passed bool
			checks []string
		}{
			{"good, with a secret", id, good, true, nil},
			{"good, without a secret", nil, good, true, nil},
			{"public", id, public, false, []string{"BROAD_ACCESS"}},
			{"no principal", nil, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`, false, []string{"PRINCIPAL"}},
			{"bad effect", nil, `{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Principal":{"AWS":"arn:aws:iam::` + testAccount + `:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`, false, []string{"EFFECT"}},
		} {
			out, err := a.c.ValidateResourcePolicy(a.ctx, &secretsmanager.ValidateResourcePolicyInput{SecretId: tc.id, ResourcePolicy: aws.String(tc.doc)})
			if err != nil {
				t.Errorf("%s: %v", tc.what, err)
				continue
			}
			var checks []string
			for _, e := range out.ValidationErrors {
				checks = append(checks, aws.ToString(e.CheckName))
				if aws.ToString(e.ErrorMessage) == "" {
					t.Errorf("%s: finding %s has no message", tc.what, aws.ToString(e.CheckName))
				}
			}
			if out.PolicyValidationPassed != tc.passed || !slices.Equal(checks, tc.checks) {
				t.Errorf("%s: got passed %t findings %v, want %t %v", tc.what, out.PolicyValidationPassed, checks, tc.passed, tc.checks)
			}
		}
		_, err := a.c.ValidateResourcePolicy(a.ctx, &secretsmanager.ValidateResourcePolicyInput{ResourcePolicy: aws.String("{not json")})
		awsyCode(t, err, "MalformedPolicyDocumentException")
		_, err = a.c.ValidateResourcePolicy(a.ctx, &secretsmanager.ValidateResourcePolicyInput{SecretId: aws.String("pol/none"), ResourcePolicy: aws.String(good)})
		awsyCode(t, err, "ResourceNotFoundException")
		if _, ok := policyMember(); ok {
			t.Errorf("ValidateResourcePolicy stored a policy")
		}
	})
}

// TestAWSGetRandomPassword checks GetRandomPassword's options (spec §3.9).
func TestAWSGetRandomPassword(t *testing.T) {
	s := startServer(t, "")
	a := awsyClient(t, s, testRegion)
	const (
		upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		lower = "abcdefghijklmnopqrstuvwxyz"
		digit = "0123456789"
		punct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
	)
	for _, tc := range []struct {
		what     string
		in       secretsmanager.GetRandomPasswordInput
		length   int
		allowed  string   // every character is one of these
		required []string // at least one of each
	}{
		{"defaults", secretsmanager.GetRandomPasswordInput{}, 32, upper + lower + digit + punct, []string{upper, lower, digit, punct}},
		{"letters only", secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(50), ExcludeNumbers: aws.Bool(true), ExcludePunctuation: aws.Bool(true)}, 50, upper + lower, []string{upper, lower}},
		{"digits only", secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(20), ExcludeUppercase: aws.Bool(true), ExcludeLowercase: aws.Bool(true), ExcludePunctuation: aws.Bool(true)}, 20, digit, []string{digit}},
		{"ExcludeCharacters", secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(200), ExcludeCharacters: aws.String(lower + "ABC0!\"")}, 200, upper[3:] + digit[1:] + punct[2:], []string{upper[3:], digit[1:], punct[2:]}},
		{"IncludeSpace", secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(5), IncludeSpace: aws.Bool(true)}, 5, upper + lower + digit + punct + " ", []string{upper, lower, digit, punct, " "}},
		{"one character, no type required", secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(1), RequireEachIncludedType: aws.Bool(false)}, 1, upper + lower + digit + punct, nil},
		{"the longest", secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(4096)}, 4096, upper + lower + digit + punct, []string{upper, lower, digit, punct}},
	} {
		out, err := a.c.GetRandomPassword(a.ctx, &tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.what, err)
			continue
		}
		pw := aws.ToString(out.RandomPassword)
		if len(pw) != tc.length {
			t.Errorf("%s: got length %d, want %d", tc.what, len(pw), tc.length)
		}
		if i := strings.IndexFunc(pw, func(r rune) bool { return !strings.ContainsRune(tc.allowed, r) }); i >= 0 {
			t.Errorf("%s: got character %q, want only %q", tc.what, pw[i], tc.allowed)
		}
		for _, class := range tc.required {
			if !strings.ContainsAny(pw, class) {
				t.Errorf("%s: got no character of %q", tc.what, class)
			}
		}
	}
	for _, tc := range []struct {
		what string
		in   secretsmanager.GetRandomPasswordInput
		code string
	}{
		{"length 0", secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(0)}, "ValidationException"},
		{"length 4097", secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(4097)}, "ValidationException"},
		{"every class excluded", secretsmanager.GetRandomPasswordInput{ExcludeNumbers: aws.Bool(true), ExcludePunctuation: aws.Bool(true), ExcludeUppercase: aws.Bool(true), ExcludeLowercase: aws.Bool(true)}, "InvalidParameterException"},
		{"every digit excluded, digits only", secretsmanager.GetRandomPasswordInput{ExcludeCharacters: aws.String(digit), ExcludePunctuation: aws.Bool(true), ExcludeUppercase: aws.Bool(true), ExcludeLowercase: aws.Bool(true)}, "InvalidParameterException"},
		{"shorter than the required types", secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(3)}, "InvalidParameterException"},
		{"shorter than the required types with space", secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(4), IncludeSpace: aws.Bool(true)}, "InvalidParameterException"},
	} {
		_, err := a.c.GetRandomPassword(a.ctx, &tc.in)
		t.Run(tc.what, func(t *testing.T) { awsyCode(t, err, tc.code) })
	}
	// Two passwords differ.
	p1, p2 := a.password(), a.password()
	if p1 == p2 {
		t.Errorf("two default passwords are equal: %q", p1)
	}
}

func (a *awsy) password() string {
	a.t.Helper()
	out, err := a.c.GetRandomPassword(a.ctx, &secretsmanager.GetRandomPasswordInput{})
	if err != nil {
		a.t.Fatalf("GetRandomPassword: %v", err)
	}
	return aws.ToString(out.RandomPassword)
}
