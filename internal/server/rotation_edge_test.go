package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/coffer-secrets/coffer/internal/server"
)

// TestRotationCancelDuringStep cancels a rotation while its endpoint is
// still working on setSecret: the step's late success must not carry the
// run on, and the cancelled run ends with the current value untouched.
func TestRotationCancelDuringStep(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	var mu sync.Mutex
	var steps []string
	hook := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev struct{ Step string }
		_ = json.Unmarshal(body, &ev)
		mu.Lock()
		steps = append(steps, ev.Step)
		mu.Unlock()
		if ev.Step == "setSecret" {
			entered <- struct{}{}
			<-release
		}
		io.WriteString(w, "{}")
	}))
	t.Cleanup(hook.Close)
	h := &hookEndpoint{srv: hook}
	s := startHookServer(t, h, nil)
	a := newRotAWS(t, s)
	_, v1 := a.create("ct-cancel", "value-kept")

	const token = "00000000-0000-4000-8000-00000000ca01"
	out, err := a.c.RotateSecret(a.ctx(), &secretsmanager.RotateSecretInput{SecretId: aws.String("ct-cancel"),
		RotationLambdaARN: aws.String(hook.URL + "/hold"), ClientRequestToken: aws.String(token)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.VersionId) != token {
		t.Fatalf("RotateSecret: VersionId %q, want the token %s", aws.ToString(out.VersionId), token)
	}
	select {
	case <-entered:
	case <-time.After(time.Minute):
		t.Fatal("the endpoint never got setSecret")
	}
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()

	// While the run is in progress: the same token is the same run,
	// another is refused.
	again, err := a.c.RotateSecret(a.ctx(), &secretsmanager.RotateSecretInput{SecretId: aws.String("ct-cancel"), ClientRequestToken: aws.String(token)})
	if err != nil || aws.ToString(again.VersionId) != token {
		t.Errorf("RotateSecret retried with the token of the run in progress: %v, %v", again, err)
	}
	_, err = a.c.RotateSecret(a.ctx(), &secretsmanager.RotateSecretInput{SecretId: aws.String("ct-cancel")})
	wantAWS(t, "RotateSecret during a rotation", err, "InvalidRequestException", "")
	if d := a.describe("ct-cancel"); !slices.Contains(d.VersionIdsToStages[token], "AWSPENDING") {
		t.Errorf("during the rotation: VersionIdsToStages %v, want %s AWSPENDING", d.VersionIdsToStages, token)
	}

	cancel, err := a.c.CancelRotateSecret(a.ctx(), &secretsmanager.CancelRotateSecretInput{SecretId: aws.String("ct-cancel")})
	if err != nil || aws.ToString(cancel.VersionId) != token {
		t.Fatalf("CancelRotateSecret: %v, %v; want the pending version %s", cancel, err, token)
	}
	close(release)
	released = true

	rotWait(t, "the cancelled run to end", time.Minute, func() bool { return s.rotationEnd(t, "ct-cancel", 0) != nil })
	d := a.describe("ct-cancel")
	if len(d.VersionIdsToStages) != 1 || !slices.Contains(d.VersionIdsToStages[v1], "AWSCURRENT") {
		t.Errorf("after the cancelled rotation: VersionIdsToStages %v, want only %s as AWSCURRENT", d.VersionIdsToStages, v1)
	}
	if val, _ := a.value("ct-cancel"); val != "value-kept" {
		t.Error("the cancelled rotation changed the current value")
	}
	if aws.ToBool(d.RotationEnabled) {
		t.Error("RotationEnabled after CancelRotateSecret")
	}
	mu.Lock()
	defer mu.Unlock()
	if slices.Contains(steps, "testSecret") || slices.Contains(steps, "finishSecret") {
		t.Errorf("the endpoint saw %v after the cancel, want nothing past setSecret", steps)
	}
}

