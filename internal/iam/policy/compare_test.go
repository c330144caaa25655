package policy

import (
	"testing"
)

// awsIf and camIf are identity documents allowing everything under one
// condition block, so that a request is allowed exactly when it holds.
func awsIf(condition string) string {
	return aws(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{` + condition + `}}`)
}

func camIf(condition string) string {
	return cam(`{"effect":"allow","action":"*","resource":"*","condition":{` + condition + `}}`)
}

type ctx = map[string][]string

type conditionCase struct {
	name string
	doc  string
	ctx  ctx
	want bool
}

func runConditionCases(t *testing.T, tests []conditionCase, tune func(*Request)) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := read(alice)
			req.Context = tt.ctx
			if tune != nil {
				tune(&req)
			}
			identity := docs(t, tt.doc)
			if got := Evaluate(req, identity, nil).Allowed; got != tt.want {
				t.Errorf("allowed %v, want %v\n%s", got, tt.want, Explain(req, identity, nil))
			}
		})
	}
}

func TestConditionsAWSString(t *testing.T) {
	runConditionCases(t, []conditionCase{
		{"equals", awsIf(`"StringEquals":{"k":"v"}`), ctx{"k": {"v"}}, true},
		{"equals differs", awsIf(`"StringEquals":{"k":"v"}`), ctx{"k": {"w"}}, false},
		{"equals is case-sensitive", awsIf(`"StringEquals":{"k":"v"}`), ctx{"k": {"V"}}, false},
		{"equals any policy value", awsIf(`"StringEquals":{"k":["a","v"]}`), ctx{"k": {"v"}}, true},
		{"equals missing", awsIf(`"StringEquals":{"k":"v"}`), nil, false},
		{"equals empty list is missing", awsIf(`"StringEquals":{"k":"v"}`), ctx{"k": {}}, false},
		{"equals any request value", awsIf(`"StringEquals":{"k":"v"}`), ctx{"k": {"a", "v"}}, true},
		{"key name ignores case", awsIf(`"StringEquals":{"AWS:SourceVpc":"vpc-1"}`), ctx{"aws:sourcevpc": {"vpc-1"}}, true},
		{"not equals", awsIf(`"StringNotEquals":{"k":"v"}`), ctx{"k": {"w"}}, true},
		{"not equals same", awsIf(`"StringNotEquals":{"k":"v"}`), ctx{"k": {"v"}}, false},
		{"not equals every policy value", awsIf(`"StringNotEquals":{"k":["a","b"]}`), ctx{"k": {"b"}}, false},
		{"not equals missing", awsIf(`"StringNotEquals":{"k":"v"}`), nil, true},
		{"not equals no request value may match", awsIf(`"StringNotEquals":{"k":"v"}`), ctx{"k": {"a", "v"}}, false},
		{"ignore case", awsIf(`"StringEqualsIgnoreCase":{"k":"Prod"}`), ctx{"k": {"pROD"}}, true},
		{"ignore case differs", awsIf(`"StringEqualsIgnoreCase":{"k":"Prod"}`), ctx{"k": {"dev"}}, false},
		{"not equals ignore case", awsIf(`"StringNotEqualsIgnoreCase":{"k":"Prod"}`), ctx{"k": {"PROD"}}, false},
		{"not equals ignore case missing", awsIf(`"StringNotEqualsIgnoreCase":{"k":"Prod"}`), nil, true},
		{"like", awsIf(`"StringLike":{"k":"team-*-db?"}`), ctx{"k": {"team-pay-db1"}}, true},
		{"like differs", awsIf(`"StringLike":{"k":"team-*-db?"}`), ctx{"k": {"team-pay-db12"}}, false},
		{"like is case-sensitive", awsIf(`"StringLike":{"k":"team-*"}`), ctx{"k": {"Team-x"}}, false},
		{"not like", awsIf(`"StringNotLike":{"k":"team-*"}`), ctx{"k": {"ops"}}, true},
		{"not like matches", awsIf(`"StringNotLike":{"k":"team-*"}`), ctx{"k": {"team-x"}}, false},
		{"not like missing", awsIf(`"StringNotLike":{"k":"team-*"}`), nil, true},
		{"if exists missing", awsIf(`"StringEqualsIfExists":{"k":"v"}`), nil, true},
		{"if exists present differs", awsIf(`"StringEqualsIfExists":{"k":"v"}`), ctx{"k": {"w"}}, false},
		{"if exists present equal", awsIf(`"StringEqualsIfExists":{"k":"v"}`), ctx{"k": {"v"}}, true},
		{"keys are ANDed", awsIf(`"StringEquals":{"a":"1","b":"2"}`), ctx{"a": {"1"}, "b": {"3"}}, false},
		{"operators are ANDed", awsIf(`"StringEquals":{"a":"1"},"StringLike":{"b":"2*"}`), ctx{"a": {"1"}, "b": {"20"}}, true},
		{"operators are ANDed, one fails", awsIf(`"StringEquals":{"a":"1"},"StringLike":{"b":"2*"}`), ctx{"a": {"1"}, "b": {"30"}}, false},
	}, nil)
}

func TestConditionsAWSTypes(t *testing.T) {
	runConditionCases(t, []conditionCase{
		{"numeric equals", awsIf(`"NumericEquals":{"n":10}`), ctx{"n": {"10.0"}}, true},
		{"numeric equals differs", awsIf(`"NumericEquals":{"n":10}`), ctx{"n": {"11"}}, false},
		{"numeric not a number", awsIf(`"NumericEquals":{"n":10}`), ctx{"n": {"ten"}}, false},
		{"numeric not equals", awsIf(`"NumericNotEquals":{"n":10}`), ctx{"n": {"11"}}, true},
		{"numeric not equals same", awsIf(`"NumericNotEquals":{"n":10}`), ctx{"n": {"10"}}, false},
		{"numeric less", awsIf(`"NumericLessThan":{"n":10}`), ctx{"n": {"9.5"}}, true},
		{"numeric less, equal", awsIf(`"NumericLessThan":{"n":10}`), ctx{"n": {"10"}}, false},
		{"numeric less equal", awsIf(`"NumericLessThanEquals":{"n":10}`), ctx{"n": {"10"}}, true},
		{"numeric greater", awsIf(`"NumericGreaterThan":{"n":10}`), ctx{"n": {"1e2"}}, true},
		{"numeric greater, equal", awsIf(`"NumericGreaterThan":{"n":10}`), ctx{"n": {"10"}}, false},
		{"numeric greater equal", awsIf(`"NumericGreaterThanEquals":{"n":10}`), ctx{"n": {"10"}}, true},
		{"numeric greater equal, less", awsIf(`"NumericGreaterThanEquals":{"n":10}`), ctx{"n": {"-3"}}, false},
		{"date equals", awsIf(`"DateEquals":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}`), ctx{"aws:CurrentTime": {"2030-01-01T08:00:00+08:00"}}, true},
		{"date equals epoch", awsIf(`"DateEquals":{"aws:CurrentTime":"1893456000"}`), ctx{"aws:CurrentTime": {"2030-01-01T00:00:00Z"}}, true},
		{"date not equals", awsIf(`"DateNotEquals":{"aws:CurrentTime":"2030-01-01"}`), ctx{"aws:CurrentTime": {"2030-01-02T00:00:00Z"}}, true},
		{"date less", awsIf(`"DateLessThan":{"aws:CurrentTime":"2030-01-01"}`), ctx{"aws:CurrentTime": {"2029-12-31T23:59:59Z"}}, true},
		{"date less, later", awsIf(`"DateLessThan":{"aws:CurrentTime":"2030-01"}`), ctx{"aws:CurrentTime": {"2030-01-01T00:00:01Z"}}, false},
		{"date less equal", awsIf(`"DateLessThanEquals":{"aws:CurrentTime":"2030-01-01"}`), ctx{"aws:CurrentTime": {"2030-01-01T00:00:00Z"}}, true},
		{"date greater", awsIf(`"DateGreaterThan":{"aws:CurrentTime":"2030-01-01T00:00Z"}`), ctx{"aws:CurrentTime": {"2030-01-01T00:00:01Z"}}, true},
		{"date greater, equal", awsIf(`"DateGreaterThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}`), ctx{"aws:CurrentTime": {"2030-01-01T00:00:00Z"}}, false},
		{"date greater equal", awsIf(`"DateGreaterThanEquals":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}`), ctx{"aws:CurrentTime": {"1893456000"}}, true},
		{"date not a date", awsIf(`"DateGreaterThan":{"aws:CurrentTime":"2030-01-01"}`), ctx{"aws:CurrentTime": {"soon"}}, false},
		{"bool", awsIf(`"Bool":{"aws:SecureTransport":true}`), ctx{"aws:SecureTransport": {"true"}}, true},
		{"bool any case", awsIf(`"Bool":{"aws:SecureTransport":"TRUE"}`), ctx{"aws:SecureTransport": {"True"}}, true},
		{"bool differs", awsIf(`"Bool":{"aws:SecureTransport":true}`), ctx{"aws:SecureTransport": {"false"}}, false},
		{"bool missing", awsIf(`"Bool":{"aws:SecureTransport":true}`), nil, false},
		{"bool false if exists", awsIf(`"BoolIfExists":{"aws:MultiFactorAuthPresent":false}`), nil, true},
		{"binary", awsIf(`"BinaryEquals":{"k":"QUJD"}`), ctx{"k": {"QUJD"}}, true},
		{"binary differs", awsIf(`"BinaryEquals":{"k":"QUJD"}`), ctx{"k": {"QUJE"}}, false},
		{"ip in network", awsIf(`"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}`), ctx{"aws:SourceIp": {"10.20.30.40"}}, true},
		{"ip outside network", awsIf(`"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}`), ctx{"aws:SourceIp": {"11.0.0.1"}}, false},
		{"ip single address", awsIf(`"IpAddress":{"aws:SourceIp":["192.0.2.1","10.0.0.0/8"]}`), ctx{"aws:SourceIp": {"192.0.2.1"}}, true},
		{"ip v6", awsIf(`"IpAddress":{"aws:SourceIp":"2001:db8::/32"}`), ctx{"aws:SourceIp": {"2001:db8::1"}}, true},
		{"ip v4-mapped", awsIf(`"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}`), ctx{"aws:SourceIp": {"::ffff:10.1.1.1"}}, true},
		{"ip not an address", awsIf(`"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}`), ctx{"aws:SourceIp": {"localhost"}}, false},
		{"not ip outside", awsIf(`"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}`), ctx{"aws:SourceIp": {"11.0.0.1"}}, true},
		{"not ip inside", awsIf(`"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}`), ctx{"aws:SourceIp": {"10.0.0.1"}}, false},
		{"not ip missing", awsIf(`"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}`), nil, true},
		{"arn like", awsIf(`"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/app-*"}`), ctx{"aws:PrincipalArn": {"arn:aws:iam::100000000001:role/app-web"}}, true},
		{"arn like star stays in its segment", awsIf(`"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:app-*"}`), ctx{"aws:PrincipalArn": {"arn:aws:iam::100000000001:role:app-web"}}, false},
		{"arn like needs six segments", awsIf(`"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:*"}`), ctx{"aws:PrincipalArn": {"arn:aws:iam"}}, false},
		{"arn equals takes wildcards", awsIf(`"ArnEquals":{"aws:SourceArn":"arn:aws:lambda:*:100000000001:function:rotate"}`), ctx{"aws:SourceArn": {"arn:aws:lambda:us-east-1:100000000001:function:rotate"}}, true},
		{"arn equals is case-sensitive", awsIf(`"ArnEquals":{"aws:SourceArn":"arn:aws:lambda:*:100000000001:function:rotate"}`), ctx{"aws:SourceArn": {"arn:aws:lambda:us-east-1:100000000001:function:Rotate"}}, false},
		{"arn not equals", awsIf(`"ArnNotEquals":{"aws:SourceArn":"arn:aws:lambda:*:*:function:rotate"}`), ctx{"aws:SourceArn": {"arn:aws:lambda:us-east-1:1:function:other"}}, true},
		{"arn not like matches", awsIf(`"ArnNotLike":{"aws:SourceArn":"arn:aws:lambda:*:*:function:*"}`), ctx{"aws:SourceArn": {"arn:aws:lambda:us-east-1:1:function:other"}}, false},
		{"arn not like missing", awsIf(`"ArnNotLike":{"aws:SourceArn":"arn:aws:lambda:*:*:function:*"}`), nil, true},
		{"null true, missing", awsIf(`"Null":{"k":"true"}`), nil, true},
		{"null true, present", awsIf(`"Null":{"k":"true"}`), ctx{"k": {"v"}}, false},
		{"null false, present", awsIf(`"Null":{"k":false}`), ctx{"k": {"v"}}, true},
		{"null false, missing", awsIf(`"Null":{"k":false}`), nil, false},
	}, nil)
}

