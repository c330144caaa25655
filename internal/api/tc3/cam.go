package tc3

import (
	"context"
	"slices"
	"strings"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/iam"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
)

// camActions is the CAM action table (spec §3), plus ExplainAccess, a
// Coffer extension.
var camActions = map[string]action{
	"AddUser":                   handle(addUser),
	"GetUser":                   handle(getUser),
	"ListUsers":                 handle(listUsers),
	"UpdateUser":                handle(updateUser),
	"DeleteUser":                handle(deleteUser),
	"CreateGroup":               handle(createGroup),
	"GetGroup":                  handle(getGroup),
	"ListGroups":                handle(listGroups),
	"UpdateGroup":               handle(updateGroup),
	"DeleteGroup":               handle(deleteGroup),
	"AddUserToGroup":            handle(addUserToGroup),
	"RemoveUserFromGroup":       handle(removeUserFromGroup),
	"ListUsersForGroup":         handle(listUsersForGroup),
	"ListGroupsForUser":         handle(listGroupsForUser),
	"CreateAccessKey":           handle(createAccessKey),
	"ListAccessKeys":            handle(listAccessKeys),
	"UpdateAccessKey":           handle(updateAccessKey),
	"DeleteAccessKey":           handle(deleteAccessKey),
	"GetSecurityLastUsed":       handle(getSecurityLastUsed),
	"CreatePolicy":              handle(createPolicy),
	"GetPolicy":                 handle(getPolicy),
	"ListPolicies":              handle(listPolicies),
	"UpdatePolicy":              handle(updatePolicy),
	"DeletePolicy":              handle(deletePolicy),
	"CreatePolicyVersion":       handle(createPolicyVersion),
	"ListPolicyVersions":        handle(listPolicyVersions),
	"GetPolicyVersion":          handle(getPolicyVersion),
	"SetDefaultPolicyVersion":   handle(setDefaultPolicyVersion),
	"DeletePolicyVersion":       handle(deletePolicyVersion),
	"AttachUserPolicy":          handle(attachUserPolicy),
	"DetachUserPolicy":          handle(detachUserPolicy),
	"AttachGroupPolicy":         handle(attachGroupPolicy),
	"DetachGroupPolicy":         handle(detachGroupPolicy),
	"AttachRolePolicy":          handle(attachRolePolicy),
	"DetachRolePolicy":          handle(detachRolePolicy),
	"ListAttachedUserPolicies":  handle(listAttachedUserPolicies),
	"ListAttachedGroupPolicies": handle(listAttachedGroupPolicies),
	"ListAttachedRolePolicies":  handle(listAttachedRolePolicies),
	"ListEntitiesForPolicy":     handle(listEntitiesForPolicy),
	"CreateRole":                handle(createRole),
	"GetRole":                   handle(getRole),
	"DescribeRoleList":          handle(describeRoleList),
	"DeleteRole":                handle(deleteRole),
	"UpdateAssumeRolePolicy":    handle(updateAssumeRolePolicy),
	"UpdateRoleDescription":     handle(updateRoleDescription),
	"GetUserAppId":              handle(getUserAppID),
	"GetAccountSummary":         handle(getAccountSummary),
	"ExplainAccess":             handle(explainAccess),
}

// noCheck is embedded by requests with nothing to check at the edge.
type noCheck struct{}

func (noCheck) check() error      { return nil }
func (noCheck) resource() string  { return "" }
func (noCheck) prepare(*api.Call) {}

type empty struct{}

// ---- users ----

type addUserRequest struct {
	noCheck
	Name              string
	Remark            string
	ConsoleLogin      *flexUint
	UseApi            *flexUint
	Password          string
	NeedResetPassword *flexUint
	PhoneNum          string
	CountryCode       string
	Email             string
	Tags              []camTag // a Coffer extension: principal tags
}

type camTag struct {
	Key   string
	Value string
}

func (r *addUserRequest) check() error     { return required("Name", r.Name) }
func (r *addUserRequest) resource() string { return r.Name }

func tagMapOf(ts []camTag) map[string]string {
	if len(ts) == 0 {
		return nil
	}
	m := make(map[string]string, len(ts))
	for _, t := range ts {
		m[t.Key] = t.Value
	}
	return m
}

type addUserResponse struct {
	Uin       uint64
	Name      string
	Password  string
	SecretId  string
	SecretKey string
	Uid       uint64
}

func addUser(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *addUserRequest) (*addUserResponse, error) {
	out, err := e.Gate.IAM.AddUser(ctx, sc.Account, iam.AddUserInput{
		Name: r.Name, Remark: r.Remark, ConsoleLogin: r.ConsoleLogin.val() == 1, UseAPI: r.UseApi.val() == 1,
		Password: r.Password, NeedResetPassword: r.NeedResetPassword.val() == 1, PhoneNum: r.PhoneNum,
		CountryCode: r.CountryCode, Email: r.Email, Tags: tagMapOf(r.Tags),
	})
	if err != nil {
		return nil, err
	}
	res := &addUserResponse{Uin: num(out.User.Uin), Name: out.User.Name, Password: out.Password, Uid: out.User.Uid}
	if out.AccessKey != nil {
		res.SecretId, res.SecretKey = out.AccessKey.ID, out.AccessKey.Secret
	}
	return res, nil
}

type userNameRequest struct {
	noCheck
	Name string
}

func (r *userNameRequest) check() error     { return required("Name", r.Name) }
func (r *userNameRequest) resource() string { return r.Name }

type userInfo struct {
	Uin               uint64
	Name              string
	Uid               uint64
	Remark            string
	ConsoleLogin      uint64
	PhoneNum          string
	CountryCode       string
	Email             string
	RecentlyLoginIP   string
	RecentlyLoginTime string
	Tags              []camTag
}

func userOut(u *iam.User) *userInfo {
	out := &userInfo{Uin: num(u.Uin), Name: u.Name, Uid: u.Uid, Remark: u.Remark, ConsoleLogin: b2u(u.ConsoleLogin),
		PhoneNum: u.PhoneNum, CountryCode: u.CountryCode, Email: u.Email, Tags: []camTag{}}
	keys := make([]string, 0, len(u.Tags))
	for k := range u.Tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		out.Tags = append(out.Tags, camTag{Key: k, Value: u.Tags[k]})
	}
	return out
}

func getUser(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *userNameRequest) (*userInfo, error) {
	u, err := e.Gate.IAM.User(ctx, sc.Account, r.Name)
	if err != nil {
		return nil, err
	}
	return userOut(u), nil
}

type subAccountInfo struct {
	Uin          uint64
	Name         string
	Uid          uint64
	Remark       string
	ConsoleLogin uint64
	PhoneNum     string
	CountryCode  string
	Email        string
	CreateTime   string
	NickName     string
}

type listUsersResponse struct {
	Data []subAccountInfo
}

