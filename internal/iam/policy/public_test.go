package policy

import (
	"reflect"
	"testing"
)

func TestIsPublic(t *testing.T) {
	const allowAll = `"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"`
	tests := []struct {
		name string
		doc  string
		want bool
	}{
		{"principal star", aws(`{` + allowAll + `,"Principal":"*"}`), true},
		{"aws star", aws(`{` + allowAll + `,"Principal":{"AWS":"*"}}`), true},
		{"star among others", aws(`{` + allowAll + `,"Principal":{"AWS":["arn:aws:iam::123456789012:root","*"]}}`), true},
		{"any service", aws(`{` + allowAll + `,"Principal":{"Service":"*"}}`), true},
		{"one account", aws(`{` + allowAll + `,"Principal":{"AWS":"123456789012"}}`), false},
		{"a role", aws(`{` + allowAll + `,"Principal":{"AWS":"arn:aws:iam::123456789012:role/app"}}`), false},
		{"deny everyone", aws(`{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}`), false},
		{"no principal", aws(`{` + allowAll + `}`), false},
		{"not principal", aws(`{` + allowAll + `,"NotPrincipal":{"AWS":"arn:aws:iam::123456789012:root"}}`), true},
		{"source account", aws(`{` + allowAll + `,"Principal":"*","Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"}}}`), false},
		{"key in other letter case", aws(`{` + allowAll + `,"Principal":"*","Condition":{"StringEquals":{"AWS:PRINCIPALORGID":"o-abc"}}}`), false},
		{"principal arn like an account", aws(`{` + allowAll + `,"Principal":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::123456789012:*"}}}`), false},
		{"private network", aws(`{` + allowAll + `,"Principal":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`), false},
		{"any value of a narrowing key", aws(`{` + allowAll + `,"Principal":"*","Condition":{"ForAnyValue:StringEquals":{"aws:PrincipalOrgPaths":"o-a/r-b/"}}}`), false},
		{"transport only", aws(`{` + allowAll + `,"Principal":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}`), true},
		{"negated", aws(`{` + allowAll + `,"Principal":"*","Condition":{"StringNotEquals":{"aws:SourceAccount":"123456789012"}}}`), true},
		{"if exists", aws(`{` + allowAll + `,"Principal":"*","Condition":{"StringEqualsIfExists":{"aws:PrincipalOrgID":"o-abc"}}}`), true},
		{"for all values", aws(`{` + allowAll + `,"Principal":"*","Condition":{"ForAllValues:StringEquals":{"aws:SourceAccount":"123456789012"}}}`), true},
		{"wildcard value", aws(`{` + allowAll + `,"Principal":"*","Condition":{"StringLike":{"aws:PrincipalArn":["arn:aws:iam::123456789012:*","*"]}}}`), true},
		{"whole internet", aws(`{` + allowAll + `,"Principal":"*","Condition":{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}}`), true},
		{"numeric on a narrowing key", aws(`{` + allowAll + `,"Principal":"*","Condition":{"NumericEquals":{"aws:SourceAccount":"123456789012"}}}`), true},
		{"one public statement of two", aws(`{` + allowAll + `,"Principal":{"AWS":"123456789012"}},{` + allowAll + `,"Principal":"*"}`), true},
		{"cam star", cam(`{"effect":"allow","action":"ssm:*","resource":"*","principal":"*"}`), true},
		{"cam anyone", `{"version":"2.0","principal":{"qcs":"qcs::cam::anyone"},"statement":[{"effect":"allow","action":"ssm:*","resource":"*"}]}`, true},
		{"cam statement principal beats the document's", `{"version":"2.0","principal":"*","statement":[{"effect":"allow","action":"ssm:*","principal":{"qcs":"qcs::cam::uin/100000000001:root"}}]}`, false},
		{"cam one account", cam(`{"effect":"allow","action":"ssm:*","resource":"*","principal":{"qcs":"qcs::cam::uin/100000000001:root"}}`), false},
		{"cam ip", cam(`{"effect":"allow","action":"ssm:*","resource":"*","principal":"*","condition":{"ip_equal":{"qcs:ip":"10.0.0.0/8"}}}`), false},
		{"cam ip if exist", cam(`{"effect":"allow","action":"ssm:*","resource":"*","principal":"*","condition":{"ip_equal_if_exist":{"qcs:ip":"10.0.0.0/8"}}}`), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustParse(t, tt.doc).IsPublic(); got != tt.want {
				t.Errorf("IsPublic() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []Finding
	}{
		{"passes", validDocs["aws basic"], nil},
		{"cam document principal", validDocs["cam document principal"], nil},
		{"missing principal", aws(`{"Effect":"Allow","Action":"*","Resource":"*"}`), []Finding{
			{CheckPrincipal, "Statement[0]: missing Principal: a resource policy must say whom it applies to"},
		}},
		{"public", aws(`{"Effect":"Deny","Principal":"*","Action":"*"},{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"*"}`), []Finding{
			{CheckBroadAccess, "Statement[1]: allows every principal, with no condition narrowing who can use it"},
		}},
		{"every problem", aws(`{"Effect":"allow","Action":"x"},{"Effect":"Allow","Action":"*","Resource":"y","Condition":{"Bool":{"k":"maybe"}}}`), []Finding{
			{CheckEffect, `Statement[0].Effect: must be "Allow" or "Deny" (case-sensitive), not "allow"`},
			{CheckAction, `Statement[0].Action: "x" is not "service:Action" or "*"`},
			{CheckResource, `Statement[1].Resource: "y" is not an ARN (arn:partition:service:region:account:resource) or "*"`},
			{CheckCondition, `Statement[1].Condition["Bool"]["k"]: "maybe" is not "true" or "false"`},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Validate(tt.doc); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
