package iam

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/iam/policy"
	"github.com/coffer-secrets/coffer/internal/keys"
	"github.com/coffer-secrets/coffer/internal/store"
)

// Session is a role session: who assumed which role, until when, and with
// what narrowing policy.
type Session struct {
	RoleID   string
	RoleName string
	Name     string // the RoleSessionName
	// Source is who called AssumeRole: its account and id.
	SourceAccount, SourceID string
	Expires                 time.Time
	// Policy narrows the role's permissions; "" for none.
	Policy    string
	policyDoc *policy.Document
	Tags      map[string]string
}

// AssumeRoleInput asks for temporary credentials.
type AssumeRoleInput struct {
	RoleArn     string // qcs::cam::uin/ACCOUNT:roleName/NAME, …:role/ID, or arn:aws:iam::ACCOUNT:role/NAME
	SessionName string
	Duration    int64  // seconds; 0 means DefaultSessionLength
	Policy      string // session policy, plain or URL-encoded JSON; "" for none
	ExternalID  string
	Tags        map[string]string
	// Context carries request condition keys for the trust policy
	// (source IP, time, secure transport).
	Context map[string][]string
}

// TempCredentials are what AssumeRole returns.
type TempCredentials struct {
	SecretID  string
	SecretKey string
	Token     string
	Expires   time.Time
	Principal Principal // the session's principal
}

// String hides the secret parts.
func (t *TempCredentials) String() string {
	return "iam.TempCredentials{" + t.SecretID + " [redacted]}"
}

var (
	sessionName = regexp.MustCompile(`^[\w+=,.@-]{2,128}$`)
	externalID  = regexp.MustCompile(`^[\w+=,.@:/-]{2,128}$`)
)

// tokenPrefix starts every session token, so a token from an older format
// can be told apart.
const tokenPrefix = "coffer1."

// tokenBody is sealed into a session token. The token carries everything
// needed to verify a request (the secret key included), sealed by the
// root key, so sessions need no store and work on every server.
type tokenBody struct {
	Account   string            `json:"a"`
	SecretKey string            `json:"k"`
	RoleID    string            `json:"r"`
	RoleName  string            `json:"rn"`
	Name      string            `json:"n"`
	SrcAcct   string            `json:"sa"`
	SrcID     string            `json:"si"`
	Expires   int64             `json:"e"` // unix ms
	Policy    string            `json:"p,omitempty"`
	Tags      map[string]string `json:"t,omitempty"`
}

func sessionAAD(secretID string) []byte { return keys.AAD("coffer/sts-session", secretID) }

// AssumeRole issues temporary credentials for a role, when the role's
// trust policy names the caller and, for a caller other than an account's
// root, the caller's own policies allow sts:AssumeRole on the role. A
// denial is a fault.Denied wrapping a *Denial; a role that does not exist
// is NotFound (reason RoleNotFound) for a caller of the role's account and
// a denial for anyone else, so other accounts learn nothing of its names.
func (s *Service) AssumeRole(ctx context.Context, caller Principal, in AssumeRoleInput) (*TempCredentials, error) {
	const op = "iam.AssumeRole"
	account, ref, ok := ParseRoleArn(in.RoleArn)
	if !ok {
		return nil, fault.E(op, fault.Invalid, "RoleArn must be qcs::cam::uin/ACCOUNT:roleName/NAME, qcs::cam::uin/ACCOUNT:role/ID or arn:aws:iam::ACCOUNT:role/NAME")
	}
	if !sessionName.MatchString(in.SessionName) {
		return nil, fault.E(op, fault.Invalid, "RoleSessionName must be 2 to 128 characters of letters, digits and +=,.@_-")
	}
	if in.ExternalID != "" && !externalID.MatchString(in.ExternalID) {
		return nil, fault.E(op, fault.Invalid, "ExternalId must be 2 to 128 characters of letters, digits and +=,.@:/_-")
	}
	if len(in.Tags) > 50 {
		return nil, fault.E(op, fault.Invalid, "a session carries at most 50 tags")
	}
	for k, v := range in.Tags {
		if k == "" || len(k) > 128 || len(v) > 256 {
			return nil, fault.E(op, fault.Invalid, "session tag keys are 1 to 128 characters and values at most 256")
		}
	}
	sessionPolicy, err := s.sessionPolicy(op, in.Policy)
	if err != nil {
		return nil, err
	}
	role, err := s.role(ctx, account, ref)
	denied := &Denial{Action: "sts:AssumeRole", Resource: in.RoleArn, Principal: caller.Arn()}
	switch {
	case fault.Is(err, fault.NotFound) && caller.Account == account:
		return nil, fault.E(op, fault.NotFound, "role "+in.RoleArn+" does not exist").Because(RoleNotFound)
	case fault.Is(err, fault.NotFound):
		return nil, denied.fault(op)
	case err != nil:
		return nil, err
	}
	if err := s.checkAssume(ctx, caller, role, in, denied); err != nil {
		return nil, err
	}
	duration := in.Duration
	if duration == 0 {
		duration = min(DefaultSessionLength, role.SessionDuration)
	}
	if duration < 0 || duration > role.SessionDuration {
		return nil, fault.E(op, fault.Invalid, fmt.Sprintf("DurationSeconds must be 1 to %d, the role's session duration", role.SessionDuration)).Because(OverTime)
	}
	expires := s.now().Add(time.Duration(duration) * time.Second)
	id, key := NewAccessKeyID(), NewSecretKey()
	body := tokenBody{Account: role.Account, SecretKey: key, RoleID: role.ID, RoleName: role.Name, Name: in.SessionName,
		SrcAcct: caller.Account, SrcID: caller.ID, Expires: expires.UnixMilli(), Policy: sessionPolicy, Tags: in.Tags}
	plain, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode session: %w", err)
	}
	sealed, err := s.Root.Wrap(ctx, plain, sessionAAD(id))
	clear(plain)
	if err != nil {
		return nil, fmt.Errorf("seal session: %w", err)
	}
	token := tokenPrefix + base64.RawURLEncoding.EncodeToString(sealed)
	p, err := s.sessionPrincipal(role, &body, id)
	if err != nil {
		return nil, err
	}
	return &TempCredentials{SecretID: id, SecretKey: key, Token: token, Expires: expires, Principal: p}, nil
}

