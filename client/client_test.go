package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/client"
	"github.com/coffer-secrets/coffer/internal/api/tc3"
)

func TestSecretLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := mustClient(t, startServer(t, "", serverLimits{}).url, nil)

	ref, err := c.CreateSecret(ctx, client.CreateSecretInput{Name: "db", Value: client.Text("one"), Description: "the db",
		Tags: []client.Tag{{Key: "env", Value: "dev"}}})
	if err != nil {
		t.Fatalf("CreateSecret: %v", err)
	}
	if ref.Name != "db" || ref.VersionID != client.CurrentVersion {
		t.Errorf("CreateSecret: got %+v, want db / %s", ref, client.CurrentVersion)
	}
	v2 := mustPut(t, c, "db", "two")
	wantValue(t, c, "db", client.CurrentVersion, "one") // the literal version, as documented
	cur, err := c.GetCurrentSecretValue(ctx, "db")
	if err != nil || cur.VersionID != v2 || cur.Value.Text() != "two" {
		t.Fatalf("GetCurrentSecretValue: got %+v %q, %v; want %s two", cur, cur.Value.Text(), err, v2)
	}

	if _, err := c.UpdateSecret(ctx, client.UpdateSecretInput{Name: "db", VersionID: v2, Value: client.Text("two'")}); err != nil {
		t.Fatalf("UpdateSecret: %v", err)
	}
	wantValue(t, c, "db", v2, "two'")
	if err := c.UpdateDescription(ctx, "db", "described"); err != nil {
		t.Fatalf("UpdateDescription: %v", err)
	}
	s, err := c.DescribeSecret(ctx, "db")
	if err != nil {
		t.Fatalf("DescribeSecret: %v", err)
	}
	if s.Name != "db" || s.Description != "described" || s.Status != client.StatusEnabled || s.CreateUin != testAccount ||
		time.Since(s.CreateTime) > time.Minute || s.KmsKeyID == "" || !s.DeleteTime.IsZero() {
		t.Errorf("DescribeSecret: got %+v", s)
	}
	vs, err := c.ListSecretVersionIds(ctx, "db")
	if err != nil {
		t.Fatalf("ListSecretVersionIds: %v", err)
	}
	if ids := versionIDs(vs); !slices.Equal(ids, []string{client.CurrentVersion, v2}) {
		t.Errorf("versions: got %v, want [SSM_Current %s]", ids, v2)
	}

	wantLifecycle(t, c, v2)
}

// wantLifecycle walks db through disable, delete, restore and enable.
func wantLifecycle(t *testing.T, c *client.Client, v2 string) {
	ctx := context.Background()
	if _, err := c.DeleteSecret(ctx, "db", 7); client.CodeOf(err) != "OperationDenied" {
		t.Errorf("DeleteSecret of an Enabled secret: got %v, want OperationDenied", err)
	}
	if err := c.DisableSecret(ctx, "db"); err != nil {
		t.Fatalf("DisableSecret: %v", err)
	}
	if _, err := c.GetSecretValue(ctx, "db", v2); !client.IsDisabled(err) {
		t.Errorf("GetSecretValue of a Disabled secret: got %v, want IsDisabled", err)
	}
	when, err := c.DeleteSecret(ctx, "db", 7)
	if d := time.Until(when); err != nil || d < 6*24*time.Hour || d > 8*24*time.Hour {
		t.Fatalf("DeleteSecret: got %v, %v; want a week from now", when, err)
	}
	if s, err := c.DescribeSecret(ctx, "db"); err != nil || s.Status != client.StatusPendingDelete || s.DeleteTime.IsZero() {
		t.Errorf("after DeleteSecret: got %+v, %v; want PendingDelete", s, err)
	}
	if err := c.RestoreSecret(ctx, "db"); err != nil {
		t.Fatalf("RestoreSecret: %v", err)
	}
	if err := c.EnableSecret(ctx, "db"); err != nil {
		t.Fatalf("EnableSecret: %v", err)
	}
	if err := c.DeleteSecretVersion(ctx, "db", v2); err != nil {
		t.Fatalf("DeleteSecretVersion: %v", err)
	}
	if cur, err := c.GetCurrentSecretValue(ctx, "db"); err != nil || cur.VersionID != client.CurrentVersion || cur.Value.Text() != "one" {
		t.Errorf("after deleting the current version: got %+v, %v; want SSM_Current one", cur, err)
	}
	if err := c.DeleteSecretVersion(ctx, "db", v2); !client.IsNotFound(err) {
		t.Errorf("DeleteSecretVersion again: got %v, want not found", err)
	}
}