func listUsers(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *struct{ noCheck }) (*listUsersResponse, error) {
	us, err := e.Gate.IAM.Users(ctx, sc.Account)
	if err != nil {
		return nil, err
	}
	out := &listUsersResponse{Data: []subAccountInfo{}}
	for _, u := range us {
		out.Data = append(out.Data, subAccountInfo{Uin: num(u.Uin), Name: u.Name, Uid: u.Uid, Remark: u.Remark,
			ConsoleLogin: b2u(u.ConsoleLogin), PhoneNum: u.PhoneNum, CountryCode: u.CountryCode, Email: u.Email,
			CreateTime: camTime(u.CreatedAt), NickName: u.Name})
	}
	return out, nil
}

type updateUserRequest struct {
	noCheck
	Name              string
	Remark            *string
	ConsoleLogin      *flexUint
	Password          *string
	NeedResetPassword *flexUint
	PhoneNum          *string
	CountryCode       *string
	Email             *string
	Tags              []camTag
}

func (r *updateUserRequest) check() error     { return required("Name", r.Name) }
func (r *updateUserRequest) resource() string { return r.Name }

func flagPtr(f *flexUint) *bool {
	if f == nil {
		return nil
	}
	b := f.val() == 1
	return &b
}

func updateUser(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *updateUserRequest) (*empty, error) {
	return &empty{}, e.Gate.IAM.UpdateUser(ctx, sc.Account, r.Name, iam.UserPatch{
		Remark: r.Remark, Password: r.Password, PhoneNum: r.PhoneNum, CountryCode: r.CountryCode, Email: r.Email,
		ConsoleLogin: flagPtr(r.ConsoleLogin), NeedResetPassword: flagPtr(r.NeedResetPassword), Tags: tagMapOf(r.Tags),
	})
}

type deleteUserRequest struct {
	noCheck
	Name  string
	Force *flexUint
}

func (r *deleteUserRequest) check() error     { return required("Name", r.Name) }
func (r *deleteUserRequest) resource() string { return r.Name }

func deleteUser(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *deleteUserRequest) (*empty, error) {
	force := r.Force.val() == 1
	if force {
		// Deleting the keys with the user needs the right to delete keys.
		if err := e.Gate.Check(ctx, c, "DeleteAccessKey", ""); err != nil {
			return nil, err
		}
	}
	return &empty{}, e.Gate.IAM.DeleteUser(ctx, sc.Account, r.Name, force)
}

// ---- groups ----

type createGroupRequest struct {
	noCheck
	GroupName string
	Remark    string
}

func (r *createGroupRequest) check() error     { return required("GroupName", r.GroupName) }
func (r *createGroupRequest) resource() string { return r.GroupName }

func createGroup(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *createGroupRequest) (*struct{ GroupId uint64 }, error) {
	g, err := e.Gate.IAM.CreateGroup(ctx, sc.Account, r.GroupName, r.Remark)
	if err != nil {
		return nil, err
	}
	return &struct{ GroupId uint64 }{num(g.ID)}, nil
}

type groupIDRequest struct {
	noCheck
	GroupId *flexUint
	Page    *flexUint
	Rp      *flexUint
}

func (r *groupIDRequest) check() error {
	if !r.GroupId.set() {
		return wire(codeMissingParameter, "The parameter `GroupId` is required.")
	}
	return checkPage(r.Page, r.Rp)
}
func (r *groupIDRequest) resource() string { return r.GroupId.str() }

func checkPage(page, rp *flexUint) error {
	if page.set() && page.val() < 1 {
		return wire(codeInvalidValue, "The parameter `Page` starts at 1.")
	}
	if rp.set() && (rp.val() < 1 || rp.val() > 200) {
		return wire(codeInvalidValue, "The parameter `Rp` must be 1 to 200.")
	}
	return nil
}

// pageOf returns the slice bounds of a 1-based page of rp items (default 20).
func pageOf(n int, page, rp *flexUint) (int, int) {
	size := 20
	if rp.set() {
		size = int(rp.val())
	}
	p := 1
	if page.set() {
		p = int(page.val())
	}
	lo := min((p-1)*size, n)
	return lo, min(lo+size, n)
}

type groupMemberInfo struct {
	Uid             uint64
	Uin             uint64
	Name            string
	PhoneNum        string
	CountryCode     string
	PhoneFlag       uint64
	Email           string
	EmailFlag       uint64
	UserType        uint64
	CreateTime      string
	IsReceiverOwner uint64
	Remark          string
}

func memberOut(u *iam.User) groupMemberInfo {
	return groupMemberInfo{Uid: u.Uid, Uin: num(u.Uin), Name: u.Name, PhoneNum: u.PhoneNum, CountryCode: u.CountryCode,
		Email: u.Email, CreateTime: camTime(u.CreatedAt), Remark: u.Remark}
}

type getGroupResponse struct {
	GroupId    uint64
	GroupName  string
	GroupNum   uint64
	Remark     string
	CreateTime string
	UserInfo   []groupMemberInfo
}

func getGroup(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *groupIDRequest) (*getGroupResponse, error) {
	g, err := e.Gate.IAM.Group(ctx, sc.Account, r.GroupId.str())
	if err != nil {
		return nil, err
	}
	us, err := e.Gate.IAM.GroupMembers(ctx, sc.Account, g.ID)
	if err != nil {
		return nil, err
	}
	out := &getGroupResponse{GroupId: num(g.ID), GroupName: g.Name, GroupNum: uint64(len(us)), Remark: g.Remark,
		CreateTime: camTime(g.CreatedAt), UserInfo: []groupMemberInfo{}}
	for _, u := range us {
		out.UserInfo = append(out.UserInfo, memberOut(u))
	}
	return out, nil
}

type groupInfo struct {
	GroupId    uint64
	GroupName  string
	CreateTime string
	Remark     string
}

type listGroupsRequest struct {
	noCheck
	Page    *flexUint
	Rp      *flexUint
	Keyword string
}

func (r *listGroupsRequest) check() error { return checkPage(r.Page, r.Rp) }

type listGroupsResponse struct {
	TotalNum  uint64
	GroupInfo []groupInfo
}

func groupsOut(gs []*iam.Group, page, rp *flexUint) *listGroupsResponse {
	lo, hi := pageOf(len(gs), page, rp)
	out := &listGroupsResponse{TotalNum: uint64(len(gs)), GroupInfo: []groupInfo{}}
	for _, g := range gs[lo:hi] {
		out.GroupInfo = append(out.GroupInfo, groupInfo{GroupId: num(g.ID), GroupName: g.Name, CreateTime: camTime(g.CreatedAt), Remark: g.Remark})
	}
	return out
}