func TestConditionsAWSSets(t *testing.T) {
	runConditionCases(t, []conditionCase{
		{"any value", awsIf(`"ForAnyValue:StringEquals":{"k":["a","b"]}`), ctx{"k": {"x", "b"}}, true},
		{"any value, none", awsIf(`"ForAnyValue:StringEquals":{"k":["a","b"]}`), ctx{"k": {"x", "y"}}, false},
		{"any value, missing", awsIf(`"ForAnyValue:StringEquals":{"k":"a"}`), nil, false},
		{"any value negated", awsIf(`"ForAnyValue:StringNotEquals":{"k":["a"]}`), ctx{"k": {"a", "b"}}, true},
		{"any value negated, all listed", awsIf(`"ForAnyValue:StringNotEquals":{"k":["a","b"]}`), ctx{"k": {"a", "b"}}, false},
		{"all values", awsIf(`"ForAllValues:StringLike":{"k":["env*","team"]}`), ctx{"k": {"env", "environment", "team"}}, true},
		{"all values, one outside", awsIf(`"ForAllValues:StringLike":{"k":["env*","team"]}`), ctx{"k": {"env", "owner"}}, false},
		{"all values, missing", awsIf(`"ForAllValues:StringEquals":{"k":"a"}`), nil, true},
		{"all values negated", awsIf(`"ForAllValues:StringNotEquals":{"k":["a"]}`), ctx{"k": {"b", "c"}}, true},
		{"all values negated, one listed", awsIf(`"ForAllValues:StringNotEquals":{"k":["a"]}`), ctx{"k": {"b", "a"}}, false},
		{"any value if exists missing", awsIf(`"ForAnyValue:StringEqualsIfExists":{"k":"a"}`), nil, true},
	}, nil)
}