// sessionPolicy checks a session policy, URL-decoding it when it is
// encoded as STS expects, and returns it as plain JSON.
func (s *Service) sessionPolicy(op, doc string) (string, error) {
	if doc == "" {
		return "", nil
	}
	if !strings.HasPrefix(strings.TrimSpace(doc), "{") {
		dec, err := url.QueryUnescape(doc)
		if err != nil {
			return "", fault.E(op, fault.Invalid, "Policy must be a JSON policy document, URL-encoded").Because(BadDocument)
		}
		doc = dec
	}
	if len(doc) > MaxSessionPolicy {
		return "", fault.E(op, fault.Invalid, fmt.Sprintf("the session policy is longer than %d characters", MaxSessionPolicy)).Because(DocumentTooLong)
	}
	if _, err := CheckIdentityDocument(op, doc); err != nil {
		return "", err
	}
	return doc, nil
}

// checkAssume decides whether caller may assume role.
func (s *Service) checkAssume(ctx context.Context, caller Principal, role *Role, in AssumeRoleInput, denied *Denial) error {
	const op = "iam.AssumeRole"
	trust, err := policy.Parse(role.Trust)
	if err != nil {
		return fmt.Errorf("parse trust policy of role %s: %w", role.ID, err)
	}
	reqCtx := maps.Clone(in.Context)
	if reqCtx == nil {
		reqCtx = map[string][]string{}
	}
	if in.ExternalID != "" {
		reqCtx["sts:external_id"] = []string{in.ExternalID}
		reqCtx["sts:ExternalId"] = []string{in.ExternalID}
	}
	for k, v := range in.Tags {
		reqCtx["aws:RequestTag/"+k] = []string{v}
	}
	resources := role.names()
	// The trust policy must name the caller or its account. Evaluated as
	// a cross-account grant with the caller's own side taken as given,
	// so that only the trust policy decides.
	pp, err := s.policyPrincipal(ctx, caller)
	if err != nil {
		return err
	}
	trustReq := policy.Request{Action: "sts:AssumeRole", Resources: resources, ResourceAccount: "\x00trust",
		Principal: pp, RequestTags: in.Tags, Context: reqCtx}
	if d := policy.Evaluate(trustReq, []*policy.Document{allowAll}, []*policy.Document{trust}); !d.Allowed {
		denied.Explicit = d.Reason == policy.ExplicitDeny
		denied.Why = "the role's trust policy does not name the caller"
		return denied.fault(op)
	}
	if caller.Kind == KindRoot {
		return nil
	}
	d, err := s.Authorize(ctx, AuthzRequest{Principal: caller, Action: "sts:AssumeRole", Resources: resources,
		ResourceAccount: caller.Account, RequestTags: in.Tags, Context: in.Context})
	if err != nil {
		return err
	}
	if !d.Allowed {
		denied.Explicit = d.Reason == policy.ExplicitDeny
		denied.Why = "no policy of the caller allows sts:AssumeRole on the role"
		return denied.fault(op)
	}
	return nil
}

var allowAll = func() *policy.Document {
	d, err := policy.Parse(`{"version":"2.0","statement":[{"effect":"allow","action":"*","resource":"*"}]}`)
	if err != nil {
		panic(err)
	}
	return d
}()

