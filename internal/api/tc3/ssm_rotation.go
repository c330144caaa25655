package tc3

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/rotation"
	"github.com/coffer-secrets/coffer/internal/rotation/dbtarget"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
)

// The rotation actions of SSM: product (database) secrets, SSH key pair
// secrets, schedules, history and asynchronous flows.

type privilegeIn struct {
	PrivilegeName string
	Privileges    []string
	Database      string
	TableName     string
	ColumnName    string
	SchemaName    string
	SequenceName  string
	ProcedureName string
	TypeName      string
	FunctionName  string
	ViewName      string
	MatviewName   string
}

type createProductSecretRequest struct {
	SecretName        string
	UserNamePrefix    string
	ProductName       string
	InstanceID        string
	Domains           []string
	PrivilegesList    []privilegeIn
	Description       string
	KmsKeyId          string
	Tags              []tagIn
	RotationBeginTime string
	EnableRotation    *bool
	RotationFrequency *int64
	KmsHsmClusterId   string
	AccountRemark     string
	AccountType       string
	EncryptType       *int64
}

type createProductSecretResponse struct {
	SecretName string
	TagCode    uint64
	TagMsg     string
	FlowID     int64
}

// rotation returns the rotation service, or UnsupportedOperation when the
// server runs none.
func (e *Edge) rotation() (*rotation.Service, error) {
	if e.Rotation == nil {
		return nil, wire(codeUnsupportedOperation, "Rotation is not enabled on this Coffer server.")
	}
	return e.Rotation, nil
}

func (r *createProductSecretRequest) resource() string { return r.SecretName }
func (r *createProductSecretRequest) check() error {
	if err := checkName(r.SecretName); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{{"UserNamePrefix", r.UserNamePrefix}, {"ProductName", r.ProductName}, {"InstanceID", r.InstanceID}} {
		if err := required(f.name, f.v); err != nil {
			return err
		}
	}
	if len(r.Domains) == 0 {
		return wire(codeMissingParameter, "The parameter `Domains` is required.")
	}
	if r.PrivilegesList == nil {
		return wire(codeMissingParameter, "The parameter `PrivilegesList` is required.")
	}
	if r.EnableRotation != nil && *r.EnableRotation && r.RotationBeginTime == "" {
		return wire(codeMissingParameter, "The parameter `RotationBeginTime` is required when `EnableRotation` is true.")
	}
	if r.RotationBeginTime != "" {
		if _, err := parseTencentTime("RotationBeginTime", r.RotationBeginTime); err != nil {
			return err
		}
	}
	if r.RotationFrequency != nil && (*r.RotationFrequency < 1 || *r.RotationFrequency > 365) {
		return wire(codeInvalidValue, "The parameter `RotationFrequency` must be 1 to 365 days.")
	}
	if r.AccountType != "" {
		return wire(codeUnsupportedOperation, "AccountType applies to SQL Server, which Coffer does not rotate.")
	}
	if r.EncryptType != nil && *r.EncryptType != 0 {
		return wire(codeUnsupportedOperation, "Only EncryptType 0 is supported: every value is envelope-encrypted under a KMS key.")
	}
	if r.KmsHsmClusterId != "" {
		return wire(codeUnsupportedOperation, "KmsHsmClusterId is not supported; the root key provider is chosen by the server.")
	}
	return nil
}

func parseTencentTime(field, s string) (time.Time, error) {
	t, err := time.ParseInLocation(tencentTime, s, time.UTC)
	if err != nil {
		return time.Time{}, wire(codeInvalidValue, fmt.Sprintf("The parameter `%s` must be a time as 2006-01-02 15:04:05 (UTC).", field))
	}
	return t, nil
}

