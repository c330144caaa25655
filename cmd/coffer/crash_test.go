package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/store"
)

// The crash harness's load: crashWorkers writers, crashShared secrets per
// cycle that the writers add versions to, crashPuts versions each (the
// initial one makes ten, the SSM limit), and a kill 30–300 ms in.
const (
	crashWorkers  = 8
	crashShared   = 3
	crashPuts     = 9
	crashMinDelay = 30 * time.Millisecond
	crashMaxDelay = 300 * time.Millisecond
	crashCheckers = 8 // parallel verifiers
	crashShown    = 20
)

// TestCrashSafety runs the real server under a concurrent write load, kills
// it with SIGKILL at a random moment, restarts it on the same data and
// checks that every acknowledged write is there exactly once, that no other
// write half-exists, and that the audit chain verifies and holds an event
// for every acknowledged write. CRASH_CYCLES sets the number of cycles
// (default 50), CRASH_SEED replays a run.
func TestCrashSafety(t *testing.T) {
	cycles := crashEnvInt(t, "CRASH_CYCLES", 50)
	seed := int64(crashEnvInt(t, "CRASH_SEED", int(time.Now().UnixNano())))
	t.Logf("crash harness: seed=%d (replay with CRASH_SEED=%d)", seed, seed)
	fmt.Printf("crash harness: seed=%d (replay with CRASH_SEED=%d)\n", seed, seed)
	h := &crashHarness{t: t, dir: t.TempDir(), rng: rand.New(rand.NewSource(seed))}
	for cycle := range cycles {
		h.cycle(cycle)
		if t.Failed() {
			break
		}
	}
	verified := h.final()
	acked := len(h.ledger.acknowledged(h.ledger.writes))
	line := fmt.Sprintf("crash harness: cycles=%d acknowledged=%d verified=%d lost=%d half=%d seed=%d",
		h.cycles, acked, verified, h.lost, h.half, seed)
	t.Log(line)
	fmt.Println(line)
	t.Log(h.ledger.summary())
	if h.lost > 0 || h.half > 0 || verified != acked {
		t.Errorf("%d acknowledged writes lost, %d writes half-exist, %d of %d acknowledged writes verified (seed %d)",
			h.lost, h.half, verified, acked, seed)
	}
}

func crashEnvInt(t *testing.T, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, s, err)
	}
	return n
}

// crashHarness runs the cycles on one data directory.
type crashHarness struct {
	t          *testing.T
	dir        string
	rng        *rand.Rand // drives the kill delays and seeds the workers
	ledger     crashLedger
	cycles     int
	lost, half int
	auditSeq   int64 // the last audit event checked
}

func (h *crashHarness) args() []string {
	// No account rate limit: the harness checks durability, and its
	// verifiers read faster than the default limit lets them.
	return []string{"server", "--dev", "--listen", "127.0.0.1:0", "--data", h.dir, "--rate-limit-account", "0"}
}

func (h *crashHarness) start() (*daemon, *crashConn) {
	h.t.Helper()
	d := startCoffer(h.t, rootEnv(envKeyID, envSecret, envAccount), h.args()...)
	return d, dialCrash(h.t, d.URL)
}

// cycle writes under load, kills the server, restarts it, checks this
// cycle's writes, stops it and checks the audit log.
func (h *crashHarness) cycle(n int) {
	h.t.Helper()
	d, conn := h.start()
	from := len(h.ledger.writes)
	h.seedShared(conn, n)
	h.load(d, conn, n)
	conn.close()

	d, conn = h.start()
	ws := h.ledger.writes[from:]
	h.check(conn, ws)
	conn.close()
	d.stop()
	h.auditSeq = h.checkAudit(ws, h.auditSeq)
	h.cycles++
}

// seedShared creates this cycle's shared secrets before the load.
func (h *crashHarness) seedShared(c *crashConn, cycle int) {
	h.t.Helper()
	h.ledger.slots = h.ledger.slots[:0]
	for i := range crashShared {
		w := h.ledger.attempt(&crashWrite{
			cycle: cycle, action: "CreateSecret", name: fmt.Sprintf("shared-c%d-%d", cycle, i), shared: true,
			version: "init", value: fmt.Sprintf("shared value c%d-%d", cycle, i),
		})
		id, err := c.write(w)
		h.ledger.settle(w, id, err)
		if err != nil {
			h.t.Fatalf("create shared secret %s: %v", w.name, err)
		}
		h.ledger.slots = append(h.ledger.slots, &sharedSlot{name: w.name})
	}
}

