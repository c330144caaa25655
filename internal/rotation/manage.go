package rotation

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/rotation/schedule"
	"github.com/coffer-secrets/coffer/internal/rotation/webhook"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
)

// RotateInput asks for a rotation and, optionally, new settings.
type RotateInput struct {
	Token       string // the new version's id; "" for a generated one
	Spec        *Spec  // new rotator settings; nil keeps the secret's (AWS RotationLambdaARN)
	Rules       *Rules // a new schedule; nil keeps the secret's
	Enable      bool   // turn scheduled rotation on (AWS RotateSecret does)
	Immediately bool   // start a rotation now
	// Beta, when set, finishes the rotation into a roll-out to the callers
	// it selects instead of making the new version current for all
	// (secrets.StartRollout); promote or abandon it afterwards.
	Beta *secrets.Rollout
}

// Rotate starts a rotation of a secret (when Immediately) and stores new
// settings. It returns the run started (nil when none) and the secret. A
// retry with the token of the run in progress returns that run. It returns
// fault.WrongState with Reason RotationInProgress while another run is in
// progress, NoRotator when the secret has no rotator, and the status
// reasons for a secret that is not Enabled.
func (s *Service) Rotate(ctx context.Context, sc secrets.Scope, name string, in RotateInput) (*store.RotationRun, *secrets.Secret, error) {
	const op = "rotation.Rotate"
	if in.Beta != nil {
		b := *in.Beta
		b.VersionID = "beta" // checked for its selector; the version is the run's
		if err := secrets.CheckRollout(op, b); err != nil {
			return nil, nil, err
		}
	}
	if in.Token != "" {
		if err := secrets.CheckVersionID(op, in.Token); err != nil {
			return nil, nil, err
		}
	}
	if in.Spec != nil {
		if err := in.Spec.Check(); err != nil {
			return nil, nil, err
		}
		if err := s.checkWebhook(*in.Spec); err != nil {
			return nil, nil, err
		}
	}
	if in.Rules != nil {
		if err := checkRules(*in.Rules); err != nil {
			return nil, nil, err
		}
	}
	var run *store.RotationRun
	var sec *secrets.Secret
	err := s.Secrets.InTx(ctx, func(tx store.Tx, now time.Time) error {
		run = nil
		var err error
		if sec, err = s.Secrets.LoadTx(ctx, tx, sc, name); err != nil {
			return err
		}
		if err := rotatable(op, sec); err != nil {
			return err
		}
		sp, err := ParseSpec(sec.Rotation.Rotator)
		if err != nil {
			return err
		}
		if in.Spec != nil {
			keep := sp
			sp = *in.Spec
			sp.Rollout = keep.Rollout
			if sp.Schedule == "" && in.Rules == nil {
				sp.Schedule, sp.Duration = keep.Schedule, keep.Duration
			}
		}
		if sp.Rotator == "" {
			sp.Rotator = builtinFor(sec.Type)
		}
		if sp.Rotator == "" {
			return fault.E(op, fault.WrongState, "No rotation function is associated with this secret: give RotationLambdaARN (an https:// webhook URL or a coffer: rotator)").Because(fault.NoRotator)
		}
		if in.Rules != nil {
			sp.Schedule, sp.Duration = in.Rules.Schedule, in.Rules.Duration
			sec.Rotation.Days = in.Rules.Days
			if !in.Rules.Begin.IsZero() {
				sec.Rotation.Begin = in.Rules.Begin
			}
		}
		sec.Rotation.Rotator = sp.String()
		if in.Enable {
			sec.Rotation.Enabled = true
		}
		if sec.Rotation.Enabled && (in.Rules != nil || sec.Rotation.Next.IsZero()) {
			sec.Rotation.Next = nextRotation(sec.Rotation, sp, sec.Rotation.Last, now)
			if in.Rules != nil && in.Rules.Begin.After(now) {
				sec.Rotation.Next = in.Rules.Begin
			}
		}
		running, err := runningRun(ctx, tx, sec.ID)
		if err != nil {
			return err
		}
		if running != nil {
			if in.Token != "" && running.VersionID == in.Token {
				run = running
				return nil
			}
			return fault.E(op, fault.WrongState, "a rotation of secret "+sec.Name+" is already in progress (version "+running.VersionID+")").Because(fault.RotationInProgress)
		}
		if in.Immediately {
			if sec.Status != store.StatusEnabled {
				return fault.E(op, fault.WrongState, "secret "+sec.Name+" is "+string(sec.Status)+"; only an Enabled secret rotates").Because(fault.RotationForbidden)
			}
			if in.Token != "" {
				if _, err := tx.Version(ctx, sec.ID, in.Token); err == nil {
					return fault.E(op, fault.Exists, "version "+in.Token+" of secret "+sec.Name+" already exists").Because(fault.VersionExists)
				}
			}
			run = newRun(sec, KindRotate, StepCreate, s.versionFor(sec, sp, in.Token, now), sp.Rotator, now)
			if in.Beta != nil {
				b, _ := json.Marshal(runDetail{Beta: in.Beta})
				run.Detail = string(b)
			}
			if err := tx.InsertRotationRun(ctx, run); err != nil {
				return fmt.Errorf("start rotation: %w", err)
			}
		}
		return s.Secrets.SaveTx(ctx, tx, sec, now)
	})
	if err != nil {
		return nil, nil, err
	}
	if run != nil {
		s.started()
	}
	return run, sec, nil
}