func privileges(in []privilegeIn) []dbtarget.Privilege {
	out := make([]dbtarget.Privilege, 0, len(in))
	for _, p := range in {
		obj := firstOf(p.SequenceName, p.ProcedureName, p.TypeName, p.FunctionName, p.ViewName, p.MatviewName)
		out = append(out, dbtarget.Privilege{Level: p.PrivilegeName, Privileges: p.Privileges, Database: p.Database,
			Schema: p.SchemaName, Table: p.TableName, Column: p.ColumnName, Object: obj})
	}
	return out
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func createProductSecret(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *createProductSecretRequest) (*createProductSecretResponse, error) {
	rs, err := e.rotation()
	if err != nil {
		return nil, err
	}
	tg, err := tags(r.Tags)
	if err != nil {
		return nil, err
	}
	in := rotation.ProductInput{
		Name: r.SecretName, Description: r.Description, KeyID: r.KmsKeyId, Tags: tg, CreatedBy: c.Principal.ID,
		Product: r.ProductName, Database: r.InstanceID, Prefix: r.UserNamePrefix, Hosts: r.Domains,
		Privileges: privileges(r.PrivilegesList), Enable: r.EnableRotation != nil && *r.EnableRotation, Days: 30,
	}
	if r.RotationFrequency != nil {
		in.Days = int(*r.RotationFrequency)
	}
	if r.RotationBeginTime != "" {
		in.Begin, _ = parseTencentTime("RotationBeginTime", r.RotationBeginTime)
	}
	_, run, err := rs.CreateProduct(ctx, sc, in)
	if err != nil {
		return nil, err
	}
	return &createProductSecretResponse{SecretName: r.SecretName, TagMsg: "ok", FlowID: run.ID}, nil
}

type flowResponse struct {
	FlowID int64
}

type rotateProductSecretRequest struct {
	SecretName string
	// Coffer's own: finish into a roll-out to these callers instead of
	// making the new version current for all.
	Rollout *rolloutSelector
}

func (r *rotateProductSecretRequest) resource() string { return r.SecretName }
func (r *rotateProductSecretRequest) check() error     { return readName(r.SecretName) }

func rotateProductSecret(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *rotateProductSecretRequest) (*flowResponse, error) {
	rs, err := e.rotation()
	if err != nil {
		return nil, err
	}
	in := rotation.RotateInput{Immediately: true}
	if r.Rollout != nil {
		ro, err := r.Rollout.rollout("")
		if err != nil {
			return nil, err
		}
		in.Beta = &ro
	}
	run, _, err := rs.Rotate(ctx, sc, r.SecretName, in)
	if err != nil {
		return nil, err
	}
	return &flowResponse{FlowID: run.ID}, nil
}

type updateRotationStatusRequest struct {
	SecretName        string
	EnableRotation    *bool
	Frequency         *int64
	RotationBeginTime string
	// Coffer's own: the rotator of a secret that is not a product secret,
	// spelled as AWS's RotationLambdaARN (coffer:random, an https:// URL…).
	RotationFunction string
}

func (r *updateRotationStatusRequest) resource() string { return r.SecretName }
func (r *updateRotationStatusRequest) check() error {
	if err := readName(r.SecretName); err != nil {
		return err
	}
	if r.EnableRotation == nil {
		return wire(codeMissingParameter, "The parameter `EnableRotation` is required.")
	}
	if r.Frequency != nil && (*r.Frequency < 30 || *r.Frequency > 365) {
		return wire(codeInvalidValue, "The parameter `Frequency` must be 30 to 365 days.")
	}
	if r.RotationBeginTime != "" {
		if _, err := parseTencentTime("RotationBeginTime", r.RotationBeginTime); err != nil {
			return err
		}
	}
	return nil
}

func updateRotationStatus(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *updateRotationStatusRequest) (*empty, error) {
	rs, err := e.rotation()
	if err != nil {
		return nil, err
	}
	in := rotation.ScheduleInput{Enable: *r.EnableRotation}
	if r.Frequency != nil {
		in.Days = int(*r.Frequency)
	}
	if r.RotationBeginTime != "" {
		in.Begin, _ = parseTencentTime("RotationBeginTime", r.RotationBeginTime)
	}
	if r.RotationFunction != "" {
		sp, err := rotation.FromLambda(r.RotationFunction)
		if err != nil {
			return nil, wire(codeInvalidValue, fault.Message(err))
		}
		in.Spec = &sp
	}
	if _, err := rs.SetSchedule(ctx, sc, r.SecretName, in); err != nil {
		return nil, err
	}
	return &empty{}, nil
}

type rotationDetailResponse struct {
	EnableRotation      bool
	Frequency           int64
	LatestRotateTime    *string
	NextRotateBeginTime *string
	// Coffer extensions: the rotator, and the ten newest runs with their
	// state, the step they are at, the last error and the next retry.
	RotationFunction string
	Runs             []runOut
}

type runOut struct {
	FlowID          int64
	Kind            string
	State           string
	Step            string
	Attempts        int64
	Error           string
	VersionId       string
	StartTime       string
	EndTime         *string
	NextAttemptTime *string
}

func optTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := formatTime(t)
	return &s
}