// TestRotationScheduled has the worker start a rotation by itself when the
// RotationBeginTime given to UpdateRotationStatus comes.
func TestRotationScheduled(t *testing.T) {
	s := mxStartServer(t, rotFast)
	m := newMX(t, s, testRegion)
	m.must("CreateSSHKeyPairSecret", mxP{"SecretName": "ct-sched", "ProjectId": 0})
	before := mxStr(t, m.must("GetSSHKeyPairValue", mxP{"SecretName": "ct-sched"}), "PublicKey")
	begin := time.Now().UTC().Add(2 * time.Second).Truncate(time.Second)
	m.must("UpdateRotationStatus", mxP{"SecretName": "ct-sched", "EnableRotation": true, "Frequency": 30,
		"RotationBeginTime": begin.Format("2006-01-02 15:04:05")})
	detail := m.must("DescribeRotationDetail", mxP{"SecretName": "ct-sched"})
	if detail["NextRotateBeginTime"] != begin.Format("2006-01-02 15:04:05") {
		t.Errorf("NextRotateBeginTime %v, want the RotationBeginTime %v", detail["NextRotateBeginTime"], begin)
	}
	rotWait(t, "the scheduled rotation", 30*time.Second, func() bool {
		return mxStr(t, m.must("GetSSHKeyPairValue", mxP{"SecretName": "ct-sched"}), "PublicKey") != before
	})
	if time.Now().Before(begin) {
		t.Fatal("rotated before RotationBeginTime")
	}
	rotWait(t, "the schedule to move on", 10*time.Second, func() bool {
		d := m.must("DescribeRotationDetail", mxP{"SecretName": "ct-sched"})
		return d["LatestRotateTime"] != nil && d["NextRotateBeginTime"] != begin.Format("2006-01-02 15:04:05")
	})
	detail = m.must("DescribeRotationDetail", mxP{"SecretName": "ct-sched"})
	next, err := time.Parse("2006-01-02 15:04:05", mxStr(t, detail, "NextRotateBeginTime"))
	if err != nil || next.Before(begin.AddDate(0, 0, 29)) || next.After(time.Now().AddDate(0, 0, 31)) {
		t.Errorf("after the scheduled rotation NextRotateBeginTime %v, want 30 days on", detail["NextRotateBeginTime"])
	}
	// Once: one rotation's worth of versions, the schedule 30 days on.
	if vs := m.versions("ct-sched"); len(vs) != 2 {
		t.Errorf("after one scheduled rotation: versions %v, want 2", vs)
	}

	// A disabled secret does not rotate, scheduled or asked.
	m.must("DisableSecret", mxP{"SecretName": "ct-sched"})
	m.fails("FailedOperation.RotationForbidden", "RotateProductSecret", mxP{"SecretName": "ct-sched"})
}

