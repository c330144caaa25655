package iam

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/iam/policy"
	"github.com/coffer-secrets/coffer/internal/store"
)

// PolicyType says who wrote a policy, as CAM numbers it.
type PolicyType int

// The policy types.
const (
	Custom PolicyType = 1 // written by the account
	Preset PolicyType = 2 // shipped with Coffer, the same in every account
)

// Policy is a managed policy with its default document.
type Policy struct {
	*store.Policy
	Type     PolicyType
	Document string // the default version's document
}

// Preset policies. Their ids are small numbers no custom policy takes.
var presets = []struct {
	id, name, description, document string
}{
	{"1", "AdministratorAccess", "Everything in the account.",
		`{"version":"2.0","statement":[{"effect":"allow","action":"*","resource":"*"}]}`},
	{"2", "ReadOnlyAccess", "Read metadata everywhere; no secret values.",
		`{"version":"2.0","statement":[{"effect":"allow","action":["ssm:Describe*","ssm:List*","ssm:GetRegions","ssm:GetServiceStatus","secretsmanager:Describe*","secretsmanager:List*","secretsmanager:GetResourcePolicy","cam:Get*","cam:List*","cloudaudit:*"],"resource":"*"}]}`},
	{"3", "QcloudSSMFullAccess", "Every secrets action, both APIs.",
		`{"version":"2.0","statement":[{"effect":"allow","action":["ssm:*","secretsmanager:*"],"resource":"*"}]}`},
	{"4", "QcloudSSMReadValueAccess", "Read secrets and their values.",
		`{"version":"2.0","statement":[{"effect":"allow","action":["ssm:GetSecretValue","ssm:Describe*","ssm:List*","ssm:GetRegions","ssm:GetServiceStatus","secretsmanager:GetSecretValue","secretsmanager:BatchGetSecretValue","secretsmanager:Describe*","secretsmanager:List*"],"resource":"*"}]}`},
	{"5", "QcloudCamFullAccess", "Manage users, groups, roles, keys and policies.",
		`{"version":"2.0","statement":[{"effect":"allow","action":["cam:*","sts:*"],"resource":"*"}]}`},
}

// presetDocs are the parsed preset documents, by id.
var presetDocs = func() map[string]*policy.Document {
	m := map[string]*policy.Document{}
	for _, p := range presets {
		d, err := policy.Parse(p.document)
		if err != nil {
			panic("preset policy " + p.name + ": " + err.Error())
		}
		m[p.id] = d
	}
	return m
}()

func presetPolicy(account, id string) *Policy {
	for _, p := range presets {
		if p.id == id {
			return &Policy{Policy: &store.Policy{Account: account, ID: p.id, Name: p.name, Description: p.description, DefaultVersion: 1, NextVersion: 2},
				Type: Preset, Document: p.document}
		}
	}
	return nil
}

func presetByName(account, name string) *Policy {
	for _, p := range presets {
		if p.name == name {
			return presetPolicy(account, p.id)
		}
	}
	return nil
}

// Presets lists the preset policies as they appear in account.
func Presets(account string) []*Policy {
	out := make([]*Policy, 0, len(presets))
	for _, p := range presets {
		out = append(out, presetPolicy(account, p.id))
	}
	return out
}

// CheckIdentityDocument validates an identity policy document: either
// dialect, at most MaxDocumentChars characters, no principal, and a
// resource in every statement.
func CheckIdentityDocument(op, doc string) (*policy.Document, error) {
	if utf8.RuneCountInString(doc) > MaxDocumentChars {
		return nil, fault.E(op, fault.Invalid, fmt.Sprintf("the policy document is longer than %d characters", MaxDocumentChars)).Because(DocumentTooLong)
	}
	d, err := policy.Parse(doc)
	if err != nil {
		return nil, fault.Wrap(op, fault.Invalid, "the policy document is not valid: "+fault.Message(err), err).Because(BadDocument)
	}
	if d.Principals != nil {
		return nil, fault.E(op, fault.Invalid, "an identity policy must not name a principal").Because(PrincipalNotAllowed)
	}
	for i, st := range d.Statements {
		if st.Principals != nil || st.NotPrincipals != nil {
			return nil, fault.E(op, fault.Invalid, fmt.Sprintf("statement %d names a principal; an identity policy must not", i)).Because(PrincipalNotAllowed)
		}
		if st.Resources == nil && st.NotResources == nil {
			return nil, fault.E(op, fault.Invalid, fmt.Sprintf("statement %d has no resource", i)).Because(BadDocument)
		}
	}
	return d, nil
}

