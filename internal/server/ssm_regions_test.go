package server_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/coffer-secrets/coffer/internal/server"
)

// TestSSMRegions checks that secrets are scoped by X-TC-Region.
func TestSSMRegions(t *testing.T) {
	s := startServer(t, "")
	gz, sh := newMX(t, s, testRegion), newMX(t, s, "ap-shanghai")
	gz.create("reg-gz", "gz-only", nil)
	sh.create("reg-sh", "sh-only", nil)
	gz.create("reg-both", "gz-value", nil)
	sh.create("reg-both", "sh-value", nil) // the same name is free in another region

	for _, tc := range []struct {
		m            *mx
		mine, theirs string
		both         string
	}{
		{gz, "reg-gz", "reg-sh", "gz-value"},
		{sh, "reg-sh", "reg-gz", "sh-value"},
	} {
		names, total, _ := tc.m.list(mxP{"SearchSecretName": "reg-"})
		if want := []string{tc.mine, "reg-both"}; !mxSameSet(names, want) || total != 2 {
			t.Errorf("ListSecrets: got %d %v, want %v", total, names, want)
		}
		tc.m.wantString("reg-both", "SSM_Current", tc.both)
		for _, action := range []string{"DescribeSecret", "ListSecretVersionIds", "DisableSecret", "EnableSecret"} {
			tc.m.fails("ResourceNotFound", action, mxP{"SecretName": tc.theirs})
		}
		tc.m.fails("ResourceNotFound", "GetSecretValue", mxP{"SecretName": tc.theirs, "VersionId": "SSM_Current"})
		tc.m.fails("ResourceNotFound", "PutSecretValue", mxP{"SecretName": tc.theirs, "VersionId": "v2", "SecretString": "x"})
	}

	// Deleting in one region leaves the other's secret of the same name.
	gz.must("DisableSecret", mxP{"SecretName": "reg-both"})
	gz.must("DeleteSecret", mxP{"SecretName": "reg-both"})
	gz.fails("ResourceNotFound", "DescribeSecret", mxP{"SecretName": "reg-both"})
	sh.wantString("reg-both", "SSM_Current", "sh-value")

	// A request without X-TC-Region acts in the default (first) region.
	r := gz.raw("CreateSecret", []byte(`{"SecretName":"reg-default","SecretString":"v"}`), testSecret,
		func(r *http.Request) { r.Header.Del("X-TC-Region") })
	if code := r.code(); code != "" {
		t.Fatalf("CreateSecret without a region: got code %s, want success", code)
	}
	gz.wantString("reg-default", "SSM_Current", "v")
	sh.fails("ResourceNotFound", "DescribeSecret", mxP{"SecretName": "reg-default"})
}

// TestSSMUnsupportedRegion checks a server outside dev mode (which serves
// any region) refuses a region it is not configured for, and changes nothing.
func TestSSMUnsupportedRegion(t *testing.T) {
	s := mxStartServer(t, func(c *server.Config) {
		c.Dev = false
		c.Regions = []string{testRegion}
	})
	gz, bj := newTLSMX(t, s, testRegion), newTLSMX(t, s, "ap-beijing")
	gz.create("unsup-gz", "v", nil)
	for _, tc := range []struct {
		action string
		params mxP
	}{
		{"CreateSecret", mxP{"SecretName": "unsup-bj", "SecretString": "v"}},
		{"ListSecrets", nil},
		{"DescribeSecret", mxP{"SecretName": "unsup-gz"}},
		{"GetSecretValue", mxP{"SecretName": "unsup-gz", "VersionId": "SSM_Current"}},
		{"GetServiceStatus", nil},
	} {
		bj.fails("UnsupportedRegion", tc.action, tc.params)
	}
	names, _, _ := gz.list(mxP{})
	if want := []string{"unsup-gz"}; !slices.Equal(names, want) {
		t.Errorf("ListSecrets in %s: got %v, want %v", testRegion, names, want)
	}
	out := gz.must("GetRegions", nil)
	if got, ok := out["Regions"].([]any); !ok || len(got) != 1 || got[0] != testRegion {
		t.Errorf("GetRegions: got %v, want [%s]", out["Regions"], testRegion)
	}
}
