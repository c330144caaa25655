package policy

import (
	"fmt"
	"testing"
)

// benchPolicies is a realistic set for one sub-user: ten documents of five
// statements, both dialects, most statements about other services or
// other secrets, a few with conditions, the grant that decides near the
// end, and a network Deny that every request must get past.
func benchPolicies(tb testing.TB) []*Document {
	tb.Helper()
	var srcs []string
	for i := 0; i < 8; i++ {
		if i%2 == 0 {
			srcs = append(srcs, aws(fmt.Sprintf(`
				{"Sid":"Kms%[1]d","Effect":"Allow","Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":"arn:aws:kms:*:%[2]s:key/k%[1]d"},
				{"Sid":"Logs%[1]d","Effect":"Allow","Action":"cloudaudit:LookUp*","Resource":"*"},
				{"Sid":"Team%[1]d","Effect":"Allow","Action":["secretsmanager:GetSecretValue","secretsmanager:DescribeSecret"],"Resource":"arn:aws:secretsmanager:*:%[2]s:secret:team%[1]d/*"},
				{"Sid":"Tagged%[1]d","Effect":"Allow","Action":"secretsmanager:PutSecretValue","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"t%[1]d"}}},
				{"Sid":"NoDelete%[1]d","Effect":"Deny","Action":"secretsmanager:DeleteSecret","Resource":"arn:aws:secretsmanager:*:*:secret:prod/*"}`, i, acctA)))
			continue
		}
		srcs = append(srcs, cam(fmt.Sprintf(`
			{"effect":"allow","action":["kms:Decrypt"],"resource":"qcs::kms::uin/%[2]s:key/creatorUin/%[2]s/k%[1]d"},
			{"effect":"allow","action":["ssm:DescribeSecret","ssm:ListSecretVersionIds"],"resource":"qcs::ssm::uin/%[2]s:secret/creatorUin/%[2]s/app%[1]d-*"},
			{"effect":"allow","action":"ssm:UpdateDescription","resource":"qcs::ssm::uin/%[2]s:secret/*","condition":{"for_any_value:string_equal":{"qcs:resource_tag":"team&t%[1]d"}}},
			{"effect":"allow","action":"cam:Get*","resource":"*"},
			{"effect":"deny","action":"ssm:DeleteSecret","resource":"*","condition":{"date_greater_than":{"qcs:current_time":"2030-01-01T00:00:00Z"}}}`, i, acctA)))
	}
	srcs = append(srcs,
		cam(`{"effect":"deny","action":["ssm:*"],"resource":["*"],"condition":{"ip_not_equal":{"qcs:ip":["10.0.0.0/8","192.168.1.10"]}}},
			{"effect":"deny","action":["ssm:PutSecretValue"],"resource":["*"],"condition":{"date_greater_than":{"qcs:current_time":"2030-01-01T00:00:00Z"}}},
			{"effect":"allow","action":"kms:Encrypt","resource":"*"},
			{"effect":"allow","action":"tag:Describe*","resource":"*"},
			{"effect":"allow","action":"ssm:GetRegions","resource":"*"}`),
		aws(`{"Sid":"A","Effect":"Allow","Action":"kms:ListKeys","Resource":"*"},
			{"Sid":"B","Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}},
			{"Sid":"C","Effect":"Allow","Action":"secretsmanager:ListSecrets","Resource":"*"},
			{"Sid":"D","Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:*:`+acctA+`:secret:db-*"},
			{"Sid":"E","Effect":"Allow","Action":"secretsmanager:Describe*","Resource":"*"}`),
	)
	return docs(tb, srcs...)
}

func benchRequest(ip string) Request {
	req := read(alice)
	req.ResourceTags = map[string]string{"env": "prod"}
	req.Context = map[string][]string{
		"aws:SourceIp":        {ip},
		"aws:CurrentTime":     {"2026-06-01T12:00:00Z"},
		"aws:SecureTransport": {"true"},
	}
	return req
}

func BenchmarkEvaluate(b *testing.B) {
	identity := benchPolicies(b)
	resource := docs(b, aws(`{"Sid":"Cross","Effect":"Allow","Principal":{"AWS":"`+acctB+`"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`))
	cross := benchRequest("10.1.2.3")
	cross.Principal = bob
	cases := []struct {
		name     string
		req      Request
		resource []*Document
		want     Reason
	}{
		{"allowed", benchRequest("10.1.2.3"), nil, Allowed},
		{"explicit deny", benchRequest("192.0.2.1"), nil, ExplicitDeny},
		{"implicit deny", func() Request { r := benchRequest("10.1.2.3"); r.Resources = secretOf(acctA, "other"); return r }(), nil, ImplicitDeny},
		{"cross-account", cross, resource, Allowed},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			if got := Evaluate(c.req, identity, c.resource); got.Reason != c.want {
				b.Fatalf("got %v, want %v", got.Reason, c.want)
			}
			b.ReportAllocs()
			for b.Loop() {
				Evaluate(c.req, identity, c.resource)
			}
		})
	}
}

// TestEvaluateAllocations pins the hot path's allocation count: a request
// that passes every statement of the benchmark set allocates nothing.
func TestEvaluateAllocations(t *testing.T) {
	identity := benchPolicies(t)
	for _, ip := range []string{"10.1.2.3", "192.0.2.1"} {
		req := benchRequest(ip)
		if n := testing.AllocsPerRun(100, func() { Evaluate(req, identity, nil) }); n != 0 {
			t.Errorf("Evaluate from %s: %v allocations per call, want 0", ip, n)
		}
	}
}
