// Package tc3 is the Tencent Cloud API 3.0 edge: POST JSON at "/", signed
// with TC3-HMAC-SHA256, answered in the {"Response":{…,"RequestId"}}
// envelope with HTTP 200 even for errors. It decodes requests, passes them
// through the gate, and encodes results; the rules live in the core.
package tc3

import (
	"context"
	"errors"
	"fmt"
	"github.com/coffer-secrets/coffer/internal/kms"
	"github.com/coffer-secrets/coffer/internal/rotation"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/signature/tc3"
)

// MaxBody bounds a request body: a 64 KiB value in base64 plus its JSON.
const MaxBody = 256 << 10

// Edge serves the Tencent API families.
type Edge struct {
	Gate *api.Gate
	KMS  *kms.Service // customer master keys; nil serves no kms actions
	// Rotation runs product and SSH key secrets and rotations; nil answers
	// the rotation actions UnsupportedOperation.
	Rotation *rotation.Service
	// ReplicaRegion reports whether a secret may be replicated to a
	// region: one this deployment or a linked one serves. nil: none.
	ReplicaRegion func(region string) bool
	Clock         func() time.Time // nil means time.Now; injected by signature tests
}

// action runs one decoded call.
type action func(e *Edge, ctx context.Context, c *api.Call, body []byte) (any, error)

// product is one Tencent service (ssm, and later kms, cam, ...).
type product struct {
	version string
	actions map[string]action
}

var products = map[string]product{
	"ssm":        {version: "2019-09-23", actions: ssmActions},
	"cloudaudit": {version: "2019-03-19", actions: cloudauditActions},
	"cam":        {version: "2019-01-16", actions: camActions},
	"sts":        {version: "2018-08-13", actions: stsActions},
	"kms":        {version: "2019-01-18", actions: kmsActions},
}

// ServeHTTP answers one request.
func (e *Edge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &api.Call{
		RequestID: secrets.NewRequestID(),
		Start:     time.Now(),
		Action:    r.Header.Get("X-TC-Action"),
		SourceIP:  api.SourceIP(r.RemoteAddr),
		UserAgent: r.UserAgent(),
		Code:      func(err error) string { code, _ := codeOf(err); return code },
	}
	res, err := e.serve(r.Context(), r, c)
	if err != nil {
		code, msg := codeOf(err)
		writeJSON(w, errorBody(code, msg, c.RequestID))
		return
	}
	body, err := successBody(res, c.RequestID)
	if err != nil {
		code, msg := codeOf(err)
		writeJSON(w, errorBody(code, msg, c.RequestID))
		return
	}
	writeJSON(w, body)
}

// serve returns the call's result, or an error already recorded by the gate.
func (e *Edge) serve(ctx context.Context, r *http.Request, c *api.Call) (any, error) {
	act, body, err := e.admit(ctx, r, c)
	if err != nil {
		e.Gate.Fail(ctx, c, err)
		return nil, err
	}
	// Every action records its call: through the gate, or with Gate.Fail
	// when it refuses the request before the gate.
	return act(e, ctx, c, body)
}

// admit reads and authenticates a request and finds its action.
func (e *Edge) admit(ctx context.Context, r *http.Request, c *api.Call) (action, []byte, error) {
	if err := e.Gate.Admit(c); err != nil {
		return nil, nil, err
	}
	if r.Method != http.MethodPost {
		return nil, nil, wire(codeUnsupportedProtocol, "Only POST with a JSON body is supported.")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return nil, nil, wire(codeInvalidParameter, "The request body could not be read.")
	}
	if len(body) > MaxBody {
		return nil, nil, wire(codeRequestTooLarge, fmt.Sprintf("The request body is larger than %d bytes.", MaxBody))
	}
	c.Body = body
	svc, err := e.authenticate(ctx, r, body, c)
	if err != nil {
		return nil, nil, err
	}
	p := products[svc]
	c.Family = svc
	c.Region = r.Header.Get("X-TC-Region")
	if svc == "cam" || svc == "sts" {
		c.Region = "" // CAM and STS are global: the region a client sends means nothing
	}
	if c.Region == "" {
		c.Region = e.Gate.DefaultRegion()
	}
	if v := r.Header.Get("X-TC-Version"); v != p.version {
		return nil, nil, wire(codeNoSuchVersion, fmt.Sprintf("The API version %s is not supported by %s; use %s.", clip(v), svc, p.version))
	}
	act, ok := p.actions[c.Action]
	if !ok {
		return nil, nil, wire(codeInvalidAction, fmt.Sprintf("The action %s does not exist in %s.", clip(c.Action), svc))
	}
	return act, body, nil
}

// authenticate verifies the signature and sets c.Principal. It returns the
// product named in the credential scope.
func (e *Edge) authenticate(ctx context.Context, r *http.Request, body []byte, c *api.Call) (string, error) {
	auth, err := tc3.ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return "", signatureError(err)
	}
	c.ClaimedKeyID = auth.SecretID
	p, ok := products[auth.Service]
	if !ok {
		return "", wire(codeInvalidAuthorization, "The credential scope names a service this endpoint does not serve.")
	}
	// The family is the one the request claims until the signature is
	// checked: a refused call is counted under the action it asked for.
	c.Family = auth.Service
	_, c.Known = p.actions[c.Action]
	signed, err := tc3.ParseRequest(r, body, auth.Service, e.now(), tc3.MaxSkew)
	if err != nil {
		return "", signatureError(err)
	}
	c.Secure = r.TLS != nil
	token := r.Header.Get("X-TC-Token")
	cred, err := e.Gate.Credential(ctx, auth.SecretID, token)
	switch {
	case fault.Is(err, fault.Unauthenticated):
		return "", wire(codeTokenFailure, "The token is invalid or has expired.")
	case fault.Is(err, fault.NotFound), fault.Is(err, fault.Denied):
		return "", wire(codeSecretIDNotFound, "The SecretId is not found or not active.")
	case err != nil:
		return "", err
	}
	a := signed.Authorization
	key := e.Gate.SigningKey(cred, a.Date, a.Service, func(secret []byte) []byte {
		if len(secret) == 0 {
			return nil // fails verification
		}
		return tc3.SigningKey(secret, a.Date, a.Service)
	})
	if err := signed.VerifySigningKey(key); err != nil {
		return "", signatureError(err)
	}
	c.Principal = cred.Principal
	e.Gate.Used(cred)
	return auth.Service, nil
}

func signatureError(err error) error {
	switch {
	case errors.Is(err, tc3.ErrSignatureExpire):
		return wire(codeSignatureExpire, "The request timestamp is more than 300 seconds away from the server time.")
	case errors.Is(err, tc3.ErrSignatureFailure):
		return wire(codeSignatureFailure, "The provided credentials could not be validated. Please check your signature is correct.")
	}
	return wire(codeInvalidAuthorization, "The Authorization header is missing or malformed.")
}

func (e *Edge) now() time.Time {
	if e.Clock != nil {
		return e.Clock()
	}
	return time.Now()
}

func writeJSON(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK) // Tencent answers API errors with 200 too
	_, _ = w.Write(body)
}

// Actions lists the actions this edge serves, by product (for tests that
// must cover every action).
func Actions() map[string][]string {
	out := make(map[string][]string, len(products))
	for name, p := range products {
		for a := range p.actions {
			out[name] = append(out[name], a)
		}
		slices.Sort(out[name])
	}
	return out
}