func TestBinaryValue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := mustClient(t, startServer(t, "", serverLimits{}).url, nil)
	raw := []byte{0, 1, 2, 0xff, '\n'}
	if _, err := c.CreateSecret(ctx, client.CreateSecretInput{Name: "bin", VersionID: "v1", Value: client.Binary(raw)}); err != nil {
		t.Fatalf("CreateSecret: %v", err)
	}
	got, err := c.GetSecretValue(ctx, "bin", "v1")
	if err != nil || !got.Value.IsBinary() || !bytes.Equal(got.Value.Bytes(), raw) {
		t.Fatalf("GetSecretValue: got %v (binary %t), %v; want %v", got.Value.Bytes(), got.Value.IsBinary(), err, raw)
	}
}

func TestListSecretsPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := mustClient(t, startServer(t, "", serverLimits{}).url, nil)
	var want []string
	for i := range 7 {
		name := fmt.Sprintf("app-%d", i)
		mustCreate(t, c, name, "v")
		want = append(want, name)
	}
	mustCreate(t, c, "other", "v")

	in := client.ListSecretsInput{Search: "app-", Ascending: true, Limit: 3}
	var got []string
	pages := 0
	for page, err := range c.ListSecretsPages(ctx, in) {
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		pages++
		if page.TotalCount != 7 {
			t.Errorf("TotalCount: got %d, want 7", page.TotalCount)
		}
		for _, s := range page.Secrets {
			got = append(got, s.Name)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) || pages != 3 {
		t.Errorf("pages: got %v in %d pages, want %v in 3", got, pages, want)
	}

	n := 0
	for s, err := range c.AllSecrets(ctx, client.ListSecretsInput{Limit: 2}) {
		if err != nil || s.Status != client.StatusEnabled || s.KmsKeyType != "DEFAULT" {
			t.Fatalf("AllSecrets: got %+v, %v", s, err)
		}
		if n++; n == 5 {
			break // stopping early must be fine
		}
	}
	if err := c.DisableSecret(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	page, err := c.ListSecrets(ctx, client.ListSecretsInput{Status: client.StatusDisabled})
	if err != nil || len(page.Secrets) != 1 || page.Secrets[0].Name != "other" {
		t.Errorf("ListSecrets Disabled: got %+v, %v; want [other]", page, err)
	}
	if _, err := c.ListSecrets(ctx, client.ListSecretsInput{Status: "Bogus"}); client.CodeOf(err) != "InvalidParameterValue" {
		t.Errorf("ListSecrets with an unknown status: got %v, want InvalidParameterValue", err)
	}
}

func TestServiceActions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := mustClient(t, startServer(t, "", serverLimits{}).url, nil)
	mustCreate(t, c, "read-me", "v")
	wantValue(t, c, "read-me", client.CurrentVersion, "v")

	if regions, err := c.GetRegions(ctx); err != nil || len(regions) == 0 {
		t.Errorf("GetRegions: got %v, %v", regions, err)
	}
	st, err := c.GetServiceStatus(ctx)
	if err != nil || !st.ServiceEnabled || st.TotalCount != 1 || st.SecretLimit == 0 {
		t.Errorf("GetServiceStatus: got %+v, %v", st, err)
	}
	if ps, err := c.DescribeSupportedProducts(ctx); err != nil || ps == nil {
		t.Errorf("DescribeSupportedProducts: got %v, %v", ps, err)
	}
	await(t, "the read shows in DescribeSecretConsumers", func() bool {
		cs, err := c.DescribeSecretConsumers(ctx, "read-me", time.Time{}, time.Time{})
		if err != nil {
			t.Fatalf("DescribeSecretConsumers: %v", err)
		}
		return len(cs) == 1 && cs[0].ReadCount == 1 && cs[0].AccessKeyID == testKeyID
	})
	if _, err := c.DescribeUsage(ctx, client.UsageInput{Granularity: "day"}); err != nil {
		t.Errorf("DescribeUsage: %v", err)
	}
	if _, err := c.DescribeUsage(ctx, client.UsageInput{Granularity: "week"}); client.CodeOf(err) != "InvalidParameterValue" {
		t.Errorf("DescribeUsage by week: got %v, want InvalidParameterValue", err)
	}
}

