package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const (
	// DefaultMaxReply bounds the reply Call reads when Client.MaxReply is 0.
	DefaultMaxReply = 64 << 10

	defaultTimeout = 30 * time.Second
	userAgent      = "coffer-rotation/1"
)

// Client calls rotation endpoints. Signer must hold a key; the other fields
// may be left zero.
type Client struct {
	// HTTP sends the calls. Nil means a client with a 30-second timeout
	// that requires TLS 1.2 or later. Whichever is used, Call does not
	// follow redirects.
	HTTP *http.Client
	// Signer signs every call.
	Signer Signer
	// Clock returns the time to sign with; nil means time.Now.
	Clock func() time.Time
	// AllowHTTP lets Call use http:// endpoints, which send secret values
	// in the clear. For tests and development only.
	AllowHTTP bool
	// MaxReply bounds the bytes of a reply Call reads; 0 means
	// DefaultMaxReply.
	MaxReply int64
}

// Call sends ev to endpoint, signed, and waits for the endpoint's answer.
// It returns the value createSecret's reply chose, or nil when the reply
// chose none or the step is another.
//
// Call returns an error wrapping ErrURL for an endpoint it will not call, a
// *StatusError (an ErrStatus) when the endpoint answers other than 2xx, an
// error wrapping ErrReply for a createSecret reply that is too large or
// malformed, and otherwise an error wrapping the transport's or ctx's. It
// returns an error before sending anything when ev or the signer is
// unusable.
func (c *Client) Call(ctx context.Context, endpoint string, ev Event) (*Reply, error) {
	if err := ValidateURL(endpoint, c.AllowHTTP); err != nil {
		return nil, err
	}
	if err := checkEvent(ev); err != nil {
		return nil, err
	}
	req, err := c.request(ctx, endpoint, ev)
	if err != nil {
		return nil, err
	}
	hc, done := c.httpClient()
	defer done()
	resp, err := hc.Do(req)
	if err != nil {
		return nil, transportError(ev.Step, req.URL, err)
	}
	defer resp.Body.Close()
	return c.answer(resp, ev)
}

// ValidateURL returns an error wrapping ErrURL unless endpoint is an
// absolute https URL (or http, if allowHTTP) with a host, no user info and
// no fragment. The error does not quote the URL, which may hold a token.
func ValidateURL(endpoint string, allowHTTP bool) error {
	u, err := url.Parse(endpoint)
	switch {
	case err != nil:
		return fmt.Errorf("%w: it does not parse", ErrURL)
	case u.Scheme == "http" && !allowHTTP:
		return fmt.Errorf("%w: http sends secret values in the clear; use https", ErrURL)
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("%w: the scheme must be https", ErrURL)
	case u.Opaque != "" || u.Hostname() == "":
		return fmt.Errorf("%w: it has no host", ErrURL)
	case u.User != nil:
		return fmt.Errorf("%w: it has user info; put credentials elsewhere", ErrURL)
	case strings.Contains(endpoint, "#"):
		return fmt.Errorf("%w: it has a fragment", ErrURL)
	}
	return nil
}

// checkEvent returns an error for an event no endpoint should receive.
func checkEvent(ev Event) error {
	switch ev.Step {
	case StepCreate, StepSet, StepTest, StepFinish:
	default:
		return fmt.Errorf("webhook: unknown step %q", ev.Step)
	}
	switch {
	case ev.RotationToken == "":
		return fmt.Errorf("webhook: %s: no RotationToken", ev.Step)
	case ev.Step == StepCreate && ev.Pending != nil:
		return fmt.Errorf("webhook: %s: carries no pending value", ev.Step)
	}
	return nil
}

// request returns the signed POST of ev to endpoint.
func (c *Client) request(ctx context.Context, endpoint string, ev Event) (*http.Request, error) {
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("webhook: %s: encode event: %w", ev.Step, err)
	}
	sig, err := c.Signer.sign(c.now(), body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: no request can be made for it", ErrURL)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Coffer-Step", ev.Step)
	req.Header.Set("Idempotency-Key", ev.RotationToken+":"+ev.Step)
	req.Header.Set(signatureHeader, sig)
	return req, nil
}

func (c *Client) now() time.Time {
	if c.Clock != nil {
		return c.Clock()
	}
	return time.Now()
}

// httpClient returns the client to send with, which never follows a
// redirect, and a function to call when done with it.
func (c *Client) httpClient() (*http.Client, func()) {
	if c.HTTP != nil {
		hc := *c.HTTP
		hc.CheckRedirect = noRedirect
		return &hc, func() {}
	}
	// One transport per call: rotations are rare, and Client keeps no state.
	tr := &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    10 * time.Second,
		ForceAttemptHTTP2:      true,
		MaxResponseHeaderBytes: 64 << 10,
	}
	hc := &http.Client{Transport: tr, Timeout: defaultTimeout, CheckRedirect: noRedirect}
	return hc, tr.CloseIdleConnections
}

// noRedirect hands a redirect back as the response: a signed call carrying
// secret values goes only where the operator pointed it.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// transportError drops the URL the transport's error quotes, whose path or
// query may hold a token, and names only the scheme and host.
func transportError(step string, u *url.URL, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("webhook: %s %s://%s: %w", step, u.Scheme, u.Host, err)
}
