package metrics_test

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/coffer-secrets/coffer/internal/metrics"
)

// MustGather returns m's metric families by name.
func MustGather(tb testing.TB, m *metrics.Metrics) map[string]*dto.MetricFamily {
	tb.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		tb.Fatalf("gather: %v", err)
	}
	out := make(map[string]*dto.MetricFamily, len(fams))
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

// find returns the metric of family name whose labels are exactly labels.
func find(tb testing.TB, fams map[string]*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	tb.Helper()
	f, ok := fams[name]
	if !ok {
		tb.Fatalf("no metric family %s", name)
	}
next:
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		for _, l := range m.GetLabel() {
			if labels[l.GetName()] != l.GetValue() {
				continue next
			}
		}
		return m
	}
	tb.Fatalf("%s has no series %v", name, labels)
	return nil
}

func TestNilRecordsNothing(t *testing.T) {
	var m *metrics.Metrics
	m.Request("ssm", "GetSecretValue", metrics.OK, time.Millisecond)
	m.AuditCommit(3, time.Millisecond, nil)
	m.AuditQueue(func() int { return 1 })
	if m.Cache(metrics.CacheCredentials) != nil {
		t.Errorf("nil Metrics gave a cache hook")
	}
	p := fakeProvider{}
	if got := m.Root(p); got != p {
		t.Errorf("nil Metrics wrapped the provider")
	}
	if m.Registry() != nil {
		t.Errorf("nil Metrics has a registry")
	}
}

func TestRequest(t *testing.T) {
	m := metrics.New()
	m.Request("ssm", "GetSecretValue", metrics.OK, 2*time.Millisecond)
	m.Request("ssm", "GetSecretValue", metrics.OK, 3*time.Millisecond)
	m.Request("ssm", "GetSecretValue", "ResourceNotFound", time.Millisecond)
	fams := MustGather(t, m)
	for _, tc := range []struct {
		code string
		want float64
	}{{metrics.OK, 2}, {"ResourceNotFound", 1}} {
		c := find(t, fams, "coffer_requests_total", map[string]string{"family": "ssm", "action": "GetSecretValue", "code": tc.code})
		if got := c.GetCounter().GetValue(); got != tc.want {
			t.Errorf("requests{code=%s} = %v, want %v", tc.code, got, tc.want)
		}
	}
	h := find(t, fams, "coffer_request_duration_seconds", map[string]string{"family": "ssm", "action": "GetSecretValue"}).GetHistogram()
	if got, want := h.GetSampleCount(), uint64(3); got != want {
		t.Errorf("duration count = %d, want %d", got, want)
	}
	if got, want := h.GetSampleSum(), 0.006; got < want-1e-9 || got > want+1e-9 {
		t.Errorf("duration sum = %v, want %v", got, want)
	}
	if got, want := h.GetBucket()[0].GetUpperBound(), 0.0005; got != want {
		t.Errorf("first bucket = %v, want %v", got, want)
	}
}

func TestAudit(t *testing.T) {
	m := metrics.New()
	depth := 7
	m.AuditQueue(func() int { return depth })
	m.AuditCommit(4, 10*time.Millisecond, nil)
	m.AuditCommit(1, time.Millisecond, errors.New("disk full"))
	fams := MustGather(t, m)
	if got, want := find(t, fams, "coffer_audit_queue_depth", nil).GetGauge().GetValue(), 7.0; got != want {
		t.Errorf("queue depth = %v, want %v", got, want)
	}
	if got, want := find(t, fams, "coffer_audit_commit_failures_total", nil).GetCounter().GetValue(), 1.0; got != want {
		t.Errorf("commit failures = %v, want %v", got, want)
	}
	b := find(t, fams, "coffer_audit_batch_events", nil).GetHistogram()
	if b.GetSampleCount() != 2 || b.GetSampleSum() != 5 {
		t.Errorf("batch events count %d sum %v, want 2 and 5", b.GetSampleCount(), b.GetSampleSum())
	}
	if got := find(t, fams, "coffer_audit_commit_seconds", nil).GetHistogram().GetSampleCount(); got != 2 {
		t.Errorf("commit count = %d, want 2", got)
	}
}

