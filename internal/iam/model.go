package iam

import (
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/store"
)

// Reasons refine fault kinds where the CAM API names cases apart.
const (
	UserNotExist          fault.Reason = "user does not exist"
	GroupNotExist         fault.Reason = "group does not exist"
	RoleNotExist          fault.Reason = "role does not exist"
	PolicyNotExist        fault.Reason = "policy does not exist"
	PolicyVersionNotExist fault.Reason = "policy version does not exist"
	AccessKeyNotExist     fault.Reason = "access key does not exist"
	UserNameInUse         fault.Reason = "user name in use"
	GroupNameInUse        fault.Reason = "group name in use"
	RoleNameInUse         fault.Reason = "role name in use"
	PolicyNameInUse       fault.Reason = "policy name in use"
	HaveKeys              fault.Reason = "user has access keys"
	AccessKeyOverLimit    fault.Reason = "too many access keys"
	PasswordRules         fault.Reason = "password violates the rules"
	BadName               fault.Reason = "bad name"
	BadDocument           fault.Reason = "bad policy document"
	DocumentTooLong       fault.Reason = "policy document too long"
	PrincipalNotAllowed   fault.Reason = "principal in an identity policy"
	BadPrincipal          fault.Reason = "bad trust principal"
	VersionFull           fault.Reason = "too many policy versions"
	VersionIsDefault      fault.Reason = "policy version is the default"
	AttachmentFull        fault.Reason = "too many attached policies"
	SubUserFull           fault.Reason = "too many users"
	GroupFull             fault.Reason = "too many groups"
	RoleFull              fault.Reason = "too many roles"
	PolicyFull            fault.Reason = "too many policies"
	GroupUserFull         fault.Reason = "too many users in the group"
	UserGroupFull         fault.Reason = "too many groups for the user"
	PresetPolicy          fault.Reason = "preset policies cannot change"
	OverTime              fault.Reason = "session duration over the limit"
	TokenInvalid          fault.Reason = "session token invalid"
	TokenExpired          fault.Reason = "session token expired"
	UinNotMatch           fault.Reason = "access key of another user"
	NoTarget              fault.Reason = "no user named"
	TempKeyNotAllowed     fault.Reason = "temporary credentials cannot do this"
	RoleNotFound          fault.Reason = "role to assume not found"
)

// Limits, as CAM documents them (spec §2.1).
const (
	MaxUsers             = 1000
	MaxGroups            = 300
	MaxRoles             = 1000
	MaxPolicies          = 1500
	MaxAttached          = 200
	MaxGroupUsers        = 100
	MaxUserGroups        = 10
	MaxKeysPerUser       = 2
	MaxPolicyVersions    = 5
	MaxDocumentChars     = 6144
	MaxSessionDuration   = 43200
	DefaultSessionLength = 7200
	MaxSessionPolicy     = 2048
)

var (
	userName   = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,64}$`)
	entityName = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,128}$`)
)

func checkName(op, what, name string, re *regexp.Regexp) error {
	if !re.MatchString(name) {
		return fault.E(op, fault.Invalid, fmt.Sprintf("the %s name must be 1 to %d characters of letters, digits and +=,.@_-", what, maxLen(re))).Because(BadName)
	}
	return nil
}

func maxLen(re *regexp.Regexp) int {
	if re == userName {
		return 64
	}
	return 128
}

// User is a sub-user of an account.
type User struct {
	Account      string
	Uin          string // numeric, 12 digits; its principal id
	Uid          uint64 // a small numeric id CAM also shows
	Name         string
	Remark       string
	ConsoleLogin bool
	Email        string
	PhoneNum     string
	CountryCode  string
	// PasswordHash is the console password, argon2id-encoded; "" for none.
	PasswordHash      string
	NeedResetPassword bool
	Tags              map[string]string // principal tags (aws:PrincipalTag, qcs:principal_tag)
	CreatedAt         time.Time
	revision          int64
}

// Group collects users so policies can be attached once.
type Group struct {
	Account   string
	ID        string
	Name      string
	Remark    string
	CreatedAt time.Time
	revision  int64
}

// Role is assumed for temporary credentials.
type Role struct {
	Account         string
	ID              string // a decimal string, 2^62 + n
	Name            string
	Trust           string // the trust policy document, verbatim
	Description     string
	ConsoleLogin    bool
	SessionDuration int64 // the longest session, in seconds
	Tags            []store.Tag
	CreatedAt       time.Time
	UpdatedAt       time.Time
	revision        int64
}

