package tc3

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/secrets"
)

// cloudauditActions is the CloudAudit action table: the look-up of the
// caller's account's audit events (spec §6). Events are account-wide: the
// region a request names selects nothing.
var cloudauditActions = map[string]action{
	"LookUpEvents":   handle(lookUpEvents),
	"DescribeEvents": handle(describeEvents),
}

// The CloudAudit codes of LookUpEvents (spec §6.1).
const (
	codeTimeRequired = "InvalidParameter.Time"
	codeTimeValue    = "InvalidParameterValue.Time"
	codeOverTime     = "LimitExceeded.OverTime"
	codeMaxResult    = "InvalidParameterValue.MaxResult"
	codeAttributeKey = "InvalidParameterValue.attributeKey"
)

// searchRules are what one action allows and how it names a violation.
type searchRules struct {
	window   time.Duration // the longest EndTime - StartTime
	maxPage  int64
	defPage  int64
	required string // a missing StartTime or EndTime
	timeCode string // a negative time, or StartTime after EndTime
	overTime string // a window over the longest
	maxCode  string // MaxResults out of range
	keyCode  string // an unknown AttributeKey
}

var (
	lookUpRules = searchRules{
		window: 7 * 24 * time.Hour, maxPage: 50, defPage: 10,
		required: codeTimeRequired, timeCode: codeTimeValue, overTime: codeOverTime,
		maxCode: codeMaxResult, keyCode: codeAttributeKey,
	}
	// DescribeEvents documents only InvalidParameter for its parameters.
	describeRules = searchRules{
		window: 30 * 24 * time.Hour, maxPage: 50, defPage: 10,
		required: codeInvalidParameter, timeCode: codeInvalidParameter, overTime: codeInvalidParameter,
		maxCode: codeInvalidParameter, keyCode: codeInvalidParameter,
	}
)

// maxUnix is the last second of year 9999, the latest time a request may name.
const maxUnix = 253402300799

// search is a look-up built from a request's parameters.
type search struct {
	audit.Query
	keep []func(*audit.Event) bool
	id   int64 // the EventId asked for, if any
	none bool  // two values of one attribute contradict: nothing matches
}

func (*lookUpEventsRequest) resource() string { return "" }
func (r *lookUpEventsRequest) check() error {
	if r.Mode != nil && *r.Mode != "standard" && *r.Mode != "quick" {
		return wire(codeInvalidValue, "The parameter `Mode` must be standard or quick.")
	}
	s, err := lookUpRules.build(r.StartTime, r.EndTime, r.MaxResults, r.LookupAttributes)
	if err != nil {
		return err
	}
	if r.NextToken != nil && *r.NextToken != "" {
		seq, ok := decodeToken(*r.NextToken)
		if !ok {
			return wire(codeInvalidValue, "The parameter `NextToken` is not a token LookUpEvents returned.")
		}
		s.before(seq)
	}
	r.search = s
	return nil
}

func lookUpEvents(ctx context.Context, e *Edge, sc secrets.Scope, _ *api.Call, r *lookUpEventsRequest) (*lookUpEventsResponse, error) {
	page, err := e.find(ctx, sc, r.search)
	if err != nil {
		return nil, err
	}
	out := &lookUpEventsResponse{Events: wireEvents(page.Events), ListOver: page.Next == 0, TotalCount: uint64(len(page.Events))}
	if page.Next != 0 {
		out.NextToken = encodeToken(page.Next)
	}
	return out, nil
}

func (*describeEventsRequest) resource() string { return "" }
func (r *describeEventsRequest) check() error {
	s, err := describeRules.build(r.StartTime, r.EndTime, r.MaxResults, r.LookupAttributes)
	if err != nil {
		return err
	}
	if r.NextToken != nil && *r.NextToken < 0 {
		return wire(codeInvalidParameter, "The parameter `NextToken` is not a token DescribeEvents returned.")
	}
	if r.NextToken != nil {
		s.before(int64(*r.NextToken))
	}
	r.search = s
	return nil
}

