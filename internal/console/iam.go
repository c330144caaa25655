package console

import (
	"context"
	"net/http"
	"strings"

	"github.com/coffer-secrets/coffer/internal/iam"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
)

type usersData struct {
	Users     []*iam.User
	CanCreate bool
	Created   *createdUser // the user just created, shown once
	Form      createUserForm
	Error     string
}

type createdUser struct {
	Name     string
	Password string // generated: shown this once; "" when the creator chose it
}

type createUserForm struct {
	Name, Remark string
	Console      bool
}

// listUsers lists the account's users as cam:ListUsers.
func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request, s *session) {
	h.usersPage(w, r, s, http.StatusOK, usersData{Form: createUserForm{Console: true}})
}

func (h *Handler) usersPage(w http.ResponseWriter, r *http.Request, s *session, code int, d usersData) {
	err := h.do(r, s, op{family: "cam", action: "ListUsers", params: map[string]any{}}, func(ctx context.Context, sc secrets.Scope) error {
		var err error
		d.Users, err = h.gate.IAM.Users(ctx, sc.Account)
		return err
	})
	if err != nil {
		h.failErr(w, r, s, err)
		return
	}
	d.CanCreate = h.can(r, s, "cam", "AddUser", "")
	h.render(w, r, s, code, "users", view{Title: "Users", Nav: "users", Data: d})
}

// createUser adds a user as cam:AddUser: a console user, with the given
// password or a generated one shown once.
func (h *Handler) createUser(w http.ResponseWriter, r *http.Request, s *session) {
	f := r.PostForm
	form := createUserForm{Name: strings.TrimSpace(f.Get("name")), Remark: f.Get("remark"), Console: f.Get("console") == "1"}
	password := f.Get("password")
	in := iam.AddUserInput{Name: form.Name, Remark: form.Remark, ConsoleLogin: form.Console, Password: password}
	params := map[string]any{"Name": form.Name, "Remark": form.Remark, "ConsoleLogin": b2i(form.Console), "Password": password}
	o := op{family: "cam", action: "AddUser", resource: form.Name, params: params}
	var out *iam.AddUserOutput
	err := h.do(r, s, o, func(ctx context.Context, sc secrets.Scope) error {
		var err error
		out, err = h.gate.IAM.AddUser(ctx, sc.Account, in)
		return err
	})
	if err != nil {
		h.usersPage(w, r, s, status(err), usersData{Form: form, Error: message(err)})
		return
	}
	c := &createdUser{Name: out.User.Name}
	if password == "" {
		c.Password = out.Password
	}
	h.usersPage(w, r, s, http.StatusOK, usersData{Created: c, Form: createUserForm{Console: true}})
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

type userData struct {
	User     *iam.User
	Keys     []*store.AccessKey
	Policies []*iam.Attached
	Groups   []*iam.Group
	ShowKeys bool
	ShowPols bool
	ShowGrps bool
}

// showUser shows a user (cam:GetUser), its access keys
// (cam:ListAccessKeys), policies (cam:ListAttachedUserPolicies) and groups
// (cam:ListGroupsForUser), each when allowed.
func (h *Handler) showUser(w http.ResponseWriter, r *http.Request, s *session) {
	name := r.PathValue("name")
	var d userData
	err := h.do(r, s, op{family: "cam", action: "GetUser", resource: name, params: map[string]any{"Name": name}},
		func(ctx context.Context, sc secrets.Scope) error {
			var err error
			d.User, err = h.gate.IAM.User(ctx, sc.Account, name)
			return err
		})
	if err == nil {
		err = h.userDetails(r, s, &d)
	}
	if err != nil {
		h.failErr(w, r, s, err)
		return
	}
	h.render(w, r, s, http.StatusOK, "user", view{Title: "User " + d.User.Name, Nav: "users", Data: d})
}

func (h *Handler) userDetails(r *http.Request, s *session, d *userData) error {
	u := d.User
	target := []string{"qcs::cam::uin/" + u.Account + ":uin/" + u.Uin}
	keys := op{family: "cam", action: "ListAccessKeys", resource: u.Uin, resourceNames: target, params: map[string]any{"TargetUin": u.Uin}}
	if d.ShowKeys = h.canOp(r, s, keys); d.ShowKeys {
		err := h.do(r, s, keys, func(ctx context.Context, sc secrets.Scope) error {
			var err error
			d.Keys, err = h.gate.IAM.AccessKeys(ctx, sc.Account, u.Uin)
			return err
		})
		if err != nil {
			return err
		}
	}
	pols := op{family: "cam", action: "ListAttachedUserPolicies", resource: u.Uin, params: map[string]any{"TargetUin": u.Uin}}
	if d.ShowPols = h.canOp(r, s, pols); d.ShowPols {
		err := h.do(r, s, pols, func(ctx context.Context, sc secrets.Scope) error {
			var err error
			d.Policies, err = h.gate.IAM.AttachedPolicies(ctx, sc.Account, iam.Entity{Kind: store.EntityUser, ID: u.Uin})
			return err
		})
		if err != nil {
			return err
		}
	}
	grps := op{family: "cam", action: "ListGroupsForUser", resource: u.Uin, params: map[string]any{"SubUin": u.Uin}}
	if d.ShowGrps = h.canOp(r, s, grps); d.ShowGrps {
		return h.do(r, s, grps, func(ctx context.Context, sc secrets.Scope) error {
			var err error
			d.Groups, err = h.gate.IAM.UserGroups(ctx, sc.Account, u.Uin)
			return err
		})
	}
	return nil
}

type policiesData struct {
	Policies []*iam.PolicyListing
	ShowDocs bool // cam:GetPolicy allowed
}

// listPolicies lists the account's policies as cam:ListPolicies, with
// their documents when cam:GetPolicy is allowed too.
func (h *Handler) listPolicies(w http.ResponseWriter, r *http.Request, s *session) {
	var d policiesData
	err := h.do(r, s, op{family: "cam", action: "ListPolicies", params: map[string]any{}}, func(ctx context.Context, sc secrets.Scope) error {
		var err error
		d.Policies, err = h.gate.IAM.Policies(ctx, sc.Account, 0)
		return err
	})
	if err != nil {
		h.failErr(w, r, s, err)
		return
	}
	d.ShowDocs = h.can(r, s, "cam", "GetPolicy", "")
	h.render(w, r, s, http.StatusOK, "policies", view{Title: "Policies", Nav: "policies", Data: d})
}