func TestConditionsDerivedKeys(t *testing.T) {
	tags := func(r *Request) {
		r.ResourceTags = map[string]string{"env": "prod", "team": "pay"}
		r.RequestTags = map[string]string{"owner": "alice", "env": "dev"}
		r.Principal.Tags = map[string]string{"team": "pay"}
	}
	runConditionCases(t, []conditionCase{
		{"resource tag", awsIf(`"StringEquals":{"aws:ResourceTag/env":"prod"}`), nil, true},
		{"resource tag, service spelling", awsIf(`"StringEquals":{"secretsmanager:ResourceTag/env":"prod"}`), nil, true},
		{"resource tag key in any case", awsIf(`"StringEquals":{"aws:ResourceTag/ENV":"prod"}`), nil, true},
		{"resource tag value is case-sensitive", awsIf(`"StringEquals":{"aws:ResourceTag/env":"Prod"}`), nil, false},
		{"resource tag missing", awsIf(`"StringEquals":{"aws:ResourceTag/cost":"x"}`), nil, false},
		{"request tag", awsIf(`"StringEquals":{"aws:RequestTag/owner":"alice"}`), nil, true},
		{"tag keys", awsIf(`"ForAllValues:StringEquals":{"aws:TagKeys":["owner","env"]}`), nil, true},
		{"tag keys, one not allowed", awsIf(`"ForAllValues:StringEquals":{"aws:TagKeys":["owner"]}`), nil, false},
		{"principal tag matches resource tag", awsIf(`"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}`), nil, true},
		{"principal account", awsIf(`"StringEquals":{"aws:PrincipalAccount":"` + acctA + `"}`), nil, true},
		{"context overrides derived", awsIf(`"StringEquals":{"aws:ResourceTag/env":"staging"}`), ctx{"aws:ResourceTag/env": {"staging"}}, true},
		{"cam resource tag", camIf(`"for_any_value:string_equal":{"qcs:resource_tag":["env&prod","team&ops"]}`), nil, true},
		{"cam resource tag, none", camIf(`"for_any_value:string_equal":{"qcs:resource_tag":["env&dev"]}`), nil, false},
		{"cam resource tag by key", camIf(`"for_any_value:string_like":{"qcs:resource_tag":"team&*"}`), nil, true},
		{"cam request tag, all values", camIf(`"for_all_value:string_like":{"qcs:request_tag":["owner&*","env&dev"]}`), nil, true},
		{"cam request tag, one outside", camIf(`"for_all_value:string_like":{"qcs:request_tag":["owner&*"]}`), nil, false},
		{"cam principal tag", camIf(`"for_any_value:string_equal":{"qcs:principal_tag":"team&pay"}`), nil, true},
	}, tags)
}