// load runs the writers and kills the server after a random delay. It
// returns when the process is reaped and every writer has stopped.
func (h *crashHarness) load(d *daemon, c *crashConn, cycle int) {
	h.t.Helper()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range crashWorkers {
		rng := rand.New(rand.NewSource(h.rng.Int63()))
		wg.Go(func() { h.work(c, cycle, w, rng, stop) })
	}
	delay := crashMinDelay + time.Duration(h.rng.Int63n(int64(crashMaxDelay-crashMinDelay)+1))
	time.Sleep(delay) // the random kill moment is the point of the test
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		h.t.Fatalf("SIGKILL: %v", err)
	}
	<-d.exited
	close(stop)
	wg.Wait()
}

// work writes until stop is closed or the server is gone.
func (h *crashHarness) work(c *crashConn, cycle, worker int, rng *rand.Rand, stop <-chan struct{}) {
	for n := 0; ; n++ {
		select {
		case <-stop:
			return
		default:
		}
		w := h.ledger.next(cycle, worker, n, rng)
		id, err := c.write(w)
		h.ledger.settle(w, id, err)
		if err != nil && !crashRefused(err) {
			return // the server is gone; what it did is for the check to find
		}
	}
}

// check verifies ws through the restarted server and counts what is wrong.
func (h *crashHarness) check(c *crashConn, ws []*crashWrite) int {
	h.t.Helper()
	var mu sync.Mutex
	var ok int
	var found []string
	crashEach(ws, func(w *crashWrite) {
		p := c.checkWrite(w)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case p == "" && w.acked:
			ok++
		case p == "":
		case w.acked:
			w.bad = true
			found = append(found, "lost: "+p)
		default:
			w.bad = true
			found = append(found, "half: "+p)
		}
	})
	found = append(found, c.checkShared(ws)...)
	h.report(found)
	return ok
}

func (h *crashHarness) report(found []string) {
	h.t.Helper()
	for i, f := range found {
		if i == crashShown {
			h.t.Errorf("... and %d more", len(found)-i)
			break
		}
		h.t.Error(f)
	}
}

// final restarts the server once more and checks every write of every
// cycle, so a later cycle cannot have lost an earlier one's writes; it
// returns how many acknowledged writes it verified.
func (h *crashHarness) final() int {
	h.t.Helper()
	d, conn := h.start()
	ok := h.check(conn, h.ledger.writes)
	conn.close()
	d.stop()
	h.checkAudit(nil, h.auditSeq)
	for _, w := range h.ledger.writes {
		switch {
		case w.bad && w.acked:
			h.lost++
		case w.bad:
			h.half++
		}
	}
	return ok
}

// checkAudit verifies the stopped server's audit chain and requires one
// successful event for each acknowledged write in ws, among the events
// after seq. It returns the chain's last event.
func (h *crashHarness) checkAudit(ws []*crashWrite, seq int64) int64 {
	h.t.Helper()
	ctx := context.Background()
	st, err := openData(ctx, h.dir)
	if err != nil {
		h.t.Fatalf("open the data after the cycle: %v", err)
	}
	defer st.Close()
	pub, err := storedPublicKey(ctx, st)
	if err != nil {
		h.t.Fatalf("audit public key: %v", err)
	}
	rep, err := audit.Verify(ctx, audit.StoreSource(st), pub)
	if err != nil || rep.Problem != nil {
		h.t.Errorf("audit chain after cycle %d: got %v, %v; want it intact", h.cycles, rep.Problem, err)
	}
	var evs []*store.Event
	err = st.View(ctx, func(tx store.Tx) error {
		evs, err = tx.Events(ctx, store.EventQuery{AfterSeq: seq})
		return err
	})
	if err != nil {
		h.t.Fatalf("read audit events: %v", err)
	}
	h.report(crashUnaudited(h.ledger.acknowledged(ws), evs))
	return rep.LastSeq
}

// crashUnaudited describes each write without exactly one successful event of
// its request.
func crashUnaudited(ws []*crashWrite, evs []*store.Event) []string {
	byID := map[string][]*store.Event{}
	for _, e := range evs {
		byID[e.RequestID] = append(byID[e.RequestID], e)
	}
	var found []string
	for _, w := range ws {
		got := byID[w.reqID]
		if len(got) == 1 && got[0].Action == w.action && got[0].ErrorCode == "" && got[0].Resource == w.name &&
			(got[0].VersionID == "" || got[0].VersionID == w.version) {
			continue
		}
		found = append(found, fmt.Sprintf("unaudited: %s: request %s has events %s, want one successful %s",
			w, w.reqID, crashEvents(got), w.action))
	}
	return found
}