// checkWebhook refuses a webhook this server would not call: none is
// configured, or the URL is plain http:// without WebhookAllowHTTP. Taken
// anyway, it would fail every rotation.
func (s *Service) checkWebhook(sp Spec) error {
	const op = "rotation.Rotate"
	if sp.Rotator != RotatorWebhook {
		return nil
	}
	if s.Webhook == nil {
		return fault.E(op, fault.Invalid, "webhook rotation is not configured on this server")
	}
	if err := webhook.ValidateURL(sp.URL, s.Webhook.AllowHTTP); err != nil {
		return fault.E(op, fault.Invalid, "this server does not call that webhook URL: "+strings.TrimPrefix(err.Error(), webhook.ErrURL.Error()+": "))
	}
	return nil
}

func rotatable(op string, sec *secrets.Secret) error {
	switch sec.Status {
	case store.StatusEnabled, store.StatusDisabled:
		return nil
	case store.StatusPendingDelete:
		return fault.E(op, fault.WrongState, "secret "+sec.Name+" is scheduled for deletion").Because(fault.SecretPendingDeletion)
	}
	return fault.E(op, fault.WrongState, "secret "+sec.Name+" is "+string(sec.Status)).Because(fault.SecretCreating)
}

// builtinFor returns the rotator a secret type has without configuration.
func builtinFor(t store.SecretType) string {
	switch t {
	case store.TypeSSHKey:
		return RotatorSSH
	case store.TypeDatabase:
		return RotatorProduct
	}
	return ""
}

func checkRules(r Rules) error {
	const op = "rotation.Rules"
	switch {
	case r.Schedule != "" && r.Days != 0:
		return fault.E(op, fault.Invalid, "give AutomaticallyAfterDays or ScheduleExpression, not both")
	case r.Schedule != "":
		if _, err := schedule.Parse(r.Schedule); err != nil {
			return fault.E(op, fault.Invalid, fault.Message(err))
		}
	case r.Days < 0 || r.Days > 1000:
		return fault.E(op, fault.Invalid, "RotationRules.AutomaticallyAfterDays must be within 1-1000.")
	}
	if r.Duration != "" {
		if _, err := schedule.ParseDuration(r.Duration); err != nil {
			return fault.E(op, fault.Invalid, fault.Message(err))
		}
	}
	return nil
}

// Cancel turns scheduled rotation off and rolls back a run in progress
// (AWS CancelRotateSecret). It returns the run cancelled, if any. It
// returns fault.WrongState (NoRotator) for a secret that never had a
// rotator.
func (s *Service) Cancel(ctx context.Context, sc secrets.Scope, name string) (*store.RotationRun, *secrets.Secret, error) {
	const op = "rotation.Cancel"
	var run *store.RotationRun
	var sec *secrets.Secret
	err := s.Secrets.InTx(ctx, func(tx store.Tx, now time.Time) error {
		var err error
		run = nil
		if sec, err = s.Secrets.LoadTx(ctx, tx, sc, name); err != nil {
			return err
		}
		if sec.Status == store.StatusPendingDelete {
			return fault.E(op, fault.WrongState, "secret "+sec.Name+" is scheduled for deletion").Because(fault.SecretPendingDeletion)
		}
		if sec.Rotation.Rotator == "" && builtinFor(sec.Type) == "" {
			return fault.E(op, fault.WrongState, "secret "+sec.Name+" has no rotation to cancel").Because(fault.NoRotator)
		}
		sec.Rotation.Enabled = false
		sec.Rotation.Next = time.Time{}
		if run, err = runningRun(ctx, tx, sec.ID); err != nil {
			return err
		}
		if run != nil {
			run.Step, run.NextAt, run.UpdatedAt = StepCancel, now, now
			if err := tx.UpdateRotationRun(ctx, run); err != nil {
				return fmt.Errorf("cancel rotation run: %w", err)
			}
		}
		return s.Secrets.SaveTx(ctx, tx, sec, now)
	})
	if err != nil {
		return nil, nil, err
	}
	if run != nil {
		s.started()
	}
	return run, sec, nil
}

