package policy

import (
	"reflect"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// The generators below draw requests and documents from small pools, so
// that statements often match the request and the properties are tested
// on interesting decisions, not only on implicit denials.

var (
	genActions = []string{"ssm:GetSecretValue", "ssm:PutSecretValue", "ssm:ListSecrets", "ssm:EnableSecret",
		"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "secretsmanager:UpdateSecret", "kms:Decrypt"}
	genActionPatterns = []string{"*", "ssm:*", "ssm:Get*", "ssm:?etSecretValue", "ssm:GetSecretValue", "ssm:PutSecretValue",
		"secretsmanager:*", "secretsmanager:GetSecretValue", "secretsmanager:Describe*", "kms:*", "SSM:getsecretvalue"}
	genSecretNames  = []string{"db", "api", "db2"}
	genCAMResources = []string{"*", "qcs::ssm::uin/" + acctA + ":secret/*", "qcs::ssm:ap-guangzhou:uin/" + acctB + ":secret/*",
		"qcs::ssm:::secret/*", "qcs::ssm::uin/" + acctA + ":secret/creatorUin/" + acctA + "/db", "qcs::ssm::uin/${owner_uin}:secret/*",
		"qcs::kms::uin/" + acctA + ":key/*"}
	genARNResources = []string{"*", "arn:aws:secretsmanager:*:" + acctA + ":secret:*", "arn:aws:secretsmanager:*:" + acctB + ":secret:*",
		"arn:aws:secretsmanager:*:*:secret:db-??????", "arn:aws:secretsmanager:*:*:secret:${aws:username}*", "arn:aws:kms:*:*:key/*"}
	genPrincipals = []Principal{
		alice, bob, rootOf(acctA), rootOf(acctB), userOf(acctA, "carol", "100000000033"),
		{Account: acctB, ID: "r1", Kind: KindRole, Names: []string{"arn:aws:iam::" + acctB + ":role/app", "qcs::cam::uin/" + acctB + ":roleName/app"}},
		{Kind: KindService, Names: []string{"rotation.coffer.internal"}},
	}
	genAWSPrincipalIDs = []string{"*", acctA, acctB, "arn:aws:iam::" + acctA + ":root", "arn:aws:iam::" + acctB + ":root",
		alice.Names[0], bob.Names[0], "arn:aws:iam::" + acctB + ":role/app"}
	genQCSPrincipalIDs = []string{"*", "qcs::cam::uin/" + acctA + ":root", "qcs::cam::uin/" + acctB + ":root", alice.Names[1], bob.Names[1]}
	genAWSConditions   = []Conditions{
		{"IpAddress": {"aws:SourceIp": {"10.0.0.0/8"}}},
		{"NotIpAddress": {"aws:SourceIp": {"10.0.0.0/8", "192.0.2.1"}}},
		{"Bool": {"aws:SecureTransport": {"true"}}},
		{"StringEquals": {"aws:ResourceTag/env": {"prod"}}},
		{"StringNotEquals": {"aws:PrincipalTag/team": {"pay"}}},
		{"ForAllValues:StringLike": {"aws:TagKeys": {"env*"}}},
		{"ForAnyValue:StringEquals": {"aws:TagKeys": {"owner"}}},
		{"DateLessThan": {"aws:CurrentTime": {"2030-01-01T00:00:00Z"}}},
		{"StringEqualsIfExists": {"aws:username": {"alice"}}},
		{"Null": {"aws:username": {"true"}}},
		{"StringLike": {"aws:ResourceTag/team": {"${aws:PrincipalTag/team}"}}},
	}
	genCAMConditions = []Conditions{
		{"ip_equal": {"qcs:ip": {"10.0.0.0/8"}}},
		{"ip_not_equal": {"qcs:ip": {"10.0.0.0/8"}}},
		{"for_any_value:string_equal": {"qcs:resource_tag": {"env&prod"}}},
		{"for_all_value:string_like": {"qcs:request_tag": {"env&*"}}},
		{"date_greater_than": {"qcs:current_time": {"2026-12-31T23:59:59Z"}}},
		{"string_equal_if_exist": {"qcs:create_uin": {"${uin}"}}},
		{"bool_equal": {"qcs:secure_transport": {"true"}}},
	}
)

func drawRequest(t *rapid.T) Request {
	action := rapid.SampledFrom(genActions).Draw(t, "action")
	req := Request{Action: action, Equivalents: Equivalents(action), Principal: rapid.SampledFrom(genPrincipals).Draw(t, "principal")}
	if rapid.IntRange(0, 4).Draw(t, "operation level") > 0 {
		req.Resources = secretOf(rapid.SampledFrom([]string{acctA, acctB}).Draw(t, "owner"), rapid.SampledFrom(genSecretNames).Draw(t, "secret"))
	}
	req.Context = map[string][]string{
		"aws:SourceIp":        {rapid.SampledFrom([]string{"10.1.2.3", "192.0.2.1", "198.51.100.7"}).Draw(t, "ip")},
		"aws:CurrentTime":     {rapid.SampledFrom([]string{"2026-06-01T00:00:00Z", "2031-01-01T00:00:00Z"}).Draw(t, "time")},
		"aws:SecureTransport": {rapid.SampledFrom([]string{"true", "false"}).Draw(t, "tls")},
	}
	if rapid.Bool().Draw(t, "username") {
		req.Context["aws:username"] = []string{"alice"}
	}
	tags := rapid.MapOfN(rapid.SampledFrom([]string{"env", "team", "owner"}), rapid.SampledFrom([]string{"prod", "pay", "dev"}), 0, 3)
	req.ResourceTags = tags.Draw(t, "resource tags")
	req.RequestTags = tags.Draw(t, "request tags")
	req.Principal.Tags = tags.Draw(t, "principal tags")
	return req
}

// drawStatement draws a statement a document of the dialect can hold; for
// a resource document it usually names principals.
func drawStatement(t *rapid.T, d Dialect, src Source, effect Effect) Statement {
	s := Statement{Effect: effect}
	cam := d == CAM
	not := func(label string) bool { return !cam && rapid.IntRange(0, 4).Draw(t, label) == 0 }
	actions := rapid.SliceOfN(rapid.SampledFrom(genActionPatterns), 1, 3).Draw(t, "actions")
	if not("not action") {
		s.NotActions = actions
	} else {
		s.Actions = actions
	}
	pool := genARNResources
	if cam {
		pool = genCAMResources
	}
	if src == ResourcePolicy || rapid.IntRange(0, 9).Draw(t, "no resource") > 0 {
		resources := rapid.SliceOfN(rapid.SampledFrom(pool), 1, 2).Draw(t, "resources")
		if not("not resource") {
			s.NotResources = resources
		} else {
			s.Resources = resources
		}
	}
	if src == ResourcePolicy && rapid.IntRange(0, 9).Draw(t, "no principal") > 0 {
		p := drawPrincipals(t, d)
		if not("not principal") {
			s.NotPrincipals = p
		} else {
			s.Principals = p
		}
	}
	if rapid.Bool().Draw(t, "conditional") {
		conds := genAWSConditions
		if cam {
			conds = genCAMConditions
		}
		s.Conditions = rapid.SampledFrom(conds).Draw(t, "condition")
	}
	return s
}

func drawPrincipals(t *rapid.T, d Dialect) *Principals {
	if rapid.IntRange(0, 5).Draw(t, "wildcard principal") == 0 {
		return &Principals{Wildcard: true}
	}
	typ, pool := "AWS", genAWSPrincipalIDs
	if d == CAM {
		typ, pool = "qcs", genQCSPrincipalIDs
	}
	by := map[string][]string{typ: rapid.SliceOfN(rapid.SampledFrom(pool), 1, 2).Draw(t, "principal ids")}
	if rapid.IntRange(0, 5).Draw(t, "service principal") == 0 {
		by[serviceType(d)] = []string{"rotation.coffer.internal"}
	}
	return &Principals{ByType: by}
}

func versionOf(d Dialect) string {
	if d == CAM {
		return "2.0"
	}
	return "2012-10-17"
}

func serviceType(d Dialect) string {
	if d == CAM {
		return "service"
	}
	return "Service"
}

func drawDocument(t *rapid.T, src Source) *Document {
	d := &Document{Dialect: rapid.SampledFrom([]Dialect{AWS, CAM}).Draw(t, "dialect")}
	d.Version = versionOf(d.Dialect)
	n := rapid.IntRange(1, 4).Draw(t, "statements")
	for i := 0; i < n; i++ {
		effect := rapid.SampledFrom([]Effect{Allow, Allow, Allow, Deny}).Draw(t, "effect")
		d.Statements = append(d.Statements, drawStatement(t, d.Dialect, src, effect))
	}
	return d
}

func drawDocuments(t *rapid.T, src Source, max int) []*Document {
	n := rapid.IntRange(0, max).Draw(t, "documents")
	out := make([]*Document, n)
	for i := range out {
		out[i] = drawDocument(t, src)
	}
	return out
}

type setup struct {
	req                Request
	identity, resource []*Document
}

func drawSetup(t *rapid.T) setup {
	return setup{drawRequest(t), drawDocuments(t, IdentityPolicy, 3), drawDocuments(t, ResourcePolicy, 2)}
}

// clone copies the document slices and statements, so a property can
// change a copy and compare.
func clone(docs []*Document) []*Document {
	out := make([]*Document, len(docs))
	for i, d := range docs {
		c := *d
		c.Statements = append([]Statement(nil), d.Statements...)
		out[i] = &c
	}
	return out
}

// insert adds s to a random document of src's list (or a new one) at a
// random position, and returns the new lists.
func insert(t *rapid.T, st setup, src Source, s Statement, d Dialect) setup {
	identity, resource := clone(st.identity), clone(st.resource)
	docs := &identity
	if src == ResourcePolicy {
		docs = &resource
	}
	var fits []int
	for i, doc := range *docs {
		if doc.Dialect == d {
			fits = append(fits, i)
		}
	}
	if len(fits) == 0 || rapid.Bool().Draw(t, "new document") {
		*docs = append(*docs, &Document{Dialect: d, Version: versionOf(d)})
		fits = append(fits, len(*docs)-1)
	}
	doc := (*docs)[rapid.SampledFrom(fits).Draw(t, "document")]
	at := rapid.IntRange(0, len(doc.Statements)).Draw(t, "position")
	doc.Statements = append(doc.Statements[:at], append([]Statement{s}, doc.Statements[at:]...)...)
	return setup{st.req, identity, resource}
}

// matchingDeny builds, by construction and without the evaluator's help, a
// Deny statement of dialect d that applies to req.
func matchingDeny(t *rapid.T, req Request, d Dialect, src Source) Statement {
	s := Statement{Effect: Deny}
	names := append([]string{req.Action}, req.Equivalents...)
	s.Actions = []string{wildcarded(t, rapid.SampledFrom(names).Draw(t, "deny action"), true)}
	if rapid.IntRange(0, 5).Draw(t, "deny all actions") == 0 {
		s.Actions = []string{"*"}
	}
	s.Resources = []string{"*"}
	for _, n := range req.Resources {
		if strings.HasPrefix(n, "arn:") == (d == AWS) && rapid.Bool().Draw(t, "deny named resource") {
			s.Resources = []string{wildcarded(t, n, false)}
		}
	}
	if d == AWS && rapid.IntRange(0, 4).Draw(t, "deny not resource") == 0 {
		s.Resources, s.NotResources = nil, []string{"arn:aws:secretsmanager:*:*:secret:nothing-*"}
	}
	if src == ResourcePolicy {
		s.Principals = matchingPrincipals(t, req.Principal, d)
	}
	s.Conditions = matchingCondition(t, req, d)
	return s
}

// wildcarded turns a name into a pattern that still matches it: some
// characters become ?, a tail may become *, and (for actions) letter case
// may change. Colons stay, so segment-wise matching still lines up.
func wildcarded(t *rapid.T, name string, action bool) string {
	b := []byte(name)
	for i := range b {
		switch rapid.IntRange(0, 9).Draw(t, "char") {
		case 0:
			if b[i] != ':' {
				b[i] = '?'
			}
		case 1:
			if action && 'a' <= b[i] && b[i] <= 'z' {
				b[i] -= 'a' - 'A'
			}
		}
	}
	p := string(b)
	if cut := strings.LastIndexByte(p, ':'); rapid.Bool().Draw(t, "star tail") && cut >= 0 {
		p = p[:cut+1+rapid.IntRange(0, len(p)-cut-1).Draw(t, "keep")] + "*"
	}
	return p
}

func matchingPrincipals(t *rapid.T, p Principal, d Dialect) *Principals {
	if len(p.Names) == 0 || rapid.Bool().Draw(t, "deny everyone") {
		return &Principals{Wildcard: true}
	}
	if p.Kind == KindService {
		return &Principals{ByType: map[string][]string{serviceType(d): {p.Names[0]}}}
	}
	if d == AWS {
		return &Principals{ByType: map[string][]string{"AWS": {rapid.SampledFrom([]string{p.Names[0], p.Account, "arn:aws:iam::" + p.Account + ":root"}).Draw(t, "aws id")}}}
	}
	return &Principals{ByType: map[string][]string{"qcs": {rapid.SampledFrom([]string{p.Names[1], "qcs::cam::uin/" + p.Account + ":root"}).Draw(t, "qcs id")}}}
}

// matchingCondition returns a condition that holds for req (drawRequest
// always sets the source IP and leaves "coffer:absent" unset).
func matchingCondition(t *rapid.T, req Request, d Dialect) Conditions {
	ip := req.Context["aws:SourceIp"][0]
	if d == CAM {
		return rapid.SampledFrom([]Conditions{nil,
			{"ip_equal": {"qcs:ip": {ip + "/32"}}},
			{"string_equal_if_exist": {"coffer:absent": {"x"}}},
			{"null_equal": {"coffer:absent": {"true"}}},
		}).Draw(t, "deny condition")
	}
	return rapid.SampledFrom([]Conditions{nil,
		{"IpAddress": {"aws:SourceIp": {"0.0.0.0/0"}}},
		{"StringEquals": {"aws:sourceip": {ip}}},
		{"StringNotEquals": {"coffer:absent": {"x"}}},
		{"ForAllValues:StringEquals": {"coffer:absent": {"x"}}},
		{"Null": {"coffer:absent": {"true"}, "aws:SourceIp": {"false"}}},
	}).Draw(t, "deny condition")
}

func TestPropertyDenyWins(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		st := drawSetup(t)
		d := rapid.SampledFrom([]Dialect{AWS, CAM}).Draw(t, "deny dialect")
		src := rapid.SampledFrom([]Source{IdentityPolicy, ResourcePolicy}).Draw(t, "deny source")
		deny := matchingDeny(t, st.req, d, src)
		withDeny := insert(t, st, src, deny, d)
		got := Evaluate(withDeny.req, withDeny.identity, withDeny.resource)
		if got.Allowed || got.Reason != ExplicitDeny {
			t.Fatalf("with a matching Deny %+v: got %+v\n%s", deny, got, Explain(withDeny.req, withDeny.identity, withDeny.resource))
		}
	})
}

