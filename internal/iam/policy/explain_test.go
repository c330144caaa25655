package policy

import (
	"strings"
	"testing"
)

func TestExplainSummary(t *testing.T) {
	bobIdentity := aws(`{"Sid":"Read","Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}`)
	grantB := aws(`{"Sid":"Cross","Effect":"Allow","Principal":{"AWS":"` + acctB + `"},"Action":"*","Resource":"*"}`)
	grantA := aws(`{"Sid":"Own","Effect":"Allow","Principal":{"AWS":"` + acctA + `"},"Action":"*","Resource":"*"}`)
	list := read(alice)
	list.Resources = nil
	tests := []struct {
		name               string
		req                Request
		identity, resource []string
		want               []string // fragments of the summary
	}{
		{"explicit deny", read(alice), []string{cam(`{"effect":"allow","action":"*","resource":"*"}`), aws(`{"Sid":"No","Effect":"Deny","Action":"ssm:Get*","Resource":"*"}`)}, nil,
			[]string{"ExplicitDeny: ", `identity policy 1, statement 0 (Sid "No") denies ssm:GetSecretValue on "qcs::ssm:`, "overrides every allow"}},
		{"identity allow", read(alice), []string{bobIdentity}, nil,
			[]string{`Allowed: identity policy 0, statement 0 (Sid "Read") allows ssm:GetSecretValue`}},
		{"root", read(rootOf(acctA)), nil, nil,
			[]string{"Allowed: the root of account " + acctA + " may do everything in its own account"}},
		{"resource allow", read(alice), nil, []string{aws(`{"Effect":"Allow","Principal":{"AWS":"` + alice.Names[0] + `"},"Action":"*","Resource":"*"}`)},
			[]string{"Allowed: resource policy 0, statement 0 names the principal"}},
		{"cross-account allow", read(bob), []string{bobIdentity}, []string{grantB},
			[]string{`Allowed: resource policy 0, statement 0 (Sid "Cross") lets the principal of account ` + acctB + ` into account ` + acctA, `identity policy 0, statement 0 (Sid "Read") allows it in account ` + acctB}},
		{"cross-account without resource grant", read(bob), []string{bobIdentity}, nil,
			[]string{"ImplicitDeny: ", "belongs to account " + acctA, "cross-account access needs both"}},
		{"cross-account without identity grant", read(bob), nil, []string{grantB},
			[]string{"ImplicitDeny: ", `(Sid "Cross") grants`, "no identity policy allows it in the principal's account " + acctB}},
		{"account delegation", read(alice), nil, []string{grantA},
			[]string{"ImplicitDeny: ", `(Sid "Own") names only the principal's account`}},
		{"nothing", list, nil, nil,
			[]string{`ImplicitDeny: no statement allows ssm:GetSecretValue on "*" (an operation-level call)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := Explain(tt.req, docs(t, tt.identity...), docs(t, tt.resource...))
			for _, w := range tt.want {
				if !strings.Contains(x.Summary, w) {
					t.Errorf("summary %q\nwant it to contain %q", x.Summary, w)
				}
			}
		})
	}
}

func TestExplainSteps(t *testing.T) {
	identity := docs(t,
		aws(`{"Sid":"Kms","Effect":"Allow","Action":"kms:*","Resource":"*"},
			{"Sid":"Read","Effect":"Allow","Action":"secretsmanager:Get*","Resource":"arn:aws:secretsmanager:*:*:secret:db-*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`),
		cam(`{"effect":"deny","action":"ssm:*","resource":"*","condition":{"ip_not_equal":{"qcs:ip":"10.0.0.0/8"}}}`),
	)
	req := read(alice)
	req.Context = ctx{"aws:SourceIp": {"192.0.2.1"}}
	x := Explain(req, identity, nil)
	if x.Decision.Reason != ExplicitDeny {
		t.Fatalf("got %+v, want an explicit deny", x.Decision)
	}
	if got, want := len(x.Steps), 3; got != want {
		t.Fatalf("%d steps, want %d (every statement, even after the deny)", got, want)
	}
	wants := []struct {
		applies bool
		notes   []string
	}{
		{false, []string{`Action: none of ["kms:*"] matches ["ssm:GetSecretValue" "secretsmanager:GetSecretValue"]`}},
		{false, []string{`Action "secretsmanager:Get*" matches "secretsmanager:GetSecretValue"`,
			`Resource "arn:aws:secretsmanager:*:*:secret:db-*" matches "arn:aws:secretsmanager:ap-guangzhou:` + acctA + `:secret:db-AbCdEf"`,
			`Condition IpAddress "aws:SourceIp" ["10.0.0.0/8"]: the request has ["192.0.2.1"]: does not hold`}},
		{true, []string{`Action "ssm:*" matches "ssm:GetSecretValue"`, `Resource "*" matches`,
			`Condition ip_not_equal "qcs:ip" ["10.0.0.0/8"]: the request has ["192.0.2.1"]: holds`}},
	}
	for i, w := range wants {
		step := x.Steps[i]
		if step.Applies != w.applies {
			t.Errorf("step %d applies %v, want %v", i, step.Applies, w.applies)
		}
		all := strings.Join(step.Notes, "\n")
		for _, n := range w.notes {
			if !strings.Contains(all, n) {
				t.Errorf("step %d notes:\n%s\nwant a note containing %q", i, all, n)
			}
		}
	}
	text := x.String()
	for _, w := range []string{"ExplicitDeny: identity policy 1, statement 0 denies", "\n  identity policy 0, statement 1 (Sid \"Read\"), Allow: does not apply\n", "\n    Action \"ssm:*\" matches"} {
		if !strings.Contains(text, w) {
			t.Errorf("String():\n%s\nwant it to contain %q", text, w)
		}
	}
}

func TestExplainPrincipalNotes(t *testing.T) {
	resource := docs(t,
		aws(`{"Effect":"Allow","Principal":{"AWS":"`+acctA+`"},"Action":"*","Resource":"*"},
			{"Effect":"Deny","NotPrincipal":{"AWS":"`+alice.Names[0]+`"},"Action":"*","Resource":"*"},
			{"Effect":"Allow","Action":"*","Resource":"*"}`),
	)
	x := Explain(read(alice), nil, resource)
	wants := []string{
		"Principal names the principal's account",
		"NotPrincipal does not name both the principal and its account, so the statement covers it",
		"no Principal in a resource policy: the Allow grants nothing",
	}
	for i, w := range wants {
		if all := strings.Join(x.Steps[i].Notes, "\n"); !strings.Contains(all, w) {
			t.Errorf("step %d notes:\n%s\nwant %q", i, all, w)
		}
	}
}
