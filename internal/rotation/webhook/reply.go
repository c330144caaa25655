package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// answer reads the endpoint's response to ev, at most MaxReply bytes of it.
func (c *Client) answer(resp *http.Response, ev Event) (*Reply, error) {
	limit := c.MaxReply
	if limit <= 0 {
		limit = DefaultMaxReply
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	whole := err == nil && int64(len(body)) <= limit
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &StatusError{Step: ev.Step, Status: resp.StatusCode}
		if whole {
			e.Message = statusMessage(body, ev)
		}
		return nil, e
	}
	if ev.Step != StepCreate {
		return nil, nil // the step succeeded; its body means nothing
	}
	switch {
	case err != nil:
		return nil, fmt.Errorf("webhook: %s: read reply: %w", ev.Step, err)
	case !whole:
		return nil, fmt.Errorf("%w: %s: larger than %d bytes", ErrReply, ev.Step, limit)
	}
	return decodeReply(ev.Step, body)
}

// decodeReply reads createSecret's reply: nothing, or a JSON object with
// SecretString or SecretBinary. Its errors never quote the body, which may
// hold a secret.
func decodeReply(step string, body []byte) (*Reply, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	var r Reply
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("%w: %s: not a JSON object with SecretString or SecretBinary", ErrReply, step)
	}
	hasString := r.SecretString != nil && *r.SecretString != ""
	hasBinary := len(r.SecretBinary) > 0
	switch {
	case hasString && hasBinary:
		return nil, fmt.Errorf("%w: %s: both SecretString and SecretBinary", ErrReply, step)
	case hasString:
		return &Reply{SecretString: r.SecretString}, nil
	case hasBinary:
		return &Reply{SecretBinary: r.SecretBinary}, nil
	}
	return nil, nil // {} or empty values: Coffer generates the value
}
