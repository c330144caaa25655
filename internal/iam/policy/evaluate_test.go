package policy

import (
	"strings"
	"testing"
)

// The accounts of the tests: A holds the secrets, B reaches in from outside.
const (
	acctA = "100000000001"
	acctB = "200000000002"
)

// userOf returns a sub-user of acct with its names in both spellings.
func userOf(acct, name, uin string) Principal {
	return Principal{
		Account: acct, ID: uin, Kind: KindUser,
		Names: []string{"arn:aws:iam::" + acct + ":user/" + name, "qcs::cam::uin/" + acct + ":uin/" + uin},
	}
}

func rootOf(acct string) Principal {
	return Principal{
		Account: acct, ID: acct, Kind: KindRoot,
		Names: []string{"arn:aws:iam::" + acct + ":root", "qcs::cam::uin/" + acct + ":root", "qcs::cam::uin/" + acct + ":uin/" + acct},
	}
}

// secretOf returns a secret's names in both spellings.
func secretOf(acct, name string) []string {
	return []string{
		"qcs::ssm:ap-guangzhou:uin/" + acct + ":secret/creatorUin/" + acct + "/" + name,
		"arn:aws:secretsmanager:ap-guangzhou:" + acct + ":secret:" + name + "-AbCdEf",
	}
}

var (
	alice = userOf(acctA, "alice", "100000000011")
	bob   = userOf(acctB, "bob", "200000000022")
)

// docs parses documents or fails the test.
func docs(tb testing.TB, srcs ...string) []*Document {
	tb.Helper()
	out := make([]*Document, len(srcs))
	for i, s := range srcs {
		out[i] = mustParse(tb, s)
	}
	return out
}

// read is GetSecretValue on secret "db" of account A, named by the SSM edge.
func read(p Principal) Request {
	return Request{
		Action:      "ssm:GetSecretValue",
		Equivalents: Equivalents("ssm:GetSecretValue"),
		Resources:   secretOf(acctA, "db"),
		Principal:   p,
	}
}

type evalCase struct {
	name     string
	req      Request
	identity []string
	resource []string
	want     Reason
}

func runEvalCases(t *testing.T, tests []evalCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Evaluate(tt.req, docs(t, tt.identity...), docs(t, tt.resource...))
			if got.Reason != tt.want || got.Allowed != (tt.want == Allowed) {
				t.Errorf("got %+v, want %v\n%s", got, tt.want, Explain(tt.req, docs(t, tt.identity...), docs(t, tt.resource...)))
			}
		})
	}
}

