package console

import (
	"bytes"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-secrets/coffer/internal/iam"
	"github.com/coffer-secrets/coffer/internal/store"
)

// pages holds one template set per page, each with the shared layout.
type pages struct {
	byName map[string]*template.Template
}

var funcs = template.FuncMap{
	"time":   fmtTime,
	"secret": secretURL,
	"user":   func(name string) string { return Prefix + "users/" + url.PathEscape(name) },
	"join":   strings.Join,
	"typeName": func(t store.SecretType) string {
		if t >= 0 && int(t) < len(typeNames) {
			return typeNames[t]
		}
		return strconv.Itoa(int(t))
	},
	"preset": func(t iam.PolicyType) bool { return t == iam.Preset },
	"agent":  agent,
	"shortID": func(id string) string {
		if len(id) > 8 {
			return id[:8] + "…"
		}
		return id
	},
}

// secretURL is the secret page's address. Names are not secret; values
// never appear in a URL.
func secretURL(name string) string { return Prefix + "secrets/" + url.PathEscape(name) }

// agent shortens a user agent for the audit table; the full text is in
// the cell's title.
func agent(ua string) string {
	if strings.HasPrefix(ua, userAgentPrefix) {
		return "Coffer console"
	}
	if len(ua) > 40 {
		return ua[:40] + "…"
	}
	return ua
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

func mustParsePages() *pages {
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		panic("console: " + err.Error())
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		p.byName[base] = template.Must(template.New(base).Funcs(funcs).ParseFS(files, "templates/layout.html", n))
	}
	return p
}

// view is what every page renders: the layout's data and the page's own.
type view struct {
	Title   string
	Nav     string // which navigation entry is current
	Who     string // the signed-in principal, "" on the sign-in page
	Account string
	Kind    string
	CSRF    string
	Region  string
	Regions []string
	Flash   flash
	Dev     bool // plain HTTP in development mode
	Data    any
}

// render writes a page with status.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, s *session, status int, page string, v view) {
	t, ok := h.pages.byName[page]
	if !ok {
		panic("console: no page " + page)
	}
	v.Dev = r.TLS == nil
	if s != nil {
		v.Who, v.Account, v.Kind = who(s.principal), s.principal.Account, string(s.principal.Kind)
		v.CSRF, v.Region, v.Regions = s.csrf, s.region, h.gate.Regions
		if f := h.sessions.takeFlash(s.key); f.Msg != "" {
			v.Flash = f
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		h.cfg.Log.Error("console: render", "page", page, "error", err.Error())
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func who(p iam.Principal) string {
	if p.Kind == iam.KindRoot {
		return "root"
	}
	return p.Name
}

// fail renders the error page; s may be nil.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, s *session, code int, msg string) {
	h.render(w, r, s, code, "error", view{Title: http.StatusText(code), Data: msg})
}

// failErr renders the error page for a failed call.
func (h *Handler) failErr(w http.ResponseWriter, r *http.Request, s *session, err error) {
	h.fail(w, r, s, status(err), message(err))
}

// done redirects after a change (POST, then GET), with a message for the
// next page.
func (h *Handler) done(w http.ResponseWriter, r *http.Request, s *session, to string, f flash) {
	h.sessions.update(s.key, func(s *session) { s.flash = f })
	http.Redirect(w, r, to, http.StatusSeeOther)
}
