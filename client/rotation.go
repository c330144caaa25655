package client

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// Rotation: product (database) secrets, schedules, history and the
// asynchronous flows rotations run as.

// tencentTime is how Tencent writes a date-time (UTC in Coffer).
const tencentTime = time.DateTime

// Privilege is one ProductPrivilegeUnit of a product secret's account: a
// level (GlobalPrivileges, DatabasePrivileges, TablePrivileges,
// ColumnPrivileges…), the privileges granted at it, and the object it names.
type Privilege struct {
	Level      string   `json:"PrivilegeName"`
	Privileges []string `json:"Privileges"`
	Database   string   `json:"Database,omitempty"`
	Table      string   `json:"TableName,omitempty"`
	Column     string   `json:"ColumnName,omitempty"`
	Schema     string   `json:"SchemaName,omitempty"`
	Sequence   string   `json:"SequenceName,omitempty"`
	Procedure  string   `json:"ProcedureName,omitempty"`
	Type       string   `json:"TypeName,omitempty"`
	Function   string   `json:"FunctionName,omitempty"`
	View       string   `json:"ViewName,omitempty"`
	Matview    string   `json:"MatviewName,omitempty"`
}

// ProductSecretInput describes a database-credential secret: Coffer
// creates two accounts on a registered database and alternates them.
type ProductSecretInput struct {
	Name           string
	UserNamePrefix string // at most 8 letters, digits and '_', starting with a letter
	ProductName    string // from DescribeSupportedProducts: "PostgreSQL", "Mysql"
	InstanceID     string // a database registered with RegisterDatabase
	Domains        []string
	Privileges     []Privilege
	Description    string
	KmsKeyID       string
	Tags           []Tag
	// EnableRotation turns scheduled rotation on, every RotationDays days
	// (default 30) from RotationBegin (required then).
	EnableRotation bool
	RotationBegin  time.Time
	RotationDays   int
	AccountRemark  string
}

// ProductSecretRef is what CreateProductSecret returns: the secret is
// Creating until flow FlowID ends.
type ProductSecretRef struct {
	Name   string
	FlowID int64
}

// CreateProductSecret creates a product secret and starts the flow that
// creates its accounts; WaitFlow waits for it. It is retried only when the
// server surely did not run it. It returns an *Error:
// ResourceInUse.SecretExists, ResourceNotFound for an unknown InstanceID or
// ProductName, InvalidParameterValue for a bad prefix or privilege,
// MissingParameter, UnsupportedOperation when the server does not rotate.
func (c *Client) CreateProductSecret(ctx context.Context, in ProductSecretInput) (*ProductSecretRef, error) {
	req := struct {
		SecretName, UserNamePrefix, ProductName, InstanceID string
		Domains                                             []string
		PrivilegesList                                      []Privilege
		Description                                         string    `json:",omitempty"`
		KmsKeyId                                            string    `json:",omitempty"`
		Tags                                                []wireTag `json:",omitempty"`
		RotationBeginTime                                   string    `json:",omitempty"`
		EnableRotation                                      bool
		RotationFrequency                                   *int64 `json:",omitempty"`
		AccountRemark                                       string `json:",omitempty"`
	}{SecretName: in.Name, UserNamePrefix: in.UserNamePrefix, ProductName: in.ProductName, InstanceID: in.InstanceID,
		Domains: in.Domains, PrivilegesList: in.Privileges, Description: in.Description, KmsKeyId: in.KmsKeyID,
		Tags: wireTags(in.Tags), RotationBeginTime: tencentTimeString(in.RotationBegin), EnableRotation: in.EnableRotation,
		RotationFrequency: positive(in.RotationDays), AccountRemark: in.AccountRemark}
	if req.PrivilegesList == nil {
		req.PrivilegesList = []Privilege{}
	}
	var out struct {
		SecretName string
		FlowID     int64
	}
	if err := c.call(ctx, "CreateProductSecret", retrySafe, req, &out); err != nil {
		return nil, err
	}
	return &ProductSecretRef{Name: out.SecretName, FlowID: out.FlowID}, nil
}