func describeRotationDetail(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *nameRequest) (*rotationDetailResponse, error) {
	rs, err := e.rotation()
	if err != nil {
		return nil, err
	}
	sec, runs, err := rs.Runs(ctx, sc, r.SecretName, historyMax)
	if err != nil {
		return nil, err
	}
	out := &rotationDetailResponse{EnableRotation: sec.Rotation.Enabled, Frequency: int64(sec.Rotation.Days),
		LatestRotateTime: optTime(sec.Rotation.Last), NextRotateBeginTime: optTime(sec.Rotation.Next), Runs: []runOut{}}
	if sp, err := rotation.ParseSpec(sec.Rotation.Rotator); err == nil && sp.Rotator != "" {
		out.RotationFunction = rotation.FunctionOf(sp)
	}
	for _, run := range runs {
		ro := runOut{FlowID: run.ID, Kind: run.Kind, State: string(run.State), Step: run.Step, Attempts: int64(run.Attempts),
			Error: run.Error, VersionId: run.VersionID, StartTime: formatTime(run.StartedAt), EndTime: optTime(run.EndedAt)}
		if run.State == store.RunRunning {
			ro.NextAttemptTime = optTime(run.NextAt)
		}
		out.Runs = append(out.Runs, ro)
	}
	return out, nil
}

type accountInfo struct {
	AccountName string
	Host        []string
	Version     string
	RotatedTime string
}

type rotationHistoryResponse struct {
	VersionIDs      []string
	TotalCount      int64
	AccountInfoList []accountInfo
}

// historyMax is how many historical versions DescribeRotationHistory shows.
const historyMax = 10

func describeRotationHistory(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *nameRequest) (*rotationHistoryResponse, error) {
	rs, err := e.rotation()
	if err != nil {
		return nil, err
	}
	_, vs, err := e.Gate.Secrets.Describe(ctx, sc, r.SecretName)
	if err != nil {
		return nil, err
	}
	out := &rotationHistoryResponse{VersionIDs: []string{}, AccountInfoList: []accountInfo{}}
	for i := len(vs) - 1; i >= 0 && len(out.VersionIDs) < historyMax; i-- { // newest first
		if !slices.Contains(vs[i].Stages, secrets.StageCurrent) && !slices.Contains(vs[i].Stages, secrets.StagePending) {
			out.VersionIDs = append(out.VersionIDs, vs[i].ID)
		}
	}
	out.TotalCount = int64(len(out.VersionIDs))
	accounts, err := rs.Accounts(ctx, sc, r.SecretName)
	if err != nil {
		return nil, err
	}
	for _, a := range accounts {
		ai := accountInfo{AccountName: a.Name, Host: a.Hosts, Version: a.VersionID, RotatedTime: formatTime(a.RotatedAt)}
		if a.Current {
			ai.Version = currentVersionID
		}
		if ai.Host == nil {
			ai.Host = []string{}
		}
		out.AccountInfoList = append(out.AccountInfoList, ai)
	}
	return out, nil
}

type asyncRequest struct {
	FlowID *int64
}

func (r *asyncRequest) resource() string { return "" }
func (r *asyncRequest) check() error {
	if r.FlowID == nil {
		return wire(codeMissingParameter, "The parameter `FlowID` is required.")
	}
	return nil
}

type asyncResponse struct {
	TaskStatus  int64
	Description string
}

func describeAsyncRequestInfo(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *asyncRequest) (*asyncResponse, error) {
	rs, err := e.rotation()
	if err != nil {
		return nil, err
	}
	run, err := rs.Flow(ctx, sc, *r.FlowID)
	if err != nil {
		return nil, err
	}
	switch run.State {
	case store.RunRunning:
		desc := "processing: " + run.Step
		if run.Error != "" {
			desc += fmt.Sprintf("; attempt %d failed (%s); next attempt at %s", run.Attempts, run.Error, formatTime(run.NextAt))
		}
		return &asyncResponse{TaskStatus: 0, Description: desc}, nil
	case store.RunSucceeded:
		return &asyncResponse{TaskStatus: 1, Description: "success"}, nil
	}
	return &asyncResponse{TaskStatus: 2, Description: string(run.State) + ": " + run.Error}, nil
}