// CreatePolicy creates a custom policy with the document as version 1.
func (s *Service) CreatePolicy(ctx context.Context, account, name, description, doc string, tags []store.Tag) (*Policy, error) {
	const op = "iam.CreatePolicy"
	if err := checkName(op, "policy", name, entityName); err != nil {
		return nil, err
	}
	if len(description) > 300 {
		return nil, fault.E(op, fault.Invalid, "the description is longer than 300 bytes")
	}
	if _, err := CheckIdentityDocument(op, doc); err != nil {
		return nil, err
	}
	if presetByName(account, name) != nil {
		return nil, fault.E(op, fault.Exists, "a policy named "+name+" already exists").Because(PolicyNameInUse)
	}
	now := s.now()
	p := &store.Policy{Account: account, ID: strconv.FormatInt(randomInt(100000000, 9999999999), 10), Name: name,
		Description: description, DefaultVersion: 1, NextVersion: 2, Tags: tags, CreatedAt: now, UpdatedAt: now}
	err := s.write(ctx, func(tx store.Tx) error {
		ps, err := tx.Policies(ctx, account)
		if err != nil {
			return err
		}
		if len(ps) >= MaxPolicies {
			return fault.E(op, fault.Limit, "the account holds 1500 custom policies, the limit").Because(PolicyFull)
		}
		if err := tx.InsertPolicy(ctx, p); err != nil {
			return nameInUse(op, err, "policy", name, PolicyNameInUse)
		}
		return tx.InsertPolicyVersion(ctx, &store.PolicyVersion{PolicyID: p.ID, Version: 1, Document: doc, CreatedAt: now})
	})
	if err != nil {
		return nil, err
	}
	return &Policy{Policy: p, Type: Custom, Document: doc}, nil
}

// policyByID returns a custom or preset policy with its default document.
func policyByID(ctx context.Context, tx store.Tx, op, account, id string) (*Policy, error) {
	if p := presetPolicy(account, id); p != nil {
		return p, nil
	}
	p, err := tx.Policy(ctx, account, id)
	if fault.Is(err, fault.NotFound) {
		return nil, fault.E(op, fault.NotFound, "policy "+id+" does not exist").Because(PolicyNotExist)
	} else if err != nil {
		return nil, err
	}
	out := &Policy{Policy: p, Type: Custom}
	if p.DefaultVersion != 0 {
		v, err := tx.PolicyVersion(ctx, p.ID, p.DefaultVersion)
		if err != nil {
			return nil, fmt.Errorf("load default version of policy %s: %w", id, err)
		}
		out.Document = v.Document
	}
	return out, nil
}

func policyByName(ctx context.Context, tx store.Tx, op, account, name string) (*Policy, error) {
	if p := presetByName(account, name); p != nil {
		return p, nil
	}
	p, err := tx.PolicyByName(ctx, account, name)
	if fault.Is(err, fault.NotFound) {
		return nil, fault.E(op, fault.NotFound, "policy "+name+" does not exist").Because(PolicyNotExist)
	} else if err != nil {
		return nil, err
	}
	return policyByID(ctx, tx, op, account, p.ID)
}

func customPolicy(ctx context.Context, tx store.Tx, op, account, id string) (*Policy, error) {
	p, err := policyByID(ctx, tx, op, account, id)
	if err != nil {
		return nil, err
	}
	if p.Type == Preset {
		return nil, fault.E(op, fault.Invalid, "preset policy "+p.Name+" cannot be changed").Because(PresetPolicy)
	}
	return p, nil
}

// Policy returns a policy by id.
func (s *Service) Policy(ctx context.Context, account, id string) (*Policy, error) {
	var p *Policy
	err := s.view(ctx, func(tx store.Tx) error {
		var err error
		p, err = policyByID(ctx, tx, "iam.GetPolicy", account, id)
		return err
	})
	return p, err
}

// PolicyByName returns a policy by name.
func (s *Service) PolicyByName(ctx context.Context, account, name string) (*Policy, error) {
	var p *Policy
	err := s.view(ctx, func(tx store.Tx) error {
		var err error
		p, err = policyByName(ctx, tx, "iam.GetPolicy", account, name)
		return err
	})
	return p, err
}

