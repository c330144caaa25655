package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
)

// lookupSecretName is the secret the look-up tests create.
const lookupSecretName = "audit-e2e-db"

// cloudaudit sends one CloudAudit action through the official SDK's common
// client and returns the raw body and its "Response" object.
func (c *ssm) cloudaudit(action string, params map[string]any) ([]byte, map[string]any, error) {
	c.t.Helper()
	req := tchttp.NewCommonRequest("cloudaudit", "2019-03-19", action)
	if err := req.SetActionParameters(params); err != nil {
		c.t.Fatalf("%s: set parameters: %v", action, err)
	}
	resp := tchttp.NewCommonResponse()
	if err := c.client.Send(req, resp); err != nil {
		return nil, nil, err
	}
	var out struct{ Response map[string]any }
	if err := json.Unmarshal(resp.GetBody(), &out); err != nil {
		c.t.Fatalf("%s: decode response: %v", action, err)
	}
	return resp.GetBody(), out.Response, nil
}

// lookup is LookUpEvents over a window, recording every raw body it reads.
type lookup struct {
	c          *ssm
	start, end int64
	raw        [][]byte
}

// page sends one LookUpEvents and returns its response.
func (l *lookup) page(extra map[string]any, attrs ...string) map[string]any {
	l.c.t.Helper()
	p := map[string]any{"StartTime": l.start, "EndTime": l.end, "MaxResults": 50}
	for k, v := range extra {
		p[k] = v
	}
	var as []map[string]any
	for i := 0; i+1 < len(attrs); i += 2 {
		as = append(as, map[string]any{"AttributeKey": attrs[i], "AttributeValue": attrs[i+1]})
	}
	if as != nil {
		p["LookupAttributes"] = as
	}
	raw, resp, err := l.c.cloudaudit("LookUpEvents", p)
	if err != nil {
		l.c.t.Fatalf("LookUpEvents %v: %v", attrs, err)
	}
	l.raw = append(l.raw, raw)
	return resp
}

// events returns the events of one full page matching attrs, newest first.
func (l *lookup) events(attrs ...string) []map[string]any {
	l.c.t.Helper()
	resp := l.page(nil, attrs...)
	if resp["ListOver"] != true {
		l.c.t.Fatalf("LookUpEvents %v: more than one page", attrs)
	}
	return lookupEvents(l.c.t, resp)
}

func lookupEvents(t testing.TB, resp map[string]any) []map[string]any {
	t.Helper()
	list, ok := resp["Events"].([]any)
	if !ok {
		t.Fatalf("Events: got %T, want an array", resp["Events"])
	}
	out := make([]map[string]any, len(list))
	for i, e := range list {
		out[i] = e.(map[string]any)
	}
	return out
}

func lookupField(evs []map[string]any, key string) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = fmt.Sprint(e[key])
	}
	return out
}

