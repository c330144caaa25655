// Package rotation changes secrets on a schedule or on demand, through
// rotators that also change what the secret unlocks (a database user's
// password, an SSH key, whatever a webhook endpoint manages).
//
// Every rotation is a run: a persistent state machine of the four steps of
// the AWS contract — createSecret (a pending version), setSecret (apply it
// to the target), testSecret (log in with it), finishSecret (make it
// current) — recorded in the store after each step, so a server that dies
// mid-rotation resumes the run where it stopped, and a run that keeps
// failing is rolled back with the current value left as it was. Runs are
// worked on by one server at a time (the lease holder in a cluster).
package rotation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/rotation/dbtarget"
	"github.com/coffer-secrets/coffer/internal/rotation/webhook"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
)

// The steps of a run, named as the AWS rotation contract names them, and
// the steps of Coffer's own runs.
const (
	StepCreate = "createSecret"
	StepSet    = "setSecret"
	StepTest   = "testSecret"
	StepFinish = "finishSecret"
	StepCancel = "cancel"       // roll back at the next turn (CancelRotateSecret)
	StepDrop   = "dropAccounts" // drop a deleted product secret's database accounts
)

// The kinds of run.
const (
	KindRotate = "rotate" // a rotation of an existing secret
	KindCreate = "create" // the asynchronous creation of a product secret
	KindDrop   = "drop"   // dropping the accounts of a deleted product secret
)

// Service runs rotations.
type Service struct {
	Store   store.Store
	Secrets *secrets.Service
	Audit   *audit.Log
	Webhook *webhook.Client
	Clock   func() time.Time
	Logger  *slog.Logger

	// MaxAttempts is how often a step is tried before the run is rolled
	// back; 0 means 5.
	MaxAttempts int
	// RetryBase is the wait after a step's first failure; it doubles with
	// every further failure, up to an hour. 0 means 10 s.
	RetryBase time.Duration
	// Grace is how long, at least, a credential that stopped being current
	// keeps working under the alternating strategies: the next rotation
	// does not change it sooner, so applications that read it just before
	// a rotation still log in with it.
	Grace time.Duration

	// Hook, when set, is called before ("before") and after ("after") the
	// effect of every step, and before a step's result is recorded
	// ("record"); an error it returns stops the work there as if the
	// server had died. Crash tests use it.
	Hook func(run *store.RotationRun, phase string) error

	// OnEnd, when set, is told of every run that ends: its result ("ok",
	// "failed", "rolled_back") and how long it took.
	OnEnd func(result string, d time.Duration)

	// OnStart, when set, is called after a run is started through the
	// API: in a cluster, the lease holder runs it and must be woken.
	OnStart func()

	kickOnce sync.Once
	kick     chan struct{}
}

func (s *Service) now() time.Time {
	c := s.Clock
	if c == nil {
		c = time.Now
	}
	return c().UTC().Truncate(time.Millisecond)
}

func (s *Service) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

func (s *Service) maxAttempts() int {
	if s.MaxAttempts <= 0 {
		return 5
	}
	return s.MaxAttempts
}

func (s *Service) backoff(attempts int) time.Duration {
	d := s.RetryBase
	if d <= 0 {
		d = 10 * time.Second
	}
	for range attempts - 1 {
		d *= 2
		if d >= time.Hour {
			return time.Hour
		}
	}
	return d
}

func (s *Service) kicks() chan struct{} {
	s.kickOnce.Do(func() { s.kick = make(chan struct{}, 1) })
	return s.kick
}

// started wakes the worker, here and (OnStart) wherever it runs.
func (s *Service) started() {
	s.Kick()
	if s.OnStart != nil {
		s.OnStart()
	}
}

// Kick wakes the worker on this server: a run was started.
func (s *Service) Kick() {
	select {
	case s.kicks() <- struct{}{}:
	default:
	}
}

// Loop works on runs until ctx ends: at once when kicked, and every
// interval for scheduled rotations and retries.
func (s *Service) Loop(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.Work(ctx); err != nil && ctx.Err() == nil {
			s.logger().Warn("rotation pass failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kicks():
		}
	}
}

// errStopped is a Hook's "the server died here".
var errStopped = errors.New("rotation: stopped by hook")

func (s *Service) hook(run *store.RotationRun, phase string) error {
	if s.Hook == nil {
		return nil
	}
	if err := s.Hook(run, phase); err != nil {
		return fmt.Errorf("%w: %v", errStopped, err)
	}
	return nil
}

// Work starts the scheduled rotations that are due and works every run
// that is due, each as far as it can go now. It returns how many steps
// it ran.
func (s *Service) Work(ctx context.Context) (int, error) {
	if err := s.startDue(ctx); err != nil {
		return 0, err
	}
	n := 0
	for {
		var due []*store.RotationRun
		err := s.Store.View(ctx, func(tx store.Tx) error {
			var err error
			due, err = tx.RotationRunsDue(ctx, s.now(), 20)
			return err
		})
		if err != nil {
			return n, fmt.Errorf("find rotation runs due: %w", err)
		}
		if len(due) == 0 {
			return n, nil
		}
		progressed := false
		for _, r := range due {
			k, err := s.drive(ctx, r)
			n += k
			if k > 0 {
				progressed = true
			}
			if err != nil {
				return n, err
			}
		}
		if !progressed {
			return n, nil
		}
	}
}