func describeEvents(ctx context.Context, e *Edge, sc secrets.Scope, _ *api.Call, r *describeEventsRequest) (*describeEventsResponse, error) {
	page, err := e.find(ctx, sc, r.search)
	if err != nil {
		return nil, err
	}
	return &describeEventsResponse{
		Events: wireEvents(page.Events), ListOver: page.Next == 0,
		NextToken: uint64(page.Next), TotalCount: uint64(len(page.Events)),
	}, nil
}

// find runs s in the caller's account, whatever the region.
func (e *Edge) find(ctx context.Context, sc secrets.Scope, s search) (audit.Page, error) {
	if s.none {
		return audit.Page{}, nil
	}
	l, err := e.lookup()
	if err != nil {
		return audit.Page{}, err
	}
	q := s.Query
	q.Account = sc.Account
	if len(s.keep) > 0 {
		q.Keep = func(ev *audit.Event) bool {
			for _, k := range s.keep {
				if !k(ev) {
					return false
				}
			}
			return true
		}
	}
	return l.Events(ctx, q)
}

// lookup returns the audit log's read service: fault.Unavailable when the
// server runs without one.
func (e *Edge) lookup() (*audit.Lookup, error) {
	if e.Gate.Lookup == nil {
		return nil, fault.E("tc3.lookup", fault.Unavailable, "The audit log cannot be searched on this server.")
	}
	return e.Gate.Lookup, nil
}

// build checks the window, page size and attributes of a look-up.
func (rules searchRules) build(start, end, maxResults *number, attrs []lookupAttribute) (search, error) {
	var s search
	if start == nil || end == nil {
		return s, wire(rules.required, "The parameters `StartTime` and `EndTime` are required.")
	}
	switch {
	case *start < 0 || *end < 0 || *end > maxUnix:
		return s, wire(rules.timeCode, "`StartTime` and `EndTime` are unix times in seconds.")
	case *start > *end:
		return s, wire(rules.timeCode, "`StartTime` is after `EndTime`.")
	case int64(*end-*start) > int64(rules.window/time.Second):
		return s, wire(rules.overTime, fmt.Sprintf("The time range is longer than %d days.", rules.window/(24*time.Hour)))
	}
	s.From, s.To = time.Unix(int64(*start), 0), time.Unix(int64(*end)+1, 0) // EndTime's second included
	s.Limit = int(rules.defPage)
	if maxResults != nil {
		if *maxResults < 1 || int64(*maxResults) > rules.maxPage {
			return s, wire(rules.maxCode, fmt.Sprintf("The parameter `MaxResults` must be 1 to %d.", rules.maxPage))
		}
		s.Limit = int(*maxResults)
	}
	for i, a := range attrs {
		if err := s.attribute(rules, i, a.AttributeKey, a.AttributeValue); err != nil {
			return s, err
		}
	}
	return s, nil
}

// attributeKeys are the LookupAttributes keys served (spec §6.3). Different
// keys are ANDed, several EventName values ORed; two different values of
// any other key match nothing.
var attributeKeys = map[string]func(s *search, v string) error{
	"RequestId":    func(s *search, v string) error { return s.eq(&s.RequestID, v) },
	"EventName":    func(s *search, v string) error { s.Action = append(s.Action, v); return nil },
	"PrincipalId":  func(s *search, v string) error { return s.eq(&s.PrincipalID, v) },
	"ResourceName": func(s *search, v string) error { return s.eq(&s.Resource, v) },
	"ResourceId":   func(s *search, v string) error { return s.eq(&s.Resource, v) }, // resources are named by name only
	"AccessKeyId":  func(s *search, v string) error { return s.eq(&s.AccessKeyID, v) },
	"ApiErrorCode": (*search).errorCode,
	"ActionType":   func(s *search, v string) error { return s.readOnly(v, "Read", "Write") },
	"ReadOnly":     func(s *search, v string) error { return s.readOnly(v, "true", "false") },
	"ResourceType": func(s *search, v string) error {
		return s.where(func(e *audit.Event) bool { return e.Family == v })
	},
	"SourceIPAddress": func(s *search, v string) error {
		return s.where(func(e *audit.Event) bool { return e.SourceIP == v })
	},
	"Username": func(s *search, v string) error {
		return s.where(func(e *audit.Event) bool { return username(e) == v })
	},
	"CamErrorCode": func(s *search, v string) error {
		return s.where(func(e *audit.Event) bool { return strconv.FormatInt(camCode(e), 10) == v })
	},
	"SensitiveAction": (*search).sensitive,
	"EventId":         (*search).eventID,
	"Tags": func(*search, string) error {
		return wire(codeUnsupportedOperation, "Coffer's audit events carry no tags; look up by ResourceName instead.")
	},
}

