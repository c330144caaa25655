package console

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-secrets/coffer/internal/audit"
	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
)

// Audit search limits, as CloudAudit's LookUpEvents has them.
const (
	auditWindow = 7 * 24 * time.Hour
	auditPage   = 25
	formTime    = "2006-01-02T15:04" // <input type="datetime-local">, read as UTC
)

// auditQuery is the audit search form, as the URL carries it.
type auditQuery struct {
	From, To  string
	Event     string // EventName: the action
	Resource  string // ResourceName
	Principal string // PrincipalId
	RequestID string
	AccessKey string
	Kind      string // "", "read" or "write"
	Failed    bool   // failed calls only
	Before    int64  // paging: events older than this sequence number
}

func auditQueryOf(q url.Values, now time.Time) auditQuery {
	a := auditQuery{From: q.Get("from"), To: q.Get("to"), Event: strings.TrimSpace(q.Get("event")),
		Resource: strings.TrimSpace(q.Get("resource")), Principal: strings.TrimSpace(q.Get("principal")),
		RequestID: strings.TrimSpace(q.Get("request")), AccessKey: strings.TrimSpace(q.Get("key")),
		Kind: q.Get("kind"), Failed: q.Get("failed") == "1"}
	a.Before, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	if a.To == "" {
		a.To = now.UTC().Format(formTime)
	}
	if a.From == "" {
		a.From = now.UTC().Add(-24 * time.Hour).Format(formTime)
	}
	return a
}

// query builds the look-up; it returns fault.Invalid for a bad window.
func (a auditQuery) query(account string) (audit.Query, error) {
	from, err1 := time.Parse(formTime, a.From)
	to, err2 := time.Parse(formTime, a.To)
	switch {
	case err1 != nil || err2 != nil:
		return audit.Query{}, fault.E("console.audit", fault.Invalid, "Give the start and end as dates and times.")
	case from.After(to):
		return audit.Query{}, fault.E("console.audit", fault.Invalid, "The start is after the end.")
	case to.Sub(from) > auditWindow:
		return audit.Query{}, fault.E("console.audit", fault.Invalid, "Search at most 7 days at a time.")
	}
	q := audit.Query{EventQuery: store.EventQuery{Account: account, From: from, To: to.Add(time.Minute),
		Resource: a.Resource, PrincipalID: a.Principal, RequestID: a.RequestID, AccessKeyID: a.AccessKey,
		BeforeSeq: a.Before, Limit: auditPage}}
	if a.Event != "" {
		q.Action = []string{a.Event}
	}
	if a.Kind == "read" || a.Kind == "write" {
		ro := a.Kind == "read"
		q.ReadOnly = &ro
	}
	if a.Failed {
		q.Keep = func(e *audit.Event) bool { return e.ErrorCode != "" }
	}
	return q, nil
}

func (a auditQuery) params(q audit.Query) map[string]any {
	var attrs []map[string]string
	for k, v := range map[string]string{"EventName": a.Event, "ResourceName": a.Resource, "PrincipalId": a.Principal,
		"RequestId": a.RequestID, "AccessKeyId": a.AccessKey} {
		if v != "" {
			attrs = append(attrs, map[string]string{"AttributeKey": k, "AttributeValue": v})
		}
	}
	return map[string]any{"StartTime": q.From.Unix(), "EndTime": q.To.Unix() - 1, "MaxResults": auditPage, "LookupAttributes": attrs}
}

func (a auditQuery) nextURL(before int64) string {
	q := url.Values{"from": {a.From}, "to": {a.To}, "before": {strconv.FormatInt(before, 10)}}
	for k, v := range map[string]string{"event": a.Event, "resource": a.Resource, "principal": a.Principal,
		"request": a.RequestID, "key": a.AccessKey, "kind": a.Kind} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if a.Failed {
		q.Set("failed", "1")
	}
	return Prefix + "audit?" + q.Encode()
}

type auditData struct {
	Query  auditQuery
	Events []*audit.Event
	Next   string
	Error  string
}

// auditSearch searches the account's audit log as cloudaudit:LookUpEvents.
func (h *Handler) auditSearch(w http.ResponseWriter, r *http.Request, s *session) {
	a := auditQueryOf(r.URL.Query(), h.cfg.Clock())
	d := auditData{Query: a}
	q, err := a.query(s.principal.Account)
	if err != nil {
		d.Error = message(err)
		h.render(w, r, s, http.StatusBadRequest, "audit", view{Title: "Audit log", Nav: "audit", Data: d})
		return
	}
	o := op{family: "cloudaudit", action: "LookUpEvents", params: a.params(q)}
	err = h.do(r, s, o, func(ctx context.Context, sc secrets.Scope) error {
		if h.gate.Lookup == nil {
			return fault.E("console.audit", fault.Unavailable, "The audit log cannot be searched on this server.")
		}
		q.Account = sc.Account
		page, err := h.gate.Lookup.Events(ctx, q)
		d.Events = page.Events
		if page.Next != 0 {
			d.Next = a.nextURL(page.Next)
		}
		return err
	})
	if err != nil {
		h.failErr(w, r, s, err)
		return
	}
	h.render(w, r, s, http.StatusOK, "audit", view{Title: "Audit log", Nav: "audit", Data: d})
}
