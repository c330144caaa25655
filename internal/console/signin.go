package console

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/iam"
	"github.com/coffer-secrets/coffer/internal/secrets"
)

// maxForm bounds a form: a 64 KiB value with room to spare.
const maxForm = 256 << 10

// authed wraps a page that needs a signed-in person. A request without a
// live session is sent to the sign-in page (GET) or refused (POST); a
// POST must carry the session's CSRF token.
func (h *Handler) authed(fn func(w http.ResponseWriter, r *http.Request, s *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, ok := h.sessions.get(cookieValue(r, sessionCookieName(r)))
		if ok {
			var err error
			if ok, err = h.stillValid(r.Context(), &s); err != nil {
				h.failErr(w, r, nil, err)
				return
			}
		}
		if !ok {
			http.SetCookie(w, cookie(r, sessionCookieName(r), "", -1))
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, Prefix+"signin", http.StatusSeeOther)
				return
			}
			h.fail(w, r, nil, http.StatusForbidden, "You are not signed in, or your session has ended. Sign in again.")
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if err := r.ParseForm(); err != nil {
				h.fail(w, r, &s, http.StatusBadRequest, "The form could not be read.")
				return
			}
			if !checkCSRF(s.csrf, r.PostForm.Get("csrf")) {
				h.fail(w, r, &s, http.StatusForbidden, "The form was not sent by this console session; reload the page and try again.")
				return
			}
		}
		fn(w, r, &s)
	}
}

// stillValid checks the session's principal against the current state,
// so a deleted user, a user whose console login was turned off or whose
// password changed, or a root whose access key was disabled, is signed out
// at the next request. It refreshes the principal's tags.
func (h *Handler) stillValid(ctx context.Context, s *session) (bool, error) {
	ok, err := h.principalValid(ctx, s)
	if err != nil && (fault.Is(err, fault.NotFound) || fault.Is(err, fault.Denied)) {
		ok, err = false, nil
	}
	if err == nil && !ok {
		h.sessions.end(s.key)
	}
	return ok, err
}

func (h *Handler) principalValid(ctx context.Context, s *session) (bool, error) {
	p := s.principal
	if p.Kind == iam.KindRoot {
		_, err := h.gate.IAM.Lookup(ctx, p.AccessKeyID)
		return err == nil, err
	}
	u, err := h.gate.IAM.UserByUin(ctx, p.Account, p.ID)
	if err != nil {
		return false, err
	}
	if !u.ConsoleLogin || sha256.Sum256([]byte(u.PasswordHash)) != s.pwTag {
		return false, nil
	}
	s.principal = u.Principal()
	return true, nil
}

// signinData is the sign-in page's own data.
type signinData struct {
	Mode      string // "user" or "root": which form failed
	AccountID string
	UserName  string
	SecretID  string
	Error     string
}

func (h *Handler) signinPage(w http.ResponseWriter, r *http.Request) {
	if s, ok := h.sessions.get(cookieValue(r, sessionCookieName(r))); ok {
		if ok, _ := h.stillValid(r.Context(), &s); ok {
			http.Redirect(w, r, Prefix+"secrets", http.StatusSeeOther)
			return
		}
	}
	h.renderSignin(w, r, http.StatusOK, signinData{})
}

// renderSignin renders the sign-in forms with a fresh CSRF token, held in
// a cookie until the form comes back (double submit).
func (h *Handler) renderSignin(w http.ResponseWriter, r *http.Request, status int, d signinData) {
	tok := randomToken()
	http.SetCookie(w, cookie(r, preCookieName(r), tok, 3600))
	h.render(w, r, nil, status, "signin", view{Title: "Sign in", CSRF: tok, Data: d})
}