// drive runs the steps of one run while it is due.
func (s *Service) drive(ctx context.Context, r *store.RotationRun) (int, error) {
	n := 0
	for r.State == store.RunRunning && !r.NextAt.After(s.now()) {
		next, err := s.step(ctx, r)
		if errors.Is(err, errStopped) || ctx.Err() != nil {
			return n, err
		}
		if err != nil {
			s.logger().Warn("rotation step could not be recorded", "flow", r.ID, "step", r.Step, "err", err)
			return n, nil
		}
		n++
		r = next
	}
	return n, nil
}

// startDue starts a run for every secret whose scheduled rotation is due.
func (s *Service) startDue(ctx context.Context) error {
	for {
		// Look first in a read transaction: a write transaction that
		// changes nothing still counts as a write for the caches that
		// expire on writes (listings' totals and checkpoints).
		var due bool
		err := s.Store.View(ctx, func(tx store.Tx) error {
			secs, err := tx.SecretsRotationDue(ctx, s.now(), 1)
			due = len(secs) > 0
			return err
		})
		if err != nil || !due {
			return err
		}
		started := 0
		err = s.Secrets.InTx(ctx, func(tx store.Tx, now time.Time) error {
			started = 0
			due, err := tx.SecretsRotationDue(ctx, now, 20)
			if err != nil {
				return fmt.Errorf("find secrets due for rotation: %w", err)
			}
			for _, sec := range due {
				sp, _ := ParseSpec(sec.Rotation.Rotator)
				// Not picked again before the run sets the real next time.
				sec.Rotation.Next = nextRotation(sec.Rotation, sp, now, now)
				if err := tx.UpdateSecret(ctx, sec); err != nil {
					return fmt.Errorf("update secret: %w", err)
				}
				if running, err := runningRun(ctx, tx, sec.ID); err != nil {
					return err
				} else if running != nil {
					continue
				}
				r := newRun(sec, KindRotate, StepCreate, s.versionFor(sec, sp, "", now), sp.Rotator, now)
				if err := tx.InsertRotationRun(ctx, r); err != nil {
					return fmt.Errorf("start rotation: %w", err)
				}
				if err := s.record(ctx, tx, r, sec.Name, "StartRotation", ""); err != nil {
					return err
				}
				started++
			}
			return nil
		})
		if err != nil || started == 0 {
			return err
		}
	}
}

func newRun(sec *store.Secret, kind, step, versionID, rotator string, now time.Time) *store.RotationRun {
	return &store.RotationRun{
		Account: sec.Account, Region: sec.Region, SecretID: sec.ID, SecretName: sec.Name,
		Kind: kind, Rotator: rotator, VersionID: versionID, Step: step, State: store.RunRunning,
		NextAt: now, StartedAt: now, UpdatedAt: now,
	}
}

// versionFor returns the id of a rotation's new version: the caller's
// token, or for product secrets SSM_Rotate_<time> as Tencent names them,
// or a random UUID.
func (s *Service) versionFor(sec *store.Secret, sp Spec, token string, now time.Time) string {
	if token != "" {
		return token
	}
	if sp.Rotator == RotatorProduct || sec.Type == store.TypeDatabase {
		return "SSM_Rotate_" + now.Format("20060102150405") + "_" + secrets.NewID(4)
	}
	return secrets.NewUUID()
}

// runningRun returns the secret's run in progress, or nil.
func runningRun(ctx context.Context, tx store.Tx, secretID string) (*store.RotationRun, error) {
	runs, err := tx.RotationRuns(ctx, secretID, 1)
	if err != nil {
		return nil, fmt.Errorf("read rotation runs: %w", err)
	}
	if len(runs) == 1 && runs[0].State == store.RunRunning {
		return runs[0], nil
	}
	return nil, nil
}

// record appends a system audit event about a run in tx.
func (s *Service) record(ctx context.Context, tx store.Tx, r *store.RotationRun, name, action, errCode string) error {
	if s.Audit == nil {
		return nil
	}
	ev := &audit.Event{
		Time: r.UpdatedAt, Account: r.Account, PrincipalID: "coffer", PrincipalName: "coffer",
		PrincipalKind: "system", Region: r.Region, Family: "coffer", Action: action,
		Resource: name, VersionID: r.VersionID, RequestID: secrets.NewUUID(), ErrorCode: errCode,
		Params: fmt.Sprintf(`{"FlowID":%d,"Kind":%q,"Step":%q,"Rotator":%q}`, r.ID, r.Kind, r.Step, r.Rotator),
	}
	if err := s.Audit.Append(ctx, tx, ev); err != nil {
		return fmt.Errorf("audit rotation: %w", err)
	}
	return nil
}

// safeError is the message of a step's failure kept in the run and shown
// to clients: the rotators' errors name what failed, never a value. A
// database's own error text (addresses, users, SQL states) stays in the
// server's log: the client gets the operation and the kind of failure.
func safeError(err error) string {
	msg := err.Error()
	var de *dbtarget.Error
	if errors.As(err, &de) {
		msg = "database " + de.Op + ": " + fault.Message(de.Kind)
	}
	if len(msg) > 500 {
		msg = msg[:500]
	}
	return msg
}

// faultOf keeps fault errors as they are and wraps the rest.
func faultOf(op string, err error) error {
	var fe *fault.Error
	if errors.As(err, &fe) {
		return err
	}
	return fault.Wrap(op, fault.Unavailable, "rotation step failed", err)
}