func wireTags(tags []Tag) []wireTag {
	var out []wireTag
	for _, t := range tags {
		out = append(out, wireTag{t.Key, t.Value})
	}
	return out
}

// tencentTimeString writes t as Tencent does, "" for the zero time.
func tencentTimeString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(tencentTime)
}

func positive(n int) *int64 {
	if n <= 0 {
		return nil
	}
	v := int64(n)
	return &v
}

// RotateProductSecret starts a rotation of a secret that has a rotator (a
// product or SSH key secret, or one given a rotator by UpdateRotationStatus)
// and returns its flow id. With rollout set (Coffer's extension), the new
// version is rolled out to the callers it selects instead of becoming
// current for all; promote or abandon it afterwards. It is retried only
// when the server surely did not run it. It returns an *Error:
// FailedOperation.RotationForbidden while a rotation runs, for a secret
// without a rotator or one not Enabled; ResourceNotFound.
func (c *Client) RotateProductSecret(ctx context.Context, name string, rollout *RolloutSelector) (int64, error) {
	req := struct {
		SecretName string
		Rollout    *wireSelector `json:",omitempty"`
	}{SecretName: name}
	if rollout != nil {
		w := rollout.wire()
		req.Rollout = &w
	}
	var out struct{ FlowID int64 }
	if err := c.call(ctx, "RotateProductSecret", retrySafe, req, &out); err != nil {
		return 0, err
	}
	return out.FlowID, nil
}

// RotationStatusInput sets a secret's rotation schedule.
type RotationStatusInput struct {
	Name   string
	Enable bool
	Days   int       // 30 to 365; 0 keeps the secret's (default 30)
	Begin  time.Time // the first rotation; zero: Days from now
	// Function (Coffer's extension) gives a secret of any type a rotator:
	// "coffer:random", "coffer:ssh", "coffer:postgresql-single",
	// "coffer:postgresql-alternating", "coffer:mysql-single",
	// "coffer:mysql-alternating", or an https:// webhook URL. "" keeps
	// the secret's.
	Function string
}

// UpdateRotationStatus turns a secret's scheduled rotation on or off. It
// returns an *Error: ResourceNotFound, InvalidParameterValue for Days out
// of range or an unknown Function, FailedOperation.RotationForbidden for
// a secret without a rotator (give Function) or a product secret given
// one.
func (c *Client) UpdateRotationStatus(ctx context.Context, in RotationStatusInput) error {
	req := struct {
		SecretName        string
		EnableRotation    bool
		Frequency         *int64 `json:",omitempty"`
		RotationBeginTime string `json:",omitempty"`
		RotationFunction  string `json:",omitempty"`
	}{in.Name, in.Enable, positive(in.Days), tencentTimeString(in.Begin), in.Function}
	return c.call(ctx, "UpdateRotationStatus", retryIdempotent, req, nil)
}

// RotationDetail is a secret's rotation schedule.
type RotationDetail struct {
	Enabled    bool
	Days       int
	LastRotate time.Time // zero when it never rotated
	NextRotate time.Time // zero when none is scheduled
}

// DescribeRotationDetail returns a secret's rotation schedule. It returns
// an *Error: ResourceNotFound.
func (c *Client) DescribeRotationDetail(ctx context.Context, name string) (*RotationDetail, error) {
	var out struct {
		EnableRotation                        bool
		Frequency                             int64
		LatestRotateTime, NextRotateBeginTime *string
	}
	if err := c.call(ctx, "DescribeRotationDetail", retryIdempotent, nameReq{name}, &out); err != nil {
		return nil, err
	}
	return &RotationDetail{Enabled: out.EnableRotation, Days: int(out.Frequency),
		LastRotate: optTencentTime(out.LatestRotateTime), NextRotate: optTencentTime(out.NextRotateBeginTime)}, nil
}

func optTencentTime(s *string) time.Time {
	if s == nil {
		return time.Time{}
	}
	return parseTencentTime(*s)
}

