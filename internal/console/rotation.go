package console

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/rotation"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
)

// runsShown is how many runs the rotation history shows, as many as
// DescribeRotationDetail answers with.
const runsShown = 10

// defaultRotationDays is the period of a secret whose schedule names none
// (rotation.scheduleOf).
const defaultRotationDays = 30

// rotationView is the secret page's rotation section: the settings the
// secret carries (shown with ssm:DescribeSecret, as the API shows them),
// its newest runs (ssm:DescribeRotationDetail), a roll-out in progress,
// and a product secret's database accounts.
type rotationView struct {
	Served   bool   // the server runs rotations (Config.Rotation is set)
	Function string // the rotator as FunctionOf names it; "" for none
	Enabled  bool   // scheduled rotation is on
	Schedule string // "every N days" or the schedule expression
	Window   string // the schedule's Duration, "" for none
	Next     time.Time
	Last     time.Time

	Rollout  *secrets.Rollout
	Selector []string // who the roll-out serves, one phrase per selector
	Accounts []rotation.Account

	ShowRuns bool // ssm:DescribeRotationDetail allowed
	Runs     []*store.RotationRun
	Running  bool // the newest run is in progress

	CanRotate, CanPromote, CanAbandon bool
}

// rotationSettings fills the parts of the view that the secret's metadata
// holds: rotator, schedule and roll-out.
func (h *Handler) rotationSettings(sec *secrets.Secret) rotationView {
	v := rotationView{Served: h.cfg.Rotation != nil, Enabled: sec.Rotation.Enabled,
		Next: sec.Rotation.Next, Last: sec.Rotation.Last}
	sp, err := rotation.ParseSpec(sec.Rotation.Rotator)
	if err == nil && sp.Rotator != "" {
		v.Function = rotation.FunctionOf(sp)
	}
	switch {
	case sp.Schedule != "":
		v.Schedule, v.Window = sp.Schedule, sp.Duration
	case sec.Rotation.Days > 0:
		v.Schedule = "every " + strconv.Itoa(sec.Rotation.Days) + " days"
	default:
		v.Schedule = "every " + strconv.Itoa(defaultRotationDays) + " days"
	}
	if v.Rollout = secrets.RolloutOf(sec); v.Rollout != nil {
		v.Selector = selector(v.Rollout)
	}
	return v
}

// selector says whom a roll-out serves.
func selector(r *secrets.Rollout) []string {
	var out []string
	if len(r.Users) > 0 {
		out = append(out, "users "+strings.Join(r.Users, ", "))
	}
	if len(r.Roles) > 0 {
		out = append(out, "roles "+strings.Join(r.Roles, ", "))
	}
	if len(r.Tags) > 0 {
		tags := make([]string, 0, len(r.Tags))
		for k, v := range r.Tags {
			tags = append(tags, k+"="+v)
		}
		slices.Sort(tags)
		out = append(out, "callers tagged "+strings.Join(tags, " and "))
	}
	if r.Percent > 0 {
		out = append(out, strconv.Itoa(r.Percent)+"% of other callers")
	}
	return out
}

// accounts returns a product secret's database accounts, as the Tencent
// DescribeSecret answer lists them; none for other secrets. It runs inside
// the page's ssm:DescribeSecret call.
func (h *Handler) accounts(ctx context.Context, sc secrets.Scope, sec *secrets.Secret) ([]rotation.Account, error) {
	if h.cfg.Rotation == nil || sec.Type != store.TypeDatabase {
		return nil, nil
	}
	return h.cfg.Rotation.Accounts(ctx, sc, sec.Name)
}

// rotationRuns reads the secret's newest runs as ssm:DescribeRotationDetail
// when the principal may; a secret without a rotator has none to read.
func (h *Handler) rotationRuns(r *http.Request, s *session, d *secretData) error {
	v, name := &d.Rotation, d.Secret.Name
	if !v.Served || v.Function == "" {
		return nil
	}
	if v.ShowRuns = h.can(r, s, api.FamilySSM, "DescribeRotationDetail", name); !v.ShowRuns {
		return nil
	}
	return h.do(r, s, secretOp("DescribeRotationDetail", name, nil), func(ctx context.Context, sc secrets.Scope) error {
		_, runs, err := h.cfg.Rotation.Runs(ctx, sc, name, runsShown)
		v.Runs = runs
		v.Running = len(runs) > 0 && runs[0].State == store.RunRunning
		return err
	})
}

// allowedRotation decides the rotation buttons: Rotate now for an enabled
// secret with a rotator and no run in progress, Promote and Abandon while a
// roll-out lasts.
func (h *Handler) allowedRotation(r *http.Request, s *session, d *secretData) {
	v, name := &d.Rotation, d.Secret.Name
	can := func(action string) bool { return h.can(r, s, api.FamilySSM, action, name) }
	v.CanRotate = v.Served && v.Function != "" && !v.Running && d.Secret.Status == store.StatusEnabled && can("RotateProductSecret")
	v.CanPromote = v.Rollout != nil && can("PromoteSecretRollout")
	v.CanAbandon = v.Rollout != nil && can("AbandonSecretRollout")
}

// rotateNow starts a rotation as ssm:RotateProductSecret, then shows the
// secret page with the new run.
func (h *Handler) rotateNow(w http.ResponseWriter, r *http.Request, s *session) {
	name := r.PathValue("name")
	var run *store.RotationRun
	err := h.do(r, s, secretOp("RotateProductSecret", name, nil), func(ctx context.Context, sc secrets.Scope) error {
		if h.cfg.Rotation == nil {
			return fault.E("console.RotateNow", fault.Unsupported, "Rotation is not enabled on this Coffer server.")
		}
		var err error
		run, _, err = h.cfg.Rotation.Rotate(ctx, sc, name, rotation.RotateInput{Immediately: true})
		return err
	})
	if err != nil {
		h.secretPage(w, r, s, status(err), secretData{Error: message(err)})
		return
	}
	msg := fmt.Sprintf("Started rotation %d of %s; its new version %s becomes current when the run succeeds.", run.ID, name, run.VersionID)
	h.done(w, r, s, secretURL(name), flash{Msg: msg})
}

// endRollout promotes or abandons a secret's roll-out, as
// ssm:PromoteSecretRollout or ssm:AbandonSecretRollout.
func (h *Handler) endRollout(w http.ResponseWriter, r *http.Request, s *session) {
	name := r.PathValue("name")
	var action, msg string
	switch r.PathValue("op") {
	case "promote":
		action, msg = "PromoteSecretRollout", "Promoted the roll-out of "+name+": its version is now current for everyone."
	case "abandon":
		action, msg = "AbandonSecretRollout", "Abandoned the roll-out of "+name+": everyone reads the current version again."
	default:
		h.notFound(w, r)
		return
	}
	err := h.do(r, s, secretOp(action, name, nil), func(ctx context.Context, sc secrets.Scope) error {
		_, err := h.gate.Secrets.EndRollout(ctx, sc, name, action == "PromoteSecretRollout")
		return err
	})
	if err != nil {
		h.secretPage(w, r, s, status(err), secretData{Error: message(err)})
		return
	}
	h.done(w, r, s, secretURL(name), flash{Msg: msg})
}