func TestEvaluateActions(t *testing.T) {
	allowAWS := func(action string) string {
		return aws(`{"Effect":"Allow","Action":` + action + `,"Resource":"*"}`)
	}
	allowCAM := func(action string) string {
		return cam(`{"effect":"allow","action":` + action + `,"resource":"*"}`)
	}
	awsRead := read(alice)
	awsRead.Action, awsRead.Equivalents = "secretsmanager:GetSecretValue", Equivalents("secretsmanager:GetSecretValue")
	noEquivalents := read(alice)
	noEquivalents.Equivalents = nil
	runEvalCases(t, []evalCase{
		{"no policy", read(alice), nil, nil, ImplicitDeny},
		{"exact", read(alice), []string{allowCAM(`"ssm:GetSecretValue"`)}, nil, Allowed},
		{"other action", read(alice), []string{allowCAM(`"ssm:PutSecretValue"`)}, nil, ImplicitDeny},
		{"star", read(alice), []string{allowCAM(`"*"`)}, nil, Allowed},
		{"service star", read(alice), []string{allowCAM(`"ssm:*"`)}, nil, Allowed},
		{"prefix star", read(alice), []string{allowCAM(`"ssm:Get*"`)}, nil, Allowed},
		{"question mark", read(alice), []string{allowCAM(`"ssm:GetSecret?alue"`)}, nil, Allowed},
		{"other service star", read(alice), []string{allowCAM(`"kms:*"`)}, nil, ImplicitDeny},
		{"legacy name prefix", read(alice), []string{allowCAM(`"name/ssm:GetSecretValue"`)}, nil, Allowed},
		{"letter case ignored", read(alice), []string{allowCAM(`"SSM:getsecretVALUE"`)}, nil, Allowed},
		{"list", read(alice), []string{allowCAM(`["kms:Decrypt","ssm:GetSecretValue"]`)}, nil, Allowed},
		{"aws grant, ssm call", read(alice), []string{allowAWS(`"secretsmanager:GetSecretValue"`)}, nil, Allowed},
		{"aws wildcard, ssm call", read(alice), []string{allowAWS(`"secretsmanager:Get*"`)}, nil, Allowed},
		{"aws grant, ssm call without equivalents", noEquivalents, []string{allowAWS(`"secretsmanager:GetSecretValue"`)}, nil, ImplicitDeny},
		{"cam grant, aws call", awsRead, []string{allowCAM(`"ssm:GetSecretValue"`)}, nil, Allowed},
		{"cam wildcard, aws call", awsRead, []string{allowCAM(`"ssm:*"`)}, nil, Allowed},
		{"not action covers others", read(alice), []string{aws(`{"Effect":"Allow","NotAction":"secretsmanager:Delete*","Resource":"*"}`)}, nil, Allowed},
		{"not action excludes", read(alice), []string{aws(`{"Effect":"Allow","NotAction":"secretsmanager:Get*","Resource":"*"}`)}, nil, ImplicitDeny},
		{"not action excludes by any name", read(alice), []string{aws(`{"Effect":"Allow","NotAction":["ssm:GetSecretValue"],"Resource":"*"}`)}, nil, ImplicitDeny},
		{"deny not action spares the listed", read(alice), []string{allowCAM(`"*"`), aws(`{"Effect":"Deny","NotAction":"secretsmanager:GetSecretValue","Resource":"*"}`)}, nil, Allowed},
		{"deny not action hits the rest", read(alice), []string{allowCAM(`"*"`), aws(`{"Effect":"Deny","NotAction":"secretsmanager:Describe*","Resource":"*"}`)}, nil, ExplicitDeny},
	})
}

