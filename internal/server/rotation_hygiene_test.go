package server_test

import (
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/server"
)

// TestRotationLogsHoldNoSecret runs database rotations that succeed and
// rotations that fail (a password changed behind Coffer's back, a webhook
// whose error quotes the value) with every log line kept, then checks that
// no password, old or new, appears in a log line, an audit event or a
// flow's description.
func TestRotationLogsHoldNoSecret(t *testing.T) {
	d := rotPostgres(t)
	h := newHookEndpoint(t)
	var logs hygBuffer
	s := startHookServer(t, h, func(c *server.Config) {
		c.Log = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	a := newRotAWS(t, s)
	m := newMX(t, s, testRegion)
	scan := newHygScanner(t)
	var descriptions []string

	// A single-user PostgreSQL rotation that succeeds.
	user, pw := "ct_"+rotHex(10), scan.add("Pw0"+rotHex(24))
	d.createUser(t, user, pw)
	v0, _ := json.Marshal(dbValue{Engine: "postgres", Host: d.host, Port: d.port, Username: user, Password: pw, DBName: d.db})
	a.create("ct-hyg-db", string(v0))
	ver := a.rotate("ct-hyg-db", "coffer:postgresql-single", nil)
	a.rotated("ct-hyg-db", ver)
	rotated, _ := a.dbValue("ct-hyg-db")
	scan.add(rotated.Password)
	d.mustLogin(t, "the rotated password", user, rotated.Password)

	// The password changed behind Coffer's back: every attempt fails to
	// log in, and the run is rolled back.
	behind := scan.add("Pw1" + rotHex(24))
	d.mustExec(t, "ALTER ROLE "+user+" PASSWORD '"+behind+"'")
	flow := m.must("RotateProductSecret", mxP{"SecretName": "ct-hyg-db"})
	st, desc := m.waitFlow(mxNum(t, flow, "FlowID"))
	if st != 2 {
		t.Fatalf("a rotation with a stale password: TaskStatus %d (%s), want 2", st, desc)
	}
	descriptions = append(descriptions, desc)
	if cur, _ := a.dbValue("ct-hyg-db"); cur.Password != rotated.Password {
		t.Error("the failed rotation changed the current value")
	}
	d.mustLogin(t, "the password set behind Coffer's back", user, behind)

	// A product secret: created and rotated.
	admin, _ := json.Marshal(productCred{UserName: d.adminUser, Password: d.adminPass})
	m.create("ct-hyg-admin", string(admin), nil)
	m.must("RegisterDatabase", mxP{"InstanceID": "db-hyg", "Engine": "postgresql", "Host": d.host, "Port": d.port,
		"AdminSecret": "ct-hyg-admin", "Database": d.db})
	prefix := "ct_" + rotHex(5)
	d.dropLater(prefix)
	out := m.must("CreateProductSecret", mxP{"SecretName": "ct-hyg-prod", "UserNamePrefix": prefix, "ProductName": "PostgreSQL",
		"InstanceID": "db-hyg", "Domains": []string{"%"},
		"PrivilegesList": []map[string]any{{"PrivilegeName": "TablePrivileges", "Privileges": []string{"SELECT"}, "TableName": d.table}}})
	m.flowOK("CreateProductSecret", mxNum(t, out, "FlowID"))
	scan.add(m.productValue("ct-hyg-prod", "SSM_Current").Password)
	out = m.must("RotateProductSecret", mxP{"SecretName": "ct-hyg-prod"})
	m.flowOK("RotateProductSecret", mxNum(t, out, "FlowID"))
	scan.add(m.productValue("ct-hyg-prod", "SSM_Current").Password)

	// A webhook whose error message quotes the pending value.
	a.create("ct-hyg-hook", scan.add("hook-value-"+rotHex(16)))
	a.rotate("ct-hyg-hook", h.srv.URL+"/leak", nil)
	rotWait(t, "the webhook rotation to be rolled back", time.Minute, func() bool { return s.rotationEnd(t, "ct-hyg-hook", 0) != nil })
	for _, ev := range h.events("ct-hyg-hook") {
		if ev.Pending != nil && ev.Pending.SecretString != nil {
			scan.add(*ev.Pending.SecretString)
		}
	}
	flow = m.must("RotateProductSecret", mxP{"SecretName": "ct-hyg-hook"})
	st, desc = m.waitFlow(mxNum(t, flow, "FlowID"))
	if st != 2 {
		t.Fatalf("a webhook that fails setSecret: TaskStatus %d (%s), want 2", st, desc)
	}
	descriptions = append(descriptions, desc)
	for _, ev := range h.events("ct-hyg-hook") {
		if ev.Pending != nil && ev.Pending.SecretString != nil {
			scan.add(*ev.Pending.SecretString)
		}
	}
	for _, d := range descriptions {
		scan.clean("DescribeAsyncRequestInfo's Description", []byte(d))
	}
	hygScanEvents(t, scan, s)
	hygScanFiles(t, scan, s.dir) // the runs' errors are stored too

	s.stop() // flush every log line
	text := logs.String()
	if !strings.Contains(text, "rotation step failed") {
		t.Fatalf("the logs do not report the failed steps; the scan would prove nothing:\n%s", text)
	}
	for i, line := range strings.Split(text, "\n") {
		scan.clean("log line "+strconv.Itoa(i+1), []byte(line))
	}
}
