package server_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/coffer-secrets/coffer/internal/iam"
	"github.com/coffer-secrets/coffer/internal/server"
)

// Distinctive names and values the scrape must never hold.
const (
	metName1  = "met-name-orchid-41"
	metName2  = "met-name-walnut-77"
	metValue1 = "met-plaintext-cobalt-3e1"
	metValue2 = "met-plaintext-saffron-9b4"
)

// TestMetricsCountKnownCalls drives a known set of calls and checks the
// request counters exactly, and that the other metrics are there and sane.
func TestMetricsCountKnownCalls(t *testing.T) {
	s := startServer(t, "")
	mustCode := func(got, want string) {
		t.Helper()
		if got != want {
			t.Fatalf("error code %q, want %q", got, want)
		}
	}
	for _, sec := range []struct{ name, value string }{{metName1, metValue1}, {metName2, metValue2}} {
		_, code := s.tencentCall(t, "ssm", "CreateSecret", map[string]any{"SecretName": sec.name, "VersionId": "v1", "SecretString": sec.value}, testSecret)
		mustCode(code, "")
	}
	for _, name := range []string{metName1, metName1, metName2} {
		_, code := s.tencentCall(t, "ssm", "GetSecretValue", map[string]any{"SecretName": name, "VersionId": "v1"}, testSecret)
		mustCode(code, "")
	}
	_, code := s.tencentCall(t, "ssm", "GetSecretValue", map[string]any{"SecretName": "met-missing", "VersionId": "v1"}, testSecret)
	mustCode(code, "ResourceNotFound")
	_, code = s.tencentCall(t, "ssm", "GetSecretValue", map[string]any{"SecretName": metName1, "VersionId": "v1"}, "wrong-key")
	mustCode(code, "AuthFailure.SignatureFailure")
	_, code = s.tencentCall(t, "ssm", "NoSuchAction", map[string]any{}, testSecret)
	mustCode(code, "InvalidAction")
	_, code = s.awsCall(t, "ListSecrets", map[string]any{})
	mustCode(code, "")

	// At rest: the embedded store's audit indexer, which the calls woke,
	// has had its last write (the checks below want no write queued).
	awaitIndexed(t, s.MetricsURL())
	body := scrape(t, s.MetricsURL())
	fams := parseMetrics(t, body)
	want := map[[3]string]float64{
		{"ssm", "CreateSecret", "ok"}:                             2,
		{"ssm", "GetSecretValue", "ok"}:                           3,
		{"ssm", "GetSecretValue", "ResourceNotFound"}:             1,
		{"ssm", "GetSecretValue", "AuthFailure.SignatureFailure"}: 1,
		{"unknown", "unknown", "InvalidAction"}:                   1,
		{"secretsmanager", "ListSecrets", "ok"}:                   1,
	}
	got := map[[3]string]float64{}
	for _, m := range fams["coffer_requests_total"].GetMetric() {
		l := labels(m)
		got[[3]string{l["family"], l["action"], l["code"]}] = m.GetCounter().GetValue()
	}
	if len(got) != len(want) {
		t.Errorf("coffer_requests_total has %d series, want %d: %v", len(got), len(want), got)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("coffer_requests_total%v = %v, want %v", k, got[k], w)
		}
	}
	checkDurationCounts(t, fams, map[[2]string]uint64{
		{"ssm", "CreateSecret"}: 2, {"ssm", "GetSecretValue"}: 5,
		{"unknown", "unknown"}: 1, {"secretsmanager", "ListSecrets"}: 1,
	})
	checkPlausible(t, fams)
	for _, secret := range []string{metName1, metName2, metValue1, metValue2, testSecret} {
		if strings.Contains(body, secret) {
			t.Errorf("the scrape holds %q", secret)
		}
	}
}

// awaitIndexed waits until the embedded store's background indexer has
// reached every audit event, as coffer_audit_unindexed_events shows.
func awaitIndexed(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := single(t, parseMetrics(t, scrape(t, url)), "coffer_audit_unindexed_events").GetGauge().GetValue()
		if got == 0 {
			return
		}
		if got < 0 || got > 100 || time.Now().After(deadline) {
			t.Fatalf("coffer_audit_unindexed_events = %v; want 0 once the indexer is done, within 10 s", got)
		}
		time.Sleep(10 * time.Millisecond) // the indexer runs every 20 ms at most; nothing to wait on from here
	}
}

func checkDurationCounts(t *testing.T, fams map[string]*dto.MetricFamily, want map[[2]string]uint64) {
	t.Helper()
	for _, m := range fams["coffer_request_duration_seconds"].GetMetric() {
		l := labels(m)
		k := [2]string{l["family"], l["action"]}
		if got := m.GetHistogram().GetSampleCount(); got != want[k] {
			t.Errorf("coffer_request_duration_seconds%v count = %d, want %d", k, got, want[k])
		}
		delete(want, k)
	}
	for k := range want {
		t.Errorf("coffer_request_duration_seconds has no series %v", k)
	}
}