// ScheduleInput is Tencent's UpdateRotationStatus.
type ScheduleInput struct {
	Enable bool
	Days   int       // 0 keeps the secret's
	Begin  time.Time // zero: from now
	Spec   *Spec     // a rotator for a secret of any type (Coffer's extension); nil keeps the secret's
}

// SetSchedule turns scheduled rotation of a managed secret on or off.
func (s *Service) SetSchedule(ctx context.Context, sc secrets.Scope, name string, in ScheduleInput) (*secrets.Secret, error) {
	const op = "rotation.SetSchedule"
	if in.Spec != nil {
		if err := s.checkSpec(*in.Spec); err != nil {
			return nil, err
		}
	}
	var sec *secrets.Secret
	err := s.Secrets.InTx(ctx, func(tx store.Tx, now time.Time) error {
		var err error
		if sec, err = s.Secrets.LoadTx(ctx, tx, sc, name); err != nil {
			return err
		}
		if err := rotatable(op, sec); err != nil {
			return err
		}
		sp, _ := ParseSpec(sec.Rotation.Rotator)
		if in.Spec != nil {
			if sp.Rotator == RotatorProduct {
				return fault.E(op, fault.Invalid, "a product secret keeps its own rotator").Because(fault.RotationForbidden)
			}
			sch, dur, ro := sp.Schedule, sp.Duration, sp.Rollout
			sp = *in.Spec
			sp.Schedule, sp.Duration, sp.Rollout = sch, dur, ro
			sec.Rotation.Rotator = sp.String()
		}
		if sp.Rotator == "" && builtinFor(sec.Type) == "" {
			return fault.E(op, fault.WrongState, "secret "+sec.Name+" has no rotator; only product secrets, SSH key secrets and secrets with a rotator rotate on a schedule").Because(fault.RotationForbidden)
		}
		if sp.Rotator == "" {
			sp.Rotator = builtinFor(sec.Type)
			sec.Rotation.Rotator = sp.String()
		}
		sec.Rotation.Enabled = in.Enable
		if in.Days > 0 {
			sec.Rotation.Days = in.Days
			sp.Schedule, sp.Duration = "", ""
			sec.Rotation.Rotator = sp.String()
		}
		if sec.Rotation.Days == 0 && sp.Schedule == "" {
			sec.Rotation.Days = 30
		}
		sec.Rotation.Next = time.Time{}
		if in.Enable {
			begin := in.Begin
			if begin.IsZero() {
				begin = now
			}
			sec.Rotation.Begin = begin
			if sp.Schedule != "" {
				sec.Rotation.Next = nextRotation(sec.Rotation, sp, time.Time{}, now)
			} else {
				sec.Rotation.Next = firstRotation(begin, sec.Rotation.Days, now)
			}
		}
		return s.Secrets.SaveTx(ctx, tx, sec, now)
	})
	return sec, err
}

// Runs returns up to limit runs of a secret, newest first.
func (s *Service) Runs(ctx context.Context, sc secrets.Scope, name string, limit int) (*secrets.Secret, []*store.RotationRun, error) {
	var sec *secrets.Secret
	var runs []*store.RotationRun
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		if sec, err = s.Secrets.LoadTx(ctx, tx, sc, name); err != nil {
			return err
		}
		runs, err = tx.RotationRuns(ctx, sec.ID, limit)
		return err
	})
	return sec, runs, err
}

// Flow returns a run by flow id, within the caller's account and region;
// fault.NotFound for another's.
func (s *Service) Flow(ctx context.Context, sc secrets.Scope, id int64) (*store.RotationRun, error) {
	var r *store.RotationRun
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		r, err = tx.RotationRun(ctx, id)
		return err
	})
	if err == nil && (r.Account != sc.Account || r.Region != sc.Region) {
		err = fault.E("rotation.Flow", fault.NotFound, "")
	}
	if fault.Is(err, fault.NotFound) {
		return nil, fault.E("rotation.Flow", fault.NotFound, fmt.Sprintf("flow %d does not exist", id))
	}
	return r, err
}

// Account is one of a product secret's database accounts, as
// DescribeRotationHistory shows it.
type Account struct {
	Name      string
	Hosts     []string
	Current   bool
	VersionID string    // the version that last held its credential
	RotatedAt time.Time // when that version was made; zero when never
}