// PolicyListing is a policy as ListPolicies shows it.
type PolicyListing struct {
	*Policy
	Attachments int // how many entities it is attached to
}

// Policies lists the presets (Preset), the custom policies (Custom) or
// both (0), each with its attachment count.
func (s *Service) Policies(ctx context.Context, account string, only PolicyType) ([]*PolicyListing, error) {
	var out []*PolicyListing
	err := s.view(ctx, func(tx store.Tx) error {
		count := func(id string) (int, error) {
			as, err := tx.AttachmentsOf(ctx, account, id)
			return len(as), err
		}
		if only != Custom {
			for _, p := range Presets(account) {
				n, err := count(p.ID)
				if err != nil {
					return err
				}
				out = append(out, &PolicyListing{Policy: p, Attachments: n})
			}
		}
		if only == Preset {
			return nil
		}
		ps, err := tx.Policies(ctx, account)
		if err != nil {
			return err
		}
		for _, p := range ps {
			n, err := count(p.ID)
			if err != nil {
				return err
			}
			out = append(out, &PolicyListing{Policy: &Policy{Policy: p, Type: Custom}, Attachments: n})
		}
		return nil
	})
	return out, err
}

// PolicyPatch changes a policy; nil fields stay. Document overwrites the
// default version in place (CAM's UpdatePolicy).
type PolicyPatch struct {
	Name, Description, Document *string
}

// UpdatePolicy changes a custom policy.
func (s *Service) UpdatePolicy(ctx context.Context, account, id string, p PolicyPatch) error {
	const op = "iam.UpdatePolicy"
	if p.Name != nil {
		if err := checkName(op, "policy", *p.Name, entityName); err != nil {
			return err
		}
		if presetByName(account, *p.Name) != nil {
			return fault.E(op, fault.Exists, "a policy named "+*p.Name+" already exists").Because(PolicyNameInUse)
		}
	}
	if p.Description != nil && len(*p.Description) > 300 {
		return fault.E(op, fault.Invalid, "the description is longer than 300 bytes")
	}
	if p.Document != nil {
		if _, err := CheckIdentityDocument(op, *p.Document); err != nil {
			return err
		}
	}
	return s.write(ctx, func(tx store.Tx) error {
		pol, err := customPolicy(ctx, tx, op, account, id)
		if err != nil {
			return err
		}
		now := s.now()
		sp := pol.Policy
		if p.Name != nil {
			sp.Name = *p.Name
		}
		if p.Description != nil {
			sp.Description = *p.Description
		}
		if p.Document != nil {
			if sp.DefaultVersion == 0 {
				sp.DefaultVersion, sp.NextVersion = sp.NextVersion, sp.NextVersion+1
				if err := tx.InsertPolicyVersion(ctx, &store.PolicyVersion{PolicyID: id, Version: sp.DefaultVersion, Document: *p.Document, CreatedAt: now}); err != nil {
					return err
				}
			} else if err := tx.PutPolicyVersion(ctx, &store.PolicyVersion{PolicyID: id, Version: sp.DefaultVersion, Document: *p.Document}); err != nil {
				return err
			}
		}
		sp.UpdatedAt = now
		return nameInUse(op, tx.UpdatePolicy(ctx, sp), "policy", sp.Name, PolicyNameInUse)
	})
}

