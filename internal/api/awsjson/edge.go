// Package awsjson is the AWS Secrets Manager edge: AWS JSON 1.1 at "/",
// the action in X-Amz-Target, SigV4 signatures, errors as
// {"__type","Message"} with AWS's HTTP statuses. It decodes requests, passes
// them through the gate, and encodes results; the rules live in the core.
package awsjson

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/coffer-secrets/coffer/internal/iam"
	"github.com/coffer-secrets/coffer/internal/rotation"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-secrets/coffer/internal/api"
	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/secrets"
	"github.com/coffer-secrets/coffer/internal/signature/sigv4"
)

// MaxBody bounds a request body: a 64 KiB value in base64 plus its JSON.
const MaxBody = 256 << 10

// maxSkew is how far a request's X-Amz-Date may be from the server clock.
const maxSkew = 5 * time.Minute

const targetPrefix = "secretsmanager."

// Edge serves the AWS Secrets Manager API.
type Edge struct {
	Gate *api.Gate
	// Rotation runs RotateSecret; nil answers it InvalidRequestException.
	Rotation *rotation.Service
	// ReplicaRegion reports whether a secret may be replicated to a
	// region: one this deployment or a linked one serves. nil: none.
	ReplicaRegion func(region string) bool
	Clock         func() time.Time // nil means time.Now
}

// IsAWS reports whether r is an AWS JSON request for Secrets Manager.
func IsAWS(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
}

// action runs one call. writes marks actions that encrypt.
type action struct {
	run    func(e *Edge, ctx context.Context, c *api.Call, body []byte) (any, error)
	writes bool
}

// ServeHTTP answers one request.
func (e *Edge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &api.Call{
		Family:    "secretsmanager",
		RequestID: secrets.NewRequestID(),
		Action:    strings.TrimPrefix(r.Header.Get("X-Amz-Target"), targetPrefix),
		SourceIP:  api.SourceIP(r.RemoteAddr),
		UserAgent: r.UserAgent(),
		Start:     time.Now(),
	}
	_, c.Known = actions[c.Action]
	c.Code = func(err error) string { return toAWS(err, actions[c.Action].writes).Type }
	w.Header().Set("x-amzn-RequestId", c.RequestID)
	act, body, err := e.admit(r.Context(), r, c)
	if err != nil {
		e.Gate.Fail(r.Context(), c, err)
		writeError(w, toAWS(err, false))
		return
	}
	res, err := act.run(e, r.Context(), c, body) // records the call, through the gate or Gate.Fail
	if err != nil {
		writeError(w, toAWS(err, act.writes))
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// admit reads and authenticates a request and finds its action.
func (e *Edge) admit(ctx context.Context, r *http.Request, c *api.Call) (action, []byte, error) {
	if err := e.Gate.Admit(c); err != nil {
		return action{}, nil, err
	}
	if r.Method != http.MethodPost {
		return action{}, nil, fail(errUnknownOperation, "Only POST is supported.")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return action{}, nil, fail(errSerialization, "The request body could not be read.")
	}
	if len(body) > MaxBody {
		return action{}, nil, fail(errValidation, fmt.Sprintf("The request body is larger than %d bytes.", MaxBody))
	}
	c.Body = body
	if err := e.authenticate(ctx, r, body, c); err != nil {
		return action{}, nil, err
	}
	act, ok := actions[c.Action]
	if !ok {
		return action{}, nil, fail(errUnknownOperation, "The operation "+clip(c.Action)+" is not known to Secrets Manager.")
	}
	return act, body, nil
}

// authenticate verifies the SigV4 signature and sets c.Principal and c.Region.
func (e *Edge) authenticate(ctx context.Context, r *http.Request, body []byte, c *api.Call) error {
	signed, err := sigv4.ParseRequest(r, body, "secretsmanager", e.now(), maxSkew)
	if err != nil {
		return signatureError(err)
	}
	c.Region = signed.Authorization.Region
	c.ClaimedKeyID = signed.Authorization.AccessKeyID
	c.Secure = r.TLS != nil
	cred, err := e.Gate.Credential(ctx, signed.Authorization.AccessKeyID, signed.SessionToken)
	switch {
	case fault.ReasonOf(err) == iam.TokenExpired:
		return fail(errExpiredToken, "The security token included in the request is expired.")
	case fault.Is(err, fault.NotFound), fault.Is(err, fault.Denied), fault.Is(err, fault.Unauthenticated):
		return fail(errUnrecognizedClient, "The security token included in the request is invalid.")
	case err != nil:
		return err
	}
	a := signed.Authorization
	key := e.Gate.SigningKey(cred, a.Date, a.Region+"/"+a.Service, func(secret []byte) []byte {
		if len(secret) == 0 {
			return nil // fails verification
		}
		return sigv4.SigningKey(secret, a.Date, a.Region, a.Service)
	})
	if err := signed.VerifySigningKey(key); err != nil {
		return signatureError(err)
	}
	c.Principal = cred.Principal
	e.Gate.Used(cred)
	return nil
}

func signatureError(err error) error {
	var se *sigv4.Error
	if !errors.As(err, &se) {
		return fail(errIncompleteSignature, "The request signature could not be read.")
	}
	switch se.Kind {
	case sigv4.MissingAuthentication:
		return fail(errMissingToken, "Missing Authentication Token")
	case sigv4.SignatureExpired, sigv4.ScopeMismatch:
		return fail(errInvalidSignature, se.Message())
	case sigv4.SignatureMismatch:
		return fail(errInvalidSignature, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	}
	return fail(errIncompleteSignature, se.Message())
}

func (e *Edge) now() time.Time {
	if e.Clock != nil {
		return e.Clock()
	}
	return time.Now()
}

func writeError(w http.ResponseWriter, a *awsError) {
	w.Header().Set("X-Amzn-ErrorType", a.Type)
	writeJSON(w, a.Status, struct {
		Type    string `json:"__type"`
		Message string
	}{a.Type, a.Msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"__type":"InternalServiceError","Message":"The response could not be encoded."}`)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// Actions lists the actions this edge serves (for tests that must cover
// every action).
func Actions() []string {
	out := make([]string, 0, len(actions))
	for a := range actions {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}