func listGroups(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *listGroupsRequest) (*listGroupsResponse, error) {
	gs, err := e.Gate.IAM.Groups(ctx, sc.Account)
	if err != nil {
		return nil, err
	}
	gs = slices.DeleteFunc(gs, func(g *iam.Group) bool { return !strings.Contains(g.Name, r.Keyword) })
	return groupsOut(gs, r.Page, r.Rp), nil
}

type updateGroupRequest struct {
	noCheck
	GroupId   *flexUint
	GroupName *string
	Remark    *string
}

func (r *updateGroupRequest) check() error {
	if !r.GroupId.set() {
		return wire(codeMissingParameter, "The parameter `GroupId` is required.")
	}
	return nil
}
func (r *updateGroupRequest) resource() string { return r.GroupId.str() }

func updateGroup(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *updateGroupRequest) (*empty, error) {
	return &empty{}, e.Gate.IAM.UpdateGroup(ctx, sc.Account, r.GroupId.str(), r.GroupName, r.Remark)
}

func deleteGroup(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *groupIDRequest) (*empty, error) {
	return &empty{}, e.Gate.IAM.DeleteGroup(ctx, sc.Account, r.GroupId.str())
}

type groupUserInfo struct {
	GroupId *flexUint
	Uid     *flexUint
	Uin     *flexUint
}

type membershipRequest struct {
	noCheck
	Info []groupUserInfo
}

func (r *membershipRequest) check() error {
	if len(r.Info) == 0 {
		return wire(codeMissingParameter, "The parameter `Info` is required.")
	}
	for _, i := range r.Info {
		if !i.GroupId.set() {
			return wire(codeMissingParameter, "The parameter `Info.GroupId` is required.")
		}
		if !i.Uid.set() && !i.Uin.set() {
			return wire("InvalidParameter.UserUinAndUinNotAllNull", "Each entry of `Info` needs a Uid or a Uin.")
		}
	}
	return nil
}

// memberships resolves Uids to Uins.
func (e *Edge) memberships(ctx context.Context, account string, info []groupUserInfo) ([]iam.Membership, error) {
	var users []*iam.User
	var out []iam.Membership
	for _, i := range info {
		uin := i.Uin.str()
		if !i.Uin.set() {
			if users == nil {
				var err error
				if users, err = e.Gate.IAM.Users(ctx, account); err != nil {
					return nil, err
				}
			}
			for _, u := range users {
				if u.Uid == i.Uid.val() {
					uin = u.Uin
				}
			}
			if uin == "" {
				return nil, fault.E("cam.membership", fault.NotFound, "no user has Uid "+i.Uid.str()).Because(iam.UserNotExist)
			}
		}
		out = append(out, iam.Membership{GroupID: i.GroupId.str(), UserUin: uin})
	}
	return out, nil
}

func groupNotExist(err error) error {
	if fault.ReasonOf(err) == iam.GroupNotExist {
		return wire("InvalidParameter.GroupNotExist", fault.Message(err))
	}
	return err
}

func addUserToGroup(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *membershipRequest) (*empty, error) {
	ms, err := e.memberships(ctx, sc.Account, r.Info)
	if err != nil {
		return nil, err
	}
	return &empty{}, groupNotExist(e.Gate.IAM.AddToGroups(ctx, sc.Account, ms))
}

func removeUserFromGroup(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *membershipRequest) (*empty, error) {
	ms, err := e.memberships(ctx, sc.Account, r.Info)
	if err != nil {
		return nil, err
	}
	return &empty{}, groupNotExist(e.Gate.IAM.RemoveFromGroups(ctx, sc.Account, ms))
}

type listUsersForGroupResponse struct {
	TotalNum uint64
	UserInfo []groupMemberInfo
}

func listUsersForGroup(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *groupIDRequest) (*listUsersForGroupResponse, error) {
	us, err := e.Gate.IAM.GroupMembers(ctx, sc.Account, r.GroupId.str())
	if err != nil {
		return nil, err
	}
	lo, hi := pageOf(len(us), r.Page, r.Rp)
	out := &listUsersForGroupResponse{TotalNum: uint64(len(us)), UserInfo: []groupMemberInfo{}}
	for _, u := range us[lo:hi] {
		out.UserInfo = append(out.UserInfo, memberOut(u))
	}
	return out, nil
}

type listGroupsForUserRequest struct {
	noCheck
	Uid    *flexUint
	SubUin *flexUint
	Page   *flexUint
	Rp     *flexUint
}

func (r *listGroupsForUserRequest) check() error {
	if !r.Uid.set() && !r.SubUin.set() {
		return wire(codeMissingParameter, "The parameter `Uid` or `SubUin` is required.")
	}
	return checkPage(r.Page, r.Rp)
}

func listGroupsForUser(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *listGroupsForUserRequest) (*listGroupsResponse, error) {
	ms, err := e.memberships(ctx, sc.Account, []groupUserInfo{{Uid: r.Uid, Uin: r.SubUin}})
	if err != nil {
		return nil, err
	}
	gs, err := e.Gate.IAM.UserGroups(ctx, sc.Account, ms[0].UserUin)
	if err != nil {
		return nil, err
	}
	return groupsOut(gs, r.Page, r.Rp), nil
}

// ---- access keys ----

// keyTarget is the user whose keys a call acts on: TargetUin, or the caller.
type keyTarget struct {
	TargetUin *flexUint
}

func (k *keyTarget) target(c *api.Call) string {
	if k.TargetUin.set() {
		return k.TargetUin.str()
	}
	return c.Principal.ID
}

// prepare names the target user for authorization:
// qcs::cam::uin/OWNER:uin/TARGET (spec §2.3).
func (k *keyTarget) prepare(c *api.Call) {
	c.ResourceNames = []string{"qcs::cam::uin/" + c.Principal.Account + ":uin/" + k.target(c)}
}

// checkKeyTarget refuses what CAM refuses before looking: a sub-user
// acting on the root's keys, a role session acting on its own.
func checkKeyTarget(c *api.Call, target string) error {
	switch {
	case c.Principal.Kind != iam.KindRoot && target == c.Principal.Account:
		return wire("OperationDenied.SubUin", "A sub-user cannot act on the root account's access keys.")
	case c.Principal.Kind == iam.KindRole && target == c.Principal.ID:
		return wire("InvalidParameter.UserNotExist", "A role session has no access keys; name a user with TargetUin.")
	}
	return nil
}

type createAccessKeyRequest struct {
	keyTarget
	Description string
}

func (r *createAccessKeyRequest) check() error     { return nil }
func (r *createAccessKeyRequest) resource() string { return r.TargetUin.str() }

type accessKeyDetail struct {
	AccessKeyId     string
	SecretAccessKey string
	Status          string
	CreateTime      string
	Description     string
}