type createSSHKeyPairSecretRequest struct {
	SecretName      string
	ProjectId       *int64
	Description     string
	KmsKeyId        string
	Tags            []tagIn
	SSHKeyName      string
	KmsHsmClusterId string
	EncryptType     *int64
	// Coffer's own: the key algorithm (ed25519 by default, or rsa) and RSA size.
	KeyAlgorithm string
	KeyBits      *int64
}

type createSSHKeyPairSecretResponse struct {
	SecretName string
	SSHKeyID   string
	SSHKeyName string
	TagCode    uint64
	TagMsg     string
}

func (r *createSSHKeyPairSecretRequest) resource() string { return r.SecretName }
func (r *createSSHKeyPairSecretRequest) check() error {
	if err := checkName(r.SecretName); err != nil {
		return err
	}
	if r.ProjectId == nil {
		return wire(codeMissingParameter, "The parameter `ProjectId` is required.")
	}
	if r.EncryptType != nil && *r.EncryptType != 0 {
		return wire(codeUnsupportedOperation, "Only EncryptType 0 is supported: every value is envelope-encrypted under a KMS key.")
	}
	if r.KmsHsmClusterId != "" {
		return wire(codeUnsupportedOperation, "KmsHsmClusterId is not supported; the root key provider is chosen by the server.")
	}
	return nil
}

func createSSHKeyPairSecret(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *createSSHKeyPairSecretRequest) (*createSSHKeyPairSecretResponse, error) {
	rs, err := e.rotation()
	if err != nil {
		return nil, err
	}
	tg, err := tags(r.Tags)
	if err != nil {
		return nil, err
	}
	in := rotation.SSHInput{Name: r.SecretName, Description: r.Description, KeyID: r.KmsKeyId, Tags: tg, CreatedBy: c.Principal.ID,
		KeyName: r.SSHKeyName, Algorithm: r.KeyAlgorithm, ProjectID: *r.ProjectId}
	if r.KeyBits != nil {
		in.Bits = int(*r.KeyBits)
	}
	_, v, err := rs.CreateSSH(ctx, sc, in)
	if err != nil {
		return nil, err
	}
	return &createSSHKeyPairSecretResponse{SecretName: r.SecretName, SSHKeyID: v.SSHKeyID, SSHKeyName: v.SSHKeyName, TagMsg: "ok"}, nil
}

type getSSHKeyPairValueRequest struct {
	SecretName string
	SSHKeyId   string
}

type getSSHKeyPairValueResponse struct {
	SSHKeyID          string
	PublicKey         string
	PrivateKey        string
	ProjectID         int64
	SSHKeyDescription string
	SSHKeyName        string
}

func (r *getSSHKeyPairValueRequest) resource() string { return r.SecretName }
func (r *getSSHKeyPairValueRequest) check() error {
	if r.SecretName == "" {
		// Authorization is by secret name, so the name is what finds the key.
		return wire(codeMissingParameter, "The parameter `SecretName` is required: Coffer finds SSH key pairs by their secret's name.")
	}
	return readName(r.SecretName)
}

func getSSHKeyPairValue(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *getSSHKeyPairValueRequest) (*getSSHKeyPairValueResponse, error) {
	sec, err := e.Gate.Secrets.Meta(ctx, sc, r.SecretName)
	if err != nil {
		return nil, err
	}
	if sec.Type != store.TypeSSHKey {
		return nil, wire(codeInvalidValue, "Secret "+r.SecretName+" is not an SSH key pair secret.")
	}
	_, _, val, err := e.Gate.Secrets.GetValue(ctx, sc, r.SecretName, secrets.Selector{})
	if err != nil {
		return nil, err
	}
	var v rotation.SSHValue
	if err := json.Unmarshal(val.Bytes(), &v); err != nil {
		return nil, fault.E("tc3.GetSSHKeyPairValue", fault.Internal, "")
	}
	if r.SSHKeyId != "" && r.SSHKeyId != v.SSHKeyID {
		return nil, wire("ResourceNotFound", "Secret "+r.SecretName+" does not hold SSH key "+r.SSHKeyId+".")
	}
	var cfg struct{ ProjectID int64 }
	_ = json.Unmarshal([]byte(sec.Config), &cfg)
	return &getSSHKeyPairValueResponse{SSHKeyID: v.SSHKeyID, PublicKey: v.PublicKey, PrivateKey: v.PrivateKey,
		ProjectID: cfg.ProjectID, SSHKeyDescription: sec.Description, SSHKeyName: v.SSHKeyName}, nil
}