// checkPlausible checks the audit, cache and key-provider metrics: 9 calls
// were signed with the right key id, 7 of them reached the gate as reads or
// failures and so were group-committed (the two creates commit with their change).
func checkPlausible(t *testing.T, fams map[string]*dto.MetricFamily) {
	t.Helper()
	batch := single(t, fams, "coffer_audit_batch_events").GetHistogram()
	if got, want := batch.GetSampleSum(), 7.0; got != want {
		t.Errorf("audit events group-committed = %v, want %v", got, want)
	}
	if n := single(t, fams, "coffer_audit_commit_seconds").GetHistogram().GetSampleCount(); n != batch.GetSampleCount() || n == 0 {
		t.Errorf("audit commits timed %d, batches %d", n, batch.GetSampleCount())
	}
	if got := single(t, fams, "coffer_audit_commit_failures_total").GetCounter().GetValue(); got != 0 {
		t.Errorf("audit commit failures = %v, want 0", got)
	}
	if got := single(t, fams, "coffer_audit_queue_depth").GetGauge().GetValue(); got != 0 {
		t.Errorf("audit queue depth at rest = %v, want 0", got)
	}
	// Every audit batch and both creates went through the embedded
	// store's writer, grouped or not.
	commits := single(t, fams, "coffer_store_write_commits_total").GetCounter().GetValue()
	calls := single(t, fams, "coffer_store_write_calls_total").GetCounter().GetValue()
	if commits == 0 || calls < commits || calls < float64(batch.GetSampleCount())+2 {
		t.Errorf("store writes: %v commits of %v calls; want at least %d calls, none empty", commits, calls, batch.GetSampleCount()+2)
	}
	if got := single(t, fams, "coffer_store_write_queue_depth").GetGauge().GetValue(); got != 0 {
		t.Errorf("store write queue at rest = %v, want 0", got)
	}
	cache := map[[2]string]float64{}
	for _, m := range fams["coffer_cache_requests_total"].GetMetric() {
		l := labels(m)
		cache[[2]string{l["cache"], l["result"]}] = m.GetCounter().GetValue()
	}
	if h, m := cache[[2]string{"credentials", "hit"}], cache[[2]string{"credentials", "miss"}]; h+m != 9 || m > 1 {
		t.Errorf("credential cache: %v hits, %v misses; want 9 look-ups, at most 1 miss", h, m)
	}
	if h := cache[[2]string{"key_material", "hit"}]; h < 5 {
		t.Errorf("key material cache hits = %v, want at least 5 (2 seals, 3 opens)", h)
	}
	for _, m := range fams["coffer_keyprovider_errors_total"].GetMetric() {
		if m.GetCounter().GetValue() != 0 {
			t.Errorf("key provider errors %v = %v", labels(m), m.GetCounter().GetValue())
		}
	}
	if len(fams["coffer_keyprovider_seconds"].GetMetric()) == 0 {
		t.Errorf("no key provider latency recorded")
	}
	if _, ok := fams["go_goroutines"]; !ok {
		t.Errorf("no Go runtime metrics")
	}
}

// TestMetricsSeparateListener serves /metrics on its own loopback listener
// and not on the API's.
func TestMetricsSeparateListener(t *testing.T) {
	srv := openServer(t, server.Config{MetricsListen: "127.0.0.1:0"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, 5*time.Second) }()
	t.Cleanup(func() { // before openServer's Close
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	if u := srv.MetricsURL(); !strings.HasPrefix(u, "http://127.0.0.1:") || strings.HasPrefix(u, srv.URL()) {
		t.Fatalf("MetricsURL = %q (API at %s)", u, srv.URL())
	}
	if body := scrape(t, srv.MetricsURL()); !strings.Contains(body, "coffer_audit_queue_depth") {
		t.Errorf("separate listener serves no Coffer metrics")
	}
	resp, err := http.Get(srv.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(b), "coffer_") {
		t.Errorf("the API listener serves metrics too")
	}
}

// TestMetricsOff: --metrics=false serves nothing.
func TestMetricsOff(t *testing.T) {
	srv := openServer(t, server.Config{MetricsOff: true})
	if u := srv.MetricsURL(); u != "" {
		t.Errorf("MetricsURL = %q, want none", u)
	}
}

// TestMetricsListenPlainOnlyOnLoopback: development mode has no
// certificate, so a separate listener must be on loopback.
func TestMetricsListenPlainOnlyOnLoopback(t *testing.T) {
	cfg := server.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Dev: true, MetricsListen: "0.0.0.0:0"}
	if srv, err := server.Open(context.Background(), cfg); err == nil {
		srv.Close()
		t.Fatal("a development server served plain-HTTP metrics off loopback")
	}
}

func openServer(t *testing.T, cfg server.Config) *server.Server {
	t.Helper()
	cfg.Listen, cfg.DataDir, cfg.Dev = "127.0.0.1:0", t.TempDir(), true
	cfg.Root = iam.RootInput{AccountID: testAccount, KeyID: testKeyID, Secret: testSecret}
	srv, err := server.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open server: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s %v", resp.Status, err)
	}
	return string(b)
}

func parseMetrics(t *testing.T, body string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse scrape: %v", err)
	}
	return fams
}

func single(t *testing.T, fams map[string]*dto.MetricFamily, name string) *dto.Metric {
	t.Helper()
	f, ok := fams[name]
	if !ok || len(f.GetMetric()) != 1 {
		t.Fatalf("metric %s: want one series, got %v", name, f)
	}
	return f.GetMetric()[0]
}

func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}
