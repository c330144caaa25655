package tc3

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/iam"
)

// Request and response shapes of the CloudAudit 2019-03-19 actions, typed
// as the Tencent SDK's models decode them (spec §6): EventTime is a string,
// AccountID a number, RequestID spelled with a capital ID, and
// LookUpEvents' NextToken a string where DescribeEvents' is a number.

// number is an integer parameter that also accepts a numeric string, as
// Tencent's own examples and API Explorer send them (spec §1.2).
type number int64

// UnmarshalJSON reads a JSON integer or a string holding one; anything else
// is a type error naming the parameter.
func (n *number) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return &json.UnmarshalTypeError{Value: "value", Type: reflect.TypeFor[int64]()}
	}
	*n = number(v)
	return nil
}

type lookupAttribute struct {
	AttributeKey   string
	AttributeValue string
}

type lookUpEventsRequest struct {
	StartTime        *number
	EndTime          *number
	LookupAttributes []lookupAttribute
	NextToken        *string
	MaxResults       *number
	Mode             *string

	search search // built by check
}

type lookUpEventsResponse struct {
	NextToken  string
	Events     []event
	ListOver   bool
	TotalCount uint64
}

type describeEventsRequest struct {
	StartTime        *number
	EndTime          *number
	NextToken        *number
	MaxResults       *number
	LookupAttributes []lookupAttribute
	IsReturnLocation *number

	search search // built by check
}

type describeEventsResponse struct {
	ListOver   bool
	NextToken  uint64
	Events     []event
	TotalCount uint64
}

// event is the SDK's Event.
type event struct {
	EventId         string
	Username        string
	EventTime       string
	CloudAuditEvent string
	ResourceTypeCn  string
	ErrorCode       int64
	EventName       string
	SecretId        string
	EventSource     string
	RequestID       string
	ResourceRegion  string
	AccountID       int64
	SourceIPAddress string
	EventNameCn     string
	Resources       eventResource
	EventRegion     string
	Location        string
}

type eventResource struct {
	ResourceType string
	ResourceName string
}

// cloudAuditEvent is the JSON document in Event.CloudAuditEvent, in the
// shape of the official example (spec §6.5).
type cloudAuditEvent struct {
	UserIdentity      userIdentity `json:"userIdentity"`
	EventVersion      int          `json:"eventVersion"`
	EventID           string       `json:"eventID"`
	RequestID         string       `json:"requestID"`
	EventTime         int64        `json:"eventTime"`
	EventName         string       `json:"eventName"`
	EventSource       string       `json:"eventSource"`
	EventRegion       string       `json:"eventRegion"`
	EventType         string       `json:"eventType"`
	ActionType        string       `json:"actionType"`
	SensitiveAction   string       `json:"sensitiveAction"`
	APIVersion        string       `json:"apiVersion"`
	HTTPMethod        string       `json:"httpMethod"`
	UserAgent         string       `json:"userAgent"`
	SourceIPAddress   string       `json:"sourceIPAddress"`
	ErrorCode         string       `json:"errorCode"`
	ErrorMessage      string       `json:"errorMessage"`
	APIErrorCode      int          `json:"apiErrorCode"`
	APIErrorMessage   string       `json:"apiErrorMessage"`
	RequestParameters string       `json:"requestParameters"`
	ResponseElements  string       `json:"responseElements"`
	ResourceType      string       `json:"resourceType"`
	ResourceName      string       `json:"resourceName"`
	Resources         string       `json:"resources"`
	ResourceSet       []string     `json:"resourceSet"`
	Tags              []string     `json:"tags"`
}

type userIdentity struct {
	PrincipalID    string `json:"principalId"`
	AccountID      string `json:"accountId"`
	SecretID       string `json:"secretId"`
	Type           string `json:"type"`
	UserName       string `json:"userName"`
	SessionContext string `json:"sessionContext"`
}

// identityTypes names principal kinds as userIdentity.type does. Tencent
// documents only Root; CAMUser and CAMRole are the spec's suggestion.
var identityTypes = map[string]string{
	string(iam.KindRoot): "Root", string(iam.KindUser): "CAMUser",
	string(iam.KindRole): "CAMRole", "system": "System",
}