// signin checks a user's password, or the root's access key pair, and
// starts a session. Failures are recorded in the audit log and counted
// against the source address like failed API signatures.
func (h *Handler) signin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, nil, http.StatusBadRequest, "The form could not be read.")
		return
	}
	if !checkCSRF(cookieValue(r, preCookieName(r)), r.PostForm.Get("csrf")) {
		h.fail(w, r, nil, http.StatusForbidden, "The sign-in form has expired; reload the page and try again.")
		return
	}
	if r.TLS == nil && !h.cfg.Dev {
		h.fail(w, r, nil, http.StatusForbidden, "Sign in over HTTPS.")
		return
	}
	f := r.PostForm
	d := signinData{Mode: f.Get("mode"), AccountID: strings.TrimSpace(f.Get("account")),
		UserName: strings.TrimSpace(f.Get("user")), SecretID: strings.TrimSpace(f.Get("secret_id"))}
	c := h.signinCall(r, d)
	if err := h.gate.Admit(c); err != nil {
		d.Error = message(err)
		h.renderSignin(w, r, http.StatusTooManyRequests, d)
		return
	}
	p, pwTag, err := h.authenticate(r.Context(), d, f.Get("password"), f.Get("secret_key"))
	if err != nil {
		h.gate.Fail(r.Context(), c, err)
		d.Error = "The account, name or password is wrong."
		if !fault.Is(err, fault.Unauthenticated) {
			d.Error = message(err)
		}
		h.renderSignin(w, r, http.StatusUnauthorized, d)
		return
	}
	c.Principal = p
	if err := h.gate.Do(r.Context(), c, func(context.Context, secrets.Scope) error { return nil }); err != nil {
		d.Error = message(err)
		h.renderSignin(w, r, status(err), d)
		return
	}
	if old, ok := h.sessions.get(cookieValue(r, sessionCookieName(r))); ok {
		h.sessions.end(old.key) // a new sign-in replaces the session this browser had
	}
	id, _ := h.sessions.create(p, pwTag, h.gate.DefaultRegion())
	http.SetCookie(w, cookie(r, preCookieName(r), "", -1))
	http.SetCookie(w, cookie(r, sessionCookieName(r), id, 0))
	http.Redirect(w, r, Prefix+"secrets", http.StatusSeeOther)
}

// signinCall is the audit record of a sign-in: cam:ConsoleLogin, which
// any caller may attempt. It names the account and user tried, never the
// password or secret key.
func (h *Handler) signinCall(r *http.Request, d signinData) *api.Call {
	params := map[string]any{"AccountId": d.AccountID}
	if d.Mode == "root" {
		params["SecretId"] = d.SecretID
	} else {
		params["UserName"] = d.UserName
	}
	s := &session{principal: iam.Principal{Account: d.AccountID, Name: d.UserName}}
	if !isAccountID(d.AccountID) {
		s.principal.Account = ""
	}
	c := h.call(r, s, op{family: "cam", action: "ConsoleLogin", params: params})
	c.SelfAuthorized = true
	c.ClaimedKeyID = d.SecretID
	return c
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// authenticate returns the principal the form names, and the fingerprint
// of its password hash; fault.Unauthenticated when the form is wrong.
// Users sign in with their console password. The root has no password:
// it signs in with the account's access key pair, the same it signs API
// calls with.
func (h *Handler) authenticate(ctx context.Context, d signinData, password, secretKey string) (iam.Principal, [32]byte, error) {
	bad := fault.E("console.signin", fault.Unauthenticated, "the sign-in details are wrong")
	if d.Mode == "root" {
		cred, err := h.gate.IAM.Lookup(ctx, d.SecretID)
		if err != nil || cred.Principal.Kind != iam.KindRoot || cred.Principal.Account != d.AccountID ||
			subtle.ConstantTimeCompare(cred.Secret(), []byte(secretKey)) != 1 {
			return iam.Principal{}, [32]byte{}, bad
		}
		return cred.Principal, [32]byte{}, nil
	}
	if !isAccountID(d.AccountID) || d.UserName == "" {
		return iam.Principal{}, [32]byte{}, bad
	}
	p, err := h.gate.IAM.Authenticate(ctx, d.AccountID, d.UserName, password)
	if err != nil {
		return iam.Principal{}, [32]byte{}, err
	}
	u, err := h.gate.IAM.UserByUin(ctx, p.Account, p.ID)
	if err != nil {
		return iam.Principal{}, [32]byte{}, err
	}
	return p, sha256.Sum256([]byte(u.PasswordHash)), nil
}

func (h *Handler) signout(w http.ResponseWriter, r *http.Request, s *session) {
	c := h.call(r, s, op{family: "cam", action: "ConsoleLogout"})
	c.SelfAuthorized = true
	_ = h.gate.Do(r.Context(), c, func(context.Context, secrets.Scope) error { return nil })
	h.sessions.end(s.key)
	http.SetCookie(w, cookie(r, sessionCookieName(r), "", -1))
	http.Redirect(w, r, Prefix+"signin", http.StatusSeeOther)
}

func (h *Handler) switchRegion(w http.ResponseWriter, r *http.Request, s *session) {
	region := r.PostForm.Get("region")
	if !slices.Contains(h.gate.Regions, region) {
		h.fail(w, r, s, http.StatusBadRequest, "That region is not served here.")
		return
	}
	h.sessions.update(s.key, func(s *session) { s.region = region })
	h.done(w, r, s, Prefix+"secrets", flash{Msg: "Now showing region " + region + "."})
}