// TestEveryActionCovered checks that the SDK has a typed call, a method of
// Client named after it, for every SSM action the server serves; the
// others must answer UnsupportedOperation.
func TestEveryActionCovered(t *testing.T) {
	t.Parallel()
	methods := reflect.TypeFor[*client.Client]()
	c := mustClient(t, startServer(t, "", serverLimits{}).url, nil)
	for _, action := range tc3.Actions()["ssm"] {
		if _, ok := methods.MethodByName(action); ok {
			continue
		}
		if err := c.Do(context.Background(), action, nil, nil); client.CodeOf(err) != "UnsupportedOperation" {
			t.Errorf("%s has no typed call in the SDK, and the server serves it (got %v)", action, err)
		}
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := startServer(t, "", serverLimits{})
	c := mustClient(t, srv.url, nil)
	_, err := c.GetSecretValue(ctx, "nope", "v1")
	var e *client.Error
	if !errors.As(err, &e) || !client.IsNotFound(err) || e.RequestID == "" || e.Action != "GetSecretValue" {
		t.Fatalf("GetSecretValue of a missing secret: got %#v, want ResourceNotFound with a RequestId", err)
	}
	if s := err.Error(); !strings.HasPrefix(s, "coffer: GetSecretValue: ResourceNotFound: ") || !strings.Contains(s, e.RequestID) {
		t.Errorf("Error(): got %q", s)
	}
	if client.IsUnavailable(err) || client.IsDenied(err) {
		t.Errorf("ResourceNotFound classified as unavailable or denied")
	}
	mustCreate(t, c, "dup", "v")
	if _, err := c.CreateSecret(ctx, client.CreateSecretInput{Name: "dup", Value: client.Text("v")}); !client.IsExists(err) {
		t.Errorf("CreateSecret of a taken name: got %v, want IsExists", err)
	}

	bad, err := client.New(client.Options{Endpoint: srv.url, Credentials: client.StaticCredentials(testKeyID, "wrong"), Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.GetRegions(ctx); !client.IsDenied(err) || client.CodeOf(err) != "AuthFailure.SignatureFailure" {
		t.Errorf("wrong key: got %v, want AuthFailure.SignatureFailure", err)
	}
	none, _ := client.New(client.Options{Endpoint: srv.url, Credentials: client.StaticCredentials("", "")})
	if _, err := none.GetRegions(ctx); !errors.Is(err, client.ErrNoCredentials) {
		t.Errorf("no credentials: got %v, want ErrNoCredentials", err)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for _, ep := range []string{"", "ftp://x", "http://", "http://h:1/path", "http://h:1/?q=1"} {
		if _, err := client.New(client.Options{Endpoint: ep}); err == nil {
			t.Errorf("New(%q): got nil error", ep)
		}
	}
	if _, err := client.New(client.Options{Endpoint: "h:1", CAFile: "/nonexistent"}); err == nil {
		t.Error("New with a missing CA file: got nil error")
	}
	c, err := client.New(client.Options{Endpoint: "coffer.example:8443"})
	if err != nil || c.Endpoint() != "https://coffer.example:8443/" || c.Region() != client.DefaultRegion {
		t.Errorf("New(host:port): got %v, %v", c.Endpoint(), err)
	}
}

func TestRedaction(t *testing.T) {
	v := client.Text("hunter2")
	cred := client.Credentials{SecretID: "AKIDx", SecretKey: "hunter2", Token: "hunter2"}
	for _, s := range []string{fmt.Sprint(v), fmt.Sprintf("%#v %v %s %q", v, v, v, v), fmt.Sprintf("%+v", client.SecretValue{Value: v}),
		fmt.Sprint(cred), fmt.Sprintf("%#v", cred), fmt.Sprintf("%+v", struct{ C client.Credentials }{cred})} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("printed a secret: %s", s)
		}
	}
	b, err := json.Marshal(struct {
		V client.Value
		C client.Credentials
	}{v, cred})
	if err != nil || strings.Contains(string(b), "hunter2") {
		t.Errorf("json.Marshal: %s, %v", b, err)
	}
}

func wantValue(t *testing.T, c *client.Client, name, version, want string) {
	t.Helper()
	got, err := c.GetSecretValue(context.Background(), name, version)
	if err != nil {
		t.Fatalf("GetSecretValue %s %s: %v", name, version, err)
	}
	if got.Value.Text() != want {
		t.Errorf("GetSecretValue %s %s: got %q, want %q", name, version, got.Value.Text(), want)
	}
}

func versionIDs(vs []client.Version) []string {
	ids := make([]string, len(vs))
	for i, v := range vs {
		ids[i] = v.ID
	}
	return ids
}