// Arn returns the role's CAM name by role name.
func (r *Role) Arn() string { return "qcs::cam::uin/" + r.Account + ":roleName/" + r.Name }

type userAttrs struct {
	Uid               uint64            `json:"uid"`
	Remark            string            `json:"remark,omitempty"`
	ConsoleLogin      bool              `json:"consoleLogin,omitempty"`
	Email             string            `json:"email,omitempty"`
	PhoneNum          string            `json:"phoneNum,omitempty"`
	CountryCode       string            `json:"countryCode,omitempty"`
	Password          string            `json:"password,omitempty"`
	NeedResetPassword bool              `json:"needResetPassword,omitempty"`
	Tags              map[string]string `json:"tags,omitempty"`
}

type groupAttrs struct {
	Remark string `json:"remark,omitempty"`
}

type roleAttrs struct {
	Trust           string      `json:"trust"`
	Description     string      `json:"description,omitempty"`
	ConsoleLogin    bool        `json:"consoleLogin,omitempty"`
	SessionDuration int64       `json:"sessionDuration"`
	Tags            []store.Tag `json:"tags,omitempty"`
}

func userFrom(e *store.Entity) (*User, error) {
	var a userAttrs
	if err := json.Unmarshal(e.Attrs, &a); err != nil {
		return nil, fmt.Errorf("decode user %s: %w", e.ID, err)
	}
	return &User{
		Account: e.Account, Uin: e.ID, Uid: a.Uid, Name: e.Name, Remark: a.Remark, ConsoleLogin: a.ConsoleLogin,
		Email: a.Email, PhoneNum: a.PhoneNum, CountryCode: a.CountryCode, PasswordHash: a.Password,
		NeedResetPassword: a.NeedResetPassword, Tags: a.Tags, CreatedAt: e.CreatedAt, revision: e.Revision,
	}, nil
}

func (u *User) entity(now time.Time) *store.Entity {
	a := userAttrs{
		Uid: u.Uid, Remark: u.Remark, ConsoleLogin: u.ConsoleLogin, Email: u.Email, PhoneNum: u.PhoneNum,
		CountryCode: u.CountryCode, Password: u.PasswordHash, NeedResetPassword: u.NeedResetPassword, Tags: u.Tags,
	}
	b, _ := json.Marshal(a)
	return &store.Entity{Account: u.Account, Kind: store.EntityUser, ID: u.Uin, Name: u.Name, Attrs: b,
		CreatedAt: u.CreatedAt, UpdatedAt: now, Revision: u.revision}
}

func groupFrom(e *store.Entity) (*Group, error) {
	var a groupAttrs
	if err := json.Unmarshal(e.Attrs, &a); err != nil {
		return nil, fmt.Errorf("decode group %s: %w", e.ID, err)
	}
	return &Group{Account: e.Account, ID: e.ID, Name: e.Name, Remark: a.Remark, CreatedAt: e.CreatedAt, revision: e.Revision}, nil
}

func (g *Group) entity(now time.Time) *store.Entity {
	b, _ := json.Marshal(groupAttrs{Remark: g.Remark})
	return &store.Entity{Account: g.Account, Kind: store.EntityGroup, ID: g.ID, Name: g.Name, Attrs: b,
		CreatedAt: g.CreatedAt, UpdatedAt: now, Revision: g.revision}
}

func roleFrom(e *store.Entity) (*Role, error) {
	var a roleAttrs
	if err := json.Unmarshal(e.Attrs, &a); err != nil {
		return nil, fmt.Errorf("decode role %s: %w", e.ID, err)
	}
	return &Role{
		Account: e.Account, ID: e.ID, Name: e.Name, Trust: a.Trust, Description: a.Description,
		ConsoleLogin: a.ConsoleLogin, SessionDuration: a.SessionDuration, Tags: a.Tags,
		CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt, revision: e.Revision,
	}, nil
}

func (r *Role) entity(now time.Time) *store.Entity {
	b, _ := json.Marshal(roleAttrs{Trust: r.Trust, Description: r.Description, ConsoleLogin: r.ConsoleLogin,
		SessionDuration: r.SessionDuration, Tags: r.Tags})
	return &store.Entity{Account: r.Account, Kind: store.EntityRole, ID: r.ID, Name: r.Name, Attrs: b,
		CreatedAt: r.CreatedAt, UpdatedAt: now, Revision: r.revision}
}
