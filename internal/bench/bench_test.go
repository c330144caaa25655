package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// MustRun runs cfg and fails the test on an error.
func MustRun(tb testing.TB, cfg Config) *Report {
	tb.Helper()
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("Run: %v", err)
	}
	return rep
}

// TestReportsKnownDelay: a server holds every request 20 ms (and records
// how long it really held each: a busy machine oversleeps). Each latency the
// tool measures is a hold plus the loopback round trip, so each percentile
// is at least the server's (within the histogram's error) and at most the
// server's plus the round trip; on a quiet machine both are 20 ms. Eight
// connections carry at most 8/20ms = 400 requests a second, and by Little's
// law throughput × mean latency is the 8 requests always in flight.
func TestReportsKnownDelay(t *testing.T) {
	const delay, conns = 20 * time.Millisecond, 8
	f := newFake(t).start(false)
	f.delay = delay
	cfg := f.config(Tencent)
	cfg.Connections, cfg.Duration = conns, 1500*time.Millisecond
	rep := MustRun(t, cfg)
	f.noRefusals()

	l := rep.Total.Latency
	t.Logf("latency %+v ms, %.1f req/s; server held p50 %v, p99 %v", l, rep.Total.Throughput, f.held.Quantile(0.5), f.held.Quantile(0.99))
	if l.Min < ms(delay) {
		t.Errorf("min = %v ms, want at least the server's delay %v", l.Min, delay)
	}
	// The round trip: loopback plus waking the worker, generous for a
	// machine running other tests (and the race detector).
	for _, tt := range []struct {
		q     float64
		got   float64
		slack float64
	}{{0.5, l.P50, 6}, {0.99, l.P99, 30}} {
		held := ms(f.held.Quantile(tt.q))
		if lo, hi := held*(1-2*RelativeError), held*(1+2*RelativeError)+tt.slack; tt.got < lo || tt.got > hi {
			t.Errorf("p%v = %v ms, want the server's %v ms (±%.2f%%) plus at most %v ms", 100*tt.q, tt.got, held, 200*RelativeError, tt.slack)
		}
	}
	limit := conns / delay.Seconds()
	if got := rep.Total.Throughput; got > limit*1.01 || got < limit/2 {
		t.Errorf("throughput = %.1f/s, want at most %d connections / %v = %.0f/s, and near it", got, conns, delay, limit)
	}
	if inFlight := rep.Total.Throughput * l.Mean / 1000; inFlight < 0.9*conns || inFlight > 1.01*conns {
		t.Errorf("throughput × mean latency = %.2f requests in flight, want about %d", inFlight, conns)
	}
	if got, want := rep.Total.Requests, f.workload.Load(); got != want {
		t.Errorf("requests = %d, the server answered %d (no warm-up)", got, want)
	}
}

// TestCountsErrorsByCode: the server fails one request in ten with
// InternalError and another with ResourceNotFound, in its protocol's
// envelope; the report counts exactly those, by code, and none else.
func TestCountsErrorsByCode(t *testing.T) {
	for _, p := range []Protocol{Tencent, AWS} {
		t.Run(p.String(), func(t *testing.T) {
			f := newFake(t).start(false)
			f.fail = func(n int64) string {
				switch n % 10 {
				case 3:
					return "InternalError"
				case 7:
					return "ResourceNotFound"
				}
				return ""
			}
			cfg := f.config(p)
			cfg.Requests, cfg.Mix = 500, Mix{Get: 2, Describe: 1, List: 1}
			rep := MustRun(t, cfg)
			f.noRefusals()
			if rep.Total.Requests != 500 || rep.Total.Errors != 100 {
				t.Errorf("requests, errors = %d, %d; want 500, 100", rep.Total.Requests, rep.Total.Errors)
			}
			if got, want := sumCodes(rep.Operations), f.injected; !maps.Equal(got, want) {
				t.Errorf("errors by code = %v, the server sent %v", got, want)
			}
			if got, want := rep.ErrorRate, 0.2; got != want {
				t.Errorf("error rate = %v, want %v", got, want)
			}
			if rep.Total.Latency.Min == 0 || rep.Total.Throughput == 0 {
				t.Errorf("successes not measured: %+v", rep.Total)
			}
		})
	}
}