func (r *Role) names() []string {
	return []string{
		"qcs::cam::uin/" + r.Account + ":roleName/" + r.Name,
		"qcs::cam::uin/" + r.Account + ":role/" + r.ID,
		"arn:aws:iam::" + r.Account + ":role/" + r.Name,
	}
}

// role returns a role through the cache.
func (s *Service) role(ctx context.Context, account string, ref RoleRef) (*Role, error) {
	g := s.caches()
	key := account + "/" + ref.ID + "/" + ref.Name
	if v, ok := g.roles.Load(key); ok {
		if v == nil {
			return nil, fault.E("iam.role", fault.NotFound, "no such role").Because(RoleNotExist)
		}
		return v.(*Role), nil
	}
	var r *Role
	err := s.view(ctx, func(tx store.Tx) error {
		var err error
		r, err = ref.load(ctx, tx, "iam.role", account)
		return err
	})
	if fault.Is(err, fault.NotFound) {
		g.roles.Store(key, nil)
	} else if err == nil {
		g.roles.Store(key, r)
	}
	return r, err
}

func (s *Service) sessionPrincipal(role *Role, b *tokenBody, secretID string) (Principal, error) {
	sess := &Session{RoleID: b.RoleID, RoleName: b.RoleName, Name: b.Name, SourceAccount: b.SrcAcct, SourceID: b.SrcID,
		Expires: time.UnixMilli(b.Expires).UTC(), Policy: b.Policy, Tags: b.Tags}
	if b.Policy != "" {
		d, err := policy.Parse(b.Policy)
		if err != nil {
			return Principal{}, fmt.Errorf("parse session policy: %w", err)
		}
		sess.policyDoc = d
	}
	tags := map[string]string{}
	for _, t := range role.Tags {
		tags[t.Key] = t.Value
	}
	maps.Copy(tags, b.Tags)
	return Principal{Account: role.Account, ID: role.ID, Name: role.Name, Kind: KindRole, AccessKeyID: secretID,
		Tags: tags, Session: sess}, nil
}

type sessionEntry struct {
	digest [32]byte
	cred   *Credential
}

// maxSessions bounds the session cache; past it the cache starts over.
const maxSessions = 10000

// LookupSession returns the credential of a role session from its
// temporary secret id and token. It returns fault.Unauthenticated with
// reason TokenExpired when the session has expired, and TokenInvalid when
// the token is malformed, does not belong to the id, or its role no longer
// exists.
func (s *Service) LookupSession(ctx context.Context, secretID, token string) (*Credential, error) {
	const op = "iam.LookupSession"
	bad := func(why string) error {
		r := TokenInvalid
		if why == "expired" {
			r = TokenExpired
		}
		return fault.E(op, fault.Unauthenticated, "the session token is "+why).Because(r)
	}
	digest := sha256.Sum256([]byte(secretID + "\x00" + token))
	key := base64.RawStdEncoding.EncodeToString(digest[:])
	if v, ok := s.sessions.Load(key); ok {
		e := v.(*sessionEntry)
		if subtle.ConstantTimeCompare(e.digest[:], digest[:]) == 1 {
			if !s.now().Before(e.cred.Principal.Session.Expires) {
				return nil, bad("expired")
			}
			return e.cred, nil
		}
	}
	raw, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok {
		return nil, bad("not one this server issued")
	}
	sealed, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return nil, bad("malformed")
	}
	plain, err := s.Root.Unwrap(ctx, sealed, sessionAAD(secretID))
	if fault.Is(err, fault.KeyUnavailable) {
		return nil, bad("not valid for this secret id")
	} else if err != nil {
		return nil, err
	}
	var b tokenBody
	err = json.Unmarshal(plain, &b)
	clear(plain)
	if err != nil {
		return nil, bad("malformed")
	}
	if !s.now().Before(time.UnixMilli(b.Expires)) {
		return nil, bad("expired")
	}
	role, err := s.role(ctx, b.Account, RoleRef{ID: b.RoleID})
	if fault.Is(err, fault.NotFound) {
		return nil, bad("for a role that no longer exists")
	} else if err != nil {
		return nil, err
	}
	p, err := s.sessionPrincipal(role, &b, secretID)
	if err != nil {
		return nil, err
	}
	cred := &Credential{Principal: p, secret: []byte(b.SecretKey)}
	if s.sessionCount.Add(1) > maxSessions {
		s.sessions.Range(func(k, _ any) bool { s.sessions.Delete(k); return true })
		s.sessionCount.Store(0)
	}
	s.sessions.Store(key, &sessionEntry{digest: digest, cred: cred})
	return cred, nil
}