// camDenied is the CAM error code of a call the access policy refused;
// Tencent documents no value, so Coffer uses HTTP's.
const camDenied = 403

// sensitiveActions hand out secret material.
var sensitiveActions = map[string]bool{
	"GetSecretValue": true, "BatchGetSecretValue": true, "GetSSHKeyPairValue": true,
}

func wireEvents(evs []*audit.Event) []event {
	out := make([]event, 0, len(evs))
	for _, e := range evs {
		out = append(out, wireEvent(e))
	}
	return out
}

func wireEvent(e *audit.Event) event {
	account, _ := strconv.ParseInt(e.Account, 10, 64)
	return event{
		EventId: eventID(e), Username: username(e), EventTime: strconv.FormatInt(e.Time.Unix(), 10),
		CloudAuditEvent: cloudAuditJSON(e), ErrorCode: camCode(e), EventName: e.Action,
		SecretId: e.AccessKeyID, EventSource: eventSource(e), RequestID: e.RequestID,
		ResourceRegion: e.Region, AccountID: account, SourceIPAddress: e.SourceIP,
		Resources: eventResource{ResourceType: e.Family, ResourceName: e.Resource}, EventRegion: e.Region,
	}
}

func cloudAuditJSON(e *audit.Event) string {
	doc := cloudAuditEvent{
		UserIdentity: userIdentity{
			PrincipalID: e.PrincipalID, AccountID: e.Account, SecretID: e.AccessKeyID,
			Type: identityTypes[e.PrincipalKind], UserName: username(e),
		},
		EventVersion: 2, EventID: eventID(e), RequestID: e.RequestID, EventTime: e.Time.Unix(),
		EventName: e.Action, EventSource: eventSource(e), EventRegion: e.Region, EventType: "ApiCall",
		ActionType: actionType(e.ReadOnly), SensitiveAction: flag(sensitiveActions[e.Action]),
		APIVersion: apiVersion(e.Family), HTTPMethod: "POST", UserAgent: e.UserAgent,
		SourceIPAddress: e.SourceIP, ErrorCode: "0", RequestParameters: e.Params,
		ResourceType: e.Family, ResourceName: e.Resource, Resources: `["*"]`,
		ResourceSet: []string{}, Tags: []string{},
	}
	if e.ErrorCode != "" {
		doc.ErrorCode, doc.APIErrorCode = e.ErrorCode, 1
	}
	if doc.RequestParameters == "" {
		doc.RequestParameters = "{}"
	}
	if e.Resource != "" {
		b, _ := json.Marshal([]string{e.Resource})
		doc.Resources = string(b)
	}
	b, _ := json.Marshal(doc) // strings, numbers and string slices: cannot fail
	return string(b)
}

// eventID is the event's position in the audit chain, which
// `coffer audit verify` reports too.
func eventID(e *audit.Event) string { return strconv.FormatInt(e.Seq, 10) }

// username is who CloudAudit says acted: "root", a user's name, or the
// session of a role.
func username(e *audit.Event) string {
	if e.PrincipalKind == string(iam.KindRole) && e.Session != "" {
		return e.Session
	}
	return e.PrincipalName
}

func camCode(e *audit.Event) int64 {
	switch {
	case e.ErrorCode == "UnauthorizedOperation", strings.HasPrefix(e.ErrorCode, "UnauthorizedOperation."),
		e.ErrorCode == "AuthFailure.UnauthorizedOperation", e.ErrorCode == "AccessDeniedException":
		return camDenied
	}
	return 0
}

func eventSource(e *audit.Event) string {
	if e.Family == "" {
		return ""
	}
	return e.Family + ".tencentcloudapi.com"
}

// apiVersion is the protocol version of a family: Tencent's API 3.0, or
// the AWS API's date.
func apiVersion(family string) string {
	switch family {
	case "secretsmanager":
		return "2017-10-17"
	case "", "coffer":
		return ""
	}
	return "3.0"
}

func actionType(readOnly bool) string {
	if readOnly {
		return "Read"
	}
	return "Write"
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