func sumCodes(ops []OpReport) map[string]int64 {
	m := map[string]int64{}
	var n int64
	for _, o := range ops {
		for c, k := range o.ErrorCodes {
			m[c] += k
		}
		n += o.Errors
	}
	return m
}

func TestTimeoutsAndUnreachable(t *testing.T) {
	f := newFake(t).start(false)
	f.delay = 300 * time.Millisecond
	cfg := f.config(Tencent)
	cfg.Requests, cfg.Timeout, cfg.Connections = 4, 50*time.Millisecond, 2
	cfg.Setup, cfg.Mix = 0, Mix{List: 1}
	rep := MustRun(t, cfg)
	if got := rep.Total.ErrorCodes[codeTimeout]; got != 4 {
		t.Errorf("%s errors = %d (%v), want 4", codeTimeout, got, rep.Total.ErrorCodes)
	}

	f.srv.Close()
	cfg.Setup, cfg.Mix = 2, Mix{Get: 1}
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), codeConnection) {
		t.Errorf("Run against a closed server: err = %v, want a set-up error with %s", err, codeConnection)
	}
}

func TestCountMode(t *testing.T) {
	f := newFake(t).start(false)
	cfg := f.config(Tencent)
	cfg.Requests, cfg.Connections = 137, 8
	rep := MustRun(t, cfg)
	if got := rep.Total.Requests; got != 137 {
		t.Errorf("requests = %d, want 137", got)
	}
	if got := f.workload.Load(); got != 137 {
		t.Errorf("the server answered %d, want 137", got)
	}

	f.workload.Store(0)
	cfg.Warmup = 200 * time.Millisecond
	rep = MustRun(t, cfg)
	if got := rep.Total.Requests; got != 137 {
		t.Errorf("with a warm-up: requests = %d, want 137", got)
	}
	if got := f.workload.Load(); got <= 137 {
		t.Errorf("with a warm-up the server answered %d, want more than the 137 measured", got)
	}
}

func TestDurationMode(t *testing.T) {
	const delay, conns = 10 * time.Millisecond, 4
	f := newFake(t).start(false)
	f.delay = delay
	cfg := f.config(Tencent)
	cfg.Duration, cfg.Warmup, cfg.Connections = 600*time.Millisecond, 300*time.Millisecond, conns
	start := time.Now()
	rep := MustRun(t, cfg)
	wall := time.Since(start)
	if most := 0.6 + rep.Total.Latency.Max/1000 + 0.005; rep.Elapsed < 0.6 || rep.Elapsed > most {
		t.Errorf("measured %.3fs, want the 0.6s asked for plus at most the slowest request (%.3fs)", rep.Elapsed, most)
	}
	if wall < 900*time.Millisecond {
		t.Errorf("the run took %v, less than warm-up + duration", wall)
	}
	if most := int64(conns * 0.61 / delay.Seconds()); rep.Total.Requests > most || rep.Total.Requests < most/2 {
		t.Errorf("requests = %d, want about %d", rep.Total.Requests, most)
	}
	if got := f.workload.Load(); got < rep.Total.Requests+conns {
		t.Errorf("the server answered %d, want the %d measured plus the warm-up's", got, rep.Total.Requests)
	}
}

func TestRateCap(t *testing.T) {
	f := newFake(t).start(false)
	cfg := f.config(Tencent)
	cfg.Duration, cfg.Rate = time.Second, 200
	rep := MustRun(t, cfg)
	if got := rep.Total.Throughput; got < 180 || got > 205 {
		t.Errorf("throughput = %.1f/s, want the 200/s cap", got)
	}
}