func createAccessKey(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *createAccessKeyRequest) (*struct{ AccessKey accessKeyDetail }, error) {
	target := r.target(c)
	if err := checkKeyTarget(c, target); err != nil {
		return nil, err
	}
	k, err := e.Gate.IAM.CreateAccessKey(ctx, sc.Account, target, r.Description)
	if err != nil {
		return nil, keyUserError(err)
	}
	return &struct{ AccessKey accessKeyDetail }{accessKeyDetail{AccessKeyId: k.ID, SecretAccessKey: k.Secret,
		Status: string(k.Status), CreateTime: camTime(k.CreatedAt), Description: k.Description}}, nil
}

func keyUserError(err error) error {
	if fault.ReasonOf(err) == iam.UserNotExist {
		return wire("InvalidParameter.UserNotExist", fault.Message(err))
	}
	return err
}

type listAccessKeysRequest struct {
	keyTarget
}

func (r *listAccessKeysRequest) check() error     { return nil }
func (r *listAccessKeysRequest) resource() string { return r.TargetUin.str() }

type accessKeyOut struct {
	AccessKeyId  string
	Status       string
	CreateTime   string
	Description  string
	LastUsedTime string // a Coffer extension: "" when never used
}

func listAccessKeys(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *listAccessKeysRequest) (*struct{ AccessKeys []accessKeyOut }, error) {
	target := r.target(c)
	if err := checkKeyTarget(c, target); err != nil {
		return nil, err
	}
	ks, err := e.Gate.IAM.AccessKeys(ctx, sc.Account, target)
	if err != nil {
		return nil, keyUserError(err)
	}
	out := &struct{ AccessKeys []accessKeyOut }{[]accessKeyOut{}}
	for _, k := range ks {
		out.AccessKeys = append(out.AccessKeys, accessKeyOut{AccessKeyId: k.ID, Status: string(k.Status),
			CreateTime: camTime(k.CreatedAt), Description: k.Description, LastUsedTime: camTime(k.LastUsedAt)})
	}
	return out, nil
}

type updateAccessKeyRequest struct {
	keyTarget
	AccessKeyId string
	Status      string
}

func (r *updateAccessKeyRequest) check() error {
	if err := required("AccessKeyId", r.AccessKeyId); err != nil {
		return err
	}
	if err := required("Status", r.Status); err != nil {
		return err
	}
	if r.Status != "Active" && r.Status != "Inactive" {
		return wire("InvalidParameter.ParamError", "The parameter `Status` must be Active or Inactive.")
	}
	return nil
}
func (r *updateAccessKeyRequest) resource() string { return r.AccessKeyId }

func updateAccessKey(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *updateAccessKeyRequest) (*empty, error) {
	target := r.target(c)
	if err := checkKeyTarget(c, target); err != nil {
		return nil, err
	}
	return &empty{}, e.Gate.IAM.SetAccessKeyStatus(ctx, sc.Account, target, r.AccessKeyId, store.AccessKeyStatus(r.Status))
}

type deleteAccessKeyRequest struct {
	keyTarget
	AccessKeyId string
}

func (r *deleteAccessKeyRequest) check() error     { return required("AccessKeyId", r.AccessKeyId) }
func (r *deleteAccessKeyRequest) resource() string { return r.AccessKeyId }

func deleteAccessKey(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *deleteAccessKeyRequest) (*empty, error) {
	target := r.target(c)
	if err := checkKeyTarget(c, target); err != nil {
		return nil, err
	}
	return &empty{}, e.Gate.IAM.DeleteAccessKey(ctx, sc.Account, target, r.AccessKeyId)
}

type lastUsedRequest struct {
	noCheck
	SecretIdList []string
}

func (r *lastUsedRequest) check() error {
	if len(r.SecretIdList) == 0 || len(r.SecretIdList) > 10 {
		return wire(codeInvalidValue, "The parameter `SecretIdList` holds 1 to 10 access key ids.")
	}
	return nil
}

type lastUsedRow struct {
	SecretId           string
	LastUsedDate       string
	LastSecretUsedDate uint64
}

func getSecurityLastUsed(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *lastUsedRequest) (*struct{ SecretIdLastUsedRows []lastUsedRow }, error) {
	out := &struct{ SecretIdLastUsedRows []lastUsedRow }{[]lastUsedRow{}}
	for _, id := range r.SecretIdList {
		k, err := e.Gate.IAM.AccessKey(ctx, sc.Account, id)
		if err != nil {
			return nil, err
		}
		row := lastUsedRow{SecretId: k.ID}
		if !k.LastUsedAt.IsZero() {
			row.LastUsedDate = k.LastUsedAt.UTC().Format("2006-01-02")
			row.LastSecretUsedDate = uint64(k.LastUsedAt.Unix())
		}
		out.SecretIdLastUsedRows = append(out.SecretIdLastUsedRows, row)
	}
	return out, nil
}

// ---- policies ----

type createPolicyRequest struct {
	noCheck
	PolicyName     string
	PolicyDocument string
	Description    string
	Tags           []camTag
}

func (r *createPolicyRequest) check() error {
	if err := required("PolicyName", r.PolicyName); err != nil {
		return err
	}
	return required("PolicyDocument", r.PolicyDocument)
}
func (r *createPolicyRequest) resource() string { return r.PolicyName }
func (r *createPolicyRequest) requestTags() map[string]string {
	return tagMapOf(r.Tags)
}

func storeTags(ts []camTag) []store.Tag {
	var out []store.Tag
	for _, t := range ts {
		out = append(out, store.Tag{Key: t.Key, Value: t.Value})
	}
	return out
}

func createPolicy(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *createPolicyRequest) (*struct{ PolicyId uint64 }, error) {
	p, err := e.Gate.IAM.CreatePolicy(ctx, sc.Account, r.PolicyName, r.Description, r.PolicyDocument, storeTags(r.Tags))
	if err != nil {
		return nil, policyNameError(err)
	}
	return &struct{ PolicyId uint64 }{num(p.ID)}, nil
}

func policyNameError(err error) error {
	if fault.ReasonOf(err) == iam.BadName {
		return wire("InvalidParameter.PolicyNameError", fault.Message(err))
	}
	return err
}

type policyIDRequest struct {
	noCheck
	PolicyId *flexUint
}

func (r *policyIDRequest) check() error {
	if !r.PolicyId.set() {
		return wire(codeMissingParameter, "The parameter `PolicyId` is required.")
	}
	return nil
}
func (r *policyIDRequest) resource() string { return r.PolicyId.str() }

type tagOut struct {
	Key   string
	Value string
}

func tagsOut(ts []store.Tag) []tagOut {
	out := []tagOut{}
	for _, t := range ts {
		out = append(out, tagOut{t.Key, t.Value})
	}
	return out
}

type getPolicyResponse struct {
	PolicyName                string
	Description               string
	Type                      uint64
	AddTime                   string
	UpdateTime                string
	PolicyDocument            string
	PresetAlias               string
	IsServiceLinkedRolePolicy uint64
	Tags                      []tagOut
}

