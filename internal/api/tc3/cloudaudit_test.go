package tc3

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/audit"
)

// checkCode decodes body into r and checks it, returning the wire code of
// the first failure ("" when it passes).
func checkCode(body string, r request) string {
	err := decode([]byte(body), r)
	if err == nil {
		err = r.check()
	}
	if err == nil {
		return ""
	}
	var w *wireError
	if !errors.As(err, &w) {
		return "not a wire error: " + err.Error()
	}
	return w.Code
}

// window returns the StartTime and EndTime members of a body.
func window(start, end int64) string {
	return fmt.Sprintf(`"StartTime":%d,"EndTime":%d`, start, end)
}

func TestLookUpEventsCheck(t *testing.T) {
	const week = 7 * 24 * 3600
	ok := window(1000, 2000)
	for _, tc := range []struct{ body, want string }{
		{`{}`, "InvalidParameter.Time"},
		{`{"StartTime":1}`, "InvalidParameter.Time"},
		{`{"EndTime":1}`, "InvalidParameter.Time"},
		{`{` + ok + `}`, ""},
		{`{"StartTime":"1000","EndTime":"2000"}`, ""},
		{`{"StartTime":"soon","EndTime":2000}`, "InvalidParameter"},
		{`{"StartTime":1.5,"EndTime":2000}`, "InvalidParameter"},
		{`{` + window(2000, 1000) + `}`, "InvalidParameterValue.Time"},
		{`{` + window(-1, 1000) + `}`, "InvalidParameterValue.Time"},
		{`{` + window(0, 1<<62) + `}`, "InvalidParameterValue.Time"},
		{`{` + window(1000, 1000+week) + `}`, ""},
		{`{` + window(1000, 1001+week) + `}`, "LimitExceeded.OverTime"},
		{`{` + ok + `,"MaxResults":50}`, ""},
		{`{` + ok + `,"MaxResults":"5"}`, ""},
		{`{` + ok + `,"MaxResults":51}`, "InvalidParameterValue.MaxResult"},
		{`{` + ok + `,"MaxResults":0}`, "InvalidParameterValue.MaxResult"},
		{`{` + ok + `,"Mode":"quick"}`, ""},
		{`{` + ok + `,"Mode":"slow"}`, "InvalidParameterValue"},
		{`{` + ok + `,"NextToken":""}`, ""},
		{`{` + ok + `,"NextToken":"` + encodeToken(7) + `"}`, ""},
		{`{` + ok + `,"NextToken":"7"}`, "InvalidParameterValue"},
		{`{` + ok + `,"NextToken":7}`, "InvalidParameter"},
		{`{` + ok + `,"LookupAttributes":[{"AttributeKey":"Colour","AttributeValue":"red"}]}`, "InvalidParameterValue.attributeKey"},
		{`{` + ok + `,"LookupAttributes":[{"AttributeKey":"Colour"}]}`, "InvalidParameterValue.attributeKey"},
		{`{` + ok + `,"LookupAttributes":[{"AttributeValue":"x"}]}`, "InvalidParameterValue.attributeKey"},
		{`{` + ok + `,"LookupAttributes":[{"AttributeKey":"ActionType","AttributeValue":"Read"}]}`, ""},
		{`{` + ok + `,"LookupAttributes":[{"AttributeKey":"ActionType","AttributeValue":"Maybe"}]}`, "InvalidParameterValue"},
		{`{` + ok + `,"LookupAttributes":[{"AttributeKey":"ReadOnly","AttributeValue":"yes"}]}`, "InvalidParameterValue"},
		{`{` + ok + `,"LookupAttributes":[{"AttributeKey":"EventId","AttributeValue":"x"}]}`, "InvalidParameterValue"},
		{`{` + ok + `,"LookupAttributes":[{"AttributeKey":"SensitiveAction","AttributeValue":"2"}]}`, "InvalidParameterValue"},
		{`{` + ok + `,"LookupAttributes":[{"AttributeKey":"Tags","AttributeValue":"[]"}]}`, "UnsupportedOperation"},
		{`{` + ok + `,"LookupAttributes":[{"AttributeKey":"EventName","AttributeValue":"x","Extra":1}]}`, "UnknownParameter"},
	} {
		if got := checkCode(tc.body, &lookUpEventsRequest{}); got != tc.want {
			t.Errorf("%s: got code %q, want %q", tc.body, got, tc.want)
		}
	}
}

