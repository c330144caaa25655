package policy

import "fmt"

// Request is one question for Evaluate: may this principal perform this
// action on this resource, in this context? It is read, never modified.
type Request struct {
	// Action is the call as the edge that received it names it:
	// "ssm:GetSecretValue" or "secretsmanager:GetSecretValue".
	Action string
	// Equivalents are the call's names in the other family, usually
	// Equivalents(Action). A statement naming any of Action and
	// Equivalents names the call.
	Equivalents []string
	// Resources are the names of the one resource the call acts on, one
	// per spelling, e.g.
	//   qcs::ssm:ap-guangzhou:uin/100000000001:secret/creatorUin/100000000001/db
	//   arn:aws:secretsmanager:ap-guangzhou:100000000001:secret:db-AbCdEf
	// A statement naming any of them names the resource. Empty for an
	// operation-level call (ListSecrets, CreateSecret in CAM), which is the
	// resource "*": only a Resource "*" (or a NotResource) covers it.
	Resources []string
	// ResourceAccount is the account that owns the resource. When empty,
	// it is the account the first of Resources names, and for an
	// operation-level call the principal's own.
	ResourceAccount string
	// Principal is who makes the call.
	Principal Principal
	// ResourceTags are the resource's tags (aws:ResourceTag/KEY,
	// secretsmanager:ResourceTag/KEY, qcs:resource_tag) and RequestTags
	// the tags the call sets (aws:RequestTag/KEY, aws:TagKeys,
	// qcs:request_tag).
	ResourceTags, RequestTags map[string]string
	// Context maps any other condition key to its values: aws:SourceIp or
	// qcs:ip, aws:CurrentTime or qcs:current_time, aws:SecureTransport or
	// qcs:secure_transport (each found under either name), and service
	// keys as policies name them. A key in Context overrides the same key
	// derived from the fields above. AWS documents find AWS keys in any
	// letter case, so Context should not hold one key in two cases.
	Context map[string][]string
}

// Kind is what kind of identity a principal is. The values are those of
// iam.PrincipalKind, plus service.
type Kind string

// The principal kinds.
const (
	KindRoot    Kind = "root"    // an account's root: may do everything in its account
	KindUser    Kind = "user"    // a sub-user
	KindRole    Kind = "role"    // a role session
	KindService Kind = "service" // a built-in service identity, outside accounts
)

// Principal is the caller of a Request.
type Principal struct {
	// Account is the caller's account (AWS account id, CAM owner UIN).
	Account string
	// ID is the caller's own id (CAM ${uin}): a sub-user's UIN, or the
	// Account for the root.
	ID   string
	Kind Kind
	// Names are every name a policy may give the caller, in both
	// spellings, e.g. arn:aws:iam::100000000001:user/alice and
	// qcs::cam::uin/100000000001:uin/100000000011; for a role session both
	// the role (arn:aws:iam::A:role/R, qcs::cam::uin/A:roleName/R) and the
	// session (arn:aws:sts::A:assumed-role/R/S); for the root
	// arn:aws:iam::A:root, qcs::cam::uin/A:root and qcs::cam::uin/A:uin/A;
	// for a service its service name (cvm.qcloud.com).
	Names []string
	// Tags are the caller's tags (aws:PrincipalTag/KEY, and
	// qcs:principal_tag, a Coffer extension read like qcs:resource_tag).
	Tags map[string]string
}

// Reason says why a Decision was reached.
type Reason uint8

// The reasons. The zero Reason is ImplicitDeny, so a zero Decision denies.
const (
	ImplicitDeny Reason = iota // nothing allows the call
	Allowed                    // an Allow applies and no Deny does
	ExplicitDeny               // a Deny applies
)

// String returns "ImplicitDeny", "Allowed" or "ExplicitDeny".
func (r Reason) String() string {
	switch r {
	case ImplicitDeny:
		return "ImplicitDeny"
	case Allowed:
		return "Allowed"
	case ExplicitDeny:
		return "ExplicitDeny"
	}
	return "Reason(?)"
}

// Source says where a deciding statement comes from.
type Source uint8

// The sources. The zero Source means no statement.
const (
	IdentityPolicy Source = iota + 1 // the identity documents passed to Evaluate
	ResourcePolicy                   // the resource documents passed to Evaluate
	AccountRoot                      // no document: the root's grant over its own account
)