func getPolicy(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *policyIDRequest) (*getPolicyResponse, error) {
	p, err := e.Gate.IAM.Policy(ctx, sc.Account, r.PolicyId.str())
	if err != nil {
		return nil, err
	}
	return &getPolicyResponse{PolicyName: p.Name, Description: p.Description, Type: uint64(p.Type),
		AddTime: camTime(p.CreatedAt), UpdateTime: camTime(p.UpdatedAt), PolicyDocument: p.Document, Tags: tagsOut(p.Tags)}, nil
}

type listPoliciesRequest struct {
	noCheck
	Rp      *flexUint
	Page    *flexUint
	Scope   string
	Keyword string
}

func (r *listPoliciesRequest) check() error {
	switch r.Scope {
	case "", "All", "QCS", "Local":
	default:
		return wire("InvalidParameter.ScopeError", "The parameter `Scope` must be All, QCS or Local.")
	}
	return checkPage(r.Page, r.Rp)
}

type strategyInfo struct {
	PolicyId                  uint64
	PolicyName                string
	AddTime                   string
	Type                      uint64
	Description               string
	CreateMode                uint64
	Attachments               uint64
	ServiceType               string
	IsAttached                uint64
	Deactived                 uint64
	DeactivedDetail           []string
	IsServiceLinkedPolicy     uint64
	AttachEntityCount         int64
	AttachEntityBoundaryCount int64
	UpdateTime                string
	Tags                      []tagOut
	PermissionLevel           string
}

type listPoliciesResponse struct {
	TotalNum        uint64
	List            []strategyInfo
	ServiceTypeList []string
}

func listPolicies(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *listPoliciesRequest) (*listPoliciesResponse, error) {
	only := iam.PolicyType(0)
	switch r.Scope {
	case "QCS":
		only = iam.Preset
	case "Local":
		only = iam.Custom
	}
	ps, err := e.Gate.IAM.Policies(ctx, sc.Account, only)
	if err != nil {
		return nil, err
	}
	ps = slices.DeleteFunc(ps, func(p *iam.PolicyListing) bool { return !strings.Contains(p.Name, r.Keyword) })
	lo, hi := pageOf(len(ps), r.Page, r.Rp)
	out := &listPoliciesResponse{TotalNum: uint64(len(ps)), List: []strategyInfo{}, ServiceTypeList: []string{}}
	for _, p := range ps[lo:hi] {
		out.List = append(out.List, strategyInfo{PolicyId: num(p.ID), PolicyName: p.Name, AddTime: camTime(p.CreatedAt),
			Type: uint64(p.Type), Description: p.Description, CreateMode: 2, Attachments: uint64(p.Attachments),
			IsAttached: b2u(p.Attachments > 0), DeactivedDetail: []string{}, AttachEntityCount: int64(p.Attachments),
			UpdateTime: camTime(p.UpdatedAt), Tags: tagsOut(p.Tags), PermissionLevel: "CloudProduct"})
	}
	return out, nil
}

type updatePolicyRequest struct {
	noCheck
	PolicyId       *flexUint
	PolicyName     *string
	Description    *string
	PolicyDocument *string
	Alias          *string
}

func (r *updatePolicyRequest) check() error {
	if !r.PolicyId.set() && r.PolicyName == nil {
		return wire(codeMissingParameter, "The parameter `PolicyId` or `PolicyName` is required.")
	}
	return nil
}
func (r *updatePolicyRequest) resource() string { return r.PolicyId.str() }

func updatePolicy(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *updatePolicyRequest) (*struct {
	PolicyId *uint64 `json:",omitempty"`
}, error) {
	out := &struct {
		PolicyId *uint64 `json:",omitempty"`
	}{}
	id, rename := r.PolicyId.str(), r.PolicyName
	if !r.PolicyId.set() {
		p, err := e.Gate.IAM.PolicyByName(ctx, sc.Account, *r.PolicyName)
		if err != nil {
			return nil, err
		}
		id, rename = p.ID, nil
		n := num(p.ID)
		out.PolicyId = &n
	}
	err := e.Gate.IAM.UpdatePolicy(ctx, sc.Account, id, iam.PolicyPatch{Name: rename, Description: r.Description, Document: r.PolicyDocument})
	return out, policyNameError(err)
}

type deletePolicyRequest struct {
	noCheck
	PolicyId []flexUint
}

func (r *deletePolicyRequest) check() error {
	if len(r.PolicyId) == 0 {
		return wire(codeMissingParameter, "The parameter `PolicyId` is required.")
	}
	if len(r.PolicyId) > 200 {
		return wire("InvalidParameter.OperatePoliciesOverLimit", "At most 200 policies can be deleted at once.")
	}
	return nil
}

func deletePolicy(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *deletePolicyRequest) (*empty, error) {
	ids := make([]string, len(r.PolicyId))
	for i := range r.PolicyId {
		ids[i] = r.PolicyId[i].str()
	}
	return &empty{}, e.Gate.IAM.DeletePolicies(ctx, sc.Account, ids)
}

type createPolicyVersionRequest struct {
	noCheck
	PolicyId       *flexUint
	PolicyDocument string
	SetAsDefault   *flexBool
}

func (r *createPolicyVersionRequest) check() error {
	if !r.PolicyId.set() {
		return wire(codeMissingParameter, "The parameter `PolicyId` is required.")
	}
	if r.SetAsDefault == nil {
		return wire(codeMissingParameter, "The parameter `SetAsDefault` is required.")
	}
	return required("PolicyDocument", r.PolicyDocument)
}
func (r *createPolicyVersionRequest) resource() string { return r.PolicyId.str() }

func createPolicyVersion(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *createPolicyVersionRequest) (*struct{ VersionId uint64 }, error) {
	v, err := e.Gate.IAM.CreatePolicyVersion(ctx, sc.Account, r.PolicyId.str(), r.PolicyDocument, bool(*r.SetAsDefault))
	if err != nil {
		return nil, err
	}
	return &struct{ VersionId uint64 }{uint64(v)}, nil
}

type policyVersionItem struct {
	VersionId        uint64
	CreateDate       string
	IsDefaultVersion int64
}

func listPolicyVersions(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *policyIDRequest) (*struct{ Versions []policyVersionItem }, error) {
	p, vs, err := e.Gate.IAM.PolicyVersions(ctx, sc.Account, r.PolicyId.str())
	if err != nil {
		return nil, err
	}
	out := &struct{ Versions []policyVersionItem }{[]policyVersionItem{}}
	for _, v := range vs {
		item := policyVersionItem{VersionId: uint64(v.Version), IsDefaultVersion: int64(b2u(v.Version == p.DefaultVersion))}
		if !v.CreatedAt.IsZero() {
			item.CreateDate = v.CreatedAt.UTC().Format("2006-01-02T15:04:05Z")
		}
		out.Versions = append(out.Versions, item)
	}
	return out, nil
}