func TestLookUpEventsFindsCalls(t *testing.T) {
	s := startServer(t, "")
	c := s.client(testRegion)
	start := time.Now().Unix() - 1
	plain1, plain2 := "lookup-plain-"+strconv.FormatInt(time.Now().UnixNano(), 36), "lookup-plain-two-d8f1c2"
	created := c.must("CreateSecret", map[string]any{"SecretName": lookupSecretName, "SecretString": plain1})
	c.must("GetSecretValue", map[string]any{"SecretName": lookupSecretName, "VersionId": "SSM_Current"})
	c.must("PutSecretValue", map[string]any{"SecretName": lookupSecretName, "VersionId": "v2", "SecretString": plain2})
	c.must("GetSecretValue", map[string]any{"SecretName": lookupSecretName, "VersionId": "v2"})
	c.fails("MissingParameter", "GetSecretValue", map[string]any{"SecretName": lookupSecretName})
	l := &lookup{c: c, start: start, end: time.Now().Unix()}

	t.Run("EventName", func(t *testing.T) {
		got := lookupField(l.events("EventName", "GetSecretValue"), "EventName")
		if len(got) != 3 {
			t.Errorf("got %v, want three GetSecretValue events", got)
		}
		ored := lookupField(l.events("EventName", "GetSecretValue", "EventName", "PutSecretValue"), "EventName")
		if len(ored) != 4 {
			t.Errorf("EventName ORed: got %v, want 4 events", ored)
		}
	})
	t.Run("ResourceName", func(t *testing.T) {
		got := lookupField(l.events("ResourceName", lookupSecretName), "EventName")
		want := []string{"GetSecretValue", "PutSecretValue", "GetSecretValue", "CreateSecret"}
		if !slices.Equal(got, want) {
			t.Errorf("got %v, want %v (newest first)", got, want)
		}
		writes := lookupField(l.events("ResourceName", lookupSecretName, "ActionType", "Write"), "EventName")
		if !slices.Equal(writes, []string{"PutSecretValue", "CreateSecret"}) {
			t.Errorf("writes: got %v", writes)
		}
	})
	t.Run("RequestId", func(t *testing.T) {
		evs := l.events("RequestId", created["RequestId"].(string))
		if len(evs) != 1 {
			t.Fatalf("got %d events, want 1", len(evs))
		}
		lookupWantCreate(t, evs[0], created["RequestId"].(string), plain1)
	})
	t.Run("AccessKeyId", func(t *testing.T) {
		ids := lookupField(l.events("AccessKeyId", testKeyID), "RequestID")
		if !slices.Contains(ids, created["RequestId"].(string)) || len(ids) < 5 {
			t.Errorf("got request ids %v, want at least the five calls", ids)
		}
		if evs := l.events("AccessKeyId", "AKIDnobody"); len(evs) != 0 {
			t.Errorf("another key: got %d events", len(evs))
		}
	})
	t.Run("ApiErrorCode", func(t *testing.T) {
		evs := l.events("ApiErrorCode", "MissingParameter")
		if got := lookupField(evs, "EventName"); !slices.Equal(got, []string{"GetSecretValue"}) {
			t.Fatalf("got %v, want the failed GetSecretValue", got)
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(evs[0]["CloudAuditEvent"].(string)), &doc); err != nil {
			t.Fatal(err)
		}
		if doc["errorCode"] != "MissingParameter" {
			t.Errorf("errorCode: got %v, want MissingParameter", doc["errorCode"])
		}
	})
	t.Run("window", func(t *testing.T) {
		past := &lookup{c: c, start: start - 7200, end: start - 3600}
		if resp := past.page(nil); len(lookupEvents(t, resp)) != 0 || resp["ListOver"] != true {
			t.Errorf("an hour before: got %v", resp)
		}
		l.raw = append(l.raw, past.raw...)
	})
	t.Run("paging", func(t *testing.T) {
		var names []string
		var ids []int
		token := ""
		for range 10 {
			extra := map[string]any{"MaxResults": 1}
			if token != "" {
				extra["NextToken"] = token
			}
			resp := l.page(extra, "ResourceName", lookupSecretName)
			evs := lookupEvents(t, resp)
			names = append(names, lookupField(evs, "EventName")...)
			for _, e := range evs {
				id, _ := strconv.Atoi(e["EventId"].(string))
				ids = append(ids, id)
			}
			if resp["ListOver"] == true {
				break
			}
			token = resp["NextToken"].(string)
		}
		if want := []string{"GetSecretValue", "PutSecretValue", "GetSecretValue", "CreateSecret"}; !slices.Equal(names, want) {
			t.Errorf("got %v, want %v", names, want)
		}
		if !slices.IsSortedFunc(ids, func(a, b int) int { return b - a }) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
			t.Errorf("event ids %v are not strictly decreasing", ids)
		}
	})
	t.Run("wrong parameters", func(t *testing.T) {
		week := int64(7 * 24 * 3600)
		for _, tc := range []struct {
			code   string
			params map[string]any
		}{
			{"InvalidParameter.Time", map[string]any{"EndTime": l.end}},
			{"InvalidParameterValue.Time", map[string]any{"StartTime": l.end, "EndTime": l.start}},
			{"LimitExceeded.OverTime", map[string]any{"StartTime": l.end - week - 1, "EndTime": l.end}},
			{"InvalidParameterValue.MaxResult", map[string]any{"StartTime": l.start, "EndTime": l.end, "MaxResults": 51}},
			{"InvalidParameterValue.attributeKey", map[string]any{"StartTime": l.start, "EndTime": l.end,
				"LookupAttributes": []map[string]any{{"AttributeKey": "Colour", "AttributeValue": "red"}}}},
		} {
			_, _, err := c.cloudaudit("LookUpEvents", tc.params)
			wantCode(t, err, tc.code)
		}
		l.end = time.Now().Unix()
		got := lookupField(l.events("ApiErrorCode", "LimitExceeded.OverTime", "ResourceType", "cloudaudit"), "EventName")
		if !slices.Equal(got, []string{"LookUpEvents"}) {
			t.Errorf("the refused look-up: got %v, want one LookUpEvents event", got)
		}
	})
	t.Run("no plaintext", func(t *testing.T) {
		l.page(nil) // every event, the look-ups' own included
		for _, raw := range l.raw {
			for _, v := range []string{plain1, plain2} {
				if bytes.Contains(raw, []byte(v)) {
					t.Fatalf("a LookUpEvents response holds the secret value %q", v)
				}
			}
		}
	})
}