// DeletePolicies deletes custom policies, all or none, detaching them everywhere.
func (s *Service) DeletePolicies(ctx context.Context, account string, ids []string) error {
	const op = "iam.DeletePolicy"
	return s.write(ctx, func(tx store.Tx) error {
		for _, id := range ids {
			if _, err := customPolicy(ctx, tx, op, account, id); err != nil {
				return err
			}
			if err := tx.DeletePolicy(ctx, account, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// CreatePolicyVersion adds a version to a custom policy, optionally as the default.
func (s *Service) CreatePolicyVersion(ctx context.Context, account, id, doc string, setDefault bool) (int64, error) {
	const op = "iam.CreatePolicyVersion"
	if _, err := CheckIdentityDocument(op, doc); err != nil {
		return 0, err
	}
	var version int64
	err := s.write(ctx, func(tx store.Tx) error {
		pol, err := customPolicy(ctx, tx, op, account, id)
		if err != nil {
			return err
		}
		vs, err := tx.PolicyVersions(ctx, id)
		if err != nil {
			return err
		}
		if len(vs) >= MaxPolicyVersions {
			return fault.E(op, fault.Limit, "the policy has 5 versions, the limit; delete one first").Because(VersionFull)
		}
		now := s.now()
		sp := pol.Policy
		version = sp.NextVersion
		sp.NextVersion++
		if setDefault {
			sp.DefaultVersion = version
		}
		sp.UpdatedAt = now
		if err := tx.InsertPolicyVersion(ctx, &store.PolicyVersion{PolicyID: id, Version: version, Document: doc, CreatedAt: now}); err != nil {
			return err
		}
		return tx.UpdatePolicy(ctx, sp)
	})
	return version, err
}

// PolicyVersions lists a policy's versions, lowest first.
func (s *Service) PolicyVersions(ctx context.Context, account, id string) (*Policy, []*store.PolicyVersion, error) {
	const op = "iam.ListPolicyVersions"
	var pol *Policy
	var out []*store.PolicyVersion
	err := s.view(ctx, func(tx store.Tx) error {
		var err error
		if pol, err = policyByID(ctx, tx, op, account, id); err != nil {
			return err
		}
		if pol.Type == Preset {
			out = []*store.PolicyVersion{{PolicyID: id, Version: 1, Document: pol.Document}}
			return nil
		}
		out, err = tx.PolicyVersions(ctx, id)
		return err
	})
	return pol, out, err
}

// PolicyVersion returns one version of a policy.
func (s *Service) PolicyVersion(ctx context.Context, account, id string, version int64) (*Policy, *store.PolicyVersion, error) {
	pol, vs, err := s.PolicyVersions(ctx, account, id)
	if err != nil {
		return nil, nil, err
	}
	for _, v := range vs {
		if v.Version == version {
			return pol, v, nil
		}
	}
	return nil, nil, fault.E("iam.GetPolicyVersion", fault.NotFound, fmt.Sprintf("policy %s has no version %d", id, version)).Because(PolicyVersionNotExist)
}

// SetDefaultPolicyVersion makes a version the one in effect.
func (s *Service) SetDefaultPolicyVersion(ctx context.Context, account, id string, version int64) error {
	const op = "iam.SetDefaultPolicyVersion"
	return s.write(ctx, func(tx store.Tx) error {
		pol, err := customPolicy(ctx, tx, op, account, id)
		if err != nil {
			return err
		}
		if _, err := tx.PolicyVersion(ctx, id, version); fault.Is(err, fault.NotFound) {
			return fault.E(op, fault.NotFound, fmt.Sprintf("policy %s has no version %d", id, version)).Because(PolicyVersionNotExist)
		} else if err != nil {
			return err
		}
		if pol.DefaultVersion == version {
			return fault.E(op, fault.WrongState, fmt.Sprintf("version %d is already the default", version)).Because(VersionIsDefault)
		}
		pol.DefaultVersion = version
		pol.UpdatedAt = s.now()
		return tx.UpdatePolicy(ctx, pol.Policy)
	})
}

// DeletePolicyVersions removes versions of a policy other than the default.
func (s *Service) DeletePolicyVersions(ctx context.Context, account, id string, versions []int64) error {
	const op = "iam.DeletePolicyVersion"
	return s.write(ctx, func(tx store.Tx) error {
		pol, err := customPolicy(ctx, tx, op, account, id)
		if err != nil {
			return err
		}
		if slices.Contains(versions, pol.DefaultVersion) {
			return fault.E(op, fault.WrongState, fmt.Sprintf("version %d is the default; make another the default first", pol.DefaultVersion)).Because(VersionIsDefault)
		}
		for _, v := range versions {
			if err := tx.DeletePolicyVersion(ctx, id, v); fault.Is(err, fault.NotFound) {
				return fault.E(op, fault.NotFound, fmt.Sprintf("policy %s has no version %d", id, v)).Because(PolicyVersionNotExist)
			} else if err != nil {
				return err
			}
		}
		return nil
	})
}

// Entity names a user (by uin), a group or a role (by id).
type Entity struct {
	Kind store.EntityKind
	ID   string
}

func checkEntity(ctx context.Context, tx store.Tx, op, account string, e Entity) (string, error) {
	switch e.Kind {
	case store.EntityUser:
		u, err := userByUin(ctx, tx, op, account, e.ID)
		if err != nil {
			return "", err
		}
		return u.Name, nil
	case store.EntityGroup:
		g, err := groupByID(ctx, tx, op, account, e.ID)
		if err != nil {
			return "", err
		}
		return g.Name, nil
	case store.EntityRole:
		r, err := roleByID(ctx, tx, op, account, e.ID)
		if err != nil {
			return "", err
		}
		return r.Name, nil
	}
	return "", fault.E(op, fault.Invalid, "unknown entity kind "+string(e.Kind))
}

// Attach attaches a policy to a user, group or role. Attaching twice is not an error.
func (s *Service) Attach(ctx context.Context, account, policyID string, to Entity) error {
	const op = "iam.Attach"
	return s.write(ctx, func(tx store.Tx) error {
		if _, err := policyByID(ctx, tx, op, account, policyID); err != nil {
			return err
		}
		if _, err := checkEntity(ctx, tx, op, account, to); err != nil {
			return err
		}
		as, err := tx.AttachedTo(ctx, account, to.Kind, to.ID)
		if err != nil {
			return err
		}
		for _, a := range as {
			if a.PolicyID == policyID {
				return nil
			}
		}
		if len(as) >= MaxAttached {
			return fault.E(op, fault.Limit, "200 policies are attached already, the limit").Because(AttachmentFull)
		}
		return tx.Attach(ctx, &store.Attachment{Account: account, PolicyID: policyID, Kind: to.Kind, EntityID: to.ID, AttachedAt: s.now()})
	})
}

// Detach detaches a policy. Detaching one that is not attached is not an error.
func (s *Service) Detach(ctx context.Context, account, policyID string, from Entity) error {
	const op = "iam.Detach"
	return s.write(ctx, func(tx store.Tx) error {
		if _, err := policyByID(ctx, tx, op, account, policyID); err != nil {
			return err
		}
		if _, err := checkEntity(ctx, tx, op, account, from); err != nil {
			return err
		}
		if err := tx.Detach(ctx, account, policyID, from.Kind, from.ID); err != nil && !fault.Is(err, fault.NotFound) {
			return err
		}
		return nil
	})
}

// Attached is a policy attached to an entity.
type Attached struct {
	Policy     *Policy
	AttachedAt time.Time
}

// AttachedPolicies lists the policies attached directly to an entity.
func (s *Service) AttachedPolicies(ctx context.Context, account string, to Entity) ([]*Attached, error) {
	const op = "iam.ListAttachedPolicies"
	var out []*Attached
	err := s.view(ctx, func(tx store.Tx) error {
		if _, err := checkEntity(ctx, tx, op, account, to); err != nil {
			return err
		}
		as, err := tx.AttachedTo(ctx, account, to.Kind, to.ID)
		if err != nil {
			return err
		}
		for _, a := range as {
			p, err := policyByID(ctx, tx, op, account, a.PolicyID)
			if err != nil {
				return err
			}
			out = append(out, &Attached{Policy: p, AttachedAt: a.AttachedAt})
		}
		return nil
	})
	return out, err
}

// AttachedEntity is an entity a policy is attached to.
type AttachedEntity struct {
	Entity
	Name       string
	AttachedAt time.Time
}

// PolicyEntities lists the entities a policy is attached to.
func (s *Service) PolicyEntities(ctx context.Context, account, policyID string) ([]*AttachedEntity, error) {
	const op = "iam.ListEntitiesForPolicy"
	var out []*AttachedEntity
	err := s.view(ctx, func(tx store.Tx) error {
		if _, err := policyByID(ctx, tx, op, account, policyID); err != nil {
			return err
		}
		as, err := tx.AttachmentsOf(ctx, account, policyID)
		if err != nil {
			return err
		}
		for _, a := range as {
			e := Entity{Kind: a.Kind, ID: a.EntityID}
			name, err := checkEntity(ctx, tx, op, account, e)
			if err != nil {
				return err
			}
			out = append(out, &AttachedEntity{Entity: e, Name: name, AttachedAt: a.AttachedAt})
		}
		return nil
	})
	return out, err
}