// TestRotationProductCreateOptions: the schedule given to
// CreateProductSecret survives the creation flow, and a creation that
// fails in the database leaves no account and a Failed secret.
func TestRotationProductCreateOptions(t *testing.T) {
	d := rotPostgres(t)
	s := mxStartServer(t, rotFast)
	m := newMX(t, s, testRegion)
	admin, _ := json.Marshal(productCred{UserName: d.adminUser, Password: d.adminPass})
	m.create("ct-admin", string(admin), nil)
	m.must("RegisterDatabase", mxP{"InstanceID": "db-1", "Engine": "postgresql", "Host": d.host, "Port": d.port,
		"AdminSecret": "ct-admin", "Database": d.db})
	prefix := "ct_" + rotHex(5)
	d.dropLater(prefix)
	grant := []map[string]any{{"PrivilegeName": "TablePrivileges", "Privileges": []string{"SELECT"}, "TableName": d.table}}

	m.fails("MissingParameter", "CreateProductSecret", mxP{"SecretName": "ct-sched", "UserNamePrefix": prefix, "ProductName": "PostgreSQL",
		"InstanceID": "db-1", "Domains": []string{"%"}, "PrivilegesList": grant, "EnableRotation": true})
	begin := time.Now().UTC().AddDate(0, 0, 2).Truncate(time.Second).Format("2006-01-02 15:04:05")
	out := m.must("CreateProductSecret", mxP{"SecretName": "ct-sched", "UserNamePrefix": prefix, "ProductName": "PostgreSQL",
		"InstanceID": "db-1", "Domains": []string{"%"}, "PrivilegesList": grant,
		"EnableRotation": true, "RotationFrequency": 60, "RotationBeginTime": begin})
	m.flowOK("CreateProductSecret", mxNum(t, out, "FlowID"))
	detail := m.must("DescribeRotationDetail", mxP{"SecretName": "ct-sched"})
	if detail["EnableRotation"] != true || detail["Frequency"] != float64(60) || detail["NextRotateBeginTime"] != begin {
		t.Errorf("DescribeRotationDetail after creation: %v; want EnableRotation true, Frequency 60, NextRotateBeginTime %s", mxStrip(detail), begin)
	}

	// The table does not exist: the grant fails, the creation is rolled back.
	prefix2 := "ct_" + rotHex(5)
	d.dropLater(prefix2)
	out = m.must("CreateProductSecret", mxP{"SecretName": "ct-fail", "UserNamePrefix": prefix2, "ProductName": "PostgreSQL",
		"InstanceID": "db-1", "Domains": []string{"%"},
		"PrivilegesList": []map[string]any{{"PrivilegeName": "TablePrivileges", "Privileges": []string{"SELECT"}, "TableName": "ct_missing"}}})
	if st, desc := m.waitFlow(mxNum(t, out, "FlowID")); st != 2 {
		t.Fatalf("a creation whose grant fails: TaskStatus %d (%s), want 2", st, desc)
	}
	if st := m.status("ct-fail"); st != "Failed" {
		t.Errorf("a failed creation left the secret %s, want Failed", st)
	}
	if users := d.users(t, prefix2); len(users) != 0 {
		t.Errorf("a failed creation left users %v", users)
	}
	m.fails("ResourceUnavailable.ResourceUninitialized", "RotateProductSecret", mxP{"SecretName": "ct-fail"})
	m.must("DeleteSecret", mxP{"SecretName": "ct-fail", "RecoveryWindowInDays": 0})
	m.fails("ResourceNotFound", "DescribeSecret", mxP{"SecretName": "ct-fail"})
}