func TestDescribeEventsCheck(t *testing.T) {
	const month = 30 * 24 * 3600
	for _, tc := range []struct{ body, want string }{
		{`{}`, "InvalidParameter"},
		{`{` + window(1000, 1000+month) + `,"NextToken":12,"IsReturnLocation":1}`, ""},
		{`{` + window(1000, 1001+month) + `}`, "InvalidParameter"},
		{`{` + window(2, 1) + `}`, "InvalidParameter"},
		{`{` + window(1, 2) + `,"MaxResults":51}`, "InvalidParameter"},
		{`{` + window(1, 2) + `,"NextToken":-1}`, "InvalidParameter"},
		{`{` + window(1, 2) + `,"NextToken":"c1"}`, "InvalidParameter"},
		{`{` + window(1, 2) + `,"LookupAttributes":[{"AttributeKey":"Nope","AttributeValue":"x"}]}`, "InvalidParameter"},
	} {
		if got := checkCode(tc.body, &describeEventsRequest{}); got != tc.want {
			t.Errorf("%s: got code %q, want %q", tc.body, got, tc.want)
		}
	}
}

// The attributes become the search the store and the in-memory filter run.
func TestLookUpEventsSearch(t *testing.T) {
	attrs := func(kv ...string) string {
		var b strings.Builder
		for i := 0; i < len(kv); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"AttributeKey":%q,"AttributeValue":%q}`, kv[i], kv[i+1])
		}
		return `{` + window(1000, 2000) + `,"MaxResults":20,"NextToken":"` + encodeToken(90) + `","LookupAttributes":[` + b.String() + `]}`
	}
	r := &lookUpEventsRequest{}
	body := attrs("EventName", "GetSecretValue", "EventName", "PutSecretValue", "ResourceName", "db",
		"AccessKeyId", "AKID1", "RequestId", "r1", "PrincipalId", "100", "ApiErrorCode", "ResourceNotFound",
		"ActionType", "Read", "ReadOnly", "true", "EventId", "42", "PrincipalId", "")
	if code := checkCode(body, r); code != "" {
		t.Fatalf("got code %s", code)
	}
	s := r.search
	if got, want := s.From, time.Unix(1000, 0); !got.Equal(want) {
		t.Errorf("From: got %v, want %v", got, want)
	}
	if got, want := s.To, time.Unix(2001, 0); !got.Equal(want) {
		t.Errorf("To: got %v, want %v (EndTime's second included)", got, want)
	}
	for _, c := range []struct{ name, got, want string }{
		{"Action", fmt.Sprint(s.Action), "[GetSecretValue PutSecretValue]"},
		{"Resource", s.Resource, "db"}, {"AccessKeyID", s.AccessKeyID, "AKID1"},
		{"RequestID", s.RequestID, "r1"}, {"PrincipalID", s.PrincipalID, "100"},
		{"ErrorCode", s.ErrorCode, "ResourceNotFound"},
		{"ReadOnly", fmt.Sprint(s.ReadOnly != nil && *s.ReadOnly), "true"},
		{"Limit", strconv.Itoa(s.Limit), "20"},
		{"AfterSeq", strconv.FormatInt(s.AfterSeq, 10), "41"},
		{"BeforeSeq", strconv.FormatInt(s.BeforeSeq, 10), "43"},
		{"none", fmt.Sprint(s.none), "false"},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, c.got, c.want)
		}
	}

	for _, contradiction := range [][]string{
		{"ResourceName", "a", "ResourceName", "b"},
		{"ActionType", "Read", "ReadOnly", "false"},
		{"EventId", "1", "EventId", "2"},
		{"ApiErrorCode", "A", "ApiErrorCode", "B"},
	} {
		r := &lookUpEventsRequest{}
		if code := checkCode(attrs(contradiction...), r); code != "" || !r.search.none {
			t.Errorf("%v: got code %q none %v, want a search that matches nothing", contradiction, code, r.search.none)
		}
	}
}

// The in-memory conditions select on what the store cannot.
func TestLookUpEventsKeep(t *testing.T) {
	e := &audit.Event{Family: "secretsmanager", SourceIP: "10.1.2.3", Action: "GetSecretValue",
		PrincipalKind: "role", PrincipalName: "deployer", Session: "ci-42", ErrorCode: "AccessDeniedException"}
	for _, tc := range []struct {
		key, value string
		want       bool
	}{
		{"ResourceType", "secretsmanager", true}, {"ResourceType", "ssm", false},
		{"SourceIPAddress", "10.1.2.3", true}, {"SourceIPAddress", "10.1.2.4", false},
		{"Username", "ci-42", true}, {"Username", "deployer", false},
		{"SensitiveAction", "1", true}, {"SensitiveAction", "0", false},
		{"CamErrorCode", "403", true}, {"CamErrorCode", "0", false},
		{"ApiErrorCode", "0", false},
	} {
		var s search
		if err := s.attribute(lookUpRules, 0, tc.key, tc.value); err != nil {
			t.Fatalf("%s=%s: %v", tc.key, tc.value, err)
		}
		if got := len(s.keep) == 1 && s.keep[0](e); got != tc.want {
			t.Errorf("%s=%s: got keep %v, want %v", tc.key, tc.value, got, tc.want)
		}
	}
}

// Event carries exactly the JSON types the SDK's strict decoder expects.
func TestWireEventJSONTypes(t *testing.T) {
	e := &audit.Event{
		Seq: 17, Time: time.Unix(1680513809, 0), Account: "100000000001", PrincipalID: "100000000001",
		PrincipalName: "root", PrincipalKind: "root", AccessKeyID: "AKIDx", SourceIP: "127.0.0.1",
		UserAgent: "sdk", Region: "ap-guangzhou", Family: "ssm", Action: "GetSecretValue", ReadOnly: true,
		Resource: "db", VersionID: "v1", RequestID: "req-1", ErrorCode: "ResourceNotFound",
		Params: `{"SecretName":"db","VersionId":"v1"}`,
	}
	b, err := json.Marshal(wireEvent(e))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"EventId": "17", "Username": "root", "EventTime": "1680513809", "ResourceTypeCn": "",
		"ErrorCode": float64(0), "EventName": "GetSecretValue", "SecretId": "AKIDx",
		"EventSource": "ssm.tencentcloudapi.com", "RequestID": "req-1", "ResourceRegion": "ap-guangzhou",
		"AccountID": float64(100000000001), "SourceIPAddress": "127.0.0.1", "EventNameCn": "",
		"Resources":   map[string]any{"ResourceType": "ssm", "ResourceName": "db"},
		"EventRegion": "ap-guangzhou", "Location": "",
	}
	for k, w := range want {
		if fmt.Sprintf("%#v", got[k]) != fmt.Sprintf("%#v", w) {
			t.Errorf("%s: got %#v, want %#v", k, got[k], w)
		}
	}
	doc, ok := got["CloudAuditEvent"].(string)
	if !ok {
		t.Fatalf("CloudAuditEvent: got %T, want a string", got["CloudAuditEvent"])
	}
	var inner map[string]any
	if err := json.Unmarshal([]byte(doc), &inner); err != nil {
		t.Fatalf("CloudAuditEvent is not JSON: %v", err)
	}
	wantInner := map[string]any{
		"userIdentity": map[string]any{"principalId": "100000000001", "accountId": "100000000001",
			"secretId": "AKIDx", "type": "Root", "userName": "root", "sessionContext": ""},
		"eventVersion": float64(2), "eventID": "17", "requestID": "req-1", "eventTime": float64(1680513809),
		"eventName": "GetSecretValue", "eventSource": "ssm.tencentcloudapi.com", "eventRegion": "ap-guangzhou",
		"eventType": "ApiCall", "actionType": "Read", "sensitiveAction": "1", "apiVersion": "3.0",
		"httpMethod": "POST", "userAgent": "sdk", "sourceIPAddress": "127.0.0.1",
		"errorCode": "ResourceNotFound", "errorMessage": "", "apiErrorCode": float64(1), "apiErrorMessage": "",
		"requestParameters": `{"SecretName":"db","VersionId":"v1"}`, "responseElements": "",
		"resourceType": "ssm", "resourceName": "db", "resources": `["db"]`,
		"resourceSet": []any{}, "tags": []any{},
	}
	for k, w := range wantInner {
		if fmt.Sprintf("%#v", inner[k]) != fmt.Sprintf("%#v", w) {
			t.Errorf("CloudAuditEvent.%s: got %#v, want %#v", k, inner[k], w)
		}
	}
	if len(inner) != len(wantInner) {
		t.Errorf("CloudAuditEvent has %d members, want %d", len(inner), len(wantInner))
	}
}

func TestWireEventSuccessAndRoles(t *testing.T) {
	e := &audit.Event{Seq: 1, Account: "not-a-number", PrincipalKind: "role", PrincipalName: "r", Session: "s",
		Family: "secretsmanager", Action: "PutSecretValue"}
	w := wireEvent(e)
	var inner cloudAuditEvent
	if err := json.Unmarshal([]byte(w.CloudAuditEvent), &inner); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, got, want string }{
		{"Username", w.Username, "s"}, {"AccountID", strconv.FormatInt(w.AccountID, 10), "0"},
		{"type", inner.UserIdentity.Type, "CAMRole"}, {"errorCode", inner.ErrorCode, "0"},
		{"apiErrorCode", strconv.Itoa(inner.APIErrorCode), "0"}, {"actionType", inner.ActionType, "Write"},
		{"apiVersion", inner.APIVersion, "2017-10-17"}, {"requestParameters", inner.RequestParameters, "{}"},
		{"resources", inner.Resources, `["*"]`}, {"sensitiveAction", inner.SensitiveAction, "0"},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
}

func TestDescribeSecretConsumersCheck(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"SecretName":"db"}`, ""},
		{`{}`, "MissingParameter"},
		{`{"SecretName":"db","StartTime":"10","EndTime":20}`, ""},
		{`{"SecretName":"db","StartTime":30,"EndTime":20}`, "InvalidParameterValue"},
		{`{"SecretName":"db","StartTime":-1}`, "InvalidParameterValue"},
		{`{"SecretName":"db","EndTime":"later"}`, "InvalidParameter"},
	} {
		if got := checkCode(tc.body, &describeSecretConsumersRequest{}); got != tc.want {
			t.Errorf("%s: got code %q, want %q", tc.body, got, tc.want)
		}
	}
}

