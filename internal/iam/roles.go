package iam

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/iam/policy"
	"github.com/coffer-secrets/coffer/internal/store"
)

// CreateRoleInput creates a role.
type CreateRoleInput struct {
	Name            string
	Trust           string // the trust policy: who may assume the role
	Description     string
	ConsoleLogin    bool
	SessionDuration int64 // 0: DefaultSessionLength
	Tags            []store.Tag
}

// checkTrust validates a trust policy: either dialect, every statement
// naming a principal.
func checkTrust(op, doc string) (*policy.Document, error) {
	if utf8.RuneCountInString(doc) > MaxDocumentChars {
		return nil, fault.E(op, fault.Invalid, fmt.Sprintf("the trust policy is longer than %d characters", MaxDocumentChars)).Because(DocumentTooLong)
	}
	d, err := policy.Parse(doc)
	if err != nil {
		return nil, fault.Wrap(op, fault.Invalid, "the trust policy is not valid: "+fault.Message(err), err).Because(BadDocument)
	}
	for i, st := range d.Statements {
		if st.Principals == nil && st.NotPrincipals == nil && d.Principals == nil {
			return nil, fault.E(op, fault.Invalid, fmt.Sprintf("statement %d of the trust policy names no principal", i)).Because(BadPrincipal)
		}
	}
	return d, nil
}