// TestRotationRegisterDatabase: registration checks the admin credential,
// refuses what it cannot use with a clear code, and hands the admin
// secret to Coffer only for a caller who may read it.
func TestRotationRegisterDatabase(t *testing.T) {
	d := rotMySQL(t)
	s := mxStartServer(t, rotFast)
	m := newMX(t, s, testRegion)
	admin, _ := json.Marshal(productCred{UserName: d.adminUser, Password: d.adminPass})
	m.create("ct-admin", string(admin), nil)
	m.create("ct-admin-wrong", `{"UserName":"`+d.adminUser+`","Password":"not-the-password"}`, nil)
	register := func(edit func(mxP)) mxP {
		p := mxP{"InstanceID": "db-1", "Engine": "mysql", "Host": d.host, "Port": d.port, "AdminSecret": "ct-admin"}
		edit(p)
		return p
	}
	for _, c := range []struct {
		what, code string
		edit       func(mxP)
	}{
		{"a wrong admin password", "InvalidParameterValue", func(p mxP) { p["AdminSecret"] = "ct-admin-wrong" }},
		{"an unknown admin secret", "ResourceNotFound", func(p mxP) { p["AdminSecret"] = "ct-none" }},
		{"an unknown admin secret, unchecked", "ResourceNotFound", func(p mxP) { p["AdminSecret"] = "ct-none"; p["SkipCheck"] = true }},
		{"an unknown engine", "InvalidParameterValue", func(p mxP) { p["Engine"] = "oracle" }},
		{"a bad port", "InvalidParameterValue", func(p mxP) { p["Port"] = 70000 }},
		{"a bad host", "InvalidParameterValue", func(p mxP) { p["Host"] = "a b" }},
		{"a bad id", "InvalidParameterValue", func(p mxP) { p["InstanceID"] = "db 1" }},
		{"a bad TLS mode", "InvalidParameterValue", func(p mxP) { p["TLS"] = "sometimes" }},
		{"no InstanceID", "MissingParameter", func(p mxP) { delete(p, "InstanceID") }},
	} {
		t.Run(c.what, func(t *testing.T) {
			m := newMX(t, s, testRegion)
			m.fails(c.code, "RegisterDatabase", register(c.edit))
		})
	}
	if out := m.must("DescribeDatabases", nil); mxNum(t, out, "TotalCount") != 0 {
		t.Fatalf("refused registrations left databases: %v", out["Databases"])
	}

	// A caller who may register but not read the admin secret is refused.
	u, k := s.addUser(t, testAccount, "ct-registrar")
	s.grant(t, testAccount, u, "ct-register-only", `{"version":"2.0","statement":[{"effect":"allow","action":["ssm:RegisterDatabase"],"resource":"*"}]}`)
	_, code, raw := s.callAs(t, k, "", "ssm", "RegisterDatabase", register(func(mxP) {}))
	if code != "UnauthorizedOperation" || !strings.Contains(string(raw), "ssm:GetSecretValue") {
		t.Errorf("RegisterDatabase without the right to read the admin secret: %s: %s", code, raw)
	}

	m.must("RegisterDatabase", register(func(mxP) {}))
	m.fails("ResourceInUse", "RegisterDatabase", register(func(mxP) {}))
	out := m.must("DescribeDatabases", nil)
	list, _ := out["Databases"].([]any)
	if len(list) != 1 {
		t.Fatalf("DescribeDatabases: %v", out)
	}
	db, _ := list[0].(map[string]any)
	mxFields(t, "DescribeDatabases", db, map[string]string{"InstanceID": "string", "ProductName": "string", "Engine": "string",
		"Host": "string", "Port": "number", "AdminSecret": "string", "CreateTime": "number"})
	if db["InstanceID"] != "db-1" || db["ProductName"] != "Mysql" || db["AdminSecret"] != "ct-admin" || db["Port"] != float64(d.port) {
		t.Errorf("DescribeDatabases: %v", db)
	}
	if strings.Contains(string(mustJSON(t, out)), d.adminPass+`"`) && d.adminPass != "" {
		t.Error("DescribeDatabases shows the admin password")
	}
	m.must("DeregisterDatabase", mxP{"InstanceID": "db-1"})
	m.fails("ResourceNotFound", "DeregisterDatabase", mxP{"InstanceID": "db-1"})
}

// TestRotationWebhookPlainHTTP: plain http:// webhooks are refused unless
// the server allows them, and then work.
func TestRotationWebhookPlainHTTP(t *testing.T) {
	var mu sync.Mutex
	var steps []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct{ Step string }
		_ = json.NewDecoder(r.Body).Decode(&ev)
		mu.Lock()
		steps = append(steps, ev.Step)
		mu.Unlock()
		io.WriteString(w, "{}")
	}))
	t.Cleanup(hook.Close)

	strict := newRotAWS(t, mxStartServer(t, rotFast))
	strict.create("ct-http", "v")
	_, err := strict.c.RotateSecret(strict.ctx(), &secretsmanager.RotateSecretInput{SecretId: aws.String("ct-http"), RotationLambdaARN: aws.String(hook.URL)})
	wantAWS(t, "an http:// webhook on a server that does not allow it", err, "InvalidParameterException", "")

	lax := newRotAWS(t, mxStartServer(t, func(c *server.Config) { rotFast(c); c.Rotation.WebhookAllowHTTP = true }))
	lax.create("ct-http", "v")
	ver := lax.rotate("ct-http", hook.URL, nil)
	lax.rotated("ct-http", ver)
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"createSecret", "setSecret", "testSecret", "finishSecret"}; !slices.Equal(steps, want) {
		t.Errorf("the endpoint saw %v, want %v", steps, want)
	}
}
