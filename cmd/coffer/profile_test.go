package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProfiles: a profile set by the CLI is used by the client commands;
// the environment overrides it and flags override both.
func TestProfiles(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t)
	s.must(t, "from-profile", "secret", "create", "p", "--value-stdin")
	xdg := t.TempDir()
	bare := []string{"XDG_CONFIG_HOME=" + xdg}
	closed := "http://" + closedAddr(t)
	cli(t, bare, envSecret+"\n", "profile", "set", "dev", "--addr", s.d.URL, "--secret-id", envKeyID, "--secret-key-stdin").ok(t)
	cli(t, bare, "", "profile", "set", "broken", "--addr", closed, "--secret-id", envKeyID, "--output", "json").ok(t)

	path := filepath.Join(xdg, "coffer", "config.json")
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("config file: got %v, %v; want mode 0600", st, err)
	}
	list := cli(t, bare, "", "profile", "list").ok(t)
	if strings.Contains(list, envSecret) || !strings.Contains(list, "dev ") || !strings.Contains(list, "broken ") {
		t.Errorf("profile list: got %q", list)
	}
	var rows []struct {
		Name         string
		HasSecretKey bool
		Default      bool
	}
	if err := json.Unmarshal([]byte(cli(t, bare, "", "profile", "list", "-o", "json").ok(t)), &rows); err != nil ||
		len(rows) != 2 || rows[0].Name != "broken" || rows[0].HasSecretKey || !rows[1].HasSecretKey || !rows[1].Default {
		t.Errorf("profile list -o json: got %+v, %v", rows, err)
	}

	get := []string{"secret", "get", "p"}
	if got := cli(t, bare, "", get...).ok(t); got != "from-profile\n" {
		t.Errorf("default profile: got %q", got)
	}
	// The broken profile points nowhere and has no key; env fills in.
	wantExit(t, append(bare, "COFFER_PROFILE=broken"), exitUsage, "no credentials", get...)
	env := append(bare, "COFFER_PROFILE=broken", "COFFER_SECRET_ID="+envKeyID, "COFFER_SECRET_KEY="+envSecret)
	wantExit(t, env, exitUnavailable, "connect", get...)
	if got := cli(t, append(env, "COFFER_ADDR="+s.d.URL), "", get...).ok(t); !strings.Contains(got, `"SecretString": "from-profile"`) {
		t.Errorf("env over profile (profile output json): got %q", got)
	}
	wantExit(t, append(bare, "COFFER_ADDR="+s.d.URL), exitUnavailable, "connect", append(get, "--addr", closed)...)
	if got := cli(t, append(bare, "COFFER_PROFILE=broken"), "", append(get, "--profile", "dev")...).ok(t); got != "from-profile\n" {
		t.Errorf("--profile over COFFER_PROFILE: got %q", got)
	}
	wantExit(t, bare, exitUsage, `no profile "nope"`, append(get, "--profile", "nope")...)

	cli(t, bare, "", "profile", "delete", "dev").ok(t)
	wantExit(t, bare, exitUsage, "no server address", get...)
	wantExit(t, bare, exitUsage, `no profile "dev"`, "profile", "delete", "dev")
	wantExit(t, bare, exitFailed, "config file", "secret", "list", "--config-file", filepath.Join(xdg, "absent.json"))
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t)
	for shell, want := range map[string]string{"bash": "bash completion", "zsh": "#compdef coffer", "fish": "complete -c coffer"} {
		if got := s.must(t, "", "completion", shell); !strings.Contains(got, want) {
			t.Errorf("completion %s: no %q in the script", shell, want)
		}
	}
	wantExit(t, s.env, exitUsage, "name one shell", "completion", "tcsh")
	s.must(t, "v", "secret", "create", "complete-me", "--value-stdin")
	s.must(t, "v", "secret", "create", "other", "--value-stdin")
	got := s.must(t, "", "__complete", "secret", "get", "comp")
	if !strings.Contains(got, "complete-me\n") || strings.Contains(got, "other") {
		t.Errorf("secret name completion: got %q", got)
	}
}
