package client_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/client"
	"github.com/coffer-secrets/coffer/internal/rotation/dbtarget/dbtest"
)

// TestProductSecretPostgreSQL registers the machine's PostgreSQL, creates
// a product secret on it, rotates it and deletes it with its accounts.
func TestProductSecretPostgreSQL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	admin, err := dbtest.PostgresAdmin()
	if err != nil {
		t.Fatal(err)
	}
	if err := dbtest.PGExec(ctx, admin, "SELECT 1"); err != nil {
		dbtest.Unavailable(t, "PostgreSQL", err)
	}
	c := mustClient(t, startServer(t, "", serverLimits{}).url, nil)
	cred, _ := json.Marshal(map[string]string{"UserName": admin.User, "Password": admin.Password})
	if _, err := c.CreateSecret(ctx, client.CreateSecretInput{Name: "pg-admin", Value: client.Text(string(cred))}); err != nil {
		t.Fatal(err)
	}
	d, err := c.RegisterDatabase(ctx, client.DatabaseInput{ID: "pg", Engine: "postgresql", Host: admin.Host, Port: admin.Port,
		AdminSecret: "pg-admin", Database: admin.Database, TLS: "disable", Description: "the test server"})
	if err != nil {
		t.Fatalf("RegisterDatabase: %v", err)
	}
	if d.ID != "pg" || d.ProductName != "PostgreSQL" || d.Port != admin.Port || time.Since(d.CreateTime) > time.Minute {
		t.Errorf("RegisterDatabase: got %+v", d)
	}
	if _, err := c.RegisterDatabase(ctx, client.DatabaseInput{ID: "pg", Engine: "postgresql", Host: admin.Host, AdminSecret: "pg-admin", SkipCheck: true}); !client.IsExists(err) {
		t.Errorf("RegisterDatabase of a taken id: got %v, want IsExists", err)
	}

	prefix := "cs" + randomHex(t, 3)
	ref, err := c.CreateProductSecret(ctx, client.ProductSecretInput{Name: "orders", UserNamePrefix: prefix, ProductName: d.ProductName,
		InstanceID: "pg", Domains: []string{"%"},
		Privileges: []client.Privilege{{Level: "DatabasePrivileges", Privileges: []string{"CONNECT"}, Database: admin.Database}}})
	if err != nil {
		t.Fatalf("CreateProductSecret: %v", err)
	}
	t.Cleanup(func() { dropProduct(t, c, ref.Name) })
	if _, err := c.WaitFlow(ctx, ref.FlowID, 20*time.Millisecond); err != nil {
		t.Fatalf("the creation flow: %v", err)
	}
	first := productUser(t, c, "orders")
	flow, err := c.RotateProductSecret(ctx, "orders", nil)
	if err != nil {
		t.Fatalf("RotateProductSecret: %v", err)
	}
	if _, err := c.WaitFlow(ctx, flow, 20*time.Millisecond); err != nil {
		t.Fatalf("the rotation flow: %v", err)
	}
	if second := productUser(t, c, "orders"); second == first || !strings.HasPrefix(second, prefix+"_SSM_") {
		t.Errorf("after the rotation the account is %s, want the other one than %s", second, first)
	}
	h, err := c.DescribeRotationHistory(ctx, "orders")
	if err != nil || len(h.Accounts) != 2 || len(h.VersionIDs) != 1 {
		t.Errorf("DescribeRotationHistory: got %+v, %v; want 2 accounts and 1 earlier version", h, err)
	}
}

// productUser returns the account name in a product secret's value.
func productUser(t *testing.T, c *client.Client, name string) string {
	t.Helper()
	v, err := c.GetSecretValue(context.Background(), name, client.CurrentVersion)
	if err != nil {
		t.Fatal(err)
	}
	var cred struct{ UserName, Password string }
	if err := json.Unmarshal(v.Value.Bytes(), &cred); err != nil || cred.UserName == "" || cred.Password == "" {
		t.Fatalf("the value of %s is not {UserName, Password} (%v)", name, err)
	}
	return cred.UserName
}

// dropProduct deletes a product secret with its accounts (DeleteMode 1,
// which the typed DeleteSecret does not offer).
func dropProduct(t *testing.T, c *client.Client, name string) {
	ctx := context.Background()
	if err := c.DisableSecret(ctx, name); err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	var out struct{ FlowID int64 }
	req := map[string]any{"SecretName": name, "DeleteMode": 1, "RecoveryWindowInDays": 0}
	if err := c.Do(ctx, "DeleteSecret", req, &out); err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	if _, err := c.WaitFlow(ctx, out.FlowID, 20*time.Millisecond); err != nil {
		t.Errorf("cleanup: dropping the accounts: %v", err)
	}
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
