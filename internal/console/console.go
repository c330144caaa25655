// Package console is the web console: server-rendered HTML pages under
// /console/ through which people sign in and manage secrets, read the audit
// log, and look at users, policies and keys. It is an edge like the API
// edges: every action goes through the gate (api.Gate.Do) as the SSM, CAM,
// KMS or CloudAudit action it stands for, so a person sees and does exactly
// what their policies allow, and every call is audited.
package console

import (
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/kms"
	"github.com/coffer-secrets/coffer/internal/rotation"
)

// Prefix is the path the console is served under.
const Prefix = "/console/"

//go:embed templates/*.html static/*
var files embed.FS

// Config is what the console needs. Gate is required; the console uses
// the gate's IAM, Secrets and Lookup services.
type Config struct {
	Gate *api.Gate
	KMS  *kms.Service // nil: the keys page says keys are not served
	// Rotation runs rotations; nil: the secret page says rotation is not
	// served, and Rotate now answers UnsupportedOperation.
	Rotation *rotation.Service
	// Clock is the time source of sessions; nil means time.Now.
	Clock func() time.Time
	// Dev allows signing in over plain HTTP (the --dev server listens on
	// loopback); the session cookie is then not Secure. Without Dev the
	// console refuses to sign anyone in over plain HTTP.
	Dev bool
	Log *slog.Logger // nil discards

	SessionTTL  time.Duration // the longest a session lives; 0 means 8 hours
	IdleTimeout time.Duration // a session unused this long ends; 0 means 30 minutes
	MaxSessions int           // sessions held at once; 0 means 10,000
}

// Handler serves the console.
type Handler struct {
	cfg      Config
	gate     *api.Gate
	sessions *sessions
	pages    *pages
	static   fs.FS
	mux      *http.ServeMux
	cross    *http.CrossOriginProtection
}

// New returns the console's handler, to be mounted at Prefix (and at
// "/console", which it redirects to Prefix). It panics when cfg.Gate is
// nil or the embedded templates do not parse: both are programming errors.
func New(cfg Config) http.Handler {
	if cfg.Gate == nil {
		panic("console: Config.Gate is required")
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	static, err := fs.Sub(files, "static")
	if err != nil {
		panic("console: " + err.Error())
	}
	h := &Handler{
		cfg: cfg, gate: cfg.Gate, static: static,
		sessions: newSessions(cfg.Clock, cfg.SessionTTL, cfg.IdleTimeout, cfg.MaxSessions),
		pages:    mustParsePages(),
		cross:    http.NewCrossOriginProtection(),
	}
	h.cross.SetDenyHandler(http.HandlerFunc(h.crossSite))
	h.routes()
	return h
}

func (h *Handler) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /console/static/{file}", h.serveStatic)
	m.HandleFunc("GET /console/signin", h.signinPage)
	m.HandleFunc("POST /console/signin", h.signin)
	m.HandleFunc("POST /console/signout", h.authed(h.signout))
	m.HandleFunc("POST /console/region", h.authed(h.switchRegion))
	m.HandleFunc("GET /console/{$}", h.authed(h.home))
	m.HandleFunc("GET /console/secrets", h.authed(h.listSecrets))
	m.HandleFunc("GET /console/secrets/new", h.authed(h.newSecret))
	m.HandleFunc("POST /console/secrets", h.authed(h.createSecret))
	m.HandleFunc("GET /console/secrets/{name}", h.authed(h.showSecret))
	m.HandleFunc("POST /console/secrets/{name}/versions", h.authed(h.putVersion))
	m.HandleFunc("POST /console/secrets/{name}/reveal", h.authed(h.reveal))
	m.HandleFunc("POST /console/secrets/{name}/rotate", h.authed(h.rotateNow))
	m.HandleFunc("POST /console/secrets/{name}/rollout/{op}", h.authed(h.endRollout))
	m.HandleFunc("POST /console/secrets/{name}/{op}", h.authed(h.lifecycle))
	m.HandleFunc("GET /console/audit", h.authed(h.auditSearch))
	m.HandleFunc("GET /console/users", h.authed(h.listUsers))
	m.HandleFunc("POST /console/users", h.authed(h.createUser))
	m.HandleFunc("GET /console/users/{name}", h.authed(h.showUser))
	m.HandleFunc("GET /console/policies", h.authed(h.listPolicies))
	m.HandleFunc("GET /console/keys", h.authed(h.listKeys))
	m.HandleFunc("/console/", h.notFound)
	h.mux = m
}

// ServeHTTP sets the security headers of every answer, refuses
// cross-site requests that change state, and routes the request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	secureHeaders(w, r)
	if r.URL.Path == "/console" {
		http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
		return
	}
	if !strings.HasPrefix(r.URL.Path, Prefix) {
		h.notFound(w, r)
		return
	}
	h.cross.Handler(h.mux).ServeHTTP(w, r)
}

// csp forbids everything but the console's own style sheet, script and
// forms: no inline script or style, no framing, no other origin.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func secureHeaders(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), clipboard-read=()")
	hd.Set("Cache-Control", "no-store")
	if r.TLS != nil {
		hd.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	}
}

// crossSite answers a state-changing request another site sent.
func (h *Handler) crossSite(w http.ResponseWriter, r *http.Request) {
	h.fail(w, r, nil, http.StatusForbidden, "Cross-site requests are refused.")
}

func (h *Handler) serveStatic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, err := fs.ReadFile(h.static, name)
	if err != nil {
		h.notFound(w, r)
		return
	}
	switch {
	case strings.HasSuffix(name, ".css"):
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case strings.HasSuffix(name, ".js"):
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case strings.HasSuffix(name, ".svg"):
		w.Header().Set("Content-Type", "image/svg+xml")
	}
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.fail(w, r, nil, http.StatusNotFound, "There is no such page.")
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request, s *session) {
	http.Redirect(w, r, Prefix+"secrets", http.StatusSeeOther)
}
