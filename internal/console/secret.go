package console

import (
	"context"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
)

// consumersWindow is how far back the secret page looks for readers.
const consumersWindow = 30 * 24 * time.Hour

// secretData is the secret page: what the principal may see of a secret
// and which actions it may take.
type secretData struct {
	Secret      *secrets.Secret
	Versions    []*secrets.Version
	Consumers   []audit.Consumer
	ShowVersion bool // ssm:ListSecretVersionIds allowed
	ShowReaders bool // ssm:DescribeSecretConsumers allowed
	Revealed    *revealed
	Error       string
	Rotation    rotationView

	CanReveal, CanPut, CanDisable, CanEnable, CanDelete, CanRestore bool
}

// revealed is a value shown once, in the answer to the click that asked
// for it.
type revealed struct {
	VersionID string
	Text      string
	Binary    bool // Text is the value in base64
}

func (h *Handler) showSecret(w http.ResponseWriter, r *http.Request, s *session) {
	h.secretPage(w, r, s, http.StatusOK, secretData{})
}

// secretPage renders a secret as ssm:DescribeSecret, with its versions
// (ssm:ListSecretVersionIds), readers (ssm:DescribeSecretConsumers) and
// rotation runs (ssm:DescribeRotationDetail) when those are allowed too.
func (h *Handler) secretPage(w http.ResponseWriter, r *http.Request, s *session, code int, d secretData) {
	name := r.PathValue("name")
	err := h.do(r, s, secretOp("DescribeSecret", name, nil), func(ctx context.Context, sc secrets.Scope) error {
		var err error
		if d.Secret, err = h.gate.Secrets.Meta(ctx, sc, name); err != nil {
			return err
		}
		d.Rotation = h.rotationSettings(d.Secret)
		d.Rotation.Accounts, err = h.accounts(ctx, sc, d.Secret)
		return err
	})
	if err != nil {
		h.failErr(w, r, s, err)
		return
	}
	if d.ShowVersion = h.can(r, s, api.FamilySSM, "ListSecretVersionIds", name); d.ShowVersion {
		err = h.do(r, s, secretOp("ListSecretVersionIds", name, nil), func(ctx context.Context, sc secrets.Scope) error {
			var err error
			_, d.Versions, err = h.gate.Secrets.Describe(ctx, sc, name)
			return err
		})
	}
	if d.ShowReaders = h.can(r, s, api.FamilySSM, "DescribeSecretConsumers", name); err == nil && d.ShowReaders {
		err = h.do(r, s, secretOp("DescribeSecretConsumers", name, nil), func(ctx context.Context, sc secrets.Scope) error {
			if h.gate.Lookup == nil {
				return nil
			}
			now := h.cfg.Clock()
			var err error
			d.Consumers, err = h.gate.Lookup.Consumers(ctx, sc.Account, sc.Region, name, now.Add(-consumersWindow), now.Add(time.Second))
			return err
		})
	}
	if err == nil {
		err = h.rotationRuns(r, s, &d)
	}
	if err != nil {
		h.failErr(w, r, s, err)
		return
	}
	h.allowed(r, s, &d)
	h.render(w, r, s, code, "secret", view{Title: d.Secret.Name, Nav: "secrets", Data: d})
}

// allowed decides which buttons the page shows: those the principal's
// policies allow and the secret's status permits.
func (h *Handler) allowed(r *http.Request, s *session, d *secretData) {
	name, st := d.Secret.Name, d.Secret.Status
	can := func(action string) bool { return h.can(r, s, api.FamilySSM, action, name) }
	d.CanReveal = st == store.StatusEnabled && can("GetSecretValue")
	d.CanPut = (st == store.StatusEnabled || st == store.StatusDisabled) && can("PutSecretValue")
	d.CanDisable = st == store.StatusEnabled && can("DisableSecret")
	d.CanEnable = st == store.StatusDisabled && can("EnableSecret")
	d.CanDelete = st == store.StatusDisabled && can("DeleteSecret")
	d.CanRestore = st == store.StatusPendingDelete && can("RestoreSecret")
	h.allowedRotation(r, s, d)
}

func secretOp(action, name string, params map[string]any) op {
	if params == nil {
		params = map[string]any{}
	}
	params["SecretName"] = name
	return op{family: api.FamilySSM, action: action, secret: name, params: params}
}

