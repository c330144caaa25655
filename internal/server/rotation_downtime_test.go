package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/rotation/dbtarget"
	"github.com/coffer-secrets/coffer/internal/rotation/dbtarget/dbtest"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/server"
)

// soakDuration is how long rotations run back to back in
// TestRotationZeroDowntime: a minute, or COFFER_ROTATION_SOAK.
func soakDuration(t *testing.T) time.Duration {
	if s := os.Getenv("COFFER_ROTATION_SOAK"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("COFFER_ROTATION_SOAK: %v", err)
		}
		return d
	}
	return time.Minute
}

// TestRotationZeroDowntime runs applications that open a fresh database
// connection every few milliseconds with the credential they read from
// Coffer just before, while product-secret rotations (two alternating
// accounts) run back to back on the real MariaDB and PostgreSQL: not one
// login may fail.
func TestRotationZeroDowntime(t *testing.T) {
	soak := soakDuration(t)
	s := mxStartServer(t, func(c *server.Config) {
		c.Rotation = server.RotationConfig{Interval: 50 * time.Millisecond, Grace: 300 * time.Millisecond, RetryBase: 50 * time.Millisecond}
	})
	ctx := context.Background()
	pg, err := dbtest.PostgresAdmin()
	if err == nil {
		err = dbtest.PGExec(ctx, pg, "SELECT 1")
	}
	if err != nil {
		dbtest.Unavailable(t, "PostgreSQL", err)
	}
	if err := dbtest.EnforceSCRAM(ctx, pg); err != nil {
		t.Fatal(err)
	}
	pg.Database = "postgres"
	my := dbtest.MySQLAdmin()
	if err := dbtarget.TestLogin(ctx, my); err != nil {
		dbtest.Unavailable(t, "MariaDB", err)
	}
	for _, tc := range []struct {
		product string
		admin   dbtarget.Conn
	}{{"Mysql", my}, {"PostgreSQL", pg}} {
		t.Run(tc.product, func(t *testing.T) {
			t.Parallel()
			soakRotation(t, s, tc.product, tc.admin, soak)
		})
	}
}

func soakRotation(t *testing.T, s *testServer, product string, admin dbtarget.Conn, soak time.Duration) {
	ctx := context.Background()
	c := tcClient(s, key{testKeyID, testSecret}, "")
	call := func(action string, params map[string]any, out any) {
		t.Helper()
		if err := tcSend(t, c, "ssm", action, params, out); err != nil {
			t.Fatalf("%s: %v", action, err)
		}
	}
	suffix := secrets.NewID(6)
	adminSecret := "zd-admin-" + suffix
	cred, _ := json.Marshal(map[string]string{"UserName": admin.User, "Password": admin.Password})
	call("CreateSecret", map[string]any{"SecretName": adminSecret, "SecretString": string(cred)}, nil)
	inst := "zd-" + suffix
	reg := map[string]any{"InstanceID": inst, "Engine": product, "Host": admin.Host, "Port": admin.Port, "AdminSecret": adminSecret}
	if admin.Engine == dbtarget.Postgres {
		reg["Database"] = "postgres"
	}
	call("RegisterDatabase", reg, nil)
	name := "zd-" + suffix
	var created struct{ FlowID int64 }
	call("CreateProductSecret", map[string]any{"SecretName": name, "UserNamePrefix": "zd", "ProductName": product,
		"InstanceID": inst, "Domains": []string{"%"}, "PrivilegesList": []any{}}, &created)
	waitFlow(t, call, created.FlowID)
	var hist struct {
		AccountInfoList []struct{ AccountName string }
	}
	call("DescribeRotationHistory", map[string]any{"SecretName": name}, &hist)
	if len(hist.AccountInfoList) != 2 {
		t.Fatalf("accounts: %+v", hist)
	}
	t.Cleanup(func() {
		a, err := dbtarget.Open(context.Background(), admin)
		if err != nil {
			return
		}
		defer a.Close()
		for _, acc := range hist.AccountInfoList {
			_ = a.DropUser(context.Background(), acc.AccountName, []string{"%"})
		}
	})
	if admin.Engine == dbtarget.Postgres {
		for _, acc := range hist.AccountInfoList { // make PostgreSQL check their passwords
			if err := dbtest.PGExec(ctx, admin, fmt.Sprintf("GRANT %s TO %q", dbtest.ScramGroup, acc.AccountName)); err != nil {
				t.Fatal(err)
			}
		}
	}

	var logins, failures, reads atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 { // two applications
		wg.Add(1)
		go func() {
			defer wg.Done()
			app := tcClient(s, key{testKeyID, testSecret}, "")
			for {
				select {
				case <-stop:
					return
				default:
				}
				var v struct{ SecretString string }
				if err := tcSend(t, app, "ssm", "GetSecretValue", map[string]any{"SecretName": name, "VersionId": "SSM_Current"}, &v); err != nil {
					t.Errorf("GetSecretValue: %v", err)
					return
				}
				reads.Add(1)
				var u struct{ UserName, Password string }
				if err := json.Unmarshal([]byte(v.SecretString), &u); err != nil {
					t.Errorf("value: %v", err)
					return
				}
				conn := admin
				conn.User, conn.Password = u.UserName, u.Password
				if err := dbtarget.TestLogin(ctx, conn); err != nil {
					failures.Add(1)
					t.Errorf("login as %s failed: %v", u.UserName, err)
				}
				logins.Add(1)
				time.Sleep(3 * time.Millisecond) // "every few milliseconds"
			}
		}()
	}
	stopApps := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopApps() // before the accounts are dropped, even when the test fails
	rotations := 0
	for end := time.Now().Add(soak); time.Now().Before(end); rotations++ {
		var r struct{ FlowID int64 }
		call("RotateProductSecret", map[string]any{"SecretName": name}, &r)
		waitFlow(t, call, r.FlowID)
	}
	stopApps()
	t.Logf("zero downtime, %s: %d rotations in %v, %d reads, %d fresh logins, %d failed logins", product, rotations, soak, reads.Load(), logins.Load(), failures.Load())
	if failures.Load() != 0 {
		t.Fatalf("%d of %d logins failed", failures.Load(), logins.Load())
	}
	if rotations < 5 || logins.Load() < 100 {
		t.Fatalf("too little happened to show anything: %d rotations, %d logins", rotations, logins.Load())
	}
}

// waitFlow polls DescribeAsyncRequestInfo until the flow succeeds; it fails
// the test if the flow fails or takes longer than 30 s.
func waitFlow(t *testing.T, call func(string, map[string]any, any), flow int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var st struct {
			TaskStatus  int
			Description string
		}
		call("DescribeAsyncRequestInfo", map[string]any{"FlowID": flow}, &st)
		switch {
		case st.TaskStatus == 1:
			return
		case st.TaskStatus == 2 || time.Now().After(deadline):
			t.Fatalf("flow %d: %+v", flow, st)
		}
		time.Sleep(10 * time.Millisecond) // a client polling the API
	}
}