func crashEvents(evs []*store.Event) string {
	var s []string
	for _, e := range evs {
		s = append(s, fmt.Sprintf("{seq %d %s %s/%s code %q}", e.Seq, e.Action, e.Resource, e.VersionID, e.ErrorCode))
	}
	return "[" + strings.Join(s, " ") + "]"
}

// crashEach calls fn for every write, crashCheckers at a time.
func crashEach(ws []*crashWrite, fn func(*crashWrite)) {
	ch := make(chan *crashWrite)
	var wg sync.WaitGroup
	for range crashCheckers {
		wg.Go(func() {
			for w := range ch {
				fn(w)
			}
		})
	}
	for _, w := range ws {
		ch <- w
	}
	close(ch)
	wg.Wait()
}

// crashWrite is one write the load attempted.
type crashWrite struct {
	cycle                int
	action               string // CreateSecret or PutSecretValue
	name, version, value string
	acked                bool   // the server answered with success
	code                 string // the error code the server refused it with
	reqID                string // the request id of the server's answer
	shared               bool   // creates a secret the load puts versions to
	bad                  bool   // a check found it lost or half-existing
	present              bool   // the last check found it in full
}

func (w *crashWrite) String() string {
	state := "unanswered"
	switch {
	case w.acked:
		state = "acknowledged"
	case w.code != "":
		state = "refused with " + w.code
	}
	return fmt.Sprintf("%s %s/%s (cycle %d, %s)", w.action, w.name, w.version, w.cycle, state)
}

func (w *crashWrite) params() map[string]any {
	return map[string]any{"SecretName": w.name, "VersionId": w.version, "SecretString": w.value}
}

// crashLedger records every write: attempted before it is sent, settled
// with the answer.
type crashLedger struct {
	mu     sync.Mutex
	writes []*crashWrite
	slots  []*sharedSlot // this cycle's shared secrets
}

// sharedSlot is a shared secret and how many versions were put to it.
type sharedSlot struct {
	name string
	puts int
}

func (l *crashLedger) attempt(w *crashWrite) *crashWrite {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes = append(l.writes, w)
	return w
}

// next records a worker's next write: a version of a shared secret with
// room for one, one time in three, else a new secret.
func (l *crashLedger) next(cycle, worker, n int, rng *rand.Rand) *crashWrite {
	tag := fmt.Sprintf("c%d-w%d-n%d", cycle, worker, n)
	w := &crashWrite{cycle: cycle, action: "CreateSecret", name: "crash-" + tag, version: "v-" + tag,
		value: fmt.Sprintf("value %s %016x", tag, rng.Uint64())}
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := l.slots[rng.Intn(len(l.slots))]; rng.Intn(3) == 0 && s.puts < crashPuts {
		s.puts++
		w.action, w.name = "PutSecretValue", s.name
	}
	l.writes = append(l.writes, w)
	return w
}

func (l *crashLedger) settle(w *crashWrite, reqID string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case err == nil:
		w.acked, w.reqID = true, reqID
	case crashRefused(err):
		w.code, w.reqID = crashErrCode(err), reqID
	}
}

// summary counts the writes by their answer and, for the unanswered ones,
// by what the last check found: the kills must land with writes in flight.
func (l *crashLedger) summary() string {
	var refusedN, unanswered, present int
	for _, w := range l.writes {
		switch {
		case w.code != "":
			refusedN++
		case !w.acked:
			unanswered++
			if w.present {
				present++
			}
		}
	}
	return fmt.Sprintf("crash harness: attempted=%d refused=%d unanswered=%d (of which committed=%d, absent=%d)",
		len(l.writes), refusedN, unanswered, present, unanswered-present)
}

func (l *crashLedger) acknowledged(ws []*crashWrite) []*crashWrite {
	var out []*crashWrite
	for _, w := range ws {
		if w.acked {
			out = append(out, w)
		}
	}
	return out
}

// crashConn is an SDK client of one server run with its own transport, so
// its connections die with the run.
type crashConn struct {
	sc *common.Client
	tr *http.Transport
}

func dialCrash(t *testing.T, url string) *crashConn {
	tr := &http.Transport{MaxIdleConnsPerHost: crashWorkers + crashCheckers}
	return &crashConn{sc: newClient(t, url, envKeyID, envSecret, tr).sc, tr: tr}
}

