package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"
)

// worker sends one request at a time on its own connection. Its buffers
// and signing state are reused from request to request.
type worker struct {
	r    *runner
	rng  *rand.Rand
	st   signState
	resp bytes.Buffer
	rec  recorder

	dyn     payload // the body of the last put, delete…, built per request
	lastPut int     // the secret of the last put
	lastVer string  // and its version
}

func (r *runner) newWorker(i int) *worker {
	return &worker{r: r, rng: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i)))}
}

// call sends one signed request for a with body p and reads the answer. It
// returns the error code and message, both "" for a success; failures to
// get an answer have the codes ClientTimeout and ConnectionError.
func (w *worker) call(ctx context.Context, a action, p *payload) (code, msg string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.r.url, bytes.NewReader(p.body))
	if err != nil {
		return codeConnection, err.Error()
	}
	w.r.proto.setHeaders(req.Header, a, w.r.regionHdr)
	w.r.sign.sign(&w.st, req.Header, a, p, time.Now())
	resp, err := w.r.client.Do(req)
	if err != nil {
		return netCode(err), err.Error()
	}
	w.resp.Reset()
	_, err = w.resp.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		return netCode(err), err.Error()
	}
	return w.r.proto.result(resp.StatusCode, resp.Header, w.resp.Bytes())
}

func netCode(err error) string {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return codeTimeout
	}
	return codeConnection
}

// dynamic builds the body of a for one secret and version. It is a new
// buffer each time: the transport may still read the last body after the
// answer came (net/http's RoundTrip contract).
func (w *worker) dynamic(a action, name, version string) *payload {
	size := len(name) + len(version) + 128
	if a == actPut || a == actCreate {
		size += len(w.r.value)
	}
	w.r.sign.prepare(&w.dyn, w.r.proto.body(make([]byte, 0, size), a, name, version, w.r.value, 0, 0))
	return &w.dyn
}

// do sends one request of operation o and returns its error code.
func (w *worker) do(ctx context.Context, o Op) string {
	r := w.r
	var p *payload
	switch o {
	case Get:
		p = &r.gets[w.rng.IntN(len(r.gets))]
	case Describe:
		p = &r.describes[w.rng.IntN(len(r.describes))]
	case List:
		p = &r.lists[w.rng.IntN(len(r.lists))]
	case Put:
		w.lastPut = w.rng.IntN(len(r.names))
		w.lastVer = r.token("bput")
		p = w.dynamic(actPut, r.names[w.lastPut], w.lastVer)
	}
	code, _ := w.call(ctx, action(o), p)
	return code
}

// token returns a version id (Tencent) or client request token (AWS) no
// other run uses: prefix-nonce-sequence, 32 characters, which AWS requires
// at least.
func (r *runner) token(prefix string) string {
	return fmt.Sprintf("%s-%s-%010d", prefix, r.nonce, r.seq.Add(1))
}

// afterPut keeps the secret of a successful Tencent put under the version
// limit: once keepVersions of this run's versions are on it, it deletes the
// oldest, measured as housekeeping.
func (w *worker) afterPut(ctx context.Context, measured bool) {
	r := w.r
	if r.rings == nil {
		return
	}
	old, full := r.rings[w.lastPut].push(w.lastVer, keepVersions)
	if !full {
		return
	}
	t0 := time.Now()
	code, _ := w.call(ctx, actDeleteVersion, w.dynamic(actDeleteVersion, r.names[w.lastPut], old))
	t1 := time.Now()
	r.completed.Add(1)
	if measured {
		w.rec.add(housekeeping, t1.Sub(t0), code, t1)
	}
}

// loop sends requests until the run ends.
func (w *worker) loop(ctx context.Context) {
	r := w.r
	total := r.cfg.Mix.total()
	for {
		t0, measured, ok := w.next()
		if !ok {
			return
		}
		o := r.cfg.Mix.pick(w.rng.IntN(total))
		code := w.do(ctx, o)
		t1 := time.Now()
		r.completed.Add(1)
		if measured {
			w.rec.add(int(o), t1.Sub(t0), code, t1)
		}
		if o == Put && code == "" {
			w.afterPut(ctx, measured)
		}
	}
}

// next waits for the next request's turn and returns when it starts (with
// a rate, when it was due: a server that falls behind shows in the
// latency, as in wrk2) and whether it is measured. ok is false when the run
// is over.
func (w *worker) next() (t0 time.Time, measured, ok bool) {
	r := w.r
	if r.stopped() {
		return t0, false, false
	}
	t0 = time.Now()
	if r.period > 0 {
		due := r.start.Add(time.Duration(r.ticket.Add(1)-1) * r.period)
		if d := due.Sub(t0); d > 0 && !r.sleep(d) {
			return t0, false, false
		}
		t0 = due
	}
	measured = !t0.Before(r.measureStart)
	if measured && r.cfg.Requests > 0 && r.remaining.Add(-1) < 0 {
		return t0, false, false
	}
	return t0, measured, true
}

func (r *runner) stopped() bool {
	select {
	case <-r.stop:
		return true
	default:
		return false
	}
}

// sleep waits d and reports whether the run is still on.
func (r *runner) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.stop:
		return false
	}
}

func (r *runner) halt() { r.stopOnce.Do(func() { close(r.stop) }) }

// measure runs the workers until the duration or the count is done, or ctx
// is cancelled, and reports whether it was cancelled. Requests in flight
// at the end complete and count; none is cut short.
func (r *runner) measure(ctx context.Context) (interrupted bool) {
	r.start = time.Now()
	r.measureStart = r.start.Add(r.cfg.Warmup)
	r.remaining.Store(r.cfg.Requests)
	if r.cfg.Rate > 0 {
		r.period = time.Duration(float64(time.Second) / r.cfg.Rate)
	}
	if r.cfg.Duration > 0 {
		t := time.AfterFunc(r.cfg.Warmup+r.cfg.Duration, r.halt)
		defer t.Stop()
	}
	reqCtx := context.WithoutCancel(ctx)
	var wg sync.WaitGroup
	for i := range r.cfg.Connections {
		w := r.newWorker(i)
		r.workers = append(r.workers, w)
		wg.Go(func() { w.loop(reqCtx) })
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	progressDone := r.progress(done)
	select {
	case <-done:
	case <-ctx.Done():
		interrupted = true
		r.halt()
		<-done
	}
	<-progressDone
	return interrupted
}

// snapshot merges every worker's measurements and returns them with the
// time the last measured request completed.
func (r *runner) snapshot() (statSet, time.Time) {
	var s statSet
	var last time.Time
	for _, w := range r.workers {
		if l := w.rec.mergeInto(&s); l.After(last) {
			last = l
		}
	}
	return s, last
}

// versionRing holds the versions a run put on one secret, oldest first.
type versionRing struct {
	mu  sync.Mutex
	ids []string
}

// push adds id and, when that makes more than keep, removes and returns the
// oldest.
func (v *versionRing) push(id string, keep int) (oldest string, full bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.ids = append(v.ids, id)
	if len(v.ids) <= keep {
		return "", false
	}
	oldest = v.ids[0]
	v.ids = append(v.ids[:0], v.ids[1:]...)
	return oldest, true
}

// drain removes and returns every version left.
func (v *versionRing) drain() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	ids := v.ids
	v.ids = nil
	return ids
}