func TestEvaluateResources(t *testing.T) {
	allowOn := func(resource string) string {
		return cam(`{"effect":"allow","action":"ssm:*","resource":` + resource + `}`)
	}
	allowARN := func(element, resource string) string {
		return aws(`{"Effect":"Allow","Action":"secretsmanager:*","` + element + `":` + resource + `}`)
	}
	list := read(alice)
	list.Action, list.Equivalents, list.Resources = "ssm:ListSecrets", Equivalents("ssm:ListSecrets"), nil
	other := read(alice)
	other.Resources = secretOf(acctA, "other")
	runEvalCases(t, []evalCase{
		{"exact qcs", read(alice), []string{allowOn(`"qcs::ssm:ap-guangzhou:uin/` + acctA + `:secret/creatorUin/` + acctA + `/db"`)}, nil, Allowed},
		{"secret/*", read(alice), []string{allowOn(`"qcs::ssm:ap-guangzhou:uin/` + acctA + `:secret/*"`)}, nil, Allowed},
		{"secret/creatorUin/*", read(alice), []string{allowOn(`"qcs::ssm:ap-guangzhou:uin/` + acctA + `:secret/creatorUin/*"`)}, nil, Allowed},
		{"empty region means all", read(alice), []string{allowOn(`"qcs::ssm::uin/` + acctA + `:secret/*"`)}, nil, Allowed},
		{"empty service means all", read(alice), []string{allowOn(`"qcs:::ap-guangzhou:uin/` + acctA + `:secret/*"`)}, nil, Allowed},
		{"empty account means the owner", read(alice), []string{allowOn(`"qcs::ssm:::secret/*"`)}, nil, Allowed},
		{"empty account is not another owner", read(bob), []string{allowOn(`"qcs::ssm:::secret/*"`)}, []string{aws(`{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}`)}, ImplicitDeny},
		{"project ignored", read(alice), []string{allowOn(`"qcs:12:ssm::uin/` + acctA + `:secret/*"`)}, nil, Allowed},
		{"other region", read(alice), []string{allowOn(`"qcs::ssm:ap-beijing:uin/` + acctA + `:secret/*"`)}, nil, ImplicitDeny},
		{"other account", read(alice), []string{allowOn(`"qcs::ssm::uin/` + acctB + `:secret/*"`)}, nil, ImplicitDeny},
		{"wildcard segments", read(alice), []string{allowOn(`"qcs::ssm:*:*:*/db"`)}, nil, Allowed},
		{"other secret", other, []string{allowOn(`"qcs::ssm::uin/` + acctA + `:secret/creatorUin/` + acctA + `/db"`)}, nil, ImplicitDeny},
		{"question mark", read(alice), []string{allowOn(`"qcs::ssm::uin/` + acctA + `:secret/creatorUin/` + acctA + `/d?"`)}, nil, Allowed},
		{"case-sensitive", read(alice), []string{allowOn(`"qcs::ssm::uin/` + acctA + `:secret/creatorUin/` + acctA + `/DB"`)}, nil, ImplicitDeny},
		{"arn exact", read(alice), []string{allowARN("Resource", `"arn:aws:secretsmanager:ap-guangzhou:`+acctA+`:secret:db-AbCdEf"`)}, nil, Allowed},
		{"arn suffix wildcard", read(alice), []string{allowARN("Resource", `"arn:aws:secretsmanager:*:`+acctA+`:secret:db-??????"`)}, nil, Allowed},
		{"arn whole-string star", read(alice), []string{allowARN("Resource", `"arn:aws:secretsmanager:*:secret:db-*"`)}, nil, Allowed},
		{"arn case-sensitive", read(alice), []string{allowARN("Resource", `"arn:aws:secretsmanager:*:*:secret:DB-*"`)}, nil, ImplicitDeny},
		{"arn wildcards match the arn spelling", read(alice), []string{allowARN("Resource", `"arn:*:*:*:*:*"`)}, nil, Allowed},
		{"not resource covers others", read(alice), []string{allowARN("NotResource", `"arn:aws:secretsmanager:*:*:secret:prod/*"`)}, nil, Allowed},
		{"not resource excludes", read(alice), []string{allowARN("NotResource", `"arn:aws:secretsmanager:*:*:secret:db-*"`)}, nil, ImplicitDeny},
		{"deny not resource spares the listed", read(alice), []string{allowOn(`"*"`), aws(`{"Effect":"Deny","Action":"*","NotResource":"arn:aws:secretsmanager:*:*:secret:db-*"}`)}, nil, Allowed},
		{"deny not resource hits the rest", other, []string{allowOn(`"*"`), aws(`{"Effect":"Deny","Action":"*","NotResource":"arn:aws:secretsmanager:*:*:secret:db-*"}`)}, nil, ExplicitDeny},
		{"operation level needs star", list, []string{allowOn(`"qcs::ssm::uin/` + acctA + `:secret/*"`)}, nil, ImplicitDeny},
		{"operation level with star", list, []string{allowOn(`"*"`)}, nil, Allowed},
		{"operation level with not resource", list, []string{allowARN("NotResource", `"arn:aws:secretsmanager:*:*:secret:x-*"`)}, nil, Allowed},
		{"identity allow without resource grants nothing", read(alice), []string{aws(`{"Effect":"Allow","Action":"*"}`)}, nil, ImplicitDeny},
		{"identity deny without resource covers all", read(alice), []string{allowOn(`"*"`), aws(`{"Effect":"Deny","Action":"*"}`)}, nil, ExplicitDeny},
	})
}

