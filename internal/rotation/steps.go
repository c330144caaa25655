package rotation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
)

// job is what a step works with: the run, its secret and the values.
type job struct {
	run  *store.RotationRun
	sec  *store.Secret
	spec Spec
	svc  *Service

	cur     *secrets.Version // nil when the secret has no current version
	curVal  secrets.Value
	pend    *secrets.Version // nil until createSecret stored it
	pendVal secrets.Value
}

// rotator is what a kind of rotation does at each step. create returns the
// pending value; set applies it to the target; test proves it works there;
// finish tells the target the rotation is done; undo reverses set when a
// later step fails. Every method must be safe to run again after a crash.
type rotator interface {
	create(ctx context.Context, j *job) (secrets.Value, error)
	set(ctx context.Context, j *job) error
	test(ctx context.Context, j *job) error
	finish(ctx context.Context, j *job) error
	undo(ctx context.Context, j *job) error
}

func (s *Service) rotatorFor(sp Spec) (rotator, error) {
	switch sp.Rotator {
	case RotatorRandom:
		return randomRotator{}, nil
	case RotatorSSH:
		return sshRotator{}, nil
	case RotatorPostgres, RotatorMySQL:
		return dbRotator{}, nil
	case RotatorProduct:
		return productRotator{}, nil
	case RotatorWebhook:
		if s.Webhook == nil {
			return nil, errors.New("webhook rotation is not configured on this server")
		}
		return webhookRotator{}, nil
	case "":
		return nil, errors.New("the secret has no rotator")
	}
	return nil, fmt.Errorf("unknown rotator %q", sp.Rotator)
}

// load reads a run's secret and values. A missing secret gives sec nil.
func (s *Service) load(ctx context.Context, r *store.RotationRun) (*job, error) {
	j := &job{run: r, svc: s}
	err := s.Store.View(ctx, func(tx store.Tx) error {
		sec, err := tx.SecretByID(ctx, r.SecretID)
		if fault.Is(err, fault.NotFound) {
			return nil
		} else if err != nil {
			return fmt.Errorf("read secret: %w", err)
		}
		j.sec = sec
		if j.spec, err = ParseSpec(sec.Rotation.Rotator); err != nil {
			return err
		}
		j.cur, j.curVal, err = s.Secrets.ValueTx(ctx, tx, sec, secrets.Selector{Stage: secrets.StageCurrent})
		if fault.Is(err, fault.NotFound) {
			j.cur, err = nil, nil
		}
		if err != nil {
			return fmt.Errorf("read current value: %w", err)
		}
		j.pend, j.pendVal, err = s.Secrets.ValueTx(ctx, tx, sec, secrets.Selector{VersionID: r.VersionID})
		if fault.Is(err, fault.NotFound) {
			j.pend, err = nil, nil
		}
		if err != nil {
			return fmt.Errorf("read pending value: %w", err)
		}
		return nil
	})
	return j, err
}

// step runs the run's next step and records the outcome. It returns the
// run as recorded. An error means the outcome could not be recorded (or a
// Hook stopped the work): the run stays as it was, to be worked again.
func (s *Service) step(ctx context.Context, r *store.RotationRun) (*store.RotationRun, error) {
	r = cloneRun(r)
	if r.Kind == KindDrop {
		return s.stepDrop(ctx, r)
	}
	j, err := s.load(ctx, r)
	if err != nil {
		return nil, err
	}
	if j.sec == nil {
		return s.end(ctx, r, nil, store.RunFailed, "the secret was deleted during the rotation")
	}
	if r.Step == StepCancel {
		return s.rollback(ctx, j, "the rotation was cancelled")
	}
	if j.sec.Status != store.StatusEnabled && !(r.Kind == KindCreate && j.sec.Status == store.StatusCreating) {
		return s.rollback(ctx, j, "the secret is "+string(j.sec.Status)+"; rotation stopped")
	}
	rot, err := s.rotatorFor(j.spec)
	if err != nil {
		return s.rollback(ctx, j, err.Error())
	}
	if err := s.hook(r, "before"); err != nil {
		return nil, err
	}
	switch r.Step {
	case StepCreate:
		if j.pend != nil { // stored before a crash
			return s.advance(ctx, j, StepSet, nil)
		}
		val, err := rot.create(ctx, j)
		if err != nil {
			return s.failed(ctx, j, err)
		}
		if err := s.hook(r, "after"); err != nil {
			return nil, err
		}
		return s.recorded(ctx, j, func() (*store.RotationRun, error) { return s.advance(ctx, j, StepSet, &val) })
	case StepSet:
		if wait := s.graceLeft(j); wait > 0 && j.pend != nil {
			r.NextAt = s.now().Add(wait)
			return r, s.save(ctx, r)
		}
		return s.effect(ctx, j, rot.set, func() (*store.RotationRun, error) { return s.advance(ctx, j, StepTest, nil) })
	case StepTest:
		return s.effect(ctx, j, rot.test, func() (*store.RotationRun, error) { return s.advance(ctx, j, StepFinish, nil) })
	case StepFinish:
		return s.effect(ctx, j, rot.finish, func() (*store.RotationRun, error) { return s.complete(ctx, j) })
	}
	return s.end(ctx, r, j.sec, store.RunFailed, "unknown step "+r.Step)
}

