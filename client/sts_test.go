package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/client"
)

// TestAssumeRoleCredentials: a client on renewing temporary credentials
// of a read-only role reads a secret (its token sent as X-TC-Token) and is
// refused a write.
func TestAssumeRoleCredentials(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := startServer(t, "", serverLimits{})
	root := mustClient(t, srv.url, nil)
	mustCreate(t, root, "for-role", "role-value")
	arn := mustRole(t, root, "reader", `{"effect":"allow","action":["ssm:GetSecretValue","ssm:ListSecretVersionIds"],"resource":"*"}`)

	var fetches int
	creds := client.TemporaryCredentials(func(ctx context.Context) (client.Credentials, error) {
		fetches++
		return root.AssumeRole(ctx, client.AssumeRoleInput{RoleArn: arn, SessionName: "test", Duration: 10 * time.Minute})
	})
	role, err := client.New(client.Options{Endpoint: srv.url, Credentials: creds, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	v, err := role.GetCurrentSecretValue(ctx, "for-role")
	if err != nil || v.Value.Text() != "role-value" {
		t.Fatalf("read as the role: got %v, %v", v, err)
	}
	if _, err := role.PutSecretValue(ctx, client.PutSecretValueInput{Name: "for-role", Value: client.Text("x")}); !client.IsDenied(err) {
		t.Errorf("write as a read-only role: got %v, want denied", err)
	}
	if fetches != 1 {
		t.Errorf("AssumeRole calls: got %d, want 1 (credentials reused until they expire)", fetches)
	}
	bad, _ := client.New(client.Options{Endpoint: srv.url, Retry: fastRetry, Credentials: client.CredentialsFunc(
		func(context.Context) (client.Credentials, error) {
			c, err := creds.Credentials(ctx)
			c.Token += "x"
			return c, err
		})})
	if _, err := bad.GetRegions(ctx); client.CodeOf(err) != client.CodeTokenFailure {
		t.Errorf("altered token: got %v, want %s", err, client.CodeTokenFailure)
	}
}

// mustRole creates a role that the account's root may assume, allowed the
// policy statement stmt, and returns its ARN.
func mustRole(t *testing.T, root *client.Client, name, stmt string) string {
	t.Helper()
	ctx := context.Background()
	var pol struct{ PolicyId uint64 }
	if err := root.DoProduct(ctx, client.CAM, "CreatePolicy", map[string]any{"PolicyName": name + "-policy",
		"PolicyDocument": `{"version":"2.0","statement":[` + stmt + `]}`}, &pol); err != nil {
		t.Fatalf("CreatePolicy: %v", err)
	}
	trust := `{"version":"2.0","statement":[{"action":"name/sts:AssumeRole","effect":"allow","principal":{"qcs":["qcs::cam::uin/` + testAccount + `:root"]}}]}`
	if err := root.DoProduct(ctx, client.CAM, "CreateRole", map[string]any{"RoleName": name, "PolicyDocument": trust}, nil); err != nil {
		t.Fatalf("CreateRole: %v", err)
	}
	if err := root.DoProduct(ctx, client.CAM, "AttachRolePolicy", map[string]any{"PolicyId": pol.PolicyId, "AttachRoleName": name}, nil); err != nil {
		t.Fatalf("AttachRolePolicy: %v", err)
	}
	return "qcs::cam::uin/" + testAccount + ":roleName/" + name
}