// TestProtocolsVerify sends every request the tool makes, set-up and
// clean-up included, over HTTP and HTTPS, to a server that checks each
// signature with Coffer's own verifiers.
func TestProtocolsVerify(t *testing.T) {
	for _, p := range []Protocol{Tencent, AWS} {
		for _, tlsOn := range []bool{false, true} {
			t.Run(p.String()+map[bool]string{false: "/http", true: "/https"}[tlsOn], func(t *testing.T) {
				f := newFake(t).start(tlsOn)
				cfg := f.config(p)
				cfg.Mix = Mix{Get: 1, Put: 1, List: 1, Describe: 1}
				cfg.Setup, cfg.Requests, cfg.Cleanup = 10, 200, true
				rep := MustRun(t, cfg)
				f.noRefusals()
				if rep.Total.Errors != 0 || rep.Total.Requests != 200 {
					t.Errorf("requests, errors = %d, %d; want 200, 0", rep.Total.Requests, rep.Total.Errors)
				}
				for _, a := range []string{"CreateSecret", "GetSecretValue", "PutSecretValue", "ListSecrets", "DescribeSecret", "DeleteSecret"} {
					if f.count(a) == 0 {
						t.Errorf("no %s request", a)
					}
				}
				if len(f.secrets) != 0 || rep.Cleanup == nil || rep.Cleanup.Secrets != 10 {
					t.Errorf("after clean-up %d secrets remain, report %+v", len(f.secrets), rep.Cleanup)
				}
				if len(f.conns) > cfg.Connections {
					t.Errorf("%d connections, want at most %d", len(f.conns), cfg.Connections)
				}
			})
		}
	}
}

// TestTencentPutsStayUnderVersionLimit: a put-only run many times longer
// than 10 versions per secret allows gets no error, deletes the oldest
// versions as housekeeping, and leaves each secret as it found it.
func TestTencentPutsStayUnderVersionLimit(t *testing.T) {
	f := newFake(t).start(false)
	cfg := f.config(Tencent)
	cfg.Mix, cfg.Setup, cfg.Requests = Mix{Put: 1}, 4, 300
	rep := MustRun(t, cfg)
	f.noRefusals()
	if rep.Total.Errors != 0 || rep.Housekeeping == nil || rep.Housekeeping.Errors != 0 {
		t.Fatalf("total %+v, housekeeping %+v; want no errors", rep.Total, rep.Housekeeping)
	}
	if got, want := rep.Housekeeping.Requests, int64(300-4*keepVersions); got != want {
		t.Errorf("housekeeping deletes = %d, want %d", got, want)
	}
	for name, s := range f.secrets {
		if len(s.versions) != 1 {
			t.Errorf("%s left with versions %v, want only its first", name, s.versions)
		}
	}

	// A run interrupted before its teardown leaves versions: the next one
	// reuses the secrets and deletes them first.
	for _, s := range f.secrets {
		s.versions = append(s.versions, "bput-old-1", "bput-old-2", "bput-old-3", "bput-old-4", "bput-old-5", "bput-old-6", "bput-old-7", "bput-old-8", "bput-old-9")
	}
	rep = MustRun(t, cfg)
	f.noRefusals()
	if rep.Setup.Reused != 4 || rep.Setup.Pruned != 36 || rep.Total.Errors != 0 {
		t.Errorf("second run: setup %+v, errors %d; want 4 reused, 36 pruned, no errors", rep.Setup, rep.Total.Errors)
	}
}

func TestProgressLine(t *testing.T) {
	f := newFake(t).start(false)
	f.delay = time.Millisecond
	var out bytes.Buffer
	cfg := f.config(Tencent)
	cfg.Duration, cfg.Warmup = 500*time.Millisecond, 250*time.Millisecond
	cfg.Progress, cfg.ProgressInterval = &out, 100*time.Millisecond
	MustRun(t, cfg)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 4 || !strings.Contains(lines[0], "warm-up") || !strings.Contains(lines[len(lines)-1], "req/s") || !strings.Contains(lines[len(lines)-1], "p99") {
		t.Errorf("progress lines:\n%s\nwant one every 100ms, the first in the warm-up", out.String())
	}
}

func TestReportOutput(t *testing.T) {
	f := newFake(t).start(false)
	f.fail = func(n int64) string {
		if n%4 == 0 {
			return "RequestLimitExceeded"
		}
		return ""
	}
	cfg := f.config(Tencent)
	cfg.Mix, cfg.Requests = Mix{Get: 90, Put: 5, List: 3, Describe: 2}, 400
	rep := MustRun(t, cfg)

	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatalf("JSON report does not decode: %v\n%s", err, js.String())
	}
	if back.Total.Requests != 400 || len(back.Operations) != 4 || back.Mix != "get=90,put=5,list=3,describe=2" {
		t.Errorf("decoded report: total %+v, %d operations, mix %q", back.Total, len(back.Operations), back.Mix)
	}

	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"GetSecretValue", "PutSecretValue", "ListSecrets", "DescribeSecret", "total", "p99 ms", "RequestLimitExceeded"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	checkAligned(t, text.String())
}

