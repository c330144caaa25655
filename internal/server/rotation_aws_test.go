package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/coffer-secrets/coffer/internal/server"
)

// rotAWS drives one server through aws-sdk-go-v2 for one test.
type rotAWS struct {
	t *testing.T
	c *secretsmanager.Client
}

func newRotAWS(t *testing.T, s *testServer) *rotAWS {
	return &rotAWS{t: t, c: awsClient(s, rootKey, "")}
}

func (a *rotAWS) ctx() context.Context { return a.t.Context() }

// create makes a secret holding value and returns its ARN and version.
func (a *rotAWS) create(name, value string) (string, string) {
	a.t.Helper()
	out, err := a.c.CreateSecret(a.ctx(), &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
	if err != nil {
		a.t.Fatalf("CreateSecret %s: %v", name, err)
	}
	return aws.ToString(out.ARN), aws.ToString(out.VersionId)
}

func (a *rotAWS) describe(name string) *secretsmanager.DescribeSecretOutput {
	a.t.Helper()
	out, err := a.c.DescribeSecret(a.ctx(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
	if err != nil {
		a.t.Fatalf("DescribeSecret %s: %v", name, err)
	}
	return out
}

func (a *rotAWS) value(name string) (string, string) {
	a.t.Helper()
	out, err := a.c.GetSecretValue(a.ctx(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
	if err != nil {
		a.t.Fatalf("GetSecretValue %s: %v", name, err)
	}
	return aws.ToString(out.SecretString), aws.ToString(out.VersionId)
}

// rotate starts a rotation with the function arn and returns the new
// version's id.
func (a *rotAWS) rotate(name, arn string, rules *smtypes.RotationRulesType) string {
	a.t.Helper()
	in := &secretsmanager.RotateSecretInput{SecretId: aws.String(name), RotationRules: rules}
	if arn != "" {
		in.RotationLambdaARN = aws.String(arn)
	}
	out, err := a.c.RotateSecret(a.ctx(), in)
	if err != nil {
		a.t.Fatalf("RotateSecret %s: %v", name, err)
	}
	if aws.ToString(out.VersionId) == "" || aws.ToString(out.Name) != name {
		a.t.Fatalf("RotateSecret %s: VersionId %q, Name %q", name, aws.ToString(out.VersionId), aws.ToString(out.Name))
	}
	return aws.ToString(out.VersionId)
}

// rotated waits until version carries AWSCURRENT, no version carries
// AWSPENDING, and LastRotatedDate is at or after the version's creation,
// and returns DescribeSecret then. The date is waited for too: DescribeSecret
// may show a rotation's stages with the metadata from just before it (the
// gate's preloaded copy of the secret; see secrets.WithLoaded).
func (a *rotAWS) rotated(name, version string) *secretsmanager.DescribeSecretOutput {
	a.t.Helper()
	var out *secretsmanager.DescribeSecretOutput
	rotWait(a.t, "rotation of "+name, time.Minute, func() bool {
		out = a.describe(name)
		if !slices.Contains(out.VersionIdsToStages[version], "AWSCURRENT") || pendingOf(out) != "" || out.LastRotatedDate == nil {
			return false
		}
		created := a.versionCreated(name, version)
		return !out.LastRotatedDate.Before(created)
	})
	return out
}

// versionCreated returns when a version was created.
func (a *rotAWS) versionCreated(name, version string) time.Time {
	a.t.Helper()
	out, err := a.c.ListSecretVersionIds(a.ctx(), &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String(name), IncludeDeprecated: aws.Bool(true)})
	if err != nil {
		a.t.Fatal(err)
	}
	for _, v := range out.Versions {
		if aws.ToString(v.VersionId) == version && v.CreatedDate != nil {
			return *v.CreatedDate
		}
	}
	a.t.Fatalf("ListSecretVersionIds(%s) lacks version %s", name, version)
	return time.Time{}
}

// pendingOf returns the version carrying AWSPENDING, or "".
func pendingOf(out *secretsmanager.DescribeSecretOutput) string {
	for v, stages := range out.VersionIdsToStages {
		if slices.Contains(stages, "AWSPENDING") {
			return v
		}
	}
	return ""
}

// wantAWS fails the test unless err is code with a message containing msg.
func wantAWS(t *testing.T, what string, err error, code, msg string) {
	t.Helper()
	if got := awsCode(err); got != code {
		t.Fatalf("%s: got %q (%v), want %s", what, got, err, code)
	}
	var ae smithy.APIError
	if msg != "" && (!errors.As(err, &ae) || !strings.Contains(ae.ErrorMessage(), msg)) {
		t.Fatalf("%s: message %q, want it to contain %q", what, err, msg)
	}
}

func TestRotationAWSRandom(t *testing.T) {
	s := mxStartServer(t, rotFast)
	a := newRotAWS(t, s)
	arn, v1 := a.create("ct-rand", `{"username":"app","password":"old-password"}`)

	v2 := a.rotate("ct-rand", "coffer:random", &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(7)})
	if v2 == v1 {
		t.Fatalf("RotateSecret returned the current version %s", v1)
	}
	out := a.rotated("ct-rand", v2)
	if !slices.Contains(out.VersionIdsToStages[v1], "AWSPREVIOUS") {
		t.Errorf("VersionIdsToStages %v: the old version %s is not AWSPREVIOUS", out.VersionIdsToStages, v1)
	}
	if !aws.ToBool(out.RotationEnabled) || aws.ToString(out.RotationLambdaARN) != "coffer:random" ||
		out.RotationRules == nil || aws.ToInt64(out.RotationRules.AutomaticallyAfterDays) != 7 {
		t.Errorf("DescribeSecret: RotationEnabled %v, RotationLambdaARN %q, RotationRules %+v",
			aws.ToBool(out.RotationEnabled), aws.ToString(out.RotationLambdaARN), out.RotationRules)
	}
	if out.LastRotatedDate == nil || time.Since(*out.LastRotatedDate) > time.Minute {
		t.Errorf("LastRotatedDate %v, want a moment ago", out.LastRotatedDate)
	}
	if out.NextRotationDate == nil || out.LastRotatedDate == nil ||
		out.NextRotationDate.Sub(*out.LastRotatedDate) < 6*24*time.Hour || out.NextRotationDate.Sub(*out.LastRotatedDate) > 8*24*time.Hour {
		t.Errorf("NextRotationDate %v, want about 7 days after LastRotatedDate %v", out.NextRotationDate, out.LastRotatedDate)
	}
	if aws.ToString(out.ARN) != arn {
		t.Errorf("ARN %q, want %q", aws.ToString(out.ARN), arn)
	}
	val, ver := a.value("ct-rand")
	var got map[string]string
	if err := json.Unmarshal([]byte(val), &got); err != nil || ver != v2 || got["username"] != "app" ||
		got["password"] == "" || got["password"] == "old-password" {
		t.Errorf("the current value (version %s) has username %q and a new password: %v; want version %s, username app, a new password",
			ver, got["username"], got["password"] != "old-password", v2)
	}

	// RotateSecret again without an ARN uses the one stored.
	v3 := a.rotate("ct-rand", "", nil)
	a.rotated("ct-rand", v3)

	cancel, err := a.c.CancelRotateSecret(a.ctx(), &secretsmanager.CancelRotateSecretInput{SecretId: aws.String("ct-rand")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(cancel.Name) != "ct-rand" || aws.ToString(cancel.ARN) != arn {
		t.Errorf("CancelRotateSecret: Name %q, ARN %q", aws.ToString(cancel.Name), aws.ToString(cancel.ARN))
	}
	out = a.describe("ct-rand")
	if aws.ToBool(out.RotationEnabled) || aws.ToString(out.RotationLambdaARN) != "coffer:random" || out.NextRotationDate != nil {
		t.Errorf("after CancelRotateSecret: RotationEnabled %v, RotationLambdaARN %q, NextRotationDate %v; want false, kept, none",
			aws.ToBool(out.RotationEnabled), aws.ToString(out.RotationLambdaARN), out.NextRotationDate)
	}
}

func TestRotationAWSRules(t *testing.T) {
	s := mxStartServer(t, rotFast)
	a := newRotAWS(t, s)
	a.create("ct-plain", "v")
	if out := a.describe("ct-plain"); out.RotationEnabled != nil || out.RotationRules != nil || out.RotationLambdaARN != nil {
		t.Errorf("DescribeSecret of a secret never rotated shows rotation fields: %v %+v %v",
			out.RotationEnabled, out.RotationRules, out.RotationLambdaARN)
	}
	_, err := a.c.RotateSecret(a.ctx(), &secretsmanager.RotateSecretInput{SecretId: aws.String("ct-plain")})
	wantAWS(t, "RotateSecret without a function", err, "InvalidRequestException", "No Lambda rotation function ARN is associated with this secret.")
	_, err = a.c.CancelRotateSecret(a.ctx(), &secretsmanager.CancelRotateSecretInput{SecretId: aws.String("ct-plain")})
	wantAWS(t, "CancelRotateSecret without a function", err, "InvalidRequestException", "")

	never := aws.Bool(false)
	for _, c := range []struct {
		what  string
		arn   string
		rules *smtypes.RotationRulesType
		code  string
	}{
		{"AutomaticallyAfterDays 0", "coffer:random", &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(0)}, "InvalidParameterException"},
		{"AutomaticallyAfterDays 1001", "coffer:random", &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(1001)}, "InvalidParameterException"},
		{"a bad cron", "coffer:random", &smtypes.RotationRulesType{ScheduleExpression: aws.String("cron(0 12 * *)")}, "InvalidParameterException"},
		{"rate below 4 hours", "coffer:random", &smtypes.RotationRulesType{ScheduleExpression: aws.String("rate(1 hours)")}, "InvalidParameterException"},
		{"days and a schedule", "coffer:random", &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(3), ScheduleExpression: aws.String("rate(4 hours)")}, "InvalidParameterException"},
		{"an unknown rotator", "coffer:oracle", nil, "InvalidParameterException"},
		{"a plain http webhook", "http://127.0.0.1:1/rotate", nil, "InvalidParameterException"},
		{"a foreign Lambda", "arn:aws:lambda:us-east-1:123456789012:function:mine", nil, "InvalidParameterException"},
	} {
		_, err := a.c.RotateSecret(a.ctx(), &secretsmanager.RotateSecretInput{SecretId: aws.String("ct-plain"),
			RotationLambdaARN: aws.String(c.arn), RotationRules: c.rules, RotateImmediately: never})
		wantAWS(t, c.what, err, c.code, "")
	}
	if out := a.describe("ct-plain"); out.RotationEnabled != nil || out.RotationLambdaARN != nil {
		t.Errorf("refused RotateSecret calls left rotation settings: %v %v", out.RotationEnabled, out.RotationLambdaARN)
	}

	for _, expr := range []string{"rate(4 hours)", "rate(10 days)", "cron(0 12 * * ? *)"} {
		_, err := a.c.RotateSecret(a.ctx(), &secretsmanager.RotateSecretInput{SecretId: aws.String("ct-plain"),
			RotationLambdaARN: aws.String("coffer:random"), RotateImmediately: never,
			RotationRules: &smtypes.RotationRulesType{ScheduleExpression: aws.String(expr)}})
		if err != nil {
			t.Fatalf("RotateSecret with ScheduleExpression %q: %v", expr, err)
		}
		out := a.describe("ct-plain")
		if out.RotationRules == nil || aws.ToString(out.RotationRules.ScheduleExpression) != expr || out.RotationRules.AutomaticallyAfterDays != nil {
			t.Errorf("ScheduleExpression %q: RotationRules %+v", expr, out.RotationRules)
		}
		if !aws.ToBool(out.RotationEnabled) || out.NextRotationDate == nil || !out.NextRotationDate.After(time.Now()) {
			t.Errorf("ScheduleExpression %q: RotationEnabled %v, NextRotationDate %v", expr, aws.ToBool(out.RotationEnabled), out.NextRotationDate)
		}
		if len(out.VersionIdsToStages) != 1 {
			t.Errorf("ScheduleExpression %q with RotateImmediately false: versions %v, want no rotation", expr, out.VersionIdsToStages)
		}
	}
	out := a.describe("ct-plain")
	if next := out.NextRotationDate.UTC(); next.Hour() != 12 || next.Minute() != 0 {
		t.Errorf("cron(0 12 * * ? *): NextRotationDate %v, want 12:00 UTC", next)
	}
}

// TestRotationAWSDatabase rotates AWS-layout database credentials with the
// built-in rotators, single-user and alternating, on PostgreSQL and MySQL.
func TestRotationAWSDatabase(t *testing.T) {
	for _, engine := range []string{"postgres", "mysql"} {
		t.Run(engine, func(t *testing.T) {
			var d *rotDB
			rotator := "postgresql"
			if engine == "postgres" {
				d = rotPostgres(t)
			} else {
				d, rotator = rotMySQL(t), "mysql"
			}
			s := mxStartServer(t, rotFast)
			t.Run("single", func(t *testing.T) { rotAWSSingle(t, s, d, engine, rotator) })
			t.Run("alternating", func(t *testing.T) { rotAWSAlternating(t, s, d, engine, rotator) })
		})
	}
}

// dbValue is the AWS layout of a database credential.
type dbValue struct {
	Engine    string `json:"engine"`
	Host      string `json:"host"`
	Port      int    `json:"port"`
	Username  string `json:"username"`
	Password  string `json:"password"`
	DBName    string `json:"dbname,omitempty"`
	MasterARN string `json:"masterarn,omitempty"`
}

func (a *rotAWS) dbValue(name string) (dbValue, string) {
	a.t.Helper()
	s, ver := a.value(name)
	var v dbValue
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		a.t.Fatalf("%s: the value is not JSON: %v", name, err)
	}
	return v, ver
}

func rotAWSSingle(t *testing.T, s *testServer, d *rotDB, engine, rotator string) {
	a := newRotAWS(t, s)
	user, pw := "ct_"+rotHex(10), "Pw0"+rotHex(20)
	d.createUser(t, user, pw)
	d.mustLogin(t, "the user before rotation", user, pw)
	d.mustRefuse(t, "the user, wrong password", user, pw+"x")
	v0 := dbValue{Engine: engine, Host: d.host, Port: d.port, Username: user, Password: pw, DBName: d.db}
	b, _ := json.Marshal(v0)
	a.create("ct-single", string(b))

	for i := range 2 {
		before, _ := a.dbValue("ct-single")
		ver := a.rotate("ct-single", "coffer:"+rotator+"-single", nil)
		a.rotated("ct-single", ver)
		after, _ := a.dbValue("ct-single")
		if after.Username != user || after.Password == before.Password || after.Host != d.host || after.DBName != d.db || after.Engine != engine {
			t.Fatalf("rotation %d: value %s/%s@%s/%s (new password %v), want %s with a new password and the rest kept",
				i+1, after.Engine, after.Username, after.Host, after.DBName, after.Password != before.Password, user)
		}
		d.mustLogin(t, "the new password", user, after.Password)
		d.mustRefuse(t, "the old password", user, before.Password)
	}
	if out := a.describe("ct-single"); aws.ToString(out.RotationLambdaARN) != "coffer:"+rotator+"-single" {
		t.Errorf("RotationLambdaARN %q", aws.ToString(out.RotationLambdaARN))
	}
}

func rotAWSAlternating(t *testing.T, s *testServer, d *rotDB, engine, rotator string) {
	a := newRotAWS(t, s)
	user, pw := "ct_"+rotHex(10), "Pw0"+rotHex(20)
	d.createUser(t, user, pw)
	master := dbValue{Engine: engine, Host: d.host, Port: d.port, Username: d.adminUser, Password: d.adminPass, DBName: d.db}
	b, _ := json.Marshal(master)
	masterARN, _ := a.create("ct-master-"+engine, string(b))
	v0 := dbValue{Engine: engine, Host: d.host, Port: d.port, Username: user, Password: pw, DBName: d.db, MasterARN: masterARN}
	b, _ = json.Marshal(v0)
	a.create("ct-alt", string(b))

	// First rotation: the clone is created and becomes current; the user
	// keeps its password.
	ver := a.rotate("ct-alt", "coffer:"+rotator+"-alternating", nil)
	a.rotated("ct-alt", ver)
	clone, _ := a.dbValue("ct-alt")
	if clone.Username != user+"_clone" || clone.MasterARN != masterARN || clone.Password == pw {
		t.Fatalf("first rotation: username %q (masterarn kept %v), want %s_clone with a new password", clone.Username, clone.MasterARN == masterARN, user)
	}
	d.mustLogin(t, "the clone", clone.Username, clone.Password)
	d.mustRefuse(t, "the clone, wrong password", clone.Username, clone.Password+"x")
	d.mustLogin(t, "the previous user during its overlap", user, pw)

	// Second rotation: back to the user, with a new password; the clone
	// keeps working until the next rotation.
	ver = a.rotate("ct-alt", "", nil)
	a.rotated("ct-alt", ver)
	back, _ := a.dbValue("ct-alt")
	if back.Username != user || back.Password == pw {
		t.Fatalf("second rotation: username %q (new password %v), want %s with a new password", back.Username, back.Password != pw, user)
	}
	d.mustLogin(t, "the user's new password", user, back.Password)
	d.mustRefuse(t, "the user's old password", user, pw)
	d.mustLogin(t, "the clone during its overlap", clone.Username, clone.Password)
	if users := d.users(t, user); len(users) != 2 {
		t.Errorf("database users %v, want %s and its clone", users, user)
	}
}

// TestRotationAlternatingGrace: under the alternating strategy a rotation
// does not re-password the user that stopped being current until Grace has
// passed since, so applications that read it just before still log in.
func TestRotationAlternatingGrace(t *testing.T) {
	const grace = 1500 * time.Millisecond
	d := rotPostgres(t)
	s := mxStartServer(t, func(c *server.Config) { rotFast(c); c.Rotation.Grace = grace })
	a := newRotAWS(t, s)
	user, pw := "ct_"+rotHex(10), "Pw0"+rotHex(20)
	d.createUser(t, user, pw)
	master, _ := json.Marshal(dbValue{Engine: "postgres", Host: d.host, Port: d.port, Username: d.adminUser, Password: d.adminPass, DBName: d.db})
	a.create("ct-master", string(master))
	v0, _ := json.Marshal(dbValue{Engine: "postgres", Host: d.host, Port: d.port, Username: user, Password: pw, DBName: d.db, MasterARN: "ct-master"})
	a.create("ct-grace", string(v0))

	first := a.rotated("ct-grace", a.rotate("ct-grace", "coffer:postgresql-alternating", nil))
	ver := a.rotate("ct-grace", "", nil)
	// Within the grace the previous user keeps its password.
	for time.Since(*first.LastRotatedDate) < grace-300*time.Millisecond {
		d.mustLogin(t, "the previous user within the grace", user, pw)
		time.Sleep(100 * time.Millisecond)
	}
	second := a.rotated("ct-grace", ver)
	if gap := second.LastRotatedDate.Sub(*first.LastRotatedDate); gap < grace {
		t.Errorf("the second rotation finished %s after the first, want at least the grace %s", gap, grace)
	}
	d.mustRefuse(t, "the previous user after the grace and a rotation", user, pw)
}
