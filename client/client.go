package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coffer-secrets/coffer/internal/signature/tc3"
)

// Environment variables FromEnv reads, besides the credentials'.
const (
	EnvAddr   = "COFFER_ADDR"
	EnvRegion = "COFFER_REGION"
	EnvCACert = "COFFER_CACERT"
)

// Product names a Tencent Cloud API product a Coffer server serves, and
// the API version it speaks.
type Product struct{ Name, Version string }

// The products a Coffer server serves. The typed calls of this package are
// SSM's; DoProduct reaches the others.
var (
	SSM        = Product{"ssm", "2019-09-23"}
	CAM        = Product{"cam", "2019-01-16"}
	STS        = Product{"sts", "2018-08-13"}
	CloudAudit = Product{"cloudaudit", "2019-03-19"}
)

// DefaultRegion is the region a Client names when Options.Region is empty.
const DefaultRegion = "ap-guangzhou"

// maxResponse bounds a response body: a 64 KiB value in base64 plus a
// page of a thousand secrets' metadata fit easily.
const maxResponse = 16 << 20

// Options configure a Client. Only Endpoint is required.
type Options struct {
	// Endpoint is the server's URL: "https://coffer.example:8443", or
	// "http://127.0.0.1:8443" for a development server. A bare host:port
	// means https.
	Endpoint string
	// Region is sent as X-TC-Region; secrets are regional. Default
	// DefaultRegion.
	Region string
	// Credentials sign every request. Default EnvCredentials().
	Credentials CredentialsProvider
	// HTTPClient sends the requests. Default: a client with its own
	// transport trusting the system roots plus CAFile.
	HTTPClient *http.Client
	// CAFile is a PEM bundle of extra CAs to trust (a self-signed server
	// certificate, say). Ignored when HTTPClient is set.
	CAFile string
	// Timeout bounds each attempt of a call. Default 10 s.
	Timeout time.Duration
	// Retry says how calls are retried. The zero value retries a call up
	// to three times.
	Retry RetryPolicy
	// UserAgent is sent as the User-Agent header. Default "coffer-go".
	UserAgent string
}

// Client calls one Coffer server. It is safe for concurrent use.
type Client struct {
	url       string
	region    string
	creds     CredentialsProvider
	http      *http.Client
	timeout   time.Duration
	retry     RetryPolicy
	userAgent string
	now       func() time.Time

	// noCurrentCall is set once the server answers that it has no
	// WaitSecretChange: GetCurrentSecretValue lists versions instead.
	noCurrentCall atomic.Bool
}