// StatementRef locates a statement among the documents passed to Evaluate.
type StatementRef struct {
	Source    Source
	Document  int    // index in the identity or resource slice; -1 for AccountRoot
	Statement int    // index in that document's Statements; -1 for AccountRoot
	Sid       string // the statement's Sid; "" when it has none
}

// String names the statement, e.g. `identity policy 2, statement 0 (Sid "Read")`.
func (r StatementRef) String() string {
	where := ""
	switch r.Source {
	case 0:
		return "no statement"
	case AccountRoot:
		return "the root's grant over its own account"
	case IdentityPolicy:
		where = "identity policy"
	case ResourcePolicy:
		where = "resource policy"
	}
	s := fmt.Sprintf("%s %d, statement %d", where, r.Document, r.Statement)
	if r.Sid != "" {
		s += fmt.Sprintf(" (Sid %q)", r.Sid)
	}
	return s
}

// Decision is the outcome of Evaluate.
type Decision struct {
	Allowed bool
	Reason  Reason
	// Statement is the statement that decided: the Deny for ExplicitDeny;
	// for Allowed the Allow (for a cross-account call, the resource
	// policy's). Zero for ImplicitDeny.
	Statement StatementRef
	// Also is, for an allowed cross-account call, the identity grant that
	// completed the resource policy's; zero otherwise.
	Also StatementRef
}

// Evaluate decides a request against the caller's identity documents (its
// own, its groups' and its role's policies) and the resource's documents
// (a secret's resource policy, a role's trust policy). Nil documents are
// skipped. It does no I/O, and allocates only for policy variables and for
// CAM tag conditions.
//
// A statement applies when its action, resource and principal elements
// name the request and all its conditions hold:
//   - Action names the call when a pattern matches Action or one of
//     Equivalents (wildcards * and ?, letter case ignored); NotAction when
//     none does.
//   - Resource names the resource when a pattern matches one of Resources
//     (wildcards, case-sensitive): an AWS pattern over the whole ARN; a
//     CAM pattern segment by segment, where an empty service or region
//     means any and an empty account the document owner's (the caller's
//     account for identity documents, the resource's for resource
//     documents). NotResource when none does. A resource document
//     statement with neither covers the resource it is attached to.
//   - Principal (resource documents; CAM's document-level principal for
//     statements without one) must name the caller: "*", the caller's
//     account (account id, arn:…:iam::A:root, qcs::cam::uin/A:root) or
//     one of its Names. NotPrincipal excludes the caller only when it names
//     both the caller and its account, as in AWS.
//   - Conditions: operators ANDed, keys ANDed, a key's policy values ORed.
//     A multi-valued key passes a positive operator when some request value
//     does, a negated one when no value matches its positive form;
//     ForAnyValue:/for_any_value: needs some value to pass, ForAllValues:/
//     for_all_value: every one. A missing key: …IfExists/_if_exist holds,
//     Null/null_equal tests presence; otherwise, in AWS, negated operators
//     and ForAllValues hold and the rest do not (as AWS documents); in CAM
//     nothing holds (spec §2.5). A request value that does not parse as
//     the operator's type (number, date, IP, bool) matches nothing.
//   - Policy variables (${…}; not in "2008-10-17" documents) in resources
//     and condition values are substituted first: CAM ${uin} and
//     ${owner_uin} from the Principal, anything else as a condition key
//     with exactly one value. A pattern or condition whose variable has no
//     value (and no AWS default) matches nothing.
//
// An element a document needs but lacks (Resource in an identity
// document, a principal in a resource document) can only take access
// away: such an Allow grants nothing and such a Deny applies to all.
//
// The decision, which does not depend on the order of documents or
// statements:
//  1. Any applicable Deny in any document: ExplicitDeny.
//  2. The caller's grant: an applicable identity Allow, or, for a root
//     caller, the root's own grant (the root may do everything in its own
//     account, as in CAM).
//  3. Same account (the resource's account is the caller's): Allowed when
//     the caller has a grant, or when a resource Allow names the caller
//     itself or everyone. A resource Allow that names only the caller's
//     account delegates to the account, which must grant it (AWS).
//  4. Another account: Allowed only when the caller has a grant in its own
//     account and a resource Allow names the caller, its account or
//     everyone. A caller without an Account is always from another
//     account. Service callers have no account: a grant or a resource
//     Allow naming them suffices.
//  5. Otherwise ImplicitDeny.
//
// Permission boundaries and session policies are not modelled: for a role
// session with a session policy, evaluate the session policy as a second
// identity set and require both decisions to allow.
func Evaluate(req Request, identity, resource []*Document) Decision {
	e := newEvaluation(req, nil)
	d, _ := e.run(identity, resource)
	return d
}

