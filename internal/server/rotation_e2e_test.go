package server_test

import (
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/coffer-secrets/coffer/internal/server"
)

// rotFast makes the rotation worker quick enough for tests: short
// intervals and back-off, two attempts per step, a short grace.
func rotFast(c *server.Config) {
	c.Rotation.Interval = 50 * time.Millisecond
	c.Rotation.Grace = 100 * time.Millisecond
	c.Rotation.RetryBase = 10 * time.Millisecond
	c.Rotation.MaxAttempts = 2
}

// rotWait polls cond until it holds, failing the test after timeout.
func rotWait(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitFlow polls DescribeAsyncRequestInfo until flow id ends, and returns
// its TaskStatus (1 succeeded, 2 failed) and Description.
func (m *mx) waitFlow(id float64) (int, string) {
	m.t.Helper()
	var status int
	var desc string
	rotWait(m.t, "flow to end", time.Minute, func() bool {
		out := m.must("DescribeAsyncRequestInfo", mxP{"FlowID": id})
		status, desc = int(mxNum(m.t, out, "TaskStatus")), mxStr(m.t, out, "Description")
		return status != 0
	})
	return status, desc
}

// flowOK waits for flow id and fails the test unless it succeeded.
func (m *mx) flowOK(what string, id float64) {
	m.t.Helper()
	if st, desc := m.waitFlow(id); st != 1 {
		m.t.Fatalf("%s: flow %v ended with TaskStatus %d (%s), want 1", what, id, st, desc)
	}
}

// productCred is the value of a product secret.
type productCred struct{ UserName, Password string }

func (m *mx) productValue(name, version string) productCred {
	m.t.Helper()
	var c productCred
	s := mxStr(m.t, m.value(name, version), "SecretString")
	if err := json.Unmarshal([]byte(s), &c); err != nil || c.UserName == "" || c.Password == "" {
		m.t.Fatalf("GetSecretValue(%s, %s): the value is not {UserName, Password} (%v)", name, version, err)
	}
	return c
}

// accounts returns DescribeRotationHistory's AccountInfoList by account name.
func (m *mx) accounts(name string) map[string]map[string]any {
	m.t.Helper()
	out := m.must("DescribeRotationHistory", mxP{"SecretName": name})
	list, _ := out["AccountInfoList"].([]any)
	got := map[string]map[string]any{}
	for _, a := range list {
		info, _ := a.(map[string]any)
		got[mxStr(m.t, info, "AccountName")] = info
	}
	return got
}

func TestRotationProductSecretPostgreSQL(t *testing.T) {
	d := rotPostgres(t)
	privileges := []map[string]any{
		{"PrivilegeName": "DatabasePrivileges", "Privileges": []string{"CONNECT"}, "Database": d.db},
		{"PrivilegeName": "TablePrivileges", "Privileges": []string{"SELECT"}, "Database": d.db, "TableName": d.table},
	}
	rotProductLifecycle(t, d, "PostgreSQL", privileges)
}

func TestRotationProductSecretMySQL(t *testing.T) {
	d := rotMySQL(t)
	privileges := []map[string]any{
		{"PrivilegeName": "DatabasePrivileges", "Privileges": []string{"SELECT"}, "Database": d.db},
	}
	rotProductLifecycle(t, d, "Mysql", privileges)
}

// rotProductLifecycle drives a Tencent product secret through its life on
// database d: registration, creation, two rotations, the rotation
// settings and history, hand edits refused, deletion with its accounts.
func rotProductLifecycle(t *testing.T, d *rotDB, product string, privileges []map[string]any) {
	s := mxStartServer(t, rotFast)
	m := newMX(t, s, testRegion)
	prefix := "ct_" + rotHex(5)
	d.dropLater(prefix)

	adminValue, _ := json.Marshal(productCred{UserName: d.adminUser, Password: d.adminPass})
	m.create("ct-admin", string(adminValue), nil)
	m.must("RegisterDatabase", mxP{"InstanceID": "db-1", "Engine": product, "Host": d.host, "Port": d.port,
		"AdminSecret": "ct-admin", "Database": d.db, "TLS": "disable"})
	dbs := m.must("DescribeDatabases", nil)
	if n := mxNum(t, dbs, "TotalCount"); n != 1 {
		t.Fatalf("DescribeDatabases: TotalCount %v, want 1", n)
	}
	products := m.must("DescribeSupportedProducts", nil)
	for _, p := range []string{"Mysql", "PostgreSQL"} {
		if list, _ := products["Products"].([]any); !slices.Contains(list, any(p)) {
			t.Errorf("DescribeSupportedProducts: %v lacks %s", products["Products"], p)
		}
	}

	create := func(name string, edit func(mxP)) mxP {
		p := mxP{"SecretName": name, "UserNamePrefix": prefix, "ProductName": product, "InstanceID": "db-1",
			"Domains": []string{"%"}, "PrivilegesList": privileges}
		if edit != nil {
			edit(p)
		}
		return p
	}
	t.Run("BadInputs", func(t *testing.T) {
		m := newMX(t, s, testRegion)
		other := map[string]string{"Mysql": "PostgreSQL", "PostgreSQL": "Mysql"}[product]
		for _, c := range []struct {
			what, code string
			edit       func(mxP)
		}{
			{"unknown InstanceID", "ResourceNotFound", func(p mxP) { p["InstanceID"] = "db-none" }},
			{"prefix starting with a digit", "InvalidParameterValue", func(p mxP) { p["UserNamePrefix"] = "1ct" }},
			{"prefix too long", "InvalidParameterValue", func(p mxP) { p["UserNamePrefix"] = "ct_toolong" }},
			{"prefix with a dash", "InvalidParameterValue", func(p mxP) { p["UserNamePrefix"] = "ct-x" }},
			{"unknown ProductName", "ResourceNotFound", func(p mxP) { p["ProductName"] = "Redis" }},
			{"ProductName of another engine", "InvalidParameterValue", func(p mxP) { p["ProductName"] = other }},
			{"privilege not allowed", "InvalidParameterValue", func(p mxP) {
				p["PrivilegesList"] = []map[string]any{{"PrivilegeName": "DatabasePrivileges", "Privileges": []string{"SUPER"}, "Database": d.db}}
			}},
			{"unknown privilege level", "InvalidParameterValue", func(p mxP) {
				p["PrivilegesList"] = []map[string]any{{"PrivilegeName": "EverythingPrivileges", "Privileges": []string{"SELECT"}}}
			}},
			{"no Domains", "MissingParameter", func(p mxP) { delete(p, "Domains") }},
		} {
			m.fails(c.code, "CreateProductSecret", create("ct-bad", c.edit))
			m.fails("ResourceNotFound", "DescribeSecret", mxP{"SecretName": "ct-bad"})
		}
		if names, _, _ := m.list(mxP{"Limit": 1000, "State": 0}); slices.Contains(names, "ct-bad") {
			t.Errorf("ListSecrets lists ct-bad after refused creations: %v", names)
		}
		if users := d.users(t, prefix); len(users) != 0 {
			t.Errorf("refused creations left users %v", users)
		}
	})

	// Creation: two accounts, the first one current.
	out := m.must("CreateProductSecret", create("ct-prod", nil))
	m.flowOK("CreateProductSecret", mxNum(t, out, "FlowID"))
	desc := m.describe("ct-prod")
	if desc["Status"] != "Enabled" || desc["SecretType"] != float64(1) || desc["ProductName"] != product {
		t.Fatalf("DescribeSecret after creation: Status %v, SecretType %v, ProductName %v; want Enabled, 1, %s",
			desc["Status"], desc["SecretType"], desc["ProductName"], product)
	}
	if list, _ := desc["AccountInfoList"].([]any); len(list) != 2 || desc["ResourceID"] != "db-1" {
		t.Errorf("DescribeSecret: AccountInfoList %v, ResourceID %v; want the 2 accounts on db-1", desc["AccountInfoList"], desc["ResourceID"])
	}
	accounts := m.accounts("ct-prod")
	if len(accounts) != 2 {
		t.Fatalf("DescribeRotationHistory: %d accounts, want 2", len(accounts))
	}
	for name := range accounts {
		if !rotIsAccount(prefix, name) {
			t.Errorf("account %q is not named %s_SSM_xxx", name, prefix)
		}
		d.enforce(t, name)
	}
	if users := d.users(t, prefix); len(users) != 2 {
		t.Fatalf("database users %v, want the 2 accounts", users)
	}
	first := m.productValue("ct-prod", "SSM_Current")
	d.mustLogin(t, "created account", first.UserName, first.Password)
	d.mustRefuse(t, "created account, wrong password", first.UserName, first.Password+"x")
	if info := accounts[first.UserName]; info == nil || info["Version"] != "SSM_Current" {
		t.Errorf("AccountInfoList: the current account %s is %v, want Version SSM_Current", first.UserName, info)
	}

	// First rotation: the standby account becomes current; the first still works.
	out = m.must("RotateProductSecret", mxP{"SecretName": "ct-prod"})
	m.flowOK("first rotation", mxNum(t, out, "FlowID"))
	second := m.productValue("ct-prod", "SSM_Current")
	if second.UserName == first.UserName || accounts[second.UserName] == nil {
		t.Fatalf("after rotation the current account is %s, want the other account than %s", second.UserName, first.UserName)
	}
	d.mustLogin(t, "rotated-in account", second.UserName, second.Password)
	d.mustLogin(t, "previous account during its overlap", first.UserName, first.Password)

	// Second rotation: back to the first account, with a new password.
	out = m.must("RotateProductSecret", mxP{"SecretName": "ct-prod"})
	m.flowOK("second rotation", mxNum(t, out, "FlowID"))
	third := m.productValue("ct-prod", "SSM_Current")
	if third.UserName != first.UserName || third.Password == first.Password {
		t.Fatalf("after the second rotation: account %s (new password %v), want %s with a new password",
			third.UserName, third.Password != first.Password, first.UserName)
	}
	d.mustLogin(t, "re-passworded account", third.UserName, third.Password)
	d.mustRefuse(t, "the first account's old password", first.UserName, first.Password)
	d.mustLogin(t, "previous account during its overlap", second.UserName, second.Password)

	rotCheckHistory(t, m, first, second, third)
	rotCheckSchedule(t, m)

	// Hand edits are refused.
	m.fails("OperationDenied.AutoRotatedResource", "PutSecretValue", mxP{"SecretName": "ct-prod", "VersionId": "hand", "SecretString": "x"})
	m.fails("OperationDenied.AutoRotatedResource", "UpdateSecret", mxP{"SecretName": "ct-prod", "VersionId": "SSM_Current", "SecretString": "x"})

	// Deletion with DeleteMode 1 drops both accounts.
	m.must("DisableSecret", mxP{"SecretName": "ct-prod"})
	out = m.must("DeleteSecret", mxP{"SecretName": "ct-prod", "DeleteMode": 1, "RecoveryWindowInDays": 0})
	flow := mxNum(t, out, "FlowID")
	if flow == 0 {
		t.Fatal("DeleteSecret with DeleteMode 1: no FlowID")
	}
	m.flowOK("DeleteSecret DeleteMode 1", flow)
	if users := d.users(t, prefix); len(users) != 0 {
		t.Errorf("after DeleteSecret with DeleteMode 1 the database still has users %v", users)
	}
	m.must("DeregisterDatabase", mxP{"InstanceID": "db-1"})
	m.fails("ResourceNotFound", "DeregisterDatabase", mxP{"InstanceID": "db-1"})
}

func rotIsAccount(prefix, name string) bool {
	rest, ok := strings.CutPrefix(name, prefix+"_SSM_")
	return ok && len(rest) == 3
}

// rotCheckHistory checks DescribeRotationHistory after two rotations whose
// current values were first, second and third.
func rotCheckHistory(t *testing.T, m *mx, first, second, third productCred) {
	t.Helper()
	out := m.must("DescribeRotationHistory", mxP{"SecretName": "ct-prod"})
	raw, _ := out["VersionIDs"].([]any)
	if len(raw) != 2 || mxNum(t, out, "TotalCount") != 2 {
		t.Fatalf("DescribeRotationHistory: VersionIDs %v, TotalCount %v; want the 2 earlier versions", raw, out["TotalCount"])
	}
	var old []productCred
	for _, v := range raw {
		id, _ := v.(string)
		old = append(old, m.productValue("ct-prod", id))
	}
	if !slices.Contains(old, first) || !slices.Contains(old, second) {
		t.Errorf("the historical versions do not hold the two earlier credentials")
	}
	accounts := m.accounts("ct-prod")
	cur, prev := accounts[third.UserName], accounts[second.UserName]
	if cur == nil || cur["Version"] != "SSM_Current" {
		t.Errorf("AccountInfoList: current account %s is %v, want Version SSM_Current", third.UserName, cur)
	}
	if prev == nil || prev["Version"] == "SSM_Current" || prev["Version"] == "" {
		t.Errorf("AccountInfoList: previous account %s is %v, want the id of its version", second.UserName, prev)
	}
	for name, a := range accounts {
		if hosts, _ := a["Host"].([]any); len(hosts) != 1 || hosts[0] != "%" {
			t.Errorf("AccountInfoList: %s Host %v, want [%%]", name, a["Host"])
		}
		if a["RotatedTime"] == "" {
			t.Errorf("AccountInfoList: %s has no RotatedTime", name)
		}
	}
}

// rotCheckSchedule checks UpdateRotationStatus and DescribeRotationDetail.
func rotCheckSchedule(t *testing.T, m *mx) {
	t.Helper()
	detail := m.must("DescribeRotationDetail", mxP{"SecretName": "ct-prod"})
	if detail["EnableRotation"] != false || detail["LatestRotateTime"] == nil {
		t.Errorf("DescribeRotationDetail before enabling: %v; want EnableRotation false and a LatestRotateTime", mxStrip(detail))
	}
	m.fails("InvalidParameterValue", "UpdateRotationStatus", mxP{"SecretName": "ct-prod", "EnableRotation": true, "Frequency": 29})
	m.fails("InvalidParameterValue", "UpdateRotationStatus", mxP{"SecretName": "ct-prod", "EnableRotation": true, "Frequency": 366})
	m.must("UpdateRotationStatus", mxP{"SecretName": "ct-prod", "EnableRotation": true, "Frequency": 30})
	detail = m.must("DescribeRotationDetail", mxP{"SecretName": "ct-prod"})
	if detail["EnableRotation"] != true || detail["Frequency"] != float64(30) {
		t.Errorf("DescribeRotationDetail: %v; want EnableRotation true, Frequency 30", mxStrip(detail))
	}
	next, _ := detail["NextRotateBeginTime"].(string)
	at, err := time.Parse("2006-01-02 15:04:05", next)
	if err != nil || at.Before(time.Now().AddDate(0, 0, 29)) || at.After(time.Now().AddDate(0, 0, 31)) {
		t.Errorf("NextRotateBeginTime %q, want about 30 days from now", next)
	}
	if desc := m.describe("ct-prod"); desc["RotationStatus"] != true || desc["RotationFrequency"] != float64(30) {
		t.Errorf("DescribeSecret: RotationStatus %v, RotationFrequency %v; want true, 30", desc["RotationStatus"], desc["RotationFrequency"])
	}
	m.must("UpdateRotationStatus", mxP{"SecretName": "ct-prod", "EnableRotation": false})
	if detail := m.must("DescribeRotationDetail", mxP{"SecretName": "ct-prod"}); detail["EnableRotation"] != false {
		t.Errorf("DescribeRotationDetail after disabling: EnableRotation %v", detail["EnableRotation"])
	}
}

func TestRotationSSHKeyPair(t *testing.T) {
	s := mxStartServer(t, rotFast)
	m := newMX(t, s, testRegion)
	out := m.must("CreateSSHKeyPairSecret", mxP{"SecretName": "ct-ssh", "ProjectId": 0, "Description": "deploy key"})
	keyID := mxStr(t, out, "SSHKeyID")
	if out["SecretName"] != "ct-ssh" || len(keyID) < 6 || keyID[:5] != "skey-" || mxStr(t, out, "SSHKeyName") == "" {
		t.Fatalf("CreateSSHKeyPairSecret: %v", mxStrip(out))
	}
	if desc := m.describe("ct-ssh"); desc["SecretType"] != float64(2) || desc["Status"] != "Enabled" {
		t.Errorf("DescribeSecret: SecretType %v, Status %v; want 2, Enabled", desc["SecretType"], desc["Status"])
	}
	first := rotSSHPair(t, m, "ct-ssh", keyID)
	if got := m.must("GetSSHKeyPairValue", mxP{"SecretName": "ct-ssh"}); got["SSHKeyDescription"] != "deploy key" || got["ProjectID"] != float64(0) {
		t.Errorf("GetSSHKeyPairValue: SSHKeyDescription %v, ProjectID %v", got["SSHKeyDescription"], got["ProjectID"])
	}
	m.fails("ResourceNotFound", "GetSSHKeyPairValue", mxP{"SecretName": "ct-ssh", "SSHKeyId": "skey-other"})
	m.fails("OperationDenied.AutoRotatedResource", "PutSecretValue", mxP{"SecretName": "ct-ssh", "VersionId": "hand", "SecretString": "x"})

	out = m.must("RotateProductSecret", mxP{"SecretName": "ct-ssh"})
	m.flowOK("RotateProductSecret of an SSH key", mxNum(t, out, "FlowID"))
	second := rotSSHPair(t, m, "ct-ssh", keyID)
	if string(second.Marshal()) == string(first.Marshal()) {
		t.Fatal("after rotation GetSSHKeyPairValue returns the same key pair")
	}

	// A secret that is not an SSH key pair has none to show.
	m.create("ct-plain", "v", nil)
	m.fails("InvalidParameterValue", "GetSSHKeyPairValue", mxP{"SecretName": "ct-plain"})
}

// rotSSHPair reads an SSH key pair secret and checks that its private key
// is PEM, its public key an authorized_keys line naming the key id, and
// that the two match. It returns the public key.
func rotSSHPair(t *testing.T, m *mx, name, keyID string) ssh.PublicKey {
	t.Helper()
	got := m.must("GetSSHKeyPairValue", mxP{"SecretName": name})
	if got["SSHKeyID"] != keyID {
		t.Fatalf("GetSSHKeyPairValue: SSHKeyID %v, want %s", got["SSHKeyID"], keyID)
	}
	priv := mxStr(t, got, "PrivateKey")
	if block, _ := pem.Decode([]byte(priv)); block == nil {
		t.Fatal("PrivateKey is not PEM")
	}
	signer, err := ssh.ParsePrivateKey([]byte(priv))
	if err != nil {
		t.Fatalf("PrivateKey does not parse: %v", err)
	}
	pub, comment, _, _, err := ssh.ParseAuthorizedKey([]byte(mxStr(t, got, "PublicKey")))
	if err != nil {
		t.Fatalf("PublicKey does not parse: %v", err)
	}
	if comment != keyID {
		t.Errorf("PublicKey comment %q, want the key id %s", comment, keyID)
	}
	if string(pub.Marshal()) != string(signer.PublicKey().Marshal()) {
		t.Fatal("PublicKey does not match PrivateKey")
	}
	sig, err := signer.Sign(rand.Reader, []byte("challenge"))
	if err != nil || pub.Verify([]byte("challenge"), sig) != nil {
		t.Fatalf("a signature of PrivateKey does not verify under PublicKey: %v", err)
	}
	return pub
}