func TestDescribeSecretConsumersWindow(t *testing.T) {
	now := time.Date(2026, 5, 1, 10, 0, 0, 500, time.UTC)
	n := func(v int64) *number { x := number(v); return &x }
	for _, tc := range []struct {
		name     string
		r        describeSecretConsumersRequest
		from, to time.Time
	}{
		{"default", describeSecretConsumersRequest{}, now.Add(time.Second).Truncate(time.Second).Add(-consumersWindow), now.Add(time.Second).Truncate(time.Second)},
		{"both", describeSecretConsumersRequest{StartTime: n(100), EndTime: n(200)}, time.Unix(100, 0), time.Unix(201, 0)},
		{"end only", describeSecretConsumersRequest{EndTime: n(1e9)}, time.Unix(1e9+1, 0).Add(-consumersWindow), time.Unix(1e9+1, 0)},
		{"start only", describeSecretConsumersRequest{StartTime: n(100)}, time.Unix(100, 0), now.Add(time.Second).Truncate(time.Second)},
	} {
		from, to := tc.r.window(now)
		if !from.Equal(tc.from) || !to.Equal(tc.to) {
			t.Errorf("%s: got [%v, %v), want [%v, %v)", tc.name, from, to, tc.from, tc.to)
		}
	}
}

func TestWireConsumer(t *testing.T) {
	c := audit.Consumer{PrincipalID: "9", PrincipalName: "role-name", PrincipalKind: "role", Session: "job",
		AccessKeyID: "AK", VersionIDs: []string{"a", "b"}, Reads: 3, First: time.Unix(5, 0), Last: time.Unix(9, 0)}
	got := wireConsumer(c)
	want := secretConsumer{PrincipalId: "9", PrincipalName: "job", PrincipalType: "CAMRole", AccessKeyId: "AK",
		VersionIds: []string{"a", "b"}, ReadCount: 3, FirstReadTime: 5, LastReadTime: 9}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if b, _ := json.Marshal(wireConsumer(audit.Consumer{})); !strings.Contains(string(b), `"VersionIds":[]`) {
		t.Errorf("got %s, want an empty VersionIds array, not null", b)
	}
}