type registerDatabaseRequest struct {
	InstanceID  string
	Engine      string // postgresql or mysql (also the product names PostgreSQL, Mysql)
	Host        string
	Port        *int64
	AdminSecret string
	Database    string
	TLS         string
	Description string
	SkipCheck   bool
}

type databaseOut struct {
	InstanceID  string
	ProductName string
	Engine      string
	Host        string
	Port        int64
	AdminSecret string
	Description string
	CreateTime  uint64
}

func (r *registerDatabaseRequest) resource() string { return "" }
func (r *registerDatabaseRequest) check() error {
	for _, f := range []struct{ name, v string }{{"InstanceID", r.InstanceID}, {"Engine", r.Engine}, {"Host", r.Host}, {"AdminSecret", r.AdminSecret}} {
		if err := required(f.name, f.v); err != nil {
			return err
		}
	}
	return nil
}

func registerDatabase(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *registerDatabaseRequest) (*databaseOut, error) {
	rs, err := e.rotation()
	if err != nil {
		return nil, err
	}
	// Registering hands Coffer the admin credential to use on the
	// caller's behalf: only a caller who may read it may do so.
	if err := e.Gate.Check(ctx, c, "GetSecretValue", r.AdminSecret); err != nil {
		return nil, err
	}
	engine := r.Engine
	if p, ok := rotation.Products[engine]; ok {
		engine = p
	}
	in := rotation.DatabaseInput{ID: r.InstanceID, Engine: engine, Host: r.Host, AdminSecret: r.AdminSecret,
		Database: r.Database, TLS: r.TLS, Description: r.Description, SkipCheck: r.SkipCheck}
	if r.Port != nil {
		in.Port = int(*r.Port)
	}
	d, err := rs.RegisterDatabase(ctx, sc, in)
	if fault.Is(err, fault.Exists) {
		// Not ResourceInUse.SecretExists, Exists' code: no secret is taken.
		return nil, wire("ResourceInUse", fault.Message(err))
	}
	if err != nil {
		return nil, err
	}
	return dbOut(d), nil
}

func dbOut(d *store.Database) *databaseOut {
	return &databaseOut{InstanceID: d.ID, ProductName: rotation.ProductOf(d.Engine), Engine: d.Engine, Host: d.Host, Port: int64(d.Port),
		AdminSecret: d.AdminSecret, Description: d.Description, CreateTime: unix(d.CreatedAt)}
}

type databasesResponse struct {
	Databases  []*databaseOut
	TotalCount int64
}

func describeDatabases(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, _ *emptyRequest) (*databasesResponse, error) {
	rs, err := e.rotation()
	if err != nil {
		return nil, err
	}
	ds, err := rs.Databases(ctx, sc)
	if err != nil {
		return nil, err
	}
	out := &databasesResponse{Databases: []*databaseOut{}, TotalCount: int64(len(ds))}
	for _, d := range ds {
		out.Databases = append(out.Databases, dbOut(d))
	}
	return out, nil
}

type instanceRequest struct {
	InstanceID string
}

func (r *instanceRequest) resource() string { return "" }
func (r *instanceRequest) check() error     { return required("InstanceID", r.InstanceID) }

func deregisterDatabase(ctx context.Context, e *Edge, sc secrets.Scope, c *api.Call, r *instanceRequest) (*empty, error) {
	rs, err := e.rotation()
	if err != nil {
		return nil, err
	}
	if err := rs.DeregisterDatabase(ctx, sc, r.InstanceID); err != nil {
		return nil, err
	}
	return &empty{}, nil
}
