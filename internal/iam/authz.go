package iam

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/iam/policy"
	"github.com/coffer-secrets/coffer/internal/store"
)

// Denial says which action on which resource a principal was refused.
// Edges spell it in their protocol; it never holds a secret value.
type Denial struct {
	Action    string // "ssm:GetSecretValue"
	Resource  string // the resource as the caller's family names it, or "*"
	Principal string // the caller's ARN
	Explicit  bool   // a Deny statement decided, rather than no Allow
	// CrossAccount says the resource belongs to another account, whose
	// resource policy must grant the call.
	CrossAccount bool
	Why          string // a short reason for people; "" for the usual
}

func (d *Denial) Error() string {
	why := d.Why
	if why == "" {
		why = "no policy allows it"
		if d.CrossAccount {
			why = "no resource-based policy of the owning account allows it"
		}
		if d.Explicit {
			why = "a policy denies it explicitly"
		}
	}
	return fmt.Sprintf("%s is not authorized to perform %s on resource %s: %s", d.Principal, d.Action, d.Resource, why)
}

func (d *Denial) fault(op string) error {
	return fault.Wrap(op, fault.Denied, d.Error(), d)
}

// Fault wraps the denial as a fault.Denied error.
func (d *Denial) Fault(op string) error { return d.fault(op) }

// Arn names the principal: the AWS ARN for the root and users, the
// assumed-role ARN for a role session.
func (p Principal) Arn() string {
	switch p.Kind {
	case KindRoot:
		return "arn:aws:iam::" + p.Account + ":root"
	case KindUser:
		return "arn:aws:iam::" + p.Account + ":user/" + p.Name
	case KindRole:
		if p.Session != nil {
			return "arn:aws:sts::" + p.Account + ":assumed-role/" + p.Name + "/" + p.Session.Name
		}
		return "arn:aws:iam::" + p.Account + ":role/" + p.Name
	}
	return "anonymous"
}

// QcsName names the principal in CAM's spelling.
func (p Principal) QcsName() string {
	switch p.Kind {
	case KindRoot:
		return "qcs::cam::uin/" + p.Account + ":uin/" + p.Account
	case KindUser:
		return "qcs::cam::uin/" + p.Account + ":uin/" + p.ID
	case KindRole:
		return "qcs::sts:" + p.Account + ":assumed-role/" + p.ID
	}
	return "anonymous"
}

// names returns every name a policy may give p.
func (p Principal) names() []string {
	a := p.Account
	switch p.Kind {
	case KindRoot:
		return []string{"arn:aws:iam::" + a + ":root", "qcs::cam::uin/" + a + ":root", "qcs::cam::uin/" + a + ":uin/" + a}
	case KindUser:
		return []string{"arn:aws:iam::" + a + ":user/" + p.Name, "qcs::cam::uin/" + a + ":uin/" + p.ID,
			"qcs::cam::uin/" + a + ":subAccount/" + p.ID}
	case KindRole:
		ns := []string{"arn:aws:iam::" + a + ":role/" + p.Name, "qcs::cam::uin/" + a + ":roleName/" + p.Name,
			"qcs::cam::uin/" + a + ":role/" + p.ID}
		if p.Session != nil {
			ns = append(ns, p.Arn(), "qcs::sts::uin/"+a+":assumed-role/"+p.ID+"/"+p.Session.Name)
		}
		return ns
	}
	return nil
}

func (s *Service) policyPrincipal(_ context.Context, p Principal) (policy.Principal, error) {
	kind := policy.Kind(p.Kind)
	return policy.Principal{Account: p.Account, ID: p.ID, Kind: kind, Names: p.names(), Tags: p.Tags}, nil
}

// AuthzRequest is one question for Authorize.
type AuthzRequest struct {
	Principal Principal
	// Action is "service:Action" as the edge names it.
	Action string
	// Resources are the resource's names, one per spelling; empty for an
	// operation-level call.
	Resources       []string
	ResourceAccount string // "" means the principal's own
	// ResourcePolicy is the resource's own policy document; "" for none.
	ResourcePolicy            string
	ResourceTags, RequestTags map[string]string
	Context                   map[string][]string
}

