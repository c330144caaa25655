package api_test

import (
	"context"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/iam"
	"github.com/coffer-secrets/coffer/internal/metrics"
	"github.com/coffer-secrets/coffer/internal/secrets"
)

// TestGateMetrics: Do and Fail count every call, under its own action only
// when the edge marked it Known.
func TestGateMetrics(t *testing.T) {
	m := metrics.New()
	g := &api.Gate{Regions: []string{"r1"}, Metrics: m}
	root := iam.Principal{Kind: iam.KindRoot, Account: "1"}
	ok := func(context.Context, secrets.Scope) error { return nil }
	notFound := func(context.Context, secrets.Scope) error { return fault.E("t", fault.NotFound, "gone") }
	code := func(err error) string { return "Wire." + fault.KindOf(err).String() }
	start := time.Now()

	_ = g.Do(t.Context(), &api.Call{Family: "ssm", Action: "GetSecretValue", Known: true, Region: "r1", Principal: root, Start: start}, ok)
	_ = g.Do(t.Context(), &api.Call{Family: "ssm", Action: "GetSecretValue", Known: true, Region: "r1", Principal: root, Code: code}, notFound)
	_ = g.Do(t.Context(), &api.Call{Family: "ssm", Action: "Invented", Region: "r1", Principal: root}, ok)
	g.Fail(t.Context(), &api.Call{Family: "ssm", Action: "GetSecretValue", Known: true, Code: code, Start: start}, fault.E("t", fault.Unauthenticated, "bad signature"))

	got := map[[3]string]float64{}
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "coffer_requests_total" {
			continue
		}
		for _, s := range f.GetMetric() {
			l := map[string]string{}
			for _, p := range s.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			got[[3]string{l["family"], l["action"], l["code"]}] = s.GetCounter().GetValue()
		}
	}
	want := map[[3]string]float64{
		{"ssm", "GetSecretValue", "ok"}:                                     1,
		{"ssm", "GetSecretValue", "Wire." + fault.NotFound.String()}:        1,
		{"unknown", "unknown", "ok"}:                                        1,
		{"ssm", "GetSecretValue", "Wire." + fault.Unauthenticated.String()}: 1,
	}
	if len(got) != len(want) {
		t.Errorf("got series %v, want %v", got, want)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("requests%v = %v, want %v", k, got[k], w)
		}
	}
}

// TestGateWithoutMetrics: a gate with no Metrics still runs calls.
func TestGateWithoutMetrics(t *testing.T) {
	g := &api.Gate{Regions: []string{"r1"}}
	c := &api.Call{Family: "ssm", Action: "X", Known: true, Region: "r1", Principal: iam.Principal{Account: "100000000001", ID: "100000000001", Kind: iam.KindRoot}}
	if err := g.Do(t.Context(), c, func(context.Context, secrets.Scope) error { return nil }); err != nil {
		t.Fatal(err)
	}
	g.Fail(t.Context(), c, fault.E("t", fault.Invalid, "x"))
}