// New returns a client for opts. It fails when the endpoint is missing or
// malformed or the CA file cannot be read; it does not contact the server.
func New(opts Options) (*Client, error) {
	u, err := endpointURL(opts.Endpoint)
	if err != nil {
		return nil, err
	}
	c := &Client{
		url: u, region: opts.Region, creds: opts.Credentials, http: opts.HTTPClient,
		timeout: opts.Timeout, retry: opts.Retry.withDefaults(), userAgent: opts.UserAgent, now: time.Now,
	}
	if c.region == "" {
		c.region = DefaultRegion
	}
	if c.creds == nil {
		c.creds = EnvCredentials()
	}
	if c.timeout <= 0 {
		c.timeout = 10 * time.Second
	}
	if c.userAgent == "" {
		c.userAgent = "coffer-go"
	}
	if c.http == nil {
		if c.http, err = httpClient(opts.CAFile); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// FromEnv returns a client configured by COFFER_ADDR, COFFER_REGION,
// COFFER_CACERT and the credentials' variables (see EnvCredentials), with
// opts filling in what they leave unset. It fails as New does.
func FromEnv(opts Options) (*Client, error) {
	if v := os.Getenv(EnvAddr); v != "" && opts.Endpoint == "" {
		opts.Endpoint = v
	}
	if v := os.Getenv(EnvRegion); v != "" && opts.Region == "" {
		opts.Region = v
	}
	if v := os.Getenv(EnvCACert); v != "" && opts.CAFile == "" {
		opts.CAFile = v
	}
	return New(opts)
}

// CloseIdleConnections closes the connections the client keeps open
// between calls and is not using now, as http.Client's does; the client
// stays usable. Call it when done with a client whose HTTPClient outlives
// it, or before a server must shut down without waiting for them.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// Region returns the region the client names in its requests.
func (c *Client) Region() string { return c.region }

// Endpoint returns the URL requests are sent to.
func (c *Client) Endpoint() string { return c.url }

func endpointURL(s string) (string, error) {
	if s == "" {
		return "", errors.New("client: no endpoint (Options.Endpoint or " + EnvAddr + ")")
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("client: endpoint %q is not an http(s) URL or host:port", s)
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		return "", fmt.Errorf("client: endpoint %q has a path or query; Coffer serves the API at /", s)
	}
	return u.Scheme + "://" + u.Host + "/", nil
}

func httpClient(caFile string) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("client: CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client: CA file %s holds no PEM certificate", caFile)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	return &http.Client{Transport: tr}, nil
}

// Do calls action with the parameters in (marshalled to a JSON object; nil
// for none) and decodes the response into out (nil to discard it). It is
// the escape hatch for actions without a typed method. Do retries only what
// any call may safely retry: a throttled call, and one that could not
// connect. It returns an *Error for an API error.
func (c *Client) Do(ctx context.Context, action string, in, out any) error {
	return c.DoProduct(ctx, SSM, action, in, out)
}

// DoProduct is Do for an action of another product (CAM, STS, CloudAudit).
func (c *Client) DoProduct(ctx context.Context, p Product, action string, in, out any) error {
	_, err := c.send(ctx, p, action, retrySafe, in, out)
	return err
}

// call is send for SSM calls that need not know about retries.
func (c *Client) call(ctx context.Context, action string, mode retryMode, in, out any) error {
	_, err := c.send(ctx, SSM, action, mode, in, out)
	return err
}

// send calls action, retrying as mode allows. It reports whether the call
// was attempted more than once, so a write can tell its own earlier attempt
// from a conflict.
func (c *Client) send(ctx context.Context, p Product, action string, mode retryMode, in, out any) (retried bool, err error) {
	return c.sendFor(ctx, p, action, mode, c.timeout, in, out)
}

// sendFor is send with each attempt bounded by timeout rather than the
// client's Timeout: a long poll needs its wait on top of that.
func (c *Client) sendFor(ctx context.Context, p Product, action string, mode retryMode, timeout time.Duration, in, out any) (retried bool, err error) {
	body, err := requestBody(in)
	if err != nil {
		return false, fmt.Errorf("client: %s: encode request: %w", action, err)
	}
	defer clear(body) // it may hold a secret value
	renewed := false
	for attempt := 1; ; attempt++ {
		err = c.once(ctx, p, action, timeout, body, out)
		if err == nil || ctx.Err() != nil {
			return attempt > 1, err
		}
		if !renewed && CodeOf(err) == CodeTokenFailure && c.renewToken() {
			renewed = true // the token was refused before the call ran
			continue
		}
		if attempt >= c.retry.MaxAttempts || !mode.allows(err) {
			return attempt > 1, err
		}
		if werr := c.retry.wait(ctx, attempt); werr != nil {
			return attempt > 1, err
		}
	}
}

// renewToken drops cached temporary credentials; it reports whether there
// were any to drop.
func (c *Client) renewToken() bool {
	t, ok := c.creds.(*temporary)
	if ok {
		t.expire()
	}
	return ok
}

func requestBody(in any) ([]byte, error) {
	if in == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(in)
}

// once sends one signed request and decodes its answer.
func (c *Client) once(ctx context.Context, p Product, action string, timeout time.Duration, body []byte, out any) error {
	cred, err := c.creds.Credentials(ctx)
	if err != nil {
		return fmt.Errorf("client: %s: %w", action, err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("client: %s: %w", action, err)
	}
	c.setHeaders(req, p, action, cred)
	tc3.SignRequest(req, body, cred.SecretID, []byte(cred.SecretKey), p.Name, c.now())
	resp, err := c.http.Do(req)
	if err != nil {
		return &transportError{action: action, err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return &transportError{action: action, err: err}
	}
	defer clear(raw) // it may hold a secret value
	return decodeResponse(action, resp.StatusCode, raw, out)
}

func (c *Client) setHeaders(req *http.Request, p Product, action string, cred Credentials) {
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("X-TC-Action", action)
	h.Set("X-TC-Version", p.Version)
	h.Set("X-TC-Region", c.region)
	h.Set("X-TC-Language", "en-US")
	h.Set("X-TC-RequestClient", c.userAgent)
	h.Set("User-Agent", c.userAgent)
	if cred.Token != "" {
		h.Set("X-TC-Token", cred.Token)
	}
}

// decodeResponse reads the {"Response":{…}} envelope: an error in it
// becomes an *Error, anything else is decoded into out.
func decodeResponse(action string, status int, raw []byte, out any) error {
	if status != http.StatusOK {
		code := codeHTTP
		if status == http.StatusTooManyRequests {
			code = CodeRequestLimit
		}
		return &Error{Action: action, Code: code, Message: fmt.Sprintf("HTTP status %d", status), HTTPStatus: status}
	}
	var env struct{ Response json.RawMessage }
	if err := json.Unmarshal(raw, &env); err != nil || len(env.Response) == 0 {
		return fmt.Errorf("client: %s: the response is not a Tencent Cloud API envelope", action)
	}
	var head struct {
		Error     *struct{ Code, Message string }
		RequestId string
	}
	if err := json.Unmarshal(env.Response, &head); err != nil {
		return fmt.Errorf("client: %s: decode response: %w", action, err)
	}
	if head.Error != nil && head.Error.Code != "" {
		return &Error{Action: action, Code: head.Error.Code, Message: head.Error.Message, RequestID: head.RequestId}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(env.Response, out); err != nil {
		return fmt.Errorf("client: %s: decode response: %w", action, err)
	}
	return nil
}
