package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// setupWorkers bounds the requests set-up and clean-up send at once.
const setupWorkers = 8

// SetupReport says how the run's secrets came to be.
type SetupReport struct {
	Secrets int     `json:"secrets"`
	Size    int     `json:"size"`
	Created int64   `json:"created"`
	Reused  int64   `json:"reused"` // they existed: their values were left as they are
	Pruned  int64   `json:"pruned,omitempty"`
	Elapsed float64 `json:"elapsed_s"`
}

// CleanupReport says what was deleted after the run.
type CleanupReport struct {
	Versions   int64  `json:"versions_deleted,omitempty"` // this run's versions, when the secrets stay
	Secrets    int64  `json:"secrets_deleted,omitempty"`
	Failed     int64  `json:"failed,omitempty"`
	FirstError string `json:"first_error,omitempty"`
}

// parallel runs fn(w, i) for i in [0, n) on up to setupWorkers workers,
// stopping at the first error, which it returns.
func (r *runner) parallel(parent context.Context, n int, fn func(w *worker, i int) error) error {
	var next atomic.Int64
	var once sync.Once
	var first error
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	var wg sync.WaitGroup
	for k := range min(setupWorkers, r.cfg.Connections, n) {
		w := r.newWorker(k)
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				if err := fn(w, i); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	if first == nil && parent.Err() != nil {
		return fmt.Errorf("interrupted: %w", parent.Err())
	}
	return first
}

// setup creates the run's secrets, or reuses those that exist. A Tencent
// put workload first deletes the versions earlier runs left on reused
// secrets, so puts have room. It returns an error naming the first secret
// that could not be created, with the server's code and message.
func (r *runner) setup(ctx context.Context) (*SetupReport, error) {
	if len(r.names) == 0 {
		return nil, nil
	}
	rep := &SetupReport{Secrets: len(r.names), Size: r.cfg.Size}
	start := time.Now()
	var created, reused, pruned atomic.Int64
	err := r.parallel(ctx, len(r.names), func(w *worker, i int) error {
		name := r.names[i]
		code, msg := w.call(ctx, actCreate, w.dynamic(actCreate, name, r.token("bnew")))
		switch code {
		case "":
			created.Add(1)
			return nil
		case r.proto.existsCode():
			reused.Add(1)
			n, err := w.pruneOld(ctx, name)
			pruned.Add(n)
			return err
		}
		return fmt.Errorf("set-up: CreateSecret %s: %s: %s", name, code, msg)
	})
	rep.Created, rep.Reused, rep.Pruned = created.Load(), reused.Load(), pruned.Load()
	rep.Elapsed = round(time.Since(start).Seconds(), 3)
	return rep, err
}

// pruneOld deletes the versions earlier put workloads left on a reused
// secret (Tencent only: AWS has no call to delete a version).
func (w *worker) pruneOld(ctx context.Context, name string) (int64, error) {
	if w.r.rings == nil {
		return 0, nil
	}
	code, msg := w.call(ctx, actListVersions, w.dynamic(actListVersions, name, ""))
	if code != "" {
		return 0, fmt.Errorf("set-up: ListSecretVersionIds %s: %s: %s", name, code, msg)
	}
	var out struct {
		Response struct{ Versions []struct{ VersionId string } }
	}
	if err := json.Unmarshal(w.resp.Bytes(), &out); err != nil {
		return 0, fmt.Errorf("set-up: ListSecretVersionIds %s: %w", name, err)
	}
	var n int64
	for _, v := range out.Response.Versions {
		if !strings.HasPrefix(v.VersionId, "bput-") {
			continue
		}
		if code, msg := w.call(ctx, actDeleteVersion, w.dynamic(actDeleteVersion, name, v.VersionId)); code != "" {
			return n, fmt.Errorf("set-up: DeleteSecretVersion %s %s: %s: %s", name, v.VersionId, code, msg)
		}
		n++
	}
	return n, nil
}

// teardown deletes the run's secrets when asked (Tencent first disables
// them: it deletes only disabled secrets), or else the versions a Tencent
// put workload left. Failures are counted, not returned.
func (r *runner) teardown(ctx context.Context) *CleanupReport {
	rep := &CleanupReport{}
	var versions, secrets, failed atomic.Int64
	var mu sync.Mutex
	fail := func(what, code, msg string) {
		failed.Add(1)
		mu.Lock()
		defer mu.Unlock()
		if rep.FirstError == "" {
			rep.FirstError = what + ": " + code + ": " + msg
		}
	}
	switch {
	case r.cfg.Cleanup && len(r.names) > 0:
		_ = r.parallel(ctx, len(r.names), func(w *worker, i int) error {
			if w.deleteSecret(ctx, r.names[i], fail) {
				secrets.Add(1)
			}
			return nil
		})
	case r.rings != nil:
		_ = r.parallel(ctx, len(r.rings), func(w *worker, i int) error {
			for _, v := range r.rings[i].drain() {
				if code, msg := w.call(ctx, actDeleteVersion, w.dynamic(actDeleteVersion, r.names[i], v)); code != "" {
					fail("DeleteSecretVersion "+r.names[i]+" "+v, code, msg)
					continue
				}
				versions.Add(1)
			}
			return nil
		})
	default:
		return nil
	}
	rep.Versions, rep.Secrets, rep.Failed = versions.Load(), secrets.Load(), failed.Load()
	return rep
}

// deleteSecret deletes one secret at once and reports whether it did.
func (w *worker) deleteSecret(ctx context.Context, name string, fail func(what, code, msg string)) bool {
	if w.r.proto == Tencent {
		// Disabling a disabled secret is refused; the delete says if it matters.
		w.call(ctx, actDisable, w.dynamic(actDisable, name, ""))
	}
	if code, msg := w.call(ctx, actDelete, w.dynamic(actDelete, name, "")); code != "" {
		fail("DeleteSecret "+name, code, msg)
		return false
	}
	return true
}