// evaluation holds what one Evaluate call needs across statements.
type evaluation struct {
	// req is a copy: escape analysis cannot tell the fields of an
	// evaluation apart, so a pointer to the caller's Request here would
	// move it to the heap on every call.
	req       Request
	resources []string // Resources, or "*" for an operation-level call
	resAcct   string   // the resource's account
	t         *tracer  // nil unless explaining
}

// operationLevel is the resource of an operation-level call. Read only.
var operationLevel = []string{"*"}

// grants collects the first applicable statement of each kind.
type grants struct {
	deny     StatementRef
	identity StatementRef // an identity Allow, or the root's grant
	name     StatementRef // a resource Allow naming the caller or everyone
	account  StatementRef // a resource Allow naming only the caller's account
}

func newEvaluation(req Request, t *tracer) evaluation {
	e := evaluation{req: req, resources: req.Resources, resAcct: req.ResourceAccount, t: t}
	if len(e.resources) == 0 {
		e.resources = operationLevel
	}
	if e.resAcct == "" && len(req.Resources) > 0 {
		e.resAcct = resourceAccount(req.Resources[0])
	}
	if e.resAcct == "" {
		e.resAcct = req.Principal.Account
	}
	return e
}

func (e *evaluation) run(identity, resource []*Document) (Decision, grants) {
	var g grants
	if p := &e.req.Principal; p.Kind == KindRoot && p.Account != "" {
		g.identity = StatementRef{Source: AccountRoot, Document: -1, Statement: -1}
	}
	e.scan(IdentityPolicy, identity, &g)
	e.scan(ResourcePolicy, resource, &g)
	return e.decide(&g), g
}

// scan looks for applicable statements. Unless explaining, it stops at the
// first Deny and skips Allows of a kind it already has.
func (e *evaluation) scan(src Source, docs []*Document, g *grants) {
	for i, d := range docs {
		if d == nil {
			continue
		}
		for j := range d.Statements {
			s := &d.Statements[j]
			if e.t == nil && g.deny.Source != 0 {
				return
			}
			if e.t == nil && s.Effect == Allow && g.settled(src) {
				continue
			}
			if s.Effect != Allow && s.Effect != Deny {
				continue
			}
			if e.t != nil {
				e.t.begin(refTo(src, i, j, s), s.Effect)
			}
			ok, r := e.applies(d, s, src)
			if e.t != nil {
				e.t.end(ok)
			}
			if ok {
				g.record(refTo(src, i, j, s), s.Effect, r)
			}
		}
	}
}

func refTo(src Source, doc, i int, s *Statement) StatementRef {
	return StatementRef{Source: src, Document: doc, Statement: i, Sid: s.Sid}
}

// settled reports whether another Allow from src could change nothing.
func (g *grants) settled(src Source) bool {
	if src == IdentityPolicy {
		return g.identity.Source != 0
	}
	return g.name.Source != 0
}

func (g *grants) record(ref StatementRef, effect Effect, r reach) {
	var slot *StatementRef
	switch {
	case effect == Deny:
		slot = &g.deny
	case ref.Source == IdentityPolicy:
		slot = &g.identity
	case r == byName:
		slot = &g.name
	default:
		slot = &g.account
	}
	if slot.Source == 0 {
		*slot = ref
	}
}

// crossAccount reports whether the caller reaches into another account.
func (e *evaluation) crossAccount() bool {
	p := &e.req.Principal
	if p.Kind == KindService {
		return false
	}
	return p.Account == "" || p.Account != e.resAcct
}

func (e *evaluation) decide(g *grants) Decision {
	switch {
	case g.deny.Source != 0:
		return Decision{Reason: ExplicitDeny, Statement: g.deny}
	case e.crossAccount():
		res := g.name
		if res.Source == 0 {
			res = g.account
		}
		if g.identity.Source != 0 && res.Source != 0 {
			return Decision{Allowed: true, Reason: Allowed, Statement: res, Also: g.identity}
		}
	case g.identity.Source != 0:
		return Decision{Allowed: true, Reason: Allowed, Statement: g.identity}
	case g.name.Source != 0:
		return Decision{Allowed: true, Reason: Allowed, Statement: g.name}
	}
	return Decision{Reason: ImplicitDeny}
}