// RotationHistory is DescribeRotationHistory's answer.
type RotationHistory struct {
	// VersionIDs are the secret's earlier versions, newest first, at most 10.
	VersionIDs []string
	// Accounts are a product secret's database accounts; none for others.
	Accounts []RotationAccount
}

// RotationAccount is a product secret's database account.
type RotationAccount struct {
	Name      string
	Hosts     []string
	VersionID string // the version holding its password; SSM_Current for the current account
	Rotated   time.Time
}

// DescribeRotationHistory returns a secret's earlier versions and, for a
// product secret, its accounts. It returns an *Error: ResourceNotFound.
func (c *Client) DescribeRotationHistory(ctx context.Context, name string) (*RotationHistory, error) {
	var out struct {
		VersionIDs      []string
		AccountInfoList []struct {
			AccountName          string
			Host                 []string
			Version, RotatedTime string
		}
	}
	if err := c.call(ctx, "DescribeRotationHistory", retryIdempotent, nameReq{name}, &out); err != nil {
		return nil, err
	}
	h := &RotationHistory{VersionIDs: out.VersionIDs}
	for _, a := range out.AccountInfoList {
		h.Accounts = append(h.Accounts, RotationAccount{Name: a.AccountName, Hosts: a.Host, VersionID: a.Version,
			Rotated: parseTencentTime(a.RotatedTime)})
	}
	return h, nil
}

// FlowState is the state of an asynchronous flow.
type FlowState int

// The flow states, as Tencent numbers them.
const (
	FlowRunning   FlowState = 0
	FlowSucceeded FlowState = 1
	FlowFailed    FlowState = 2
)

// String returns "running", "succeeded" or "failed".
func (s FlowState) String() string {
	switch s {
	case FlowRunning:
		return "running"
	case FlowSucceeded:
		return "succeeded"
	}
	return "failed"
}

// Flow is the state of an asynchronous flow: a rotation, a product
// secret's creation, or the deletion of its accounts.
type Flow struct {
	ID          int64
	State       FlowState
	Description string // "success", or what it is doing or why it failed
}

// Done reports whether the flow ended.
func (f *Flow) Done() bool { return f.State != FlowRunning }

// DescribeAsyncRequestInfo returns the state of a flow. It returns an
// *Error: ResourceNotFound for an unknown flow or another account's.
func (c *Client) DescribeAsyncRequestInfo(ctx context.Context, flowID int64) (*Flow, error) {
	req := struct{ FlowID int64 }{flowID}
	var out struct {
		TaskStatus  int64
		Description string
	}
	if err := c.call(ctx, "DescribeAsyncRequestInfo", retryIdempotent, req, &out); err != nil {
		return nil, err
	}
	return &Flow{ID: flowID, State: FlowState(out.TaskStatus), Description: out.Description}, nil
}

// ErrFlowFailed is wrapped by WaitFlow's error for a flow that failed.
var ErrFlowFailed = errors.New("client: flow failed")

// WaitFlow polls DescribeAsyncRequestInfo every interval (default 200 ms)
// until the flow ends or ctx does, and returns its last state. A flow that
// failed is returned with an error wrapping ErrFlowFailed; otherwise it
// fails as DescribeAsyncRequestInfo does, or with ctx's error.
func (c *Client) WaitFlow(ctx context.Context, flowID int64, interval time.Duration) (*Flow, error) {
	if interval <= 0 {
		interval = 200 * time.Millisecond
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		f, err := c.DescribeAsyncRequestInfo(ctx, flowID)
		if err != nil {
			return nil, err
		}
		if f.State == FlowFailed {
			return f, &flowError{f}
		}
		if f.Done() {
			return f, nil
		}
		select {
		case <-ctx.Done():
			return f, ctx.Err()
		case <-t.C:
		}
	}
}

type flowError struct{ f *Flow }

func (e *flowError) Error() string {
	return "coffer: flow " + strconv.FormatInt(e.f.ID, 10) + " failed: " + e.f.Description
}

func (e *flowError) Unwrap() error { return ErrFlowFailed }