type policyVersionRequest struct {
	noCheck
	PolicyId  *flexUint
	VersionId *flexUint
}

func (r *policyVersionRequest) check() error {
	if !r.PolicyId.set() || !r.VersionId.set() {
		return wire(codeMissingParameter, "The parameters `PolicyId` and `VersionId` are required.")
	}
	return nil
}
func (r *policyVersionRequest) resource() string { return r.PolicyId.str() }

type policyVersionDetail struct {
	VersionId        uint64
	CreateDate       string
	IsDefaultVersion uint64
	Document         string
}

func getPolicyVersion(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *policyVersionRequest) (*struct{ PolicyVersion policyVersionDetail }, error) {
	p, v, err := e.Gate.IAM.PolicyVersion(ctx, sc.Account, r.PolicyId.str(), int64(r.VersionId.val()))
	if err != nil {
		return nil, err
	}
	d := policyVersionDetail{VersionId: uint64(v.Version), IsDefaultVersion: b2u(v.Version == p.DefaultVersion), Document: v.Document}
	if !v.CreatedAt.IsZero() {
		d.CreateDate = v.CreatedAt.UTC().Format("2006-01-02T15:04:05Z")
	}
	return &struct{ PolicyVersion policyVersionDetail }{d}, nil
}

func setDefaultPolicyVersion(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *policyVersionRequest) (*empty, error) {
	return &empty{}, e.Gate.IAM.SetDefaultPolicyVersion(ctx, sc.Account, r.PolicyId.str(), int64(r.VersionId.val()))
}

type deletePolicyVersionRequest struct {
	noCheck
	PolicyId  *flexUint
	VersionId []flexUint
}

func (r *deletePolicyVersionRequest) check() error {
	if !r.PolicyId.set() || len(r.VersionId) == 0 {
		return wire(codeMissingParameter, "The parameters `PolicyId` and `VersionId` are required.")
	}
	return nil
}
func (r *deletePolicyVersionRequest) resource() string { return r.PolicyId.str() }

func deletePolicyVersion(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *deletePolicyVersionRequest) (*empty, error) {
	vs := make([]int64, len(r.VersionId))
	for i, v := range r.VersionId {
		vs[i] = int64(v)
	}
	return &empty{}, e.Gate.IAM.DeletePolicyVersions(ctx, sc.Account, r.PolicyId.str(), vs)
}

// ---- attachments ----

type userPolicyRequest struct {
	noCheck
	PolicyId  *flexUint
	AttachUin *flexUint
	DetachUin *flexUint
}

func (r *userPolicyRequest) check() error {
	if !r.PolicyId.set() {
		return wire(codeMissingParameter, "The parameter `PolicyId` is required.")
	}
	if !r.AttachUin.set() && !r.DetachUin.set() {
		return wire(codeMissingParameter, "The parameter `AttachUin` (`DetachUin`) is required.")
	}
	return nil
}
func (r *userPolicyRequest) resource() string { return r.PolicyId.str() }

func attachUserPolicy(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *userPolicyRequest) (*empty, error) {
	return &empty{}, e.Gate.IAM.Attach(ctx, sc.Account, r.PolicyId.str(), iam.Entity{Kind: store.EntityUser, ID: r.AttachUin.str()})
}

func detachUserPolicy(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *userPolicyRequest) (*empty, error) {
	return &empty{}, e.Gate.IAM.Detach(ctx, sc.Account, r.PolicyId.str(), iam.Entity{Kind: store.EntityUser, ID: r.DetachUin.str()})
}

type groupPolicyRequest struct {
	noCheck
	PolicyId      *flexUint
	AttachGroupId *flexUint
	DetachGroupId *flexUint
}

func (r *groupPolicyRequest) check() error {
	if !r.PolicyId.set() {
		return wire(codeMissingParameter, "The parameter `PolicyId` is required.")
	}
	if !r.AttachGroupId.set() && !r.DetachGroupId.set() {
		return wire(codeMissingParameter, "The parameter `AttachGroupId` (`DetachGroupId`) is required.")
	}
	return nil
}
func (r *groupPolicyRequest) resource() string { return r.PolicyId.str() }

func attachGroupPolicy(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *groupPolicyRequest) (*empty, error) {
	return &empty{}, e.Gate.IAM.Attach(ctx, sc.Account, r.PolicyId.str(), iam.Entity{Kind: store.EntityGroup, ID: r.AttachGroupId.str()})
}

func detachGroupPolicy(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *groupPolicyRequest) (*empty, error) {
	return &empty{}, e.Gate.IAM.Detach(ctx, sc.Account, r.PolicyId.str(), iam.Entity{Kind: store.EntityGroup, ID: r.DetachGroupId.str()})
}

type rolePolicyRequest struct {
	noCheck
	PolicyId       *flexUint
	PolicyName     string
	AttachRoleId   string
	AttachRoleName string
	DetachRoleId   string
	DetachRoleName string
}

func (r *rolePolicyRequest) check() error {
	if !r.PolicyId.set() && r.PolicyName == "" {
		return wire(codeMissingParameter, "The parameter `PolicyId` or `PolicyName` is required.")
	}
	if r.AttachRoleId == "" && r.AttachRoleName == "" && r.DetachRoleId == "" && r.DetachRoleName == "" {
		return wire(codeMissingParameter, "Name the role by id or name.")
	}
	return nil
}
func (r *rolePolicyRequest) resource() string { return r.PolicyId.str() + r.PolicyName }

func (e *Edge) rolePolicy(ctx context.Context, account string, r *rolePolicyRequest, ref iam.RoleRef) (string, iam.Entity, error) {
	id := r.PolicyId.str()
	if !r.PolicyId.set() {
		p, err := e.Gate.IAM.PolicyByName(ctx, account, r.PolicyName)
		if err != nil {
			return "", iam.Entity{}, err
		}
		id = p.ID
	}
	role, err := e.Gate.IAM.Role(ctx, account, ref)
	if err != nil {
		return "", iam.Entity{}, err
	}
	return id, iam.Entity{Kind: store.EntityRole, ID: role.ID}, nil
}

func attachRolePolicy(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *rolePolicyRequest) (*empty, error) {
	id, to, err := e.rolePolicy(ctx, sc.Account, r, iam.RoleRef{ID: r.AttachRoleId, Name: r.AttachRoleName})
	if err != nil {
		return nil, err
	}
	return &empty{}, e.Gate.IAM.Attach(ctx, sc.Account, id, to)
}

func detachRolePolicy(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *rolePolicyRequest) (*empty, error) {
	id, from, err := e.rolePolicy(ctx, sc.Account, r, iam.RoleRef{ID: r.DetachRoleId, Name: r.DetachRoleName})
	if err != nil {
		return nil, err
	}
	return &empty{}, e.Gate.IAM.Detach(ctx, sc.Account, id, from)
}

