package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// agentConfig is the agent's config file (docs/agent.md).
type agentConfig struct {
	Cache struct {
		TTL          duration `json:"ttl"`           // default 5m
		PollInterval duration `json:"poll_interval"` // default 10s
	} `json:"cache"`
	Templates []templateConfig `json:"templates"`
}

// templateConfig is one file the agent keeps rendered, and what to do
// when it changes.
type templateConfig struct {
	Source         string   `json:"source"`      // template file, relative to the config file
	Contents       string   `json:"contents"`    // or the template itself
	Destination    string   `json:"destination"` // the rendered file
	Mode           string   `json:"mode"`        // octal, default "0600"
	Command        []string `json:"command"`     // run after a change: argv, no shell
	CommandTimeout duration `json:"command_timeout"`
	Signal         string   `json:"signal"`   // send after a change, e.g. "SIGHUP"
	PidFile        string   `json:"pid_file"` // to the process in this file
	Pid            int      `json:"pid"`      // or to this process

	mode os.FileMode
	text string
}

// duration is a time.Duration written as "30s" in JSON.
type duration struct{ time.Duration }

func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New(`durations are strings such as "30s"`)
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("duration %q: want a positive Go duration such as 30s", s)
	}
	d.Duration = v
	return nil
}

// loadAgentConfig reads and checks the agent config; template sources
// are read too. Every error is a could-not-run error naming the problem.
func loadAgentConfig(path string) (*agentConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, failed(fmt.Errorf("agent config: %w", err))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var cfg agentConfig
	if err := dec.Decode(&cfg); err != nil {
		return nil, failed(fmt.Errorf("agent config %s: %w", path, err))
	}
	if len(cfg.Templates) == 0 {
		return nil, failed(fmt.Errorf("agent config %s: no templates", path))
	}
	for i := range cfg.Templates {
		if err := cfg.Templates[i].check(filepath.Dir(path)); err != nil {
			return nil, failed(fmt.Errorf("agent config %s: templates[%d]: %w", path, i, err))
		}
	}
	return &cfg, nil
}

func (t *templateConfig) check(dir string) error {
	switch {
	case t.Destination == "":
		return errors.New("destination is required")
	case (t.Source == "") == (t.Contents == ""):
		return errors.New("give source or contents, one of them")
	case t.Signal != "" && t.Pid == 0 && t.PidFile == "":
		return errors.New("signal needs pid or pid_file")
	case t.Signal == "" && (t.Pid != 0 || t.PidFile != ""):
		return errors.New("pid and pid_file need signal")
	}
	if _, ok := signalNames[strings.ToUpper(t.Signal)]; t.Signal != "" && !ok {
		return fmt.Errorf("signal %q is not one of SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGKILL", t.Signal)
	}
	mode, err := strconv.ParseUint(cmp.Or(t.Mode, "0600"), 8, 32)
	if err != nil || mode > 0o777 {
		return fmt.Errorf("mode %q is not an octal permission such as 0600", t.Mode)
	}
	t.mode = os.FileMode(mode)
	t.text = t.Contents
	if t.Source != "" {
		if !filepath.IsAbs(t.Source) {
			t.Source = filepath.Join(dir, t.Source)
		}
		b, err := os.ReadFile(t.Source)
		if err != nil {
			return err
		}
		t.text = string(b)
	}
	if t.CommandTimeout.Duration == 0 {
		t.CommandTimeout.Duration = 30 * time.Second
	}
	return nil
}