// effect runs the work of a step on the target once the pending version
// exists, then records the step with record; a failure of the work is a
// failed attempt.
func (s *Service) effect(ctx context.Context, j *job, work func(context.Context, *job) error, record func() (*store.RotationRun, error)) (*store.RotationRun, error) {
	if j.pend == nil {
		return s.rollback(ctx, j, "the pending version is gone")
	}
	if err := work(ctx, j); err != nil {
		return s.failed(ctx, j, err)
	}
	if err := s.hook(j.run, "after"); err != nil {
		return nil, err
	}
	return s.recorded(ctx, j, record)
}

// recorded records a step done with record. When the record cannot be
// stored for a reason retrying it will not mend (a version limit, a
// disabled key), the step counts as failed instead.
func (s *Service) recorded(ctx context.Context, j *job, record func() (*store.RotationRun, error)) (*store.RotationRun, error) {
	saved := *j.run
	next, err := record()
	if permanent(err) {
		*j.run = saved
		return s.failed(ctx, j, err)
	}
	return next, err
}

// graceLeft returns how long the set step must still wait so that the
// credential it changes has been out of use for at least Grace.
func (s *Service) graceLeft(j *job) time.Duration {
	if j.run.Kind != KindRotate || !alternates(j.spec) || j.sec.Rotation.Last.IsZero() {
		return 0
	}
	return j.sec.Rotation.Last.Add(s.Grace).Sub(s.now())
}

// permanent reports whether recording a step failed for a reason that
// retrying the record will not mend: a fault other than the store being
// unavailable or a lost race.
func permanent(err error) bool {
	if err == nil || errors.Is(err, errStopped) {
		return false
	}
	switch fault.KindOf(err) {
	case fault.Unavailable, fault.Conflict, fault.Internal:
		return false
	}
	var fe *fault.Error
	return errors.As(err, &fe)
}

func alternates(sp Spec) bool {
	return sp.Rotator == RotatorProduct || sp.Strategy == StrategyAlternating
}

func cloneRun(r *store.RotationRun) *store.RotationRun {
	c := *r
	return &c
}

// save stores a run as it is (no step done).
func (s *Service) save(ctx context.Context, r *store.RotationRun) error {
	return s.Store.Update(ctx, func(tx store.Tx) error {
		if c, err := cancelledTx(ctx, tx, r); err != nil || c != nil {
			return err // the cancel stands; the next pass rolls back
		}
		r.UpdatedAt = s.now()
		return tx.UpdateRotationRun(ctx, r)
	})
}

// advance records a step done: the pending value when the step made one,
// and the next step.
func (s *Service) advance(ctx context.Context, j *job, next string, val *secrets.Value) (*store.RotationRun, error) {
	r := j.run
	done := r.Step
	stopped, err := s.recordTx(ctx, r, func(tx store.Tx, now time.Time) error {
		sec, err := tx.SecretByID(ctx, r.SecretID)
		if err != nil {
			return fmt.Errorf("read secret: %w", err)
		}
		if val != nil {
			in := secrets.PutInput{VersionID: r.VersionID, Value: *val, Stages: []string{secrets.StagePending}}
			if _, err := s.Secrets.PutManagedTx(ctx, tx, sec, in, now); err != nil {
				return err
			}
		}
		r.Step, r.Attempts, r.Error, r.NextAt, r.UpdatedAt = next, 0, "", now, now
		if err := tx.UpdateRotationRun(ctx, r); err != nil {
			return fmt.Errorf("update rotation run: %w", err)
		}
		return s.recordStep(ctx, tx, r, sec.Name, done, "")
	})
	if err != nil || stopped != nil {
		return stopped, err
	}
	s.notify()
	return r, nil
}