// lookupWantCreate checks the event of the CreateSecret call, field types included.
func lookupWantCreate(t *testing.T, e map[string]any, requestID, plain string) {
	t.Helper()
	for k, want := range map[string]any{
		"EventName": "CreateSecret", "RequestID": requestID, "AccountID": float64(100000000001),
		"Username": "root", "SecretId": testKeyID, "EventSource": "ssm.tencentcloudapi.com",
		"EventRegion": testRegion, "ResourceRegion": testRegion, "ErrorCode": float64(0),
		"Resources": map[string]any{"ResourceType": "ssm", "ResourceName": lookupSecretName},
	} {
		if fmt.Sprintf("%#v", e[k]) != fmt.Sprintf("%#v", want) {
			t.Errorf("%s: got %#v, want %#v", k, e[k], want)
		}
	}
	when, err := strconv.ParseInt(fmt.Sprint(e["EventTime"]), 10, 64)
	if _, isString := e["EventTime"].(string); !isString || err != nil || time.Since(time.Unix(when, 0)) > time.Minute {
		t.Errorf("EventTime: got %#v, want a string of recent unix seconds", e["EventTime"])
	}
	var doc struct {
		UserIdentity struct {
			PrincipalID, AccountID, SecretID, Type, UserName string
		}
		EventType, ActionType, EventSource, RequestParameters, ErrorCode string
	}
	if err := json.Unmarshal([]byte(e["CloudAuditEvent"].(string)), &doc); err != nil {
		t.Fatalf("CloudAuditEvent: %v", err)
	}
	u := doc.UserIdentity
	if u.Type != "Root" || u.AccountID != testAccount || u.SecretID != testKeyID || u.UserName != "root" ||
		doc.EventType != "ApiCall" || doc.ActionType != "Write" || doc.ErrorCode != "0" {
		t.Errorf("CloudAuditEvent: got %+v", doc)
	}
	var params map[string]any
	if err := json.Unmarshal([]byte(doc.RequestParameters), &params); err != nil {
		t.Fatalf("requestParameters: %v", err)
	}
	if v, _ := params["SecretString"].(string); v == plain || len(v) < 12 || v[:12] != "hmac-sha256:" {
		t.Errorf("requestParameters.SecretString: got %q, want its HMAC", v)
	}
}