type attachPolicyInfo struct {
	PolicyId        uint64
	PolicyName      string
	AddTime         string
	CreateMode      uint64
	PolicyType      string
	Remark          string
	OperateOwnerUin string
	OperateUin      string
	OperateUinType  uint64
	Deactived       uint64
	DeactivedDetail []string
	Description     string
}

type attachedListResponse struct {
	TotalNum uint64
	List     []attachPolicyInfo
}

func (e *Edge) attachedOut(ctx context.Context, sc secrets.Scope, to iam.Entity, page, rp *flexUint, keyword, onlyType string) (*attachedListResponse, error) {
	as, err := e.Gate.IAM.AttachedPolicies(ctx, sc.Account, to)
	if err != nil {
		return nil, err
	}
	as = slices.DeleteFunc(as, func(a *iam.Attached) bool {
		return !strings.Contains(a.Policy.Name, keyword) || (onlyType != "" && policyType(a.Policy) != onlyType)
	})
	lo, hi := pageOf(len(as), page, rp)
	out := &attachedListResponse{TotalNum: uint64(len(as)), List: []attachPolicyInfo{}}
	for _, a := range as[lo:hi] {
		out.List = append(out.List, attachPolicyInfo{PolicyId: num(a.Policy.ID), PolicyName: a.Policy.Name,
			AddTime: camTime(a.AttachedAt), CreateMode: 2, PolicyType: policyType(a.Policy), Remark: a.Policy.Description,
			OperateOwnerUin: sc.Account, OperateUin: sc.Account, DeactivedDetail: []string{}, Description: a.Policy.Description})
	}
	return out, nil
}

func policyType(p *iam.Policy) string {
	if p.Type == iam.Preset {
		return "QCS"
	}
	return "User"
}

type attachedUserRequest struct {
	noCheck
	TargetUin *flexUint
	Page      *flexUint
	Rp        *flexUint
}

func (r *attachedUserRequest) check() error {
	if !r.TargetUin.set() {
		return wire(codeMissingParameter, "The parameter `TargetUin` is required.")
	}
	return checkPage(r.Page, r.Rp)
}
func (r *attachedUserRequest) resource() string { return r.TargetUin.str() }

func listAttachedUserPolicies(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *attachedUserRequest) (*attachedListResponse, error) {
	return e.attachedOut(ctx, sc, iam.Entity{Kind: store.EntityUser, ID: r.TargetUin.str()}, r.Page, r.Rp, "", "")
}

type attachedGroupRequest struct {
	noCheck
	TargetGroupId *flexUint
	Page          *flexUint
	Rp            *flexUint
	Keyword       string
}

func (r *attachedGroupRequest) check() error {
	if !r.TargetGroupId.set() {
		return wire(codeMissingParameter, "The parameter `TargetGroupId` is required.")
	}
	return checkPage(r.Page, r.Rp)
}
func (r *attachedGroupRequest) resource() string { return r.TargetGroupId.str() }

func listAttachedGroupPolicies(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *attachedGroupRequest) (*attachedListResponse, error) {
	return e.attachedOut(ctx, sc, iam.Entity{Kind: store.EntityGroup, ID: r.TargetGroupId.str()}, r.Page, r.Rp, r.Keyword, "")
}

type attachedRoleRequest struct {
	noCheck
	Page       *flexUint
	Rp         *flexUint
	RoleId     string
	RoleName   string
	PolicyType string
	Keyword    string
}

func (r *attachedRoleRequest) check() error {
	if !r.Page.set() || !r.Rp.set() {
		return wire(codeMissingParameter, "The parameters `Page` and `Rp` are required.")
	}
	if r.RoleId == "" && r.RoleName == "" {
		return wire(codeMissingParameter, "The parameter `RoleId` or `RoleName` is required.")
	}
	return checkPage(r.Page, r.Rp)
}
func (r *attachedRoleRequest) resource() string { return r.RoleId + r.RoleName }

func listAttachedRolePolicies(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *attachedRoleRequest) (*attachedListResponse, error) {
	role, err := e.Gate.IAM.Role(ctx, sc.Account, iam.RoleRef{ID: r.RoleId, Name: r.RoleName})
	if err != nil {
		return nil, err
	}
	return e.attachedOut(ctx, sc, iam.Entity{Kind: store.EntityRole, ID: role.ID}, r.Page, r.Rp, r.Keyword, r.PolicyType)
}

type entitiesRequest struct {
	noCheck
	PolicyId     *flexUint
	Page         *flexUint
	Rp           *flexUint
	EntityFilter string
}

func (r *entitiesRequest) check() error {
	if !r.PolicyId.set() {
		return wire(codeMissingParameter, "The parameter `PolicyId` is required.")
	}
	switch r.EntityFilter {
	case "", "All", "User", "Group", "Role":
	default:
		return wire(codeInvalidValue, "The parameter `EntityFilter` must be All, User, Group or Role.")
	}
	return checkPage(r.Page, r.Rp)
}
func (r *entitiesRequest) resource() string { return r.PolicyId.str() }

type attachEntityInfo struct {
	Id             string
	Name           string
	Uin            uint64
	RelatedType    uint64
	AttachmentTime string
}

func listEntitiesForPolicy(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *entitiesRequest) (*struct {
	TotalNum uint64
	List     []attachEntityInfo
}, error) {
	es, err := e.Gate.IAM.PolicyEntities(ctx, sc.Account, r.PolicyId.str())
	if err != nil {
		return nil, err
	}
	kinds := map[string]store.EntityKind{"User": store.EntityUser, "Group": store.EntityGroup, "Role": store.EntityRole}
	if k, ok := kinds[r.EntityFilter]; ok {
		es = slices.DeleteFunc(es, func(a *iam.AttachedEntity) bool { return a.Kind != k })
	}
	lo, hi := pageOf(len(es), r.Page, r.Rp)
	out := &struct {
		TotalNum uint64
		List     []attachEntityInfo
	}{TotalNum: uint64(len(es)), List: []attachEntityInfo{}}
	related := map[store.EntityKind]uint64{store.EntityUser: 1, store.EntityGroup: 2, store.EntityRole: 3}
	for _, a := range es[lo:hi] {
		info := attachEntityInfo{Id: a.ID, Name: a.Name, RelatedType: related[a.Kind], AttachmentTime: camTime(a.AttachedAt)}
		if a.Kind == store.EntityUser {
			info.Uin = num(a.ID)
		}
		out.List = append(out.List, info)
	}
	return out, nil
}

// ---- roles ----

type createRoleRequest struct {
	noCheck
	RoleName        string
	PolicyDocument  string
	Description     string
	ConsoleLogin    *flexUint
	SessionDuration *flexUint
	Tags            []camTag
}