// checkAligned fails unless the table rows (from the header row to the
// total row) all have the same length.
func checkAligned(t *testing.T, text string) {
	t.Helper()
	var width int
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "operation") {
			width = len(l)
		} else if width > 0 && len(l) != width {
			t.Errorf("row %q is %d wide, the header %d:\n%s", l, len(l), width, text)
		}
		if strings.HasPrefix(l, "total") {
			return
		}
	}
}

func TestConfigRefused(t *testing.T) {
	ok := Config{Endpoint: "http://127.0.0.1:1", SecretID: "id", SecretKey: "k", Mix: Mix{Get: 1}, Connections: 1, Duration: time.Second, Setup: 1}
	tests := []struct {
		name   string
		change func(*Config)
	}{
		{"no connections", func(c *Config) { c.Connections = 0 }},
		{"duration and count", func(c *Config) { c.Requests = 5 }},
		{"neither", func(c *Config) { c.Duration = 0 }},
		{"empty mix", func(c *Config) { c.Mix = Mix{} }},
		{"get without secrets", func(c *Config) { c.Setup = 0 }},
		{"bad run name", func(c *Config) { c.Run = "a/b" }},
		{"no key", func(c *Config) { c.SecretKey = "" }},
		{"bad endpoint", func(c *Config) { c.Endpoint = "127.0.0.1:8443" }},
		{"negative rate", func(c *Config) { c.Rate = -1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.change(&c)
			if _, err := Run(context.Background(), c); err == nil {
				t.Errorf("Run accepted %+v", c)
			}
		})
	}
}

func TestParseMix(t *testing.T) {
	tests := []struct {
		in   string
		want Mix
	}{
		{"get=90,put=5,list=3,describe=2", Mix{90, 5, 3, 2}},
		{"get=1", Mix{Get: 1}},
		{" PUT = 3 , GetSecretValue=1", Mix{Get: 1, Put: 3}},
		{"list=0,describe=7", Mix{Describe: 7}},
	}
	for _, tt := range tests {
		got, err := ParseMix(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseMix(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if again, err := ParseMix(got.String()); err != nil || again != got {
			t.Errorf("ParseMix(%q) = %v, %v; want %v back", got.String(), again, err, got)
		}
	}
	for _, bad := range []string{"", "get", "get=x", "get=-1", "delete=1", "get=0", "get=1,,put=1"} {
		if m, err := ParseMix(bad); err == nil {
			t.Errorf("ParseMix(%q) = %v, want an error", bad, m)
		}
	}
}

func TestMixPickFollowsWeights(t *testing.T) {
	m := Mix{90, 5, 3, 2}
	var n [nOps]int
	for i := range m.total() {
		n[m.pick(i)]++
	}
	if n != [nOps]int(m) {
		t.Errorf("picks over one cycle = %v, want %v", n, m)
	}
}

func TestSecretKeyRedacted(t *testing.T) {
	cfg := Config{SecretKey: "hunter2hunter2"}
	for _, s := range []string{cfg.SecretKey.String(), cfg.SecretKey.GoString(), sprint("%v %s %q %#v %+v", cfg.SecretKey, cfg.SecretKey, cfg.SecretKey, cfg, cfg)} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("secret key printed: %s", s)
		}
	}
}

// BenchmarkClient runs the tool against a server that answers at once
// without checking signatures: what it reports is the client's own
// ceiling on this machine (with a trivial server sharing the CPUs).
func BenchmarkClient(b *testing.B) {
	answer := []byte(`{"Response":{"SecretName":"bench-default-0","SecretString":"x","RequestId":"r"}}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	}))
	defer srv.Close()
	cfg := Config{Endpoint: srv.URL, SecretID: testID, SecretKey: testSecret, Region: testRegion,
		Mix: Mix{List: 1}, Connections: 32, Requests: int64(b.N)}
	b.ReportAllocs()
	b.ResetTimer()
	rep := MustRun(b, cfg)
	b.ReportMetric(rep.Total.Throughput, "req/s")
}