func TestStoreWrites(t *testing.T) {
	m := metrics.New()
	if _, ok := MustGather(t, m)["coffer_store_write_commits_total"]; ok {
		t.Fatal("store write series before StoreWrites: a PostgreSQL server would show zeros")
	}
	commits, calls, queued := int64(3), int64(40), 5
	m.StoreWrites(func() (int64, int64) { return commits, calls }, func() int { return queued })
	commits, calls = 4, 41 // sampled at the scrape, not at registration
	fams := MustGather(t, m)
	for name, want := range map[string]float64{
		"coffer_store_write_commits_total": 4, "coffer_store_write_calls_total": 41,
	} {
		if got := find(t, fams, name, nil).GetCounter().GetValue(); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if got := find(t, fams, "coffer_store_write_queue_depth", nil).GetGauge().GetValue(); got != 5 {
		t.Errorf("queue depth = %v, want 5", got)
	}
}

func TestCache(t *testing.T) {
	m := metrics.New()
	hook := m.Cache(metrics.CacheKeyMaterial)
	hook(false)
	hook(true)
	hook(true)
	fams := MustGather(t, m)
	for result, want := range map[string]float64{"hit": 2, "miss": 1} {
		c := find(t, fams, "coffer_cache_requests_total", map[string]string{"cache": metrics.CacheKeyMaterial, "result": result})
		if got := c.GetCounter().GetValue(); got != want {
			t.Errorf("cache %s = %v, want %v", result, got, want)
		}
	}
}

type fakeProvider struct{ fail bool }

func (f fakeProvider) Wrap(_ context.Context, p, _ []byte) ([]byte, error) { return p, nil }
func (f fakeProvider) Unwrap(_ context.Context, c, _ []byte) ([]byte, error) {
	if f.fail {
		return nil, errors.New("no key holder")
	}
	return c, nil
}
func (f fakeProvider) Describe() string { return "fake" }

func TestRoot(t *testing.T) {
	m := metrics.New()
	p := m.Root(fakeProvider{fail: true})
	if _, err := p.Wrap(t.Context(), []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Unwrap(t.Context(), []byte("x"), nil); err == nil {
		t.Fatal("Unwrap hid the provider's error")
	}
	if got, want := p.Describe(), "fake"; got != want {
		t.Errorf("Describe = %q, want %q", got, want)
	}
	fams := MustGather(t, m)
	for op, want := range map[string]float64{"wrap": 0, "unwrap": 1} {
		l := map[string]string{"op": op}
		if got := find(t, fams, "coffer_keyprovider_errors_total", l).GetCounter().GetValue(); got != want {
			t.Errorf("errors{op=%s} = %v, want %v", op, got, want)
		}
		if got := find(t, fams, "coffer_keyprovider_seconds", l).GetHistogram().GetSampleCount(); got != 1 {
			t.Errorf("seconds{op=%s} count = %d, want 1", op, got)
		}
	}
}

func TestHandlerServesOwnRegistry(t *testing.T) {
	m := metrics.New()
	m.Request("secretsmanager", "CreateSecret", metrics.OK, time.Millisecond)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`coffer_requests_total{action="CreateSecret",code="ok",family="secretsmanager"} 1`,
		"go_goroutines ", "process_", "coffer_audit_queue_depth 0",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	// Two servers in one process (the tests) must not share or clash.
	other := metrics.New()
	if got := MustGather(t, other); got["coffer_requests_total"] != nil {
		t.Errorf("a new Metrics sees another's requests")
	}
}

func TestAuditUnindexed(t *testing.T) {
	m := metrics.New()
	n, err := 3, error(nil)
	m.AuditUnindexed(func() (int, error) { return n, err })
	n = 9 // sampled at the scrape
	if got := find(t, MustGather(t, m), "coffer_audit_unindexed_events", nil).GetGauge().GetValue(); got != 9 {
		t.Errorf("unindexed = %v, want 9", got)
	}
	err = errors.New("database closed")
	if got := find(t, MustGather(t, m), "coffer_audit_unindexed_events", nil).GetGauge().GetValue(); !math.IsNaN(got) {
		t.Errorf("unindexed after a failed sample = %v, want NaN", got)
	}
}