// CreateRole creates a role.
func (s *Service) CreateRole(ctx context.Context, account string, in CreateRoleInput) (*Role, error) {
	const op = "iam.CreateRole"
	if err := checkName(op, "role", in.Name, entityName); err != nil {
		return nil, err
	}
	if _, err := checkTrust(op, in.Trust); err != nil {
		return nil, err
	}
	if in.SessionDuration == 0 {
		in.SessionDuration = MaxSessionDuration
	}
	if in.SessionDuration < 0 || in.SessionDuration > MaxSessionDuration {
		return nil, fault.E(op, fault.Invalid, fmt.Sprintf("SessionDuration must be 0 to %d seconds", MaxSessionDuration)).Because(OverTime)
	}
	if len(in.Description) > 1000 {
		return nil, fault.E(op, fault.Invalid, "the description is longer than 1000 bytes")
	}
	if len(in.Tags) > 50 {
		return nil, fault.E(op, fault.Invalid, "a role carries at most 50 tags")
	}
	now := s.now()
	r := &Role{
		Account: account, ID: strconv.FormatUint(1<<62+uint64(randomInt(1, 1e12)), 10), Name: in.Name, Trust: in.Trust,
		Description: in.Description, ConsoleLogin: in.ConsoleLogin, SessionDuration: in.SessionDuration, Tags: in.Tags,
		CreatedAt: now, UpdatedAt: now,
	}
	err := s.write(ctx, func(tx store.Tx) error {
		if err := s.checkCount(ctx, tx, op, account, store.EntityRole, MaxRoles, RoleFull); err != nil {
			return err
		}
		return nameInUse(op, tx.InsertEntity(ctx, r.entity(now)), "role", in.Name, RoleNameInUse)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func roleByID(ctx context.Context, tx store.Tx, op, account, id string) (*Role, error) {
	e, err := tx.Entity(ctx, account, store.EntityRole, id)
	if fault.Is(err, fault.NotFound) {
		return nil, fault.E(op, fault.NotFound, "role "+id+" does not exist").Because(RoleNotExist)
	} else if err != nil {
		return nil, err
	}
	return roleFrom(e)
}

func roleByName(ctx context.Context, tx store.Tx, op, account, name string) (*Role, error) {
	e, err := tx.EntityByName(ctx, account, store.EntityRole, name)
	if fault.Is(err, fault.NotFound) {
		return nil, fault.E(op, fault.NotFound, "role "+name+" does not exist").Because(RoleNotExist)
	} else if err != nil {
		return nil, err
	}
	return roleFrom(e)
}

// RoleRef names a role by id or by name; the id wins when both are set.
type RoleRef struct {
	ID, Name string
}

func (r RoleRef) load(ctx context.Context, tx store.Tx, op, account string) (*Role, error) {
	switch {
	case r.ID != "":
		return roleByID(ctx, tx, op, account, r.ID)
	case r.Name != "":
		return roleByName(ctx, tx, op, account, r.Name)
	}
	return nil, fault.E(op, fault.Missing, "name the role by RoleId or RoleName")
}

// Role returns a role.
func (s *Service) Role(ctx context.Context, account string, ref RoleRef) (*Role, error) {
	var r *Role
	err := s.view(ctx, func(tx store.Tx) error {
		var err error
		r, err = ref.load(ctx, tx, "iam.GetRole", account)
		return err
	})
	return r, err
}

// Roles lists an account's roles, oldest first.
func (s *Service) Roles(ctx context.Context, account string) ([]*Role, error) {
	var out []*Role
	err := s.view(ctx, func(tx store.Tx) error {
		es, err := tx.Entities(ctx, account, store.EntityRole)
		if err != nil {
			return err
		}
		for _, e := range es {
			r, err := roleFrom(e)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// DeleteRole removes a role and its attachments. Its sessions stop working.
func (s *Service) DeleteRole(ctx context.Context, account string, ref RoleRef) error {
	const op = "iam.DeleteRole"
	return s.write(ctx, func(tx store.Tx) error {
		r, err := ref.load(ctx, tx, op, account)
		if err != nil {
			return err
		}
		return tx.DeleteEntity(ctx, account, store.EntityRole, r.ID)
	})
}

// UpdateRole replaces a role's trust policy, description or session
// duration; nil fields stay.
func (s *Service) UpdateRole(ctx context.Context, account string, ref RoleRef, trust, description *string, sessionDuration *int64) error {
	const op = "iam.UpdateRole"
	if trust != nil {
		if _, err := checkTrust(op, *trust); err != nil {
			return err
		}
	}
	if sessionDuration != nil && (*sessionDuration < 0 || *sessionDuration > MaxSessionDuration) {
		return fault.E(op, fault.Invalid, fmt.Sprintf("SessionDuration must be 0 to %d seconds", MaxSessionDuration)).Because(OverTime)
	}
	return s.write(ctx, func(tx store.Tx) error {
		r, err := ref.load(ctx, tx, op, account)
		if err != nil {
			return err
		}
		if trust != nil {
			r.Trust = *trust
		}
		if description != nil {
			r.Description = *description
		}
		if sessionDuration != nil {
			r.SessionDuration = *sessionDuration
			if r.SessionDuration == 0 {
				r.SessionDuration = MaxSessionDuration
			}
		}
		return tx.UpdateEntity(ctx, r.entity(s.now()))
	})
}

// ParseRoleArn reads a role's account and name or id from its CAM name
// (qcs::cam::uin/ACCOUNT:roleName/NAME or …:role/ID) or its AWS ARN
// (arn:aws:iam::ACCOUNT:role/NAME).
func ParseRoleArn(arn string) (account string, ref RoleRef, ok bool) {
	switch {
	case strings.HasPrefix(arn, "qcs::cam::uin/"):
		rest := strings.TrimPrefix(arn, "qcs::cam::uin/")
		acct, res, found := strings.Cut(rest, ":")
		if !found || acct == "" {
			return "", RoleRef{}, false
		}
		switch {
		case strings.HasPrefix(res, "roleName/") && len(res) > len("roleName/"):
			return acct, RoleRef{Name: strings.TrimPrefix(res, "roleName/")}, true
		case strings.HasPrefix(res, "role/") && len(res) > len("role/"):
			return acct, RoleRef{ID: strings.TrimPrefix(res, "role/")}, true
		}
	case strings.HasPrefix(arn, "arn:aws:iam::"):
		rest := strings.TrimPrefix(arn, "arn:aws:iam::")
		acct, res, found := strings.Cut(rest, ":")
		if found && acct != "" && strings.HasPrefix(res, "role/") && len(res) > len("role/") {
			name := res[strings.LastIndex(res, "/")+1:] // a path may precede the name
			return acct, RoleRef{Name: name}, true
		}
	}
	return "", RoleRef{}, false
}
