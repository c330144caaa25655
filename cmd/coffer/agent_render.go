package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"text/template"

	sdk "github.com/coffer-secrets/coffer/client"
)

// agentTemplate is one configured file and what its last render used.
type agentTemplate struct {
	cfg  templateConfig
	tmpl *template.Template
	deps map[string]bool // secrets whose current version the last render read
}

// renderer executes templates against a cache. Its functions record the
// secrets a template reads, so the agent knows what to watch. Renders run
// one at a time.
type renderer struct {
	cache *sdk.Cache
	ctx   context.Context
	deps  map[string]bool
}

// funcs are the template functions (docs/agent.md).
func (r *renderer) funcs() template.FuncMap {
	return template.FuncMap{
		"secret":        r.secret,
		"secretVersion": r.secretVersion,
		"secretJSON":    r.secretJSON,
		"base64":        func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
		"toJSON": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
	}
}

// secret returns the current value of a secret (a binary one's raw bytes).
func (r *renderer) secret(name string) (string, error) {
	r.deps[name] = true
	v, err := r.cache.Get(r.ctx, name)
	if err != nil {
		return "", err
	}
	return v.Value.Text(), nil
}

// secretVersion returns one version's value; it is not watched.
func (r *renderer) secretVersion(name, versionID string) (string, error) {
	v, err := r.cache.GetVersion(r.ctx, name, versionID)
	if err != nil {
		return "", err
	}
	return v.Value.Text(), nil
}

// secretJSON returns the current value parsed as JSON. The error names the
// secret, never its value.
func (r *renderer) secretJSON(name string) (any, error) {
	s, err := r.secret(name)
	if err != nil {
		return nil, err
	}
	var out any
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, fmt.Errorf("secret %s is not JSON", name)
	}
	return out, nil
}

// parse compiles a template with the renderer's functions.
func (r *renderer) parse(t templateConfig) (*agentTemplate, error) {
	tmpl, err := template.New(t.Destination).Option("missingkey=error").Funcs(r.funcs()).Parse(t.text)
	if err != nil {
		return nil, failed(fmt.Errorf("template for %s: %w", t.Destination, err))
	}
	return &agentTemplate{cfg: t, tmpl: tmpl}, nil
}

// render executes t and returns the text; t.deps becomes what it read.
func (r *renderer) render(ctx context.Context, t *agentTemplate) ([]byte, error) {
	r.ctx, r.deps = ctx, map[string]bool{}
	var buf bytes.Buffer
	err := t.tmpl.Execute(&buf, nil)
	t.deps = r.deps
	if err != nil {
		clear(buf.Bytes())
		return nil, fmt.Errorf("render %s: %w", t.cfg.Destination, err)
	}
	return buf.Bytes(), nil
}

// depNames lists t's secrets, sorted, for logs.
func (t *agentTemplate) depNames() []string {
	return slices.Sorted(maps.Keys(t.deps))
}