func TestTokenRoundTrip(t *testing.T) {
	for _, seq := range []int64{1, 42, 1 << 53} {
		got, ok := decodeToken(encodeToken(seq))
		if !ok || got != seq {
			t.Errorf("seq %d: got %d, %v", seq, got, ok)
		}
	}
	for _, tok := range []string{"", "x", "YzEu", "YzEuMA", "YzEuLTE", "YzEuMDE", encodeToken(5) + "="} {
		if seq, ok := decodeToken(tok); ok {
			t.Errorf("%q: got %d, want a refusal", tok, seq)
		}
	}
}

// FuzzDecodeToken: a NextToken is untrusted; it decodes to a positive
// position or is refused, and a position always survives the round trip.
func FuzzDecodeToken(f *testing.F) {
	for _, s := range []string{"", encodeToken(1), encodeToken(99999), "YzEu", "!!", "YzEuOTk5OTk5OTk5OTk5OTk5OTk5OTk5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		seq, ok := decodeToken(tok)
		if !ok {
			return
		}
		if seq < 1 {
			t.Fatalf("%q decodes to %d", tok, seq)
		}
		if back, ok := decodeToken(encodeToken(seq)); !ok || back != seq {
			t.Fatalf("%d does not survive a round trip", seq)
		}
	})
}