func TestDescribeEventsPages(t *testing.T) {
	s := startServer(t, "")
	c := s.client(testRegion)
	start := time.Now().Unix() - 1
	for i := range 3 {
		c.must("CreateSecret", map[string]any{"SecretName": fmt.Sprintf("describe-events-%d", i), "SecretString": "x"})
	}
	p := map[string]any{"StartTime": start, "EndTime": time.Now().Unix(), "MaxResults": 2,
		"LookupAttributes": []map[string]any{{"AttributeKey": "EventName", "AttributeValue": "CreateSecret"}}}
	var names []string
	for range 5 {
		_, resp, err := c.cloudaudit("DescribeEvents", p)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := resp["NextToken"].(float64); !ok {
			t.Fatalf("NextToken: got %#v, want a number", resp["NextToken"])
		}
		for _, e := range lookupEvents(t, resp) {
			names = append(names, e["Resources"].(map[string]any)["ResourceName"].(string))
		}
		if resp["ListOver"] == true {
			break
		}
		p["NextToken"] = resp["NextToken"]
	}
	if want := []string{"describe-events-2", "describe-events-1", "describe-events-0"}; !slices.Equal(names, want) {
		t.Errorf("got %v, want %v", names, want)
	}
}

func TestDescribeSecretConsumers(t *testing.T) {
	s := startServer(t, "")
	c := s.client(testRegion)
	name := "consumers-e2e"
	c.must("CreateSecret", map[string]any{"SecretName": name, "SecretString": "one"})
	c.must("PutSecretValue", map[string]any{"SecretName": name, "VersionId": "v2", "SecretString": "two"})
	for _, v := range []string{"SSM_Current", "SSM_Current", "v2"} {
		c.must("GetSecretValue", map[string]any{"SecretName": name, "VersionId": v})
	}
	c.fails("ResourceNotFound", "GetSecretValue", map[string]any{"SecretName": name, "VersionId": "v9"})
	newAWSX(t, s).get(name) // the AWS family's read of the current version (v2) counts too

	resp := c.must("DescribeSecretConsumers", map[string]any{"SecretName": name})
	if resp["SecretName"] != name || resp["TotalCount"] != float64(1) {
		t.Fatalf("got %v, want one consumer of %s", resp, name)
	}
	got := resp["Consumers"].([]any)[0].(map[string]any)
	for k, want := range map[string]any{
		"PrincipalId": testAccount, "PrincipalName": "root", "PrincipalType": "Root", "AccessKeyId": testKeyID,
		"VersionIds": []any{"SSM_Current", "v2"}, "ReadCount": float64(4),
	} {
		if fmt.Sprintf("%#v", got[k]) != fmt.Sprintf("%#v", want) {
			t.Errorf("%s: got %#v, want %#v", k, got[k], want)
		}
	}
	first, _ := got["FirstReadTime"].(float64)
	last, _ := got["LastReadTime"].(float64)
	if first == 0 || first > last || time.Since(time.Unix(int64(last), 0)) > time.Minute {
		t.Errorf("FirstReadTime %v, LastReadTime %v: want recent unix seconds in order", got["FirstReadTime"], got["LastReadTime"])
	}

	past := c.must("DescribeSecretConsumers", map[string]any{"SecretName": name, "StartTime": 1000, "EndTime": "2000"})
	if cs, ok := past["Consumers"].([]any); !ok || len(cs) != 0 {
		t.Errorf("a window long past: got %#v, want an empty list", past["Consumers"])
	}
	other := s.client("ap-shanghai").must("DescribeSecretConsumers", map[string]any{"SecretName": name})
	if other["TotalCount"] != float64(0) {
		t.Errorf("another region: got %v, want none", other)
	}
	c.fails("InvalidParameterValue", "DescribeSecretConsumers", map[string]any{"SecretName": name, "StartTime": 20, "EndTime": 10})
}