// Accounts returns a product secret's accounts.
func (s *Service) Accounts(ctx context.Context, sc secrets.Scope, name string) ([]Account, error) {
	var out []Account
	err := s.Store.View(ctx, func(tx store.Tx) error {
		sec, err := s.Secrets.LoadTx(ctx, tx, sc, name)
		if err != nil {
			return err
		}
		sp, _ := ParseSpec(sec.Rotation.Rotator)
		if sp.Rotator != RotatorProduct {
			return nil
		}
		vs, err := tx.Versions(ctx, sec.ID)
		if err != nil {
			return fmt.Errorf("list versions: %w", err)
		}
		out = make([]Account, len(sp.Accounts))
		for i, a := range sp.Accounts {
			out[i] = Account{Name: a, Hosts: sp.Hosts}
		}
		for _, v := range vs { // oldest first: the newest version of each account wins
			_, val, err := s.Secrets.ValueTx(ctx, tx, sec, secrets.Selector{VersionID: v.ID})
			if err != nil {
				continue
			}
			var pv ProductValue
			if json.Unmarshal(val.Bytes(), &pv) != nil {
				continue
			}
			for i := range out {
				if out[i].Name == pv.UserName {
					out[i].VersionID, out[i].RotatedAt = v.ID, v.CreatedAt
					out[i].Current = slices.Contains(v.Stages, secrets.StageCurrent)
				}
			}
		}
		return nil
	})
	return out, err
}

// SSHInput creates an SSH key pair secret.
type SSHInput struct {
	Name        string
	Description string
	KeyID       string
	Tags        []secrets.Tag
	CreatedBy   string
	KeyName     string // ≤ 25 of [A-Za-z0-9_]; "" for the key id
	Algorithm   string // ed25519 (default) or rsa
	Bits        int    // rsa only
	ProjectID   int64
}

// CreateSSH generates a key pair in Coffer and stores it as a secret of
// type SSH key; the ssh rotator replaces it with a new pair.
func (s *Service) CreateSSH(ctx context.Context, sc secrets.Scope, in SSHInput) (*secrets.Secret, SSHValue, error) {
	const op = "rotation.CreateSSH"
	if in.KeyName != "" && !validKeyName(in.KeyName) {
		return nil, SSHValue{}, fault.E(op, fault.Invalid, "SSHKeyName is 1-25 characters of [A-Za-z0-9_] and starts with a letter or digit")
	}
	keyID := "skey-" + strings.ToLower(secrets.NewID(8))
	if in.KeyName == "" {
		in.KeyName = strings.ReplaceAll(keyID, "-", "_")
	}
	v, err := NewSSHValue(keyID, in.KeyName, in.Algorithm, in.Bits)
	if err != nil {
		return nil, SSHValue{}, fault.E(op, fault.Invalid, fault.Message(err))
	}
	val := secrets.StringValue(string(mustJSON(v)))
	sp := Spec{Rotator: RotatorSSH, SSH: v.Algorithm, SSHBits: in.Bits}
	cfg, _ := json.Marshal(struct {
		ProjectID  int64
		SSHKeyName string
	}{in.ProjectID, in.KeyName})
	var sec *secrets.Secret
	err = s.Secrets.InTx(ctx, func(tx store.Tx, now time.Time) error {
		var err error
		sec, _, err = s.Secrets.CreateTx(ctx, tx, sc, secrets.CreateInput{
			Name: in.Name, Description: in.Description, Type: store.TypeSSHKey, KeyID: in.KeyID, Tags: in.Tags,
			CreatedBy: in.CreatedBy, ResourceID: keyID, Product: "Cvm", Config: string(cfg), Value: &val,
		}, now)
		if err != nil {
			return err
		}
		sec.Rotation.Rotator = sp.String()
		return s.Secrets.SaveTx(ctx, tx, sec, now)
	})
	if err != nil {
		return nil, SSHValue{}, err
	}
	return sec, v, nil
}

func validKeyName(n string) bool {
	if n == "" || len(n) > 25 {
		return false
	}
	for i, c := range n {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' && i > 0
		if !ok {
			return false
		}
	}
	return true
}

// runDetail is a rotation run's own settings.
type runDetail struct {
	Beta *secrets.Rollout `json:",omitempty"`
}

// checkSpec validates a spec as this server will run it: a webhook must be
// one its client may call.
func (s *Service) checkSpec(sp Spec) error {
	if err := sp.Check(); err != nil {
		return err
	}
	if sp.Rotator == RotatorWebhook {
		allowHTTP := s.Webhook != nil && s.Webhook.AllowHTTP
		if err := webhook.ValidateURL(sp.URL, allowHTTP); err != nil {
			return fault.E("rotation.Spec", fault.Invalid, "the webhook URL must be https:// (plain http only on a --dev server), without credentials or fragment")
		}
	}
	return nil
}
