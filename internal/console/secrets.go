package console

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/store"
)

// pageSize is how many secrets the list shows at once.
const pageSize = 20

// typeNames name the secret types, numbered as Tencent SSM numbers them.
var typeNames = []string{"user-defined", "database", "SSH key", "API key", "Redis"}

// statuses are the status filter's choices.
var statuses = []store.SecretStatus{store.StatusEnabled, store.StatusDisabled, store.StatusPendingDelete, store.StatusCreating, store.StatusFailed}

// listFilter is the secrets list's query, as the URL carries it.
type listFilter struct {
	Search string
	Status string
	Type   string // "" for any, else a type number
	Tag    string // "key" or "key=value"
	Page   int    // from 1
}

func filterOf(q url.Values) listFilter {
	f := listFilter{Search: strings.TrimSpace(q.Get("q")), Status: q.Get("status"), Type: q.Get("type"),
		Tag: strings.TrimSpace(q.Get("tag")), Page: 1}
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 1 {
		f.Page = n
	}
	return f
}

func (f listFilter) input() secrets.ListInput {
	in := secrets.ListInput{Search: f.Search, Offset: (f.Page - 1) * pageSize, Limit: pageSize}
	for _, s := range statuses {
		if string(s) == f.Status {
			in.Status = s
		}
	}
	if n, err := strconv.Atoi(f.Type); err == nil && n >= 0 && n < len(typeNames) {
		in.Types = []store.SecretType{store.SecretType(n)}
	}
	if f.Tag != "" {
		k, v, hasValue := strings.Cut(f.Tag, "=")
		tf := store.TagFilter{Key: strings.TrimSpace(k)}
		if hasValue {
			tf.Values = []string{strings.TrimSpace(v)}
		}
		in.Tags = []store.TagFilter{tf}
	}
	return in
}

// pageURL is the list's URL for another page of the same query.
func (f listFilter) pageURL(page int) string {
	q := url.Values{}
	for k, v := range map[string]string{"q": f.Search, "status": f.Status, "type": f.Type, "tag": f.Tag} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if page > 1 {
		q.Set("page", strconv.Itoa(page))
	}
	if len(q) == 0 {
		return Prefix + "secrets"
	}
	return Prefix + "secrets?" + q.Encode()
}

type listData struct {
	Filter    listFilter
	Statuses  []store.SecretStatus
	Types     []string
	Secrets   []*secrets.Secret
	Total     int
	From, To  int
	Prev      string
	Next      string
	CanCreate bool
}

// listSecrets serves the secrets list as ssm:ListSecrets.
func (h *Handler) listSecrets(w http.ResponseWriter, r *http.Request, s *session) {
	f := filterOf(r.URL.Query())
	in := f.input()
	d := listData{Filter: f, Statuses: statuses, Types: typeNames}
	o := op{family: api.FamilySSM, action: "ListSecrets", params: map[string]any{
		"SearchSecretName": f.Search, "Offset": in.Offset, "Limit": in.Limit, "State": f.Status, "SecretType": f.Type, "Tag": f.Tag}}
	err := h.do(r, s, o, func(ctx context.Context, sc secrets.Scope) error {
		var err error
		d.Secrets, d.Total, err = h.gate.Secrets.List(ctx, sc, in)
		return err
	})
	if err != nil {
		h.failErr(w, r, s, err)
		return
	}
	if len(d.Secrets) > 0 {
		d.From, d.To = in.Offset+1, in.Offset+len(d.Secrets)
	}
	if f.Page > 1 {
		d.Prev = f.pageURL(f.Page - 1)
	}
	if in.Offset+len(d.Secrets) < d.Total {
		d.Next = f.pageURL(f.Page + 1)
	}
	d.CanCreate = h.can(r, s, api.FamilySSM, "CreateSecret", "")
	h.render(w, r, s, http.StatusOK, "secrets", view{Title: "Secrets", Nav: "secrets", Data: d})
}

type newSecretData struct {
	Name, Description, Tags, KeyID string
	Error                          string
}

func (h *Handler) newSecret(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.can(r, s, api.FamilySSM, "CreateSecret", "") {
		h.fail(w, r, s, http.StatusForbidden, "You are not allowed to create secrets.")
		return
	}
	h.render(w, r, s, http.StatusOK, "secret_new", view{Title: "New secret", Nav: "secrets", Data: newSecretData{}})
}

// createSecret creates a secret with its first version, as ssm:CreateSecret.
func (h *Handler) createSecret(w http.ResponseWriter, r *http.Request, s *session) {
	f := r.PostForm
	d := newSecretData{Name: strings.TrimSpace(f.Get("name")), Description: f.Get("description"),
		Tags: f.Get("tags"), KeyID: strings.TrimSpace(f.Get("kms_key_id"))}
	value := f.Get("value")
	tags, err := parseTags(d.Tags)
	if err == "" && value == "" {
		err = "Give the secret a value."
	}
	if err != "" {
		d.Error = err
		h.render(w, r, s, http.StatusBadRequest, "secret_new", view{Title: "New secret", Nav: "secrets", Data: d})
		return
	}
	v := secrets.StringValue(value)
	o := op{family: api.FamilySSM, action: "CreateSecret", secret: d.Name, operationLevel: true, params: map[string]any{
		"SecretName": d.Name, "Description": d.Description, "KmsKeyId": d.KeyID, "SecretString": value, "Tags": tagParams(tags)}}
	c := h.call(r, s, o)
	c.RequestTags = tagMap(tags)
	gerr := h.gate.Do(r.Context(), c, func(ctx context.Context, sc secrets.Scope) error {
		_, _, err := h.gate.Secrets.Create(ctx, sc, secrets.CreateInput{Name: d.Name, Description: d.Description,
			KeyID: d.KeyID, Tags: tags, CreatedBy: s.principal.ID, Value: &v})
		return err
	})
	if gerr != nil {
		d.Error = message(gerr)
		h.render(w, r, s, status(gerr), "secret_new", view{Title: "New secret", Nav: "secrets", Data: d})
		return
	}
	h.done(w, r, s, secretURL(d.Name), flash{Msg: "Created secret " + d.Name + "."})
}

// parseTags reads "key=value" lines; it returns a message for a bad line.
func parseTags(text string) ([]store.Tag, string) {
	var out []store.Tag
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, "Write each tag as key=value on a line of its own."
		}
		out = append(out, store.Tag{Key: strings.TrimSpace(k), Value: strings.TrimSpace(v)})
	}
	return out, ""
}

func tagParams(tags []store.Tag) []map[string]string {
	out := make([]map[string]string, 0, len(tags))
	for _, t := range tags {
		out = append(out, map[string]string{"TagKey": t.Key, "TagValue": t.Value})
	}
	return out
}

func tagMap(tags []store.Tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}