func TestPropertyAllowIsMonotonic(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		st := drawSetup(t)
		before := Evaluate(st.req, st.identity, st.resource)
		d := rapid.SampledFrom([]Dialect{AWS, CAM}).Draw(t, "allow dialect")
		src := rapid.SampledFrom([]Source{IdentityPolicy, ResourcePolicy}).Draw(t, "allow source")
		more := insert(t, st, src, drawStatement(t, d, src, Allow), d)
		after := Evaluate(more.req, more.identity, more.resource)
		if before.Allowed && !after.Allowed {
			t.Fatalf("an added Allow turned %+v into %+v\n%s", before, after, Explain(more.req, more.identity, more.resource))
		}
		if before.Reason == ExplicitDeny && after.Reason != ExplicitDeny {
			t.Fatalf("an added Allow lifted an explicit deny: %+v, then %+v", before, after)
		}
	})
}

func TestPropertyOrderDoesNotMatter(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		st := drawSetup(t)
		want := Evaluate(st.req, st.identity, st.resource)
		shuffle := func(docs []*Document, label string) []*Document {
			out := rapid.Permutation(clone(docs)).Draw(t, label)
			for _, d := range out {
				d.Statements = rapid.Permutation(d.Statements).Draw(t, label+" statements")
			}
			return out
		}
		identity, resource := shuffle(st.identity, "identity"), shuffle(st.resource, "resource")
		got := Evaluate(st.req, identity, resource)
		if got.Allowed != want.Allowed || got.Reason != want.Reason {
			t.Fatalf("reordered: got %v, want %v", got.Reason, want.Reason)
		}
	})
}

func TestPropertyExplainAgrees(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		st := drawSetup(t)
		want := Evaluate(st.req, st.identity, st.resource)
		x := Explain(st.req, st.identity, st.resource)
		if x.Decision != want {
			t.Fatalf("Explain decided %+v, Evaluate %+v\n%s", x.Decision, want, x)
		}
		applied := 0
		for _, step := range x.Steps {
			if step.Applies {
				applied++
			}
		}
		if want.Reason != ImplicitDeny && want.Statement.Source != AccountRoot && applied == 0 {
			t.Fatalf("decided %v with no applicable statement\n%s", want.Reason, x)
		}
	})
}

// TestPropertyGeneratedDocumentsParse keeps the generators honest: what
// they draw is what Parse could have produced.
func TestPropertyGeneratedDocumentsParse(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d := drawDocument(t, rapid.SampledFrom([]Source{IdentityPolicy, ResourcePolicy}).Draw(t, "source"))
		again, findings := parseDocument(d.String())
		if len(findings) > 0 {
			t.Fatalf("%s does not parse: %+v", d, findings)
		}
		if !reflect.DeepEqual(again, d) {
			t.Fatalf("%s parses differently:\ngot  %#v\nwant %#v", d, again, d)
		}
	})
}