// recordTx runs fn, which records what the worker did with run r, in a
// write transaction of the secrets service, after the crash tests' "record"
// hook, unless Cancel marked r meanwhile: then it returns the marked run
// and fn does not run.
func (s *Service) recordTx(ctx context.Context, r *store.RotationRun, fn func(tx store.Tx, now time.Time) error) (*store.RotationRun, error) {
	if err := s.hook(r, "record"); err != nil {
		return nil, err
	}
	var stopped *store.RotationRun
	err := s.Secrets.InTx(ctx, func(tx store.Tx, now time.Time) error {
		var err error
		if stopped, err = cancelledTx(ctx, tx, r); err != nil || stopped != nil {
			return err
		}
		return fn(tx, now)
	})
	return stopped, err
}

// cancelledTx re-reads run r in tx and returns it when Cancel marked it
// while the worker was busy with a step, else nil. The step's outcome must
// then not be recorded over the mark: the run rolls back at its next turn.
// Writers are serialized, so the mark cannot come between this read and
// the caller's write.
func cancelledTx(ctx context.Context, tx store.Tx, r *store.RotationRun) (*store.RotationRun, error) {
	if r.Step == StepCancel {
		return nil, nil
	}
	cur, err := tx.RotationRun(ctx, r.ID)
	if err != nil {
		return nil, fmt.Errorf("read rotation run: %w", err)
	}
	if cur.State == store.RunRunning && cur.Step == StepCancel {
		return cur, nil
	}
	return nil, nil
}

func (s *Service) recordStep(ctx context.Context, tx store.Tx, r *store.RotationRun, name, step, errCode string) error {
	c := *r
	c.Step = step
	return s.record(ctx, tx, &c, name, "RotationStep", errCode)
}

// complete makes the pending version current and ends the run.
func (s *Service) complete(ctx context.Context, j *job) (*store.RotationRun, error) {
	r := j.run
	stopped, err := s.recordTx(ctx, r, func(tx store.Tx, now time.Time) error {
		sec, err := tx.SecretByID(ctx, r.SecretID)
		if err != nil {
			return fmt.Errorf("read secret: %w", err)
		}
		cur, err := tx.VersionByStage(ctx, sec.ID, secrets.StageCurrent)
		from := ""
		if err == nil {
			from = cur.ID
		} else if !fault.Is(err, fault.NotFound) {
			return fmt.Errorf("read current version: %w", err)
		}
		var d runDetail
		_ = json.Unmarshal([]byte(r.Detail), &d)
		beta := d.Beta != nil && r.Kind == KindRotate && from != ""
		if from != r.VersionID && !beta {
			if err := s.Secrets.MoveStageTx(ctx, tx, sec, secrets.MoveInput{Stage: secrets.StageCurrent, MoveTo: r.VersionID, RemoveFrom: from}, now); err != nil {
				return err
			}
		}
		if err := s.Secrets.MoveStageTx(ctx, tx, sec, secrets.MoveInput{Stage: secrets.StagePending, RemoveFrom: r.VersionID}, now); err != nil && !fault.Is(err, fault.Invalid) {
			return err
		}
		if beta {
			ro := *d.Beta
			ro.VersionID = r.VersionID
			if err := s.Secrets.StartRolloutTx(ctx, tx, sec, ro, now); err != nil {
				return err
			}
		}
		sp, _ := ParseSpec(sec.Rotation.Rotator)
		sec.Rotation.Last = now
		// A creation keeps the schedule CreateProductSecret set: its
		// RotationBeginTime, or a period from the creation.
		if sec.Rotation.Enabled && !(r.Kind == KindCreate && !sec.Rotation.Next.IsZero()) {
			sec.Rotation.Next = nextRotation(sec.Rotation, sp, now, now)
		}
		if sec.Status == store.StatusCreating {
			sec.Status = store.StatusEnabled
		}
		if err := s.Secrets.SaveTx(ctx, tx, sec, now); err != nil {
			return err
		}
		r.Step, r.State, r.Attempts, r.Error, r.UpdatedAt, r.EndedAt = "", store.RunSucceeded, 0, "", now, now
		if err := tx.UpdateRotationRun(ctx, r); err != nil {
			return fmt.Errorf("update rotation run: %w", err)
		}
		return s.recordStep(ctx, tx, r, sec.Name, StepFinish, "")
	})
	if err != nil || stopped != nil {
		return stopped, err
	}
	s.notify()
	s.ended(r)
	return r, nil
}