// reveal reads a value as ssm:GetSecretValue and shows it in the answer to
// this POST only: it never travels in a URL, and no answer is cached.
func (h *Handler) reveal(w http.ResponseWriter, r *http.Request, s *session) {
	name, version := r.PathValue("name"), strings.TrimSpace(r.PostForm.Get("version"))
	params := map[string]any{"VersionId": version}
	if version == "" {
		params["VersionId"] = "SSM_Current"
	}
	var rev *revealed
	err := h.do(r, s, secretOp("GetSecretValue", name, params), func(ctx context.Context, sc secrets.Scope) error {
		sel := secrets.Selector{VersionID: version}
		if version == "" {
			sel = secrets.Selector{Stage: secrets.StageCurrent}
		}
		_, ver, val, err := h.gate.Secrets.GetValue(ctx, sc, name, sel)
		if err != nil {
			return err
		}
		rev = &revealed{VersionID: ver.ID, Text: val.Text(), Binary: val.IsBinary()}
		if val.IsBinary() {
			rev.Text = base64.StdEncoding.EncodeToString(val.Bytes())
		}
		return nil
	})
	if err != nil {
		h.secretPage(w, r, s, status(err), secretData{Error: message(err)})
		return
	}
	h.secretPage(w, r, s, http.StatusOK, secretData{Revealed: rev})
}

// putVersion adds a version as ssm:PutSecretValue.
func (h *Handler) putVersion(w http.ResponseWriter, r *http.Request, s *session) {
	name := r.PathValue("name")
	value, id := r.PostForm.Get("value"), strings.TrimSpace(r.PostForm.Get("version_id"))
	if value == "" {
		h.secretPage(w, r, s, http.StatusBadRequest, secretData{Error: "Give the new version a value."})
		return
	}
	var ver *secrets.Version
	o := secretOp("PutSecretValue", name, map[string]any{"VersionId": id, "SecretString": value})
	err := h.do(r, s, o, func(ctx context.Context, sc secrets.Scope) error {
		var err error
		_, ver, err = h.gate.Secrets.PutValue(ctx, sc, name, secrets.PutInput{VersionID: id, Value: secrets.StringValue(value)})
		return err
	})
	if err != nil {
		h.secretPage(w, r, s, status(err), secretData{Error: message(err)})
		return
	}
	h.done(w, r, s, secretURL(name), flash{Msg: "Added version " + ver.ID + "; it is now current."})
}

// lifecycle disables, enables, deletes or restores a secret, as the SSM
// action of the same name.
func (h *Handler) lifecycle(w http.ResponseWriter, r *http.Request, s *session) {
	name := r.PathValue("name")
	var action, msg string
	var fn func(ctx context.Context, sc secrets.Scope) error
	params := map[string]any{}
	switch r.PathValue("op") {
	case "disable":
		action, msg = "DisableSecret", "Disabled "+name+"."
		fn = func(ctx context.Context, sc secrets.Scope) error {
			_, err := h.gate.Secrets.Disable(ctx, sc, name)
			return err
		}
	case "enable":
		action, msg = "EnableSecret", "Enabled "+name+"."
		fn = func(ctx context.Context, sc secrets.Scope) error {
			_, err := h.gate.Secrets.Enable(ctx, sc, name)
			return err
		}
	case "restore":
		action, msg = "RestoreSecret", "Restored "+name+"; it is disabled until you enable it."
		fn = func(ctx context.Context, sc secrets.Scope) error {
			_, err := h.gate.Secrets.Restore(ctx, sc, name, false)
			return err
		}
	case "delete":
		days, err := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("days")))
		if err != nil || days < 0 || days > 30 {
			h.secretPage(w, r, s, http.StatusBadRequest, secretData{Error: "The recovery window is 0 to 30 days."})
			return
		}
		action, params["RecoveryWindowInDays"] = "DeleteSecret", days
		msg = "Deleted " + name + " for good."
		if days > 0 {
			msg = "Scheduled " + name + " for deletion in " + strconv.Itoa(days) + " days; restore it before then to keep it."
		}
		fn = func(ctx context.Context, sc secrets.Scope) error {
			_, err := h.gate.Secrets.Delete(ctx, sc, name, secrets.DeleteInput{RecoveryDays: days, RequireDisabled: true})
			return err
		}
	default:
		h.notFound(w, r)
		return
	}
	if err := h.do(r, s, secretOp(action, name, params), fn); err != nil {
		h.secretPage(w, r, s, status(err), secretData{Error: message(err)})
		return
	}
	to := secretURL(name)
	if action == "DeleteSecret" && params["RecoveryWindowInDays"] == 0 {
		to = Prefix + "secrets"
	}
	h.done(w, r, s, to, flash{Msg: msg})
}