// FuzzNumber: the lenient integer accepts exactly an integer, bare or quoted.
func FuzzNumber(f *testing.F) {
	for _, s := range []string{`1`, `"1"`, `-5`, `1.5`, `"x"`, `""`, `"`, `null`, `9223372036854775808`, `"+3"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var n number
		err := n.UnmarshalJSON([]byte(in))
		want, werr := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(in, `"`), `"`), 10, 64)
		quotedOK := len(in) < 2 || in[0] != '"' || in[len(in)-1] == '"'
		if err == nil && (werr != nil || int64(n) != want) {
			t.Fatalf("%q: accepted as %d", in, n)
		}
		if err == nil && !quotedOK {
			t.Fatalf("%q: accepted half-quoted", in)
		}
		var te *json.UnmarshalTypeError
		if err != nil && !errors.As(err, &te) {
			t.Fatalf("%q: got %v, want a type error", in, err)
		}
	})
}

func TestActionsListCloudAudit(t *testing.T) {
	got := Actions()
	if !slices.Equal(got["cloudaudit"], []string{"DescribeEvents", "LookUpEvents"}) {
		t.Errorf("cloudaudit actions: got %v", got["cloudaudit"])
	}
	if !slices.Contains(got["ssm"], "DescribeSecretConsumers") {
		t.Errorf("ssm actions lack DescribeSecretConsumers: %v", got["ssm"])
	}
}