// failed records a failed attempt of the current step: retried after a
// back-off, rolled back after MaxAttempts.
func (s *Service) failed(ctx context.Context, j *job, cause error) (*store.RotationRun, error) {
	r := j.run
	s.logger().Warn("rotation step failed", "flow", r.ID, "secret", r.SecretName, "step", r.Step, "attempt", r.Attempts+1, "err", cause.Error())
	if r.Attempts+1 >= s.maxAttempts() {
		return s.rollback(ctx, j, r.Step+": "+safeError(cause))
	}
	stopped, err := s.recordTx(ctx, r, func(tx store.Tx, now time.Time) error {
		r.Attempts++
		r.Error = r.Step + ": " + safeError(cause)
		r.NextAt, r.UpdatedAt = now.Add(s.backoff(r.Attempts)), now
		if err := tx.UpdateRotationRun(ctx, r); err != nil {
			return fmt.Errorf("update rotation run: %w", err)
		}
		return s.recordStep(ctx, tx, r, j.sec.Name, r.Step, "RotationStepFailed")
	})
	if err != nil || stopped != nil {
		return stopped, err
	}
	return r, nil
}

// rollback undoes what the run did: the rotator's undo when the target
// may have changed, then the pending version goes. The current version is
// never touched. A create run leaves its secret Failed.
func (s *Service) rollback(ctx context.Context, j *job, why string) (*store.RotationRun, error) {
	r := j.run
	if rot, err := s.rotatorFor(j.spec); err == nil && (r.Kind == KindCreate || j.pend != nil && r.Step != StepCreate) {
		if err := rot.undo(ctx, j); err != nil {
			// Undo failed: keep trying later rather than leave the target
			// and the secret disagreeing.
			s.logger().Warn("rotation undo failed", "flow", r.ID, "secret", r.SecretName, "err", safeError(err))
			if err := s.hook(r, "record"); err != nil {
				return nil, err
			}
			r.Step, r.Error = StepCancel, "undo: "+safeError(err)
			r.Attempts++
			r.NextAt = s.now().Add(s.backoff(r.Attempts))
			return r, s.save(ctx, r)
		}
	}
	if err := s.hook(r, "record"); err != nil {
		return nil, err
	}
	state := store.RunRolledBack
	if r.Step == StepCreate && j.pend == nil {
		state = store.RunFailed
	}
	return s.end(ctx, r, j.sec, state, why)
}

// end closes a run in state, removing its pending version.
func (s *Service) end(ctx context.Context, r *store.RotationRun, sec0 *store.Secret, state store.RunState, why string) (*store.RotationRun, error) {
	err := s.Secrets.InTx(ctx, func(tx store.Tx, now time.Time) error {
		name := r.SecretName
		if sec0 != nil {
			sec, err := tx.SecretByID(ctx, r.SecretID)
			if err == nil {
				name = sec.Name
				if v, err := tx.Version(ctx, sec.ID, r.VersionID); err == nil && !slices.Contains(v.Stages, secrets.StageCurrent) {
					if err := s.Secrets.DeleteVersionTx(ctx, tx, sec, r.VersionID, now); err != nil {
						return err
					}
				}
				if r.Kind == KindCreate && sec.Status == store.StatusCreating {
					sec.Status = store.StatusFailed
					if err := s.Secrets.SaveTx(ctx, tx, sec, now); err != nil {
						return err
					}
				}
			} else if !fault.Is(err, fault.NotFound) {
				return fmt.Errorf("read secret: %w", err)
			}
		}
		step := r.Step
		r.Step, r.State, r.Error, r.UpdatedAt, r.EndedAt = "", state, why, now, now
		if err := tx.UpdateRotationRun(ctx, r); err != nil {
			return fmt.Errorf("update rotation run: %w", err)
		}
		return s.recordStep(ctx, tx, r, name, step, "Rotation"+string(state))
	})
	if err != nil {
		return nil, err
	}
	s.notify()
	s.ended(r)
	return r, nil
}

// notify tells those waiting on runs (tests, long polls) that one moved.
func (s *Service) notify() {
	if s.Audit != nil {
		s.Audit.Notify()
	}
}

// ended reports a run that ended to OnEnd.
func (s *Service) ended(r *store.RotationRun) {
	if s.OnEnd == nil {
		return
	}
	result := map[store.RunState]string{store.RunSucceeded: "ok", store.RunFailed: "failed", store.RunRolledBack: "rolled_back"}[r.State]
	s.OnEnd(result, r.EndedAt.Sub(r.StartedAt))
}