func (c *crashConn) close() { c.tr.CloseIdleConnections() }

// call sends action and returns the response and its request id. Its error
// is a *tcerr.TencentCloudSDKError: a refusal, or a ClientError when no
// answer came.
func (c *crashConn) call(action string, params map[string]any) (map[string]any, string, error) {
	req := tchttp.NewCommonRequest("ssm", "2019-09-23", action)
	if err := req.SetActionParameters(params); err != nil {
		return nil, "", err
	}
	resp := tchttp.NewCommonResponse()
	if err := c.sc.Send(req, resp); err != nil {
		var e *tcerr.TencentCloudSDKError
		if errors.As(err, &e) {
			return nil, e.RequestId, err
		}
		return nil, "", err
	}
	var out struct{ Response map[string]any }
	if err := json.Unmarshal(resp.GetBody(), &out); err != nil {
		return nil, "", fmt.Errorf("%s: decode: %w", action, err)
	}
	id, _ := out.Response["RequestId"].(string)
	return out.Response, id, nil
}

func (c *crashConn) write(w *crashWrite) (string, error) {
	_, id, err := c.call(w.action, w.params())
	return id, err
}

// crashErrCode is the code of an SDK error, "" for any other error.
func crashErrCode(err error) string {
	var e *tcerr.TencentCloudSDKError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// crashRefused reports whether err is the server's answer, not a failure to
// get one.
func crashRefused(err error) bool {
	code := crashErrCode(err)
	return code != "" && !strings.HasPrefix(code, "ClientError")
}

func crashNotFound(err error) bool { return strings.HasPrefix(crashErrCode(err), "ResourceNotFound") }

// versions lists a secret's version ids.
func (c *crashConn) versions(name string) ([]string, error) {
	out, _, err := c.call("ListSecretVersionIds", map[string]any{"SecretName": name})
	if err != nil {
		return nil, err
	}
	var ids []string
	list, _ := out["Versions"].([]any)
	for _, v := range list {
		m, _ := v.(map[string]any)
		id, _ := m["VersionId"].(string)
		ids = append(ids, id)
	}
	return ids, nil
}

// checkWrite returns what is wrong with w after the restart: an
// acknowledged write must be present with its value, listed once; a refused
// one absent; an unanswered one either, but not in between (a secret
// without its version, a version listed but not readable). It returns ""
// when nothing is wrong.
func (c *crashConn) checkWrite(w *crashWrite) string {
	got, _, gerr := c.call("GetSecretValue", map[string]any{"SecretName": w.name, "VersionId": w.version})
	vs, lerr := c.versions(w.name)
	listed := crashOccurrences(vs, w.version)
	present := gerr == nil && got["SecretString"] == w.value && listed == 1 &&
		(w.action != "CreateSecret" || w.shared || len(vs) == 1)
	w.present = present
	absent := crashNotFound(gerr) && listed == 0 && (crashNotFound(lerr) || w.action == "PutSecretValue" && lerr == nil)
	switch {
	case present && w.code == "", absent && !w.acked:
		return ""
	}
	return fmt.Sprintf("%s: GetSecretValue got %s (%v), ListSecretVersionIds got %v (%v)",
		w, crashValue(got, w.value), gerr, vs, lerr)
}

func crashOccurrences(vs []string, v string) int {
	n := 0
	for _, x := range vs {
		if x == v {
			n++
		}
	}
	return n
}

func crashValue(got map[string]any, want string) string {
	switch {
	case got == nil:
		return "no value"
	case got["SecretString"] == want:
		return "the value"
	}
	return "another value"
}

// checkShared requires each shared secret in ws to list no version twice
// and none that was never attempted.
func (c *crashConn) checkShared(ws []*crashWrite) []string {
	attempted := map[string][]string{}
	for _, w := range ws {
		if strings.HasPrefix(w.name, "shared-") {
			attempted[w.name] = append(attempted[w.name], w.version)
		}
	}
	var found []string
	for name, want := range attempted {
		vs, err := c.versions(name)
		if err != nil {
			found = append(found, fmt.Sprintf("shared secret %s: %v", name, err))
		}
		for i, v := range vs {
			if slices.Contains(vs[:i], v) || !slices.Contains(want, v) {
				found = append(found, fmt.Sprintf("shared secret %s lists %v, attempted %v", name, vs, want))
				break
			}
		}
	}
	return found
}