func (r *createRoleRequest) check() error {
	if err := required("RoleName", r.RoleName); err != nil {
		return err
	}
	return required("PolicyDocument", r.PolicyDocument)
}
func (r *createRoleRequest) resource() string               { return r.RoleName }
func (r *createRoleRequest) requestTags() map[string]string { return tagMapOf(r.Tags) }

func createRole(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *createRoleRequest) (*struct{ RoleId string }, error) {
	role, err := e.Gate.IAM.CreateRole(ctx, sc.Account, iam.CreateRoleInput{Name: r.RoleName, Trust: r.PolicyDocument,
		Description: r.Description, ConsoleLogin: r.ConsoleLogin.val() == 1, SessionDuration: int64(r.SessionDuration.val()),
		Tags: storeTags(r.Tags)})
	if err != nil {
		if fault.ReasonOf(err) == iam.BadName {
			return nil, wire("InvalidParameter.RoleNameError", fault.Message(err))
		}
		return nil, err
	}
	return &struct{ RoleId string }{role.ID}, nil
}

type roleRefRequest struct {
	noCheck
	RoleId   string
	RoleName string
}

func (r *roleRefRequest) check() error {
	if r.RoleId == "" && r.RoleName == "" {
		return wire(codeMissingParameter, "The parameter `RoleId` or `RoleName` is required.")
	}
	return nil
}
func (r *roleRefRequest) resource() string { return r.RoleId + r.RoleName }

type roleTag struct {
	Key   string
	Value string
}

type roleInfo struct {
	RoleId          string
	RoleName        string
	PolicyDocument  string
	Description     string
	AddTime         string
	UpdateTime      string
	ConsoleLogin    uint64
	RoleType        string
	SessionDuration uint64
	DeletionTaskId  string
	Tags            []roleTag
	RoleArn         string
}

func roleOut(r *iam.Role) roleInfo {
	out := roleInfo{RoleId: r.ID, RoleName: r.Name, PolicyDocument: r.Trust, Description: r.Description,
		AddTime: camTime(r.CreatedAt), UpdateTime: camTime(r.UpdatedAt), ConsoleLogin: b2u(r.ConsoleLogin),
		RoleType: "user", SessionDuration: uint64(r.SessionDuration), Tags: []roleTag{}, RoleArn: r.Arn()}
	for _, t := range r.Tags {
		out.Tags = append(out.Tags, roleTag{t.Key, t.Value})
	}
	return out
}

func getRole(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *roleRefRequest) (*struct{ RoleInfo roleInfo }, error) {
	role, err := e.Gate.IAM.Role(ctx, sc.Account, iam.RoleRef{ID: r.RoleId, Name: r.RoleName})
	if err != nil {
		return nil, err
	}
	return &struct{ RoleInfo roleInfo }{roleOut(role)}, nil
}

type describeRoleListRequest struct {
	noCheck
	Page *flexUint
	Rp   *flexUint
	Tags []camTag
}

func (r *describeRoleListRequest) check() error {
	if !r.Page.set() || !r.Rp.set() {
		return wire(codeMissingParameter, "The parameters `Page` and `Rp` are required.")
	}
	return checkPage(r.Page, r.Rp)
}

func describeRoleList(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *describeRoleListRequest) (*struct {
	List     []roleInfo
	TotalNum uint64
}, error) {
	rs, err := e.Gate.IAM.Roles(ctx, sc.Account)
	if err != nil {
		return nil, err
	}
	rs = slices.DeleteFunc(rs, func(role *iam.Role) bool {
		for _, want := range r.Tags {
			if !slices.Contains(role.Tags, store.Tag{Key: want.Key, Value: want.Value}) {
				return true
			}
		}
		return false
	})
	lo, hi := pageOf(len(rs), r.Page, r.Rp)
	out := &struct {
		List     []roleInfo
		TotalNum uint64
	}{List: []roleInfo{}, TotalNum: uint64(len(rs))}
	for _, role := range rs[lo:hi] {
		out.List = append(out.List, roleOut(role))
	}
	return out, nil
}

func deleteRole(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *roleRefRequest) (*empty, error) {
	return &empty{}, e.Gate.IAM.DeleteRole(ctx, sc.Account, iam.RoleRef{ID: r.RoleId, Name: r.RoleName})
}

type updateAssumeRolePolicyRequest struct {
	roleRefRequest
	PolicyDocument string
}

func (r *updateAssumeRolePolicyRequest) check() error {
	if err := r.roleRefRequest.check(); err != nil {
		return err
	}
	return required("PolicyDocument", r.PolicyDocument)
}

func updateAssumeRolePolicy(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *updateAssumeRolePolicyRequest) (*empty, error) {
	return &empty{}, e.Gate.IAM.UpdateRole(ctx, sc.Account, iam.RoleRef{ID: r.RoleId, Name: r.RoleName}, &r.PolicyDocument, nil, nil)
}

type updateRoleDescriptionRequest struct {
	roleRefRequest
	Description string
}

func updateRoleDescription(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *updateRoleDescriptionRequest) (*empty, error) {
	return &empty{}, e.Gate.IAM.UpdateRole(ctx, sc.Account, iam.RoleRef{ID: r.RoleId, Name: r.RoleName}, nil, &r.Description, nil)
}

// ---- account ----

func getUserAppID(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *struct{ noCheck }) (*struct {
	Uin      string
	OwnerUin string
	AppId    uint64
}, error) {
	return &struct {
		Uin      string
		OwnerUin string
		AppId    uint64
	}{Uin: c.Principal.ID, OwnerUin: sc.Account, AppId: appID(sc.Account)}, nil
}

// appID derives a stable 10-digit AppId from the account id.
func appID(account string) uint64 { return 1250000000 + num(account)%10000000 }

type accountSummary struct {
	Policies          uint64
	Roles             uint64
	Idps              uint64
	User              uint64
	Group             uint64
	Member            uint64
	IdentityProviders uint64
}

func getAccountSummary(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *struct{ noCheck }) (*accountSummary, error) {
	ps, err := e.Gate.IAM.Policies(ctx, sc.Account, iam.Custom)
	if err != nil {
		return nil, err
	}
	rs, err := e.Gate.IAM.Roles(ctx, sc.Account)
	if err != nil {
		return nil, err
	}
	us, err := e.Gate.IAM.Users(ctx, sc.Account)
	if err != nil {
		return nil, err
	}
	gs, err := e.Gate.IAM.Groups(ctx, sc.Account)
	if err != nil {
		return nil, err
	}
	var members uint64
	for _, g := range gs {
		ms, err := e.Gate.IAM.GroupMembers(ctx, sc.Account, g.ID)
		if err != nil {
			return nil, err
		}
		members += uint64(len(ms))
	}
	return &accountSummary{Policies: uint64(len(ps)), Roles: uint64(len(rs)), User: uint64(len(us)), Group: uint64(len(gs)), Member: members}, nil
}