// identity is a principal's compiled identity policies.
type identity struct {
	docs []*policy.Document
}

// identityDocs returns the documents attached to p (for a user, also to
// its groups), through the cache.
func (s *Service) identityDocs(ctx context.Context, p Principal) ([]*policy.Document, error) {
	if p.Kind == KindRoot {
		return nil, nil
	}
	g := s.caches()
	key := string(p.Kind) + "/" + p.Account + "/" + p.ID
	if v, ok := g.idents.Load(key); ok {
		return v.(*identity).docs, nil
	}
	var docs []*policy.Document
	err := s.view(ctx, func(tx store.Tx) error {
		var err error
		docs, err = loadIdentity(ctx, tx, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	g.idents.Store(key, &identity{docs: docs})
	return docs, nil
}

func loadIdentity(ctx context.Context, tx store.Tx, p Principal) ([]*policy.Document, error) {
	const op = "iam.identity"
	var owners []Entity
	switch p.Kind {
	case KindUser:
		owners = append(owners, Entity{Kind: store.EntityUser, ID: p.ID})
		ms, err := tx.GroupsOf(ctx, p.Account, p.ID)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			owners = append(owners, Entity{Kind: store.EntityGroup, ID: m.GroupID})
		}
	case KindRole:
		owners = append(owners, Entity{Kind: store.EntityRole, ID: p.ID})
	default:
		return nil, nil
	}
	var docs []*policy.Document
	for _, o := range owners {
		as, err := tx.AttachedTo(ctx, p.Account, o.Kind, o.ID)
		if err != nil {
			return nil, err
		}
		for _, a := range as {
			if d := presetDocs[a.PolicyID]; d != nil {
				docs = append(docs, d)
				continue
			}
			pol, err := policyByID(ctx, tx, op, p.Account, a.PolicyID)
			if err != nil {
				return nil, err
			}
			d, err := policy.Parse(pol.Document)
			if err != nil {
				return nil, fmt.Errorf("parse policy %s: %w", pol.ID, err)
			}
			docs = append(docs, d)
		}
	}
	return docs, nil
}

// resourceDocs caches parsed resource policies by their text.
var (
	resourceDocs     sync.Map // document text → *policy.Document
	resourceDocCount atomic.Int64
)

func parseResourcePolicy(doc string) (*policy.Document, error) {
	if v, ok := resourceDocs.Load(doc); ok {
		return v.(*policy.Document), nil
	}
	d, err := policy.Parse(doc)
	if err != nil {
		return nil, fmt.Errorf("parse resource policy: %w", err)
	}
	if resourceDocCount.Add(1) > 1000 {
		resourceDocs.Range(func(k, _ any) bool { resourceDocs.Delete(k); return true })
		resourceDocCount.Store(0)
	}
	resourceDocs.Store(doc, d)
	return d, nil
}

// request builds the evaluator's request and the documents for r.
func (s *Service) request(ctx context.Context, r AuthzRequest) (policy.Request, []*policy.Document, []*policy.Document, error) {
	pp, err := s.policyPrincipal(ctx, r.Principal)
	if err != nil {
		return policy.Request{}, nil, nil, err
	}
	req := policy.Request{
		Action: r.Action, Equivalents: policy.Equivalents(r.Action), Resources: r.Resources,
		ResourceAccount: r.ResourceAccount, Principal: pp, ResourceTags: r.ResourceTags,
		RequestTags: r.RequestTags, Context: r.Context,
	}
	if req.ResourceAccount == "" {
		req.ResourceAccount = r.Principal.Account
	}
	idDocs, err := s.identityDocs(ctx, r.Principal)
	if err != nil {
		return policy.Request{}, nil, nil, err
	}
	var resDocs []*policy.Document
	if r.ResourcePolicy != "" {
		d, err := parseResourcePolicy(r.ResourcePolicy)
		if err != nil {
			return policy.Request{}, nil, nil, err
		}
		resDocs = []*policy.Document{d}
	}
	return req, idDocs, resDocs, nil
}

// Authorize decides r: the principal's identity policies (its own, its
// groups', its role's), the resource's policy, and for a role session its
// session policy, which can only narrow what the role allows.
func (s *Service) Authorize(ctx context.Context, r AuthzRequest) (policy.Decision, error) {
	req, idDocs, resDocs, err := s.request(ctx, r)
	if err != nil {
		return policy.Decision{}, err
	}
	d := policy.Evaluate(req, idDocs, resDocs)
	if sess := r.Principal.Session; d.Allowed && sess != nil && sess.policyDoc != nil {
		sd := policy.Evaluate(req, []*policy.Document{sess.policyDoc}, resDocs)
		if !sd.Allowed {
			return sd, nil
		}
	}
	return d, nil
}

// Explanation is an explained decision with the documents behind it.
type Explanation struct {
	policy.Explanation
	// Identity names the identity documents in order: "policy NAME (ID)",
	// "preset policy NAME", or "session policy".
	Identity []string
	// Session is the session policy's own explanation, when the principal
	// is a role session with one.
	Session *policy.Explanation
}

// Explain decides r as Authorize does and says why.
func (s *Service) Explain(ctx context.Context, r AuthzRequest) (*Explanation, error) {
	req, idDocs, resDocs, err := s.request(ctx, r)
	if err != nil {
		return nil, err
	}
	names, err := s.identityNames(ctx, r.Principal)
	if err != nil {
		return nil, err
	}
	x := &Explanation{Explanation: policy.Explain(req, idDocs, resDocs), Identity: names}
	if sess := r.Principal.Session; sess != nil && sess.policyDoc != nil {
		sx := policy.Explain(req, []*policy.Document{sess.policyDoc}, resDocs)
		x.Session = &sx
	}
	return x, nil
}

// identityNames names the identity documents identityDocs returns, in order.
func (s *Service) identityNames(ctx context.Context, p Principal) ([]string, error) {
	var out []string
	err := s.view(ctx, func(tx store.Tx) error {
		var owners []Entity
		switch p.Kind {
		case KindUser:
			owners = append(owners, Entity{Kind: store.EntityUser, ID: p.ID})
			ms, err := tx.GroupsOf(ctx, p.Account, p.ID)
			if err != nil {
				return err
			}
			for _, m := range ms {
				owners = append(owners, Entity{Kind: store.EntityGroup, ID: m.GroupID})
			}
		case KindRole:
			owners = append(owners, Entity{Kind: store.EntityRole, ID: p.ID})
		}
		for _, o := range owners {
			as, err := tx.AttachedTo(ctx, p.Account, o.Kind, o.ID)
			if err != nil {
				return err
			}
			for _, a := range as {
				pol, err := policyByID(ctx, tx, "iam.Explain", p.Account, a.PolicyID)
				if err != nil {
					return err
				}
				via := ""
				if o.Kind == store.EntityGroup {
					via = " via group " + o.ID
				}
				out = append(out, fmt.Sprintf("policy %s (%s)%s", pol.Name, pol.ID, via))
			}
		}
		return nil
	})
	return out, err
}

// PrincipalFor returns the principal an explain call asks about: a user
// by uin, a role by id, or the root.
func (s *Service) PrincipalFor(ctx context.Context, account, uin, roleID string) (Principal, error) {
	switch {
	case roleID != "":
		r, err := s.role(ctx, account, RoleRef{ID: roleID})
		if err != nil {
			return Principal{}, err
		}
		tags := map[string]string{}
		for _, t := range r.Tags {
			tags[t.Key] = t.Value
		}
		return Principal{Account: account, ID: r.ID, Name: r.Name, Kind: KindRole, Tags: tags}, nil
	case uin == "" || uin == account:
		return Principal{Account: account, ID: account, Name: "root", Kind: KindRoot}, nil
	}
	u, err := s.UserByUin(ctx, account, uin)
	if err != nil {
		return Principal{}, err
	}
	return u.Principal(), nil
}