// attribute adds one LookupAttribute to s. An empty value adds no condition.
func (s *search) attribute(rules searchRules, i int, key, v string) error {
	add, ok := attributeKeys[key]
	if !ok {
		return wire(rules.keyCode, fmt.Sprintf("The parameter `LookupAttributes.%d.AttributeKey` is not a known attribute key.", i))
	}
	if v == "" {
		return nil
	}
	return add(s, v)
}

// where adds a condition the store cannot evaluate.
func (s *search) where(keep func(*audit.Event) bool) error {
	s.keep = append(s.keep, keep)
	return nil
}

// eq sets a field the store matches exactly.
func (s *search) eq(field *string, v string) error {
	if *field != "" && *field != v {
		s.none = true
	}
	*field = v
	return nil
}

// errorCode selects failures with code v; "0" selects successes, which
// the store cannot (its empty ErrorCode means any).
func (s *search) errorCode(v string) error {
	if v == "0" {
		return s.where(func(e *audit.Event) bool { return e.ErrorCode == "" })
	}
	return s.eq(&s.ErrorCode, v)
}

// readOnly selects reads (v == read) or writes (v == write).
func (s *search) readOnly(v, read, write string) error {
	if v != read && v != write {
		return wire(codeInvalidValue, fmt.Sprintf("The AttributeValue must be %s or %s.", read, write))
	}
	ro := v == read
	if s.ReadOnly != nil && *s.ReadOnly != ro {
		s.none = true
	}
	s.ReadOnly = &ro
	return nil
}

func (s *search) sensitive(v string) error {
	var want bool
	switch v {
	case "1", "true":
		want = true
	case "0", "false":
	default:
		return wire(codeInvalidValue, "The AttributeValue of SensitiveAction must be 1 or 0.")
	}
	return s.where(func(e *audit.Event) bool { return sensitiveActions[e.Action] == want })
}

// eventID selects the one event at a chain position (see eventID).
func (s *search) eventID(v string) error {
	seq, err := strconv.ParseInt(v, 10, 64)
	if err != nil || seq < 1 {
		return wire(codeInvalidValue, "The AttributeValue of EventId is not an event id.")
	}
	if s.id != 0 && s.id != seq {
		s.none = true
	}
	s.id, s.AfterSeq = seq, seq-1
	s.before(seq + 1)
	return nil
}

// before narrows the search to events older than seq.
func (s *search) before(seq int64) {
	if s.BeforeSeq == 0 || seq < s.BeforeSeq {
		s.BeforeSeq = seq
	}
}

// tokenPrefix versions LookUpEvents' page token, so its form can change.
const tokenPrefix = "c1."

// encodeToken returns the opaque NextToken for the page after seq.
func encodeToken(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(tokenPrefix + strconv.FormatInt(seq, 10)))
}

// decodeToken returns the position in a NextToken, and false when tok is
// not one encodeToken made.
func decodeToken(tok string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	n, ok := strings.CutPrefix(string(b), tokenPrefix)
	if !ok {
		return 0, false
	}
	seq, err := strconv.ParseInt(n, 10, 64)
	if err != nil || seq < 1 || strconv.FormatInt(seq, 10) != n {
		return 0, false
	}
	return seq, true
}