func TestEvaluateVariables(t *testing.T) {
	withName := read(alice)
	withName.Context = map[string][]string{"aws:username": {"alice"}}
	withName.Resources = []string{"arn:aws:secretsmanager:ap-guangzhou:" + acctA + ":secret:alice/db-AbCdEf"}
	starName := withName
	starName.Context = map[string][]string{"aws:username": {"*"}}
	perUser := aws(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:secretsmanager:*:*:secret:${aws:username}/*"}`)
	camOwn := cam(`{"effect":"allow","action":"ssm:*","resource":"qcs::ssm::uin/${owner_uin}:secret/*","condition":{"string_equal":{"qcs:create_uin":"${uin}"}}}`)
	created := func(uin string) Request {
		r := read(alice)
		r.Context = map[string][]string{"qcs:create_uin": {uin}}
		return r
	}
	runEvalCases(t, []evalCase{
		{"aws username", withName, []string{perUser}, nil, Allowed},
		{"aws username missing", read(alice), []string{perUser}, nil, ImplicitDeny},
		{"substituted star is literal", starName, []string{perUser}, nil, ImplicitDeny},
		{"2008 documents do not substitute", withName, []string{`{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:secretsmanager:*:*:secret:${aws:username}/*"}]}`}, nil, ImplicitDeny},
		{"aws default", read(alice), []string{aws(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:secretsmanager:*:*:secret:${aws:username, 'db'}-*"}`)}, nil, Allowed},
		{"cam uin and owner_uin", created(alice.ID), []string{camOwn}, nil, Allowed},
		{"cam uin of another", created("100000000099"), []string{camOwn}, nil, ImplicitDeny},
		{"condition value variable", withName, []string{aws(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:username":"${aws:username}"}}}`)}, nil, Allowed},
		{"condition value variable missing", func() Request {
			r := read(alice)
			r.Context = map[string][]string{"k": {"x"}}
			return r
		}(), []string{aws(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"k":"${aws:username}"}}}`)}, nil, ImplicitDeny},
		{"principal tag variable", func() Request {
			r := read(alice)
			r.Principal.Tags = map[string]string{"team": "db"}
			return r
		}(), []string{aws(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:secretsmanager:*:*:secret:${aws:PrincipalTag/team}-*"}`)}, nil, Allowed},
	})
}

func TestEvaluatePrincipals(t *testing.T) {
	allowCAM := cam(`{"effect":"allow","action":"ssm:*","resource":"*"}`)
	allowAWS := aws(`{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}`)
	grant := func(principal string) string {
		return aws(`{"Effect":"Allow","Principal":` + principal + `,"Action":"secretsmanager:GetSecretValue","Resource":"*"}`)
	}
	grantCAM := func(principal string) string {
		return cam(`{"effect":"allow","principal":` + principal + `,"action":"ssm:GetSecretValue","resource":"*"}`)
	}
	denyAllBut := func(notPrincipal string) string {
		return aws(`{"Effect":"Deny","NotPrincipal":` + notPrincipal + `,"Action":"*","Resource":"*"}`)
	}
	aliceARN, aliceQCS := alice.Names[0], alice.Names[1]
	svc := Principal{Kind: KindService, Names: []string{"rotation.coffer.internal"}}
	role := Principal{Account: acctA, ID: "4611686018427397905", Kind: KindRole, Names: []string{
		"arn:aws:iam::" + acctA + ":role/app", "arn:aws:sts::" + acctA + ":assumed-role/app/s1", "qcs::cam::uin/" + acctA + ":roleName/app",
	}}
	runEvalCases(t, []evalCase{
		// Same account: a resource policy naming the caller suffices alone.
		{"resource policy names the user", read(alice), nil, []string{grant(`{"AWS":"` + aliceARN + `"}`)}, Allowed},
		{"resource policy names everyone", read(alice), nil, []string{grant(`"*"`)}, Allowed},
		{"resource policy names AWS star", read(alice), nil, []string{grant(`{"AWS":"*"}`)}, Allowed},
		{"resource policy names another user", read(alice), nil, []string{grant(`{"AWS":"arn:aws:iam::` + acctA + `:user/carol"}`)}, ImplicitDeny},
		{"resource policy names the role", read(role), nil, []string{grant(`{"AWS":"arn:aws:iam::` + acctA + `:role/app"}`)}, Allowed},
		{"resource policy names the session", read(role), nil, []string{grant(`{"AWS":"arn:aws:sts::` + acctA + `:assumed-role/app/s1"}`)}, Allowed},
		{"account root delegates to identity: none", read(alice), nil, []string{grant(`{"AWS":"arn:aws:iam::` + acctA + `:root"}`)}, ImplicitDeny},
		{"account id delegates to identity: none", read(alice), nil, []string{grant(`{"AWS":"` + acctA + `"}`)}, ImplicitDeny},
		{"account root delegates to identity: allowed", read(alice), []string{allowCAM}, []string{grant(`{"AWS":"arn:aws:iam::` + acctA + `:root"}`)}, Allowed},
		{"cam principal uin", read(alice), nil, []string{grantCAM(`{"qcs":["` + aliceQCS + `"]}`)}, Allowed},
		{"cam principal bare string", read(alice), nil, []string{grantCAM(`{"qcs":"` + aliceQCS + `"}`)}, Allowed},
		{"cam principal root delegates", read(alice), nil, []string{grantCAM(`{"qcs":["qcs::cam::uin/` + acctA + `:root"]}`)}, ImplicitDeny},
		{"cam principal anyone", read(alice), nil, []string{grantCAM(`{"qcs":["qcs::cam::anyone"]}`)}, Allowed},
		{"cam document principal", read(alice), nil, []string{`{"version":"2.0","principal":{"qcs":"` + aliceQCS + `"},"statement":{"effect":"allow","action":"ssm:*","resource":"*"}}`}, Allowed},
		{"resource allow without principal grants nothing", read(alice), nil, []string{aws(`{"Effect":"Allow","Action":"*","Resource":"*"}`)}, ImplicitDeny},
		{"resource deny without principal covers all", read(alice), []string{allowCAM}, []string{aws(`{"Effect":"Deny","Action":"*","Resource":"*"}`)}, ExplicitDeny},
		{"principal in identity policy must match", read(alice), []string{aws(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acctA + `:user/carol"},"Action":"*","Resource":"*"}`)}, nil, ImplicitDeny},
		// Services have no account.
		{"service named", read(svc), nil, []string{grant(`{"Service":"rotation.coffer.internal"}`)}, Allowed},
		{"service star", read(svc), nil, []string{grant(`{"Service":"*"}`)}, Allowed},
		{"service not named", read(svc), nil, []string{grant(`{"Service":"other.coffer.internal"}`)}, ImplicitDeny},
		{"service type never names a user", read(alice), nil, []string{grant(`{"Service":"*"}`)}, ImplicitDeny},
		// The root.
		{"root of own account", read(rootOf(acctA)), nil, nil, Allowed},
		{"root still denied explicitly", read(rootOf(acctA)), []string{aws(`{"Effect":"Deny","Action":"*","Resource":"*"}`)}, nil, ExplicitDeny},
		{"root of another account", read(rootOf(acctB)), nil, nil, ImplicitDeny},
		{"root of another account with grant", read(rootOf(acctB)), nil, []string{grant(`{"AWS":"` + acctB + `"}`)}, Allowed},
		// NotPrincipal: AWS spares a caller only when its account is named too.
		{"not principal spares user and account", read(alice), []string{allowAWS}, []string{denyAllBut(`{"AWS":["` + aliceARN + `","arn:aws:iam::` + acctA + `:root"]}`)}, Allowed},
		{"not principal naming the user only", read(alice), []string{allowAWS}, []string{denyAllBut(`{"AWS":"` + aliceARN + `"}`)}, ExplicitDeny},
		{"not principal naming the account only", read(alice), []string{allowAWS}, []string{denyAllBut(`{"AWS":"` + acctA + `"}`)}, ExplicitDeny},
		{"not principal spares the root by account", read(rootOf(acctA)), nil, []string{denyAllBut(`{"AWS":"` + acctA + `"}`)}, Allowed},
		{"not principal hits others", read(userOf(acctA, "carol", "100000000033")), []string{allowAWS}, []string{denyAllBut(`{"AWS":["` + aliceARN + `","` + acctA + `"]}`)}, ExplicitDeny},
		{"not principal star spares everyone", read(alice), []string{allowAWS}, []string{denyAllBut(`"*"`)}, Allowed},
		{"allow not principal covers others", read(alice), nil, []string{aws(`{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::` + acctA + `:user/carol"},"Action":"*","Resource":"*"}`)}, Allowed},
	})
}

func TestEvaluateCrossAccount(t *testing.T) {
	bobIdentity := aws(`{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:*:` + acctA + `:secret:*"}`)
	bobIdentityCAM := cam(`{"effect":"allow","action":"ssm:GetSecretValue","resource":"qcs::ssm::uin/` + acctA + `:secret/*"}`)
	grant := func(principal string) string {
		return aws(`{"Effect":"Allow","Principal":` + principal + `,"Action":"secretsmanager:GetSecretValue","Resource":"*"}`)
	}
	aliceIdentity := cam(`{"effect":"allow","action":"ssm:*","resource":"*"}`)
	// Bob's own secret of the same name: the other account's grants do not reach it.
	bobsOwn := read(bob)
	bobsOwn.Resources = secretOf(acctB, "db")
	explicit := read(bob)
	explicit.ResourceAccount = acctA
	explicit.Resources = nil
	runEvalCases(t, []evalCase{
		{"no grants", read(bob), nil, nil, ImplicitDeny},
		{"identity only", read(bob), []string{bobIdentity}, nil, ImplicitDeny},
		{"resource policy only", read(bob), nil, []string{grant(`{"AWS":"` + bob.Names[0] + `"}`)}, ImplicitDeny},
		{"both, by name", read(bob), []string{bobIdentity}, []string{grant(`{"AWS":"` + bob.Names[0] + `"}`)}, Allowed},
		{"both, by account id", read(bob), []string{bobIdentity}, []string{grant(`{"AWS":"` + acctB + `"}`)}, Allowed},
		{"both, by account root", read(bob), []string{bobIdentity}, []string{grant(`{"AWS":"arn:aws:iam::` + acctB + `:root"}`)}, Allowed},
		{"both, by qcs root", read(bob), []string{bobIdentityCAM}, []string{cam(`{"effect":"allow","principal":{"qcs":"qcs::cam::uin/` + acctB + `:root"},"action":"ssm:GetSecretValue","resource":"*"}`)}, Allowed},
		{"both, everyone", read(bob), []string{bobIdentity}, []string{grant(`"*"`)}, Allowed},
		{"resource policy names another account", read(bob), []string{bobIdentity}, []string{grant(`{"AWS":"300000000003"}`)}, ImplicitDeny},
		{"identity allows another account's secrets only", read(bob), []string{aws(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:secretsmanager:*:` + acctB + `:secret:*"}`)}, []string{grant(`"*"`)}, ImplicitDeny},
		{"empty account in cam pattern is the caller's own", read(bob), []string{cam(`{"effect":"allow","action":"ssm:*","resource":"qcs::ssm:::secret/*"}`)}, []string{grant(`"*"`)}, ImplicitDeny},
		{"resource deny wins", read(bob), []string{bobIdentity}, []string{grant(`"*"`), aws(`{"Effect":"Deny","Principal":{"AWS":"` + acctB + `"},"Action":"*","Resource":"*"}`)}, ExplicitDeny},
		{"identity deny wins", read(bob), []string{bobIdentity, aws(`{"Effect":"Deny","Action":"*","Resource":"arn:aws:secretsmanager:*:` + acctA + `:*"}`)}, []string{grant(`"*"`)}, ExplicitDeny},
		{"same name in own account", bobsOwn, []string{aws(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:secretsmanager:*:` + acctB + `:secret:*"}`)}, nil, Allowed},
		{"same name, other account's identity grant", bobsOwn, []string{aliceIdentityFor(acctA)}, nil, ImplicitDeny},
		{"explicit resource account", explicit, []string{aws(`{"Effect":"Allow","Action":"*","Resource":"*"}`)}, nil, ImplicitDeny},
		{"owner reads with identity grant", read(alice), []string{aliceIdentity}, nil, Allowed},
	})
}

func aliceIdentityFor(acct string) string {
	return cam(`{"effect":"allow","action":"ssm:*","resource":"qcs::ssm::uin/` + acct + `:secret/*"}`)
}

func TestEvaluateDecisionRefs(t *testing.T) {
	identity := docs(t,
		aws(`{"Sid":"Other","Effect":"Allow","Action":"kms:*","Resource":"*"},{"Sid":"Read","Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}`),
		cam(`{"effect":"deny","action":"ssm:GetSecretValue","resource":"*","condition":{"ip_not_equal":{"qcs:ip":"10.0.0.0/8"}}}`),
	)
	req := read(bob)
	req.Context = map[string][]string{"aws:SourceIp": {"10.1.2.3"}}
	resource := docs(t, aws(`{"Sid":"Cross","Effect":"Allow","Principal":{"AWS":"`+acctB+`"},"Action":"*","Resource":"*"}`))

	got := Evaluate(req, identity, resource)
	want := Decision{Allowed: true, Reason: Allowed,
		Statement: StatementRef{Source: ResourcePolicy, Document: 0, Statement: 0, Sid: "Cross"},
		Also:      StatementRef{Source: IdentityPolicy, Document: 0, Statement: 1, Sid: "Read"}}
	if got != want {
		t.Errorf("cross-account allow: got %+v, want %+v", got, want)
	}

	req.Context = map[string][]string{"aws:SourceIp": {"192.0.2.1"}}
	got = Evaluate(req, identity, resource)
	want = Decision{Reason: ExplicitDeny, Statement: StatementRef{Source: IdentityPolicy, Document: 1, Statement: 0}}
	if got != want {
		t.Errorf("deny from outside the network: got %+v, want %+v", got, want)
	}

	got = Evaluate(read(rootOf(acctA)), nil, nil)
	want = Decision{Allowed: true, Reason: Allowed, Statement: StatementRef{Source: AccountRoot, Document: -1, Statement: -1}}
	if got != want {
		t.Errorf("root: got %+v, want %+v", got, want)
	}
	if got := Evaluate(read(alice), nil, nil); got != (Decision{}) {
		t.Errorf("nothing: got %+v, want the zero Decision", got)
	}
}

func TestEvaluateSkipsNilDocuments(t *testing.T) {
	identity := []*Document{nil, mustParse(t, cam(`{"effect":"allow","action":"*","resource":"*"}`)), nil}
	if got := Evaluate(read(alice), identity, []*Document{nil}); !got.Allowed {
		t.Errorf("got %+v, want allowed", got)
	}
}

func TestSpecExample(t *testing.T) {
	// The CAM example of spec §2.8, for a sub-user of account 100000000001.
	example := validDocs["cam example"]
	call := func(action, secret, ip, now string) Request {
		r := Request{Action: action, Equivalents: Equivalents(action), Resources: secretOf(acctA, secret), Principal: alice,
			Context: map[string][]string{"qcs:ip": {ip}, "qcs:current_time": {now}}}
		return r
	}
	runEvalCases(t, []evalCase{
		{"read the granted secret", call("ssm:GetSecretValue", "db-password", "10.1.1.1", "2026-06-01T00:00:00Z"), []string{example}, nil, Allowed},
		{"read from outside the network", call("ssm:GetSecretValue", "db-password", "192.0.2.1", "2026-06-01T00:00:00Z"), []string{example}, nil, ExplicitDeny},
		{"read from the allowed address", call("ssm:GetSecretValue", "db-password", "192.168.1.10", "2026-06-01T00:00:00Z"), []string{example}, nil, Allowed},
		{"read another secret", call("ssm:GetSecretValue", "api-key", "10.1.1.1", "2026-06-01T00:00:00Z"), []string{example}, nil, ImplicitDeny},
		{"write is not granted", call("ssm:PutSecretValue", "db-password", "10.1.1.1", "2026-06-01T00:00:00Z"), []string{example}, nil, ImplicitDeny},
		{"aws-edge read", call("secretsmanager:GetSecretValue", "db-password", "10.1.1.1", "2026-06-01T00:00:00Z"), []string{example}, nil, Allowed},
		{"after the cut-off writes are denied", call("ssm:PutSecretValue", "db-password", "10.1.1.1", "2027-01-01T00:00:00Z"), []string{example, cam(`{"effect":"allow","action":"ssm:*","resource":"*"}`)}, nil, ExplicitDeny},
		{"before the cut-off writes pass", call("ssm:PutSecretValue", "db-password", "10.1.1.1", "2026-12-31T23:59:59Z"), []string{example, cam(`{"effect":"allow","action":"ssm:*","resource":"*"}`)}, nil, Allowed},
	})
}

func TestEquivalents(t *testing.T) {
	tests := []struct{ action, want string }{
		{"ssm:GetSecretValue", "secretsmanager:GetSecretValue"},
		{"secretsmanager:GetSecretValue", "ssm:GetSecretValue"},
		{"ssm:UpdateDescription", "secretsmanager:UpdateSecret"},
		{"secretsmanager:UpdateSecret", ""},
		{"ssm:EnableSecret", ""},
		{"secretsmanager:CancelRotateSecret", "ssm:UpdateRotationStatus"},
		{"nope", ""},
	}
	for _, tt := range tests {
		if got := strings.Join(Equivalents(tt.action), ","); got != tt.want {
			t.Errorf("Equivalents(%q) = %q, want %q", tt.action, got, tt.want)
		}
	}
}