func TestConditionsCAM(t *testing.T) {
	runConditionCases(t, []conditionCase{
		{"string equal", camIf(`"string_equal":{"k":"v"}`), ctx{"k": {"v"}}, true},
		{"string equal differs", camIf(`"string_equal":{"k":"v"}`), ctx{"k": {"V"}}, false},
		{"string equal missing", camIf(`"string_equal":{"k":"v"}`), nil, false},
		{"string not equal", camIf(`"string_not_equal":{"k":"v"}`), ctx{"k": {"w"}}, true},
		{"string not equal same", camIf(`"string_not_equal":{"k":"v"}`), ctx{"k": {"v"}}, false},
		{"string not equal missing is false in CAM", camIf(`"string_not_equal":{"k":"v"}`), nil, false},
		{"ignore case", camIf(`"string_equal_ignore_case":{"k":"v"}`), ctx{"k": {"V"}}, true},
		{"not equal ignore case", camIf(`"string_not_equal_ignore_case":{"k":"v"}`), ctx{"k": {"V"}}, false},
		{"like", camIf(`"string_like":{"k":"a*"}`), ctx{"k": {"abc"}}, true},
		{"not like", camIf(`"string_not_like":{"k":"a*"}`), ctx{"k": {"abc"}}, false},
		{"not like other", camIf(`"string_not_like":{"k":"a*"}`), ctx{"k": {"bcd"}}, true},
		{"numeric equal", camIf(`"numeric_equal":{"n":1}`), ctx{"n": {"1"}}, true},
		{"numeric not equal", camIf(`"numeric_not_equal":{"n":1}`), ctx{"n": {"1"}}, false},
		{"numeric less", camIf(`"numeric_less_than":{"n":1}`), ctx{"n": {"0"}}, true},
		{"numeric less equal", camIf(`"numeric_less_than_equal":{"n":1}`), ctx{"n": {"1"}}, true},
		{"numeric greater", camIf(`"numeric_greater_than":{"n":1}`), ctx{"n": {"1"}}, false},
		{"numeric greater equal", camIf(`"numeric_greater_than_equal":{"n":1}`), ctx{"n": {"1"}}, true},
		{"date equal", camIf(`"date_equal":{"qcs:current_time":"2026-01-01T00:00:00Z"}`), ctx{"qcs:current_time": {"2026-01-01T00:00:00Z"}}, true},
		{"date not equal", camIf(`"date_not_equal":{"qcs:current_time":"2026-01-01T00:00:00Z"}`), ctx{"qcs:current_time": {"2026-01-01T00:00:00Z"}}, false},
		{"date less", camIf(`"date_less_than":{"qcs:current_time":"2026-01-01T00:00:00Z"}`), ctx{"qcs:current_time": {"2025-12-31T00:00:00Z"}}, true},
		{"date less equal", camIf(`"date_less_than_equal":{"qcs:current_time":"2026-01-01T00:00:00Z"}`), ctx{"qcs:current_time": {"2026-01-01T00:00:00Z"}}, true},
		{"date greater", camIf(`"date_greater_than":{"qcs:current_time":"2026-12-31T23:59:59Z"}`), ctx{"qcs:current_time": {"2027-01-01T00:00:00Z"}}, true},
		{"date greater equal", camIf(`"date_greater_than_equal":{"qcs:current_time":"2026-12-31T23:59:59Z"}`), ctx{"qcs:current_time": {"2026-01-01T00:00:00Z"}}, false},
		{"bool equal", camIf(`"bool_equal":{"qcs:secure_transport":"true"}`), ctx{"qcs:secure_transport": {"true"}}, true},
		{"binary equal", camIf(`"binary_equal":{"k":"QUJD"}`), ctx{"k": {"QUJD"}}, true},
		{"ip equal", camIf(`"ip_equal":{"qcs:ip":["10.0.0.0/8","192.168.1.10"]}`), ctx{"qcs:ip": {"192.168.1.10"}}, true},
		{"ip equal outside", camIf(`"ip_equal":{"qcs:ip":"10.0.0.0/8"}`), ctx{"qcs:ip": {"192.168.1.10"}}, false},
		{"ip not equal", camIf(`"ip_not_equal":{"qcs:ip":"10.0.0.0/8"}`), ctx{"qcs:ip": {"192.168.1.10"}}, true},
		{"ip not equal missing is false in CAM", camIf(`"ip_not_equal":{"qcs:ip":"10.0.0.0/8"}`), nil, false},
		{"null equal true", camIf(`"null_equal":{"k":"true"}`), nil, true},
		{"null equal false", camIf(`"null_equal":{"k":"false"}`), ctx{"k": {"x"}}, true},
		{"if exist missing", camIf(`"string_equal_if_exist":{"k":"v"}`), nil, true},
		{"if exist negated missing", camIf(`"ip_not_equal_if_exist":{"qcs:ip":"10.0.0.0/8"}`), nil, true},
		{"for all value missing is false in CAM", camIf(`"for_all_value:string_equal":{"k":"v"}`), nil, false},
		{"keys are case-sensitive", camIf(`"string_equal":{"qcs:IP":"1.2.3.4"}`), ctx{"qcs:ip": {"1.2.3.4"}}, false},
		// The general keys are found under either dialect's name.
		{"qcs:ip from aws:SourceIp", camIf(`"ip_equal":{"qcs:ip":"10.0.0.0/8"}`), ctx{"aws:SourceIp": {"10.1.1.1"}}, true},
		{"qcs:current_time from aws:CurrentTime", camIf(`"date_less_than":{"qcs:current_time":"2030-01-01T00:00:00Z"}`), ctx{"aws:CurrentTime": {"2029-01-01T00:00:00Z"}}, true},
		{"qcs:secure_transport from aws:SecureTransport", camIf(`"bool_equal":{"qcs:secure_transport":"true"}`), ctx{"aws:securetransport": {"true"}}, true},
		{"aws:SourceIp from qcs:ip", awsIf(`"IpAddress":{"aws:sourceip":"10.0.0.0/8"}`), ctx{"qcs:ip": {"10.1.1.1"}}, true},
		{"aws:CurrentTime from qcs:current_time", awsIf(`"DateGreaterThan":{"aws:CurrentTime":"2020-01-01"}`), ctx{"qcs:current_time": {"2021-01-01T00:00:00Z"}}, true},
	}, nil)
}

func TestParseDate(t *testing.T) {
	// All digits are epoch seconds, as in the parser: "2030" is 1970-01-01T00:33:50Z.
	if got, _ := parseDate("2030"); got.Unix() != 2030 {
		t.Errorf(`parseDate("2030") = %v, want epoch second 2030`, got)
	}
	for _, s := range []string{"2030-01", "2030-01-01", "2030-01-01T10:00Z", "2030-01-01T10:00+08:00", "2030-01-01T10:00:00Z", "2030-01-01T10:00:00.5-07:00", "1893456000"} {
		if _, ok := parseDate(s); !ok {
			t.Errorf("parseDate(%q) failed", s)
		}
		if !isDate(s) {
			t.Errorf("isDate(%q) = false; the parser and the evaluator must agree", s)
		}
	}
	for _, s := range []string{"", "soon", "2030-1-1", "2030-01-01 10:00:00"} {
		if _, ok := parseDate(s); ok {
			t.Errorf("parseDate(%q) succeeded", s)
		}
	}
}
