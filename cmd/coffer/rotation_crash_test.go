package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/rotation/dbtarget"
	"github.com/coffer-secrets/coffer/internal/rotation/dbtarget/dbtest"
	"github.com/coffer-secrets/coffer/internal/secrets"
)

// TestRotationCrash kills the server (SIGKILL, from inside, at an exact
// point) at every step of a rotation of a real PostgreSQL user's password
// (the single-user strategy, where the old password stops working), starts
// it again on the same data, and checks that the rotation completes with
// the database and the secret agreeing: the current value logs in, and no
// other password does.
func TestRotationCrash(t *testing.T) {
	ctx := context.Background()
	admin, err := dbtest.PostgresAdmin()
	if err == nil {
		err = dbtest.PGExec(ctx, admin, "SELECT 1")
	}
	if err != nil {
		dbtest.Unavailable(t, "PostgreSQL", err)
	}
	if err := dbtest.EnforceSCRAM(ctx, admin); err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{"createSecret", "setSecret", "testSecret", "finishSecret"} {
		for _, phase := range []string{"before", "after", "record"} {
			t.Run(step+"/"+phase, func(t *testing.T) { crashOneRotation(t, admin, step, phase) })
		}
	}
}

func crashOneRotation(t *testing.T, admin dbtarget.Conn, step, phase string) {
	ctx := context.Background()
	user, pw := "ct_crash_"+secrets.NewID(8), secrets.NewID(24)
	if err := dbtest.PGExec(ctx, admin, fmt.Sprintf("CREATE ROLE %q LOGIN PASSWORD '%s' IN ROLE %s", user, pw, dbtest.ScramGroup)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dbtest.PGExec(context.Background(), admin, fmt.Sprintf("DROP ROLE IF EXISTS %q", user)) })
	conn := dbtarget.Conn{Engine: dbtarget.Postgres, Host: admin.Host, Port: admin.Port, User: user, Password: pw, Database: "postgres"}
	if err := dbtarget.TestLogin(ctx, conn); err != nil {
		t.Fatalf("the test user cannot log in: %v", err)
	}

	dir := t.TempDir()
	args := []string{"server", "--dev", "--listen", "127.0.0.1:0", "--data", dir, "--rotation-interval", "100ms"}
	env := append(rootEnv(envKeyID, envSecret, envAccount), "COFFER_TEST_ROTATION_CRASH="+step+":"+phase)
	d := startCoffer(t, env, args...)
	c := newClient(t, d.URL, envKeyID, envSecret, nil)
	value, _ := json.Marshal(map[string]any{"engine": "postgres", "host": admin.Host, "port": admin.Port, "username": user, "password": pw, "dbname": "postgres"})
	c.must("CreateSecret", map[string]any{"SecretName": "db", "VersionId": "v1", "SecretString": string(value)})
	c.must("UpdateRotationStatus", map[string]any{"SecretName": "db", "EnableRotation": false, "RotationFunction": "coffer:postgresql-single"})
	// The worker starts at once: the kill may come before the answer. The
	// data directory is new, so the flow is the first.
	var flow any = 1
	if out, err := c.call("RotateProductSecret", map[string]any{"SecretName": "db"}); err == nil {
		flow = out["FlowID"]
	}
	select {
	case <-d.exited:
	case <-time.After(waitLimit):
		t.Fatalf("the server was not killed at %s %s", step, phase)
	}

	d = startCoffer(t, rootEnv(envKeyID, envSecret, envAccount), args...)
	c = newClient(t, d.URL, envKeyID, envSecret, nil)
	deadline := time.Now().Add(waitLimit)
	for {
		st := c.must("DescribeAsyncRequestInfo", map[string]any{"FlowID": flow})
		if st["TaskStatus"].(float64) == 1 {
			break
		}
		if st["TaskStatus"].(float64) == 2 || time.Now().After(deadline) {
			t.Fatalf("after the restart the rotation did not complete: %v", st)
		}
		time.Sleep(20 * time.Millisecond) // polling the API as a client would
	}
	got := c.must("GetSecretValue", map[string]any{"SecretName": "db", "VersionId": "SSM_Current"})
	var cur struct{ Username, Password string }
	if err := json.Unmarshal([]byte(got["SecretString"].(string)), &cur); err != nil || cur.Username != user {
		t.Fatalf("current value: %v", err)
	}
	if cur.Password == pw {
		t.Fatal("the password did not change")
	}
	now := conn
	now.Password = cur.Password
	if err := dbtarget.TestLogin(ctx, now); err != nil {
		t.Fatalf("the current value does not log in: %v", err)
	}
	if err := dbtarget.TestLogin(ctx, conn); !errors.Is(err, dbtarget.ErrLogin) {
		t.Fatalf("the old password still logs in (or another failure): %v", err)
	}
	ids := c.must("ListSecretVersionIds", map[string]any{"SecretName": "db"})["Versions"].([]any)
	if len(ids) != 2 {
		t.Fatalf("versions after the rotation: %v", ids)
	}
	d.stop()
}
