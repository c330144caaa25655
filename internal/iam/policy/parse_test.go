package policy

import (
	"reflect"
	"strings"
	"testing"

	"github.com/coffer-secrets/coffer/internal/fault"
)

// mustParse parses doc or fails the test.
func mustParse(tb testing.TB, doc string) *Document {
	tb.Helper()
	d, err := Parse(doc)
	if err != nil {
		tb.Fatalf("Parse(%s): %v", doc, err)
	}
	return d
}

// validDocs are documents Parse accepts, in both dialects; they also seed
// FuzzParse.
var validDocs = map[string]string{
	"aws basic":                            `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/eso"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`,
	"aws statement object without version": `{"Statement":{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}}`,
	"aws 2008":                             `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"secretsmanager:*","Resource":"*"}]}`,
	"aws not forms":                        `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::123456789012:root"]},"NotAction":["secretsmanager:Describe*","secretsmanager:List?ecrets"],"NotResource":"arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"}]}`,
	"aws conditions": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*",
		"Condition":{"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"secretsmanager:SecretVersionCount":10},
		"StringEqualsIfExists":{"aws:PrincipalOrgID":["o-abc","o-def"]},"ForAnyValue:StringLike":{"aws:TagKeys":"env*"},
		"Null":{"aws:TokenIssueTime":"false"},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","192.0.2.1","2001:db8::/32"]},
		"DateLessThan":{"aws:CurrentTime":["2030-01-01T00:00:00Z","2030-01-01","1893456000","${aws:EpochTime}"]},
		"BinaryEquals":{"key":"QUJD"},"ArnLike":{"aws:SourceArn":"arn:aws:lambda:*:123456789012:function:*"}}}]}`,
	"aws service principal with sid and id": `{"Version":"2012-10-17","Id":"policy-1","Statement":[{"Sid":"Rotation","Effect":"Allow","Principal":{"Service":["lambda.amazonaws.com"],"AWS":"*"},"Action":["secretsmanager:PutSecretValue","secretsmanager:UpdateSecretVersionStage"],"Resource":"*"},{"Sid":"Other","Effect":"Deny","Principal":{"Federated":"cognito-identity.amazonaws.com","CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},"Action":"*"}]}`,
	"aws empty condition":                   `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Condition":{}}]}`,
	"cam example": `{"version":"2.0","statement":[
		{"effect":"allow","action":["ssm:GetSecretValue","ssm:DescribeSecret"],"resource":["qcs::ssm:ap-guangzhou:uin/100000000001:secret/creatorUin/100000000001/db-password"]},
		{"effect":"allow","action":["kms:Decrypt","kms:GenerateDataKey"],"resource":["qcs::kms:ap-guangzhou:uin/100000000001:key/creatorUin/100000000001/23e80852-1e38-11e9-b129-5cb9019b4b01"]},
		{"effect":"deny","action":["ssm:*"],"resource":["*"],"condition":{"ip_not_equal":{"qcs:ip":["10.0.0.0/8","192.168.1.10"]}}},
		{"effect":"deny","action":["ssm:PutSecretValue"],"resource":["*"],"condition":{"date_greater_than":{"qcs:current_time":"2026-12-31T23:59:59Z"}}}]}`,
	"cam trust":              `{"version":"2.0","statement":[{"action":"name/sts:AssumeRole","effect":"allow","principal":{"qcs":["qcs::cam::uin/100000000001:root"]},"condition":{"string_equal":{"sts:external_id":"abc123"}}}]}`,
	"cam mixed letter case":  `{"Statement":[{"Principal":{"qcs":["qcs::cam::uin/100000000001:uin/100000000011"]},"Effect":"Allow","Action":["name/cos:GetObject"],"Resource":["qcs::cos:ap-guangzhou:uid/1250000000:examplebucket-1250000000/*"]}],"version":"2.0"}`,
	"cam document principal": `{"version":"2.0","principal":{"service":"cvm.qcloud.com"},"statement":{"effect":"allow","action":"*","resource":"*"}}`,
	"cam modifiers":          `{"version":"2.0","statement":[{"effect":"deny","action":"ssm:*","resource":"*","condition":{"for_any_value:string_equal":{"qcs:resource_tag":["env&prod","team&platform"]},"string_equal_if_exist":{"qcs:create_uin":"${uin}"},"null_equal":{"qcs:request_tag":true},"for_all_value:string_like":{"qcs:request_tag":"env&*"}}}]}`,
}

func TestParseValid(t *testing.T) {
	for name, doc := range validDocs {
		t.Run(name, func(t *testing.T) {
			mustParse(t, doc)
		})
	}
}

func TestParseForm(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want *Document
	}{
		{"aws basic", validDocs["aws basic"], &Document{Dialect: AWS, Version: "2012-10-17", Statements: []Statement{{
			Effect:     Allow,
			Principals: &Principals{ByType: map[string][]string{"AWS": {"arn:aws:iam::123456789012:role/eso"}}},
			Actions:    []string{"secretsmanager:GetSecretValue"},
			Resources:  []string{"*"},
		}}}},
		{"aws default version", validDocs["aws statement object without version"], &Document{Dialect: AWS, Version: "2008-10-17", Statements: []Statement{{
			Effect: Deny, Principals: &Principals{Wildcard: true}, Actions: []string{"*"}, Resources: []string{"*"},
		}}}},
		{"aws not forms", validDocs["aws not forms"], &Document{Dialect: AWS, Version: "2012-10-17", Statements: []Statement{{
			Effect:        Deny,
			NotPrincipals: &Principals{ByType: map[string][]string{"AWS": {"arn:aws:iam::123456789012:root"}}},
			NotActions:    []string{"secretsmanager:Describe*", "secretsmanager:List?ecrets"},
			NotResources:  []string{"arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"},
		}}}},
		{"aws condition values", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"a:b","Condition":{"Bool":{"aws:SecureTransport":true},"NumericEquals":{"n":[1,2.5e3]}}}]}`,
			&Document{Dialect: AWS, Version: "2012-10-17", Statements: []Statement{{
				Effect:  Allow,
				Actions: []string{"a:b"},
				Conditions: Conditions{
					"Bool":          {"aws:SecureTransport": {"true"}},
					"NumericEquals": {"n": {"1", "2.5e3"}},
				},
			}}}},
		{"aws empty condition is none", validDocs["aws empty condition"], &Document{Dialect: AWS, Version: "2012-10-17", Statements: []Statement{{
			Effect: Allow, Principals: &Principals{Wildcard: true}, Actions: []string{"*"},
		}}}},
		{"cam trust", validDocs["cam trust"], &Document{Dialect: CAM, Version: "2.0", Statements: []Statement{{
			Effect:     Allow,
			Principals: &Principals{ByType: map[string][]string{"qcs": {"qcs::cam::uin/100000000001:root"}}},
			Actions:    []string{"sts:AssumeRole"},
			Conditions: Conditions{"string_equal": {"sts:external_id": {"abc123"}}},
		}}}},
		{"cam letter case", `{"Version":"2.0","STATEMENT":[{"Effect":"Deny","Action":"ssm:*","Resource":"*","Principal":{"QCS":"*"}}]}`,
			&Document{Dialect: CAM, Version: "2.0", Statements: []Statement{{
				Effect:     Deny,
				Principals: &Principals{ByType: map[string][]string{"qcs": {"*"}}},
				Actions:    []string{"ssm:*"},
				Resources:  []string{"*"},
			}}}},
		{"cam document principal", validDocs["cam document principal"], &Document{Dialect: CAM, Version: "2.0",
			Principals: &Principals{ByType: map[string][]string{"service": {"cvm.qcloud.com"}}},
			Statements: []Statement{{Effect: Allow, Actions: []string{"*"}, Resources: []string{"*"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustParse(t, tt.doc); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

// aws and cam wrap statements in a document of each dialect.
func aws(statements string) string {
	return `{"Version":"2012-10-17","Statement":[` + statements + `]}`
}

func cam(statements string) string {
	return `{"version":"2.0","statement":[` + statements + `]}`
}

// invalidDocs are documents Parse rejects, with the check of the first
// finding and a fragment of its message; they also seed FuzzParse.
var invalidDocs = []struct {
	name, doc, check, msg string
}{
	// The document.
	{"too long", aws(`{"Effect":"Allow","Action":"*"}`) + strings.Repeat(" ", MaxSize), CheckSize, "limit is 20480"},
	{"empty", ``, CheckSyntax, "not valid JSON: the JSON ends too early"},
	{"truncated", `{"Version":"2012-10-17","Statement":[`, CheckSyntax, "the JSON ends too early"},
	{"bad json", `{"Version":"2012-10-17",}`, CheckSyntax, "invalid character '}'"},
	{"not an object", `[]`, CheckSyntax, "must be a JSON object"},
	{"trailing data", aws(`{"Effect":"Allow","Action":"*"}`) + `{}`, CheckSyntax, "unexpected data after the JSON value"},
	{"invalid utf-8", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"a:b","Sid":"` + "\xff" + `"}]}`, CheckSyntax, "not valid UTF-8"},
	{"repeated key", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Effect":"Deny","Action":"*"}]}`, CheckSyntax, `key "Effect" appears twice`},
	{"too deep", aws(`{"Effect":"Allow","Action":"*","Condition":{"StringEquals":{"k":[[[[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]]]}}}`), CheckSyntax, "nested more than 16 levels"},
	{"unknown version", `{"Version":"2012-10-18","Statement":[]}`, CheckVersion, `unknown policy version "2012-10-18"`},
	{"numeric version", `{"Version":2.0,"Statement":[]}`, CheckVersion, "Version: must be a string"},
	{"cam without version", `{"statement":[{"effect":"allow","action":"*","resource":"*"}]}`, CheckVersion, `missing version: a CAM policy needs "version":"2.0"`},
	{"no statement", `{}`, CheckSyntax, "missing Statement"},
	{"aws without statement", `{"Version":"2012-10-17"}`, CheckSyntax, "missing Statement"},
	{"cam without statement", `{"version":"2.0"}`, CheckSyntax, "missing statement"},
	{"empty statement list", aws(``), CheckSyntax, "Statement: must hold at least one statement"},
	{"statement is a string", `{"Version":"2012-10-17","Statement":"x"}`, CheckSyntax, "Statement: must be an object or a list of objects"},
	{"statement is not an object", aws(`[]`), CheckSyntax, "Statement[0]: must be an object"},
	// Keys and dialect mixing.
	{"unknown top-level key", `{"Version":"2012-10-17","Foo":1,"Statement":[{"Effect":"Allow","Action":"*"}]}`, CheckSyntax, `unknown key "Foo"`},
	{"unknown statement key", aws(`{"Effect":"Allow","Action":"*"},{"Effect":"Allow","Actions":"*"}`), CheckSyntax, `Statement[1]: unknown key "Actions"`},
	{"aws version, cam statement key", `{"Version":"2012-10-17","statement":[{"Effect":"Allow","Action":"*"}]}`, CheckSyntax, `unknown key "statement": AWS policy keys are case-sensitive (did you mean "Statement"?)`},
	{"aws version, cam effect key", aws(`{"effect":"Allow","Action":"*"}`), CheckSyntax, `Statement[0]: unknown key "effect": AWS policy keys are case-sensitive (did you mean "Effect"?)`},
	{"aws version, lower-case version key", `{"version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*"}]}`, CheckSyntax, `did you mean "Version"?`},
	{"cam version, aws-only element", cam(`{"effect":"allow","NotAction":"ssm:*","action":"*"}`), CheckSyntax, `statement[0]: "NotAction" is an AWS policy element; a CAM policy (version "2.0") cannot have it`},
	{"cam version, sid", cam(`{"sid":"a","effect":"allow","action":"*"}`), CheckSyntax, `"sid" is an AWS policy element`},
	{"cam version, id", `{"version":"2.0","Id":"x","statement":[{"effect":"allow","action":"*"}]}`, CheckSyntax, `"Id" is an AWS policy element`},
	{"cam key twice in two cases", cam(`{"effect":"allow","Effect":"deny","action":"*"}`), CheckSyntax, "statement[0]: effect is given twice"},
	{"sid twice", aws(`{"Sid":"A","Effect":"Allow","Action":"*"},{"Sid":"A","Effect":"Deny","Action":"*"}`), CheckSyntax, `Statement[1].Sid: "A" is used by another statement`},
	{"sid not a string", aws(`{"Sid":1,"Effect":"Allow","Action":"*"}`), CheckSyntax, "Statement[0].Sid: must be a string"},
	{"id not a string", `{"Version":"2012-10-17","Id":[],"Statement":[{"Effect":"Allow","Action":"*"}]}`, CheckSyntax, "Id: must be a string"},
	// Effect.
	{"missing effect", aws(`{"Action":"*"}`), CheckEffect, "Statement[0]: missing Effect"},
	{"cam missing effect", cam(`{"action":"*"}`), CheckEffect, "statement[0]: missing effect"},
	{"lower-case aws effect", aws(`{"Effect":"allow","Action":"*"}`), CheckEffect, `Statement[0].Effect: must be "Allow" or "Deny" (case-sensitive), not "allow"`},
	{"unknown cam effect", cam(`{"effect":"permit","action":"*"}`), CheckEffect, `statement[0].effect: must be "allow" or "deny", not "permit"`},
	{"effect not a string", aws(`{"Effect":true,"Action":"*"}`), CheckEffect, `Statement[0].Effect: must be "Allow" or "Deny"`},
	// Action.
	{"missing action", aws(`{"Effect":"Allow","Resource":"*"}`), CheckAction, "Statement[0]: missing Action"},
	{"cam missing action", cam(`{"effect":"allow","resource":"*"}`), CheckAction, "statement[0]: missing action"},
	{"action and not action", aws(`{"Effect":"Allow","Action":"*","NotAction":"a:b"}`), CheckAction, "Statement[0]: has both Action and NotAction"},
	{"action without service", aws(`{"Effect":"Allow","Action":"GetSecretValue"}`), CheckAction, `Statement[0].Action: "GetSecretValue" is not "service:Action" or "*"`},
	{"bad action in a list", aws(`{"Effect":"Allow","Action":["secretsmanager:GetSecretValue","secretsmanager:"]}`), CheckAction, `Statement[0].Action[1]: "secretsmanager:" is not "service:Action"`},
	{"bad not action", aws(`{"Effect":"Allow","NotAction":"a b:c"}`), CheckAction, `Statement[0].NotAction: "a b:c" is not`},
	{"empty action", aws(`{"Effect":"Allow","Action":""}`), CheckAction, `"" is not "service:Action"`},
	{"empty action list", aws(`{"Effect":"Allow","Action":[]}`), CheckAction, "Statement[0].Action: must not be an empty list"},
	{"action is a number", aws(`{"Effect":"Allow","Action":1}`), CheckAction, "Statement[0].Action: must be a string or a list of strings"},
	{"action list holds a number", aws(`{"Effect":"Allow","Action":[1]}`), CheckAction, "Statement[0].Action[0]: must be a string"},
	{"cam prefix in aws", aws(`{"Effect":"Allow","Action":"name/sts:AssumeRole"}`), CheckAction, `"name/sts:AssumeRole" is not "service:Action"`},
	{"cam feature set", cam(`{"effect":"allow","action":"permid/123"}`), CheckAction, `"permid/123" is a feature-set action`},
	// Resource.
	{"qcs resource in aws", aws(`{"Effect":"Allow","Action":"*","Resource":"qcs::ssm:ap-guangzhou:uin/1:secret/x"}`), CheckResource, `Statement[0].Resource: "qcs::ssm:ap-guangzhou:uin/1:secret/x" is not an ARN`},
	{"arn in cam", cam(`{"effect":"allow","action":"*","resource":["*","arn:aws:secretsmanager:us-east-1:123456789012:secret:x"]}`), CheckResource, `statement[0].resource[1]: "arn:aws:secretsmanager:us-east-1:123456789012:secret:x" is not a qcs resource name`},
	{"short arn", aws(`{"Effect":"Allow","Action":"*","NotResource":"arn:aws:s3"}`), CheckResource, `Statement[0].NotResource: "arn:aws:s3" is not an ARN`},
	{"resource and not resource", aws(`{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"*"}`), CheckResource, "has both Resource and NotResource"},
	{"resource is an object", aws(`{"Effect":"Allow","Action":"*","Resource":{}}`), CheckResource, "Statement[0].Resource: must be a string or a list of strings"},
	// Principal.
	{"principal is an arn string", aws(`{"Effect":"Allow","Action":"*","Principal":"arn:aws:iam::123456789012:root"}`), CheckPrincipal, `Statement[0].Principal: must be "*" or an object`},
	{"empty principal", aws(`{"Effect":"Allow","Action":"*","Principal":{}}`), CheckPrincipal, "must name at least one principal"},
	{"principal type in the wrong case", aws(`{"Effect":"Allow","Action":"*","Principal":{"aws":"*"}}`), CheckPrincipal, `unknown principal type "aws" (want one of AWS, Service, Federated, CanonicalUser)`},
	{"cam principal type in aws", aws(`{"Effect":"Allow","Action":"*","Principal":{"qcs":"*"}}`), CheckPrincipal, `"qcs" is a CAM principal type`},
	{"aws principal type in cam", cam(`{"effect":"allow","action":"*","principal":{"AWS":"*"}}`), CheckPrincipal, `"AWS" is an AWS principal type`},
	{"bad aws principal", aws(`{"Effect":"Allow","Action":"*","Principal":{"AWS":["123456789012","bob"]}}`), CheckPrincipal, `Statement[0].Principal["AWS"][1]: "bob" is not an account id, an ARN or "*"`},
	{"bad qcs principal", cam(`{"effect":"allow","action":"*","principal":{"qcs":"100000000001"}}`), CheckPrincipal, `"100000000001" is not a qcs principal`},
	{"empty service principal", aws(`{"Effect":"Allow","Action":"*","Principal":{"Service":""}}`), CheckPrincipal, "a principal must not be empty"},
	{"principal and not principal", aws(`{"Effect":"Allow","Action":"*","Principal":"*","NotPrincipal":"*"}`), CheckPrincipal, "has both Principal and NotPrincipal"},
	{"bad document principal", `{"version":"2.0","principal":"anyone","statement":[{"effect":"allow","action":"*"}]}`, CheckPrincipal, `principal: must be "*" or an object`},
	// Condition.
	{"condition is a string", aws(`{"Effect":"Allow","Action":"*","Condition":"x"}`), CheckCondition, "Statement[0].Condition: must be an object mapping operators"},
	{"unknown operator", aws(`{"Effect":"Allow","Action":"*","Condition":{"StringEqual":{"k":"v"}}}`), CheckCondition, `Statement[0].Condition["StringEqual"]: unknown condition operator`},
	{"cam operator in aws", aws(`{"Effect":"Allow","Action":"*","Condition":{"string_equal":{"k":"v"}}}`), CheckCondition, `Condition["string_equal"]: unknown condition operator`},
	{"aws operator in cam", cam(`{"effect":"allow","action":"*","condition":{"StringEquals":{"k":"v"}}}`), CheckCondition, `statement[0].condition["StringEquals"]: unknown condition operator`},
	{"null if exists", aws(`{"Effect":"Allow","Action":"*","Condition":{"NullIfExists":{"k":"true"}}}`), CheckCondition, "unknown condition operator"},
	{"operator block is a list", aws(`{"Effect":"Allow","Action":"*","Condition":{"StringEquals":["k","v"]}}`), CheckCondition, `Condition["StringEquals"]: must be an object mapping condition keys to values`},
	{"empty operator block", aws(`{"Effect":"Allow","Action":"*","Condition":{"StringEquals":{}}}`), CheckCondition, "must be an object mapping condition keys to values"},
	{"empty condition key", aws(`{"Effect":"Allow","Action":"*","Condition":{"StringEquals":{"":"v"}}}`), CheckCondition, "a condition key must not be empty"},
	{"value is an object", aws(`{"Effect":"Allow","Action":"*","Condition":{"StringEquals":{"k":{"v":1}}}}`), CheckCondition, `Condition["StringEquals"]["k"]: must be a string, a number, a boolean or a list of them`},
	{"value is null", aws(`{"Effect":"Allow","Action":"*","Condition":{"StringEquals":{"k":null}}}`), CheckCondition, "must be a string, a number, a boolean"},
	{"value list holds a list", aws(`{"Effect":"Allow","Action":"*","Condition":{"StringEquals":{"k":["a",["b"]]}}}`), CheckCondition, "must be a string, a number, a boolean"},
	{"empty value list", aws(`{"Effect":"Allow","Action":"*","Condition":{"StringEquals":{"k":[]}}}`), CheckCondition, `Condition["StringEquals"]["k"]: must not be an empty list`},
	{"not a number", aws(`{"Effect":"Allow","Action":"*","Condition":{"NumericLessThan":{"k":"ten"}}}`), CheckCondition, `"ten" is not a number`},
	{"not a date", aws(`{"Effect":"Allow","Action":"*","Condition":{"DateLessThan":{"aws:CurrentTime":["2030-01-01","yesterday"]}}}`), CheckCondition, `["aws:CurrentTime"][1]: "yesterday" is not an ISO 8601 date`},
	{"not a bool", aws(`{"Effect":"Allow","Action":"*","Condition":{"Bool":{"aws:SecureTransport":"yes"}}}`), CheckCondition, `"yes" is not "true" or "false"`},
	{"not an ip", cam(`{"effect":"deny","action":"*","condition":{"ip_not_equal":{"qcs:ip":"10.0.0.300"}}}`), CheckCondition, `statement[0].condition["ip_not_equal"]["qcs:ip"]: "10.0.0.300" is not an IP address or CIDR block`},
	{"not base64", aws(`{"Effect":"Allow","Action":"*","Condition":{"BinaryEquals":{"k":"!!"}}}`), CheckCondition, `"!!" is not base64`},
}

func TestParseInvalid(t *testing.T) {
	for _, tt := range invalidDocs {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(tt.doc)
			if err == nil {
				t.Fatalf("Parse accepted it: %s", d)
			}
			if got, want := fault.KindOf(err), fault.Invalid; got != want {
				t.Errorf("kind %v, want %v", got, want)
			}
			msg := fault.Message(err)
			if !strings.Contains(msg, tt.msg) {
				t.Errorf("message %q, want it to contain %q", msg, tt.msg)
			}
			findings := Validate(tt.doc)
			if len(findings) == 0 {
				t.Fatal("Validate found nothing")
			}
			if got, want := findings[0], (Finding{tt.check, msg}); got != want {
				t.Errorf("first finding %+v, want %+v", got, want)
			}
		})
	}
}

func TestParseSizeLimit(t *testing.T) {
	doc := aws(`{"Effect":"Allow","Action":"*"}`)
	fits := doc + strings.Repeat(" ", MaxSize-len(doc))
	mustParse(t, fits)
	if _, err := Parse(fits + " "); !fault.Is(err, fault.Invalid) {
		t.Errorf("Parse of %d bytes: %v, want an invalid error", len(fits)+1, err)
	}
}

func TestMarshalJSONRoundTrip(t *testing.T) {
	for name, doc := range validDocs {
		t.Run(name, func(t *testing.T) {
			d := mustParse(t, doc)
			enc := d.String()
			again := mustParse(t, enc)
			if !reflect.DeepEqual(again, d) {
				t.Errorf("re-parsed %s\ngot  %#v\nwant %#v", enc, again, d)
			}
			if got := again.String(); got != enc {
				t.Errorf("encoding is not stable:\n%s\n%s", got, enc)
			}
		})
	}
}

func TestMarshalJSONSpelling(t *testing.T) {
	got := mustParse(t, `{"Version":"2.0","Statement":{"Effect":"Allow","Action":"name/ssm:GetSecretValue","Resource":"*"}}`).String()
	want := `{"version":"2.0","statement":[{"effect":"allow","action":["ssm:GetSecretValue"],"resource":["*"]}]}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := (&Document{}).String(); got != "" {
		t.Errorf("a document without a dialect encodes as %q", got)
	}
}
