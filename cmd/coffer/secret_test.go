package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	sdk "github.com/coffer-secrets/coffer/client"
)

// TestSecretCommands runs every secret command against a real server, in
// both output formats.
func TestSecretCommands(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t)
	for _, output := range []string{"table", "json"} {
		t.Run(output, func(t *testing.T) {
			t.Parallel()
			env := s.with()
			run := func(stdin string, args ...string) string {
				t.Helper()
				return cli(t, env, stdin, append(args, "--output", output)...).ok(t, args...)
			}
			name := "db-" + output
			file := writeTemp(t, t.TempDir(), "v1", "first value")
			wantOut(t, output, run("", "secret", "create", name, "--value-file", file, "--description", "orders", "--tag", "team=app"),
				"Created secret "+name+", version SSM_Current", map[string]any{"SecretName": name, "VersionId": "SSM_Current"})
			wantOut(t, output, run("", "secret", "get", name), "first value", map[string]any{"SecretName": name, "VersionId": "SSM_Current", "SecretString": "first value"})
			wantOut(t, output, run("second value", "secret", "put", name, "--value-stdin", "--version-id", "v2"),
				"Put version v2 of "+name, map[string]any{"SecretName": name, "VersionId": "v2"})
			wantOut(t, output, run("", "secret", "get", name), "second value", map[string]any{"SecretName": name, "VersionId": "v2", "SecretString": "second value"})
			wantOut(t, output, run("", "secret", "get", name, "--version-id", "SSM_Current"), "first value",
				map[string]any{"SecretName": name, "VersionId": "SSM_Current", "SecretString": "first value"})
			wantOut(t, output, run("fixed", "secret", "update", name, "--value-stdin", "--description", "orders DB"),
				"Overwrote version v2 of "+name+"\nUpdated the description of "+name, map[string]any{"SecretName": name, "VersionId": "v2"})
			wantSecretList(t, output, run("", "secret", "list", "--search", name, "--tag", "team=app"), name)
			wantDescribe(t, output, run("", "secret", "describe", name), name, "orders DB", "Enabled")
			wantVersions(t, output, run("", "secret", "versions", name), []string{"SSM_Current", "v2"})
			run("", "secret", "disable", name)
			wantExit(t, env, 1, "ResourceUnavailable.ResourceDisabled", "secret", "get", name)
			run("", "secret", "enable", name)
			wantExit(t, env, 1, "OperationDenied", "secret", "delete", name)
			wantOut(t, output, run("", "secret", "delete", name, "--version-id", "SSM_Current"),
				"Deleted version SSM_Current of "+name, map[string]any{"SecretName": name, "VersionId": "SSM_Current"})
			out := run("", "secret", "delete", name, "--disable", "--recovery-days", "3")
			if !strings.Contains(out, name) || !strings.Contains(out, "T") {
				t.Errorf("delete: got %q", out)
			}
			wantDescribe(t, output, run("", "secret", "describe", name), name, "orders DB", "PendingDelete")
			run("", "secret", "restore", name)
			wantDescribe(t, output, run("", "secret", "describe", name), name, "orders DB", "Disabled")
			run("", "secret", "delete", name, "--recovery-days", "0")
			wantExit(t, env, exitNotFound, "ResourceNotFound", "secret", "describe", name)
		})
	}
}

// wantOut checks a command's output: the table text, or the JSON object.
func wantOut(t *testing.T, output, got, table string, obj map[string]any) {
	t.Helper()
	if output == "table" {
		if strings.TrimRight(got, "\n") != table {
			t.Errorf("table output: got %q, want %q", got, table)
		}
		return
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(got), &m); err != nil {
		t.Fatalf("json output %q: %v", got, err)
	}
	for k, v := range obj {
		if m[k] != v {
			t.Errorf("json output %s: got %v, want %v (all: %s)", k, m[k], v, got)
		}
	}
}

func wantSecretList(t *testing.T, output, got, name string) {
	t.Helper()
	if output == "table" {
		lines := strings.Split(strings.TrimSpace(got), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "NAME") || !strings.HasPrefix(lines[1], name+" ") || !strings.Contains(lines[1], "Enabled") {
			t.Errorf("list: got %q", got)
		}
		return
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(got), &list); err != nil || len(list) != 1 || list[0]["SecretName"] != name {
		t.Errorf("list json: got %s (%v)", got, err)
	}
}

func wantDescribe(t *testing.T, output, got, name, desc, status string) {
	t.Helper()
	if output == "table" {
		for _, want := range []string{"Name:         " + name, "Description:  " + desc, "Status:       " + status} {
			if !strings.Contains(got, want+"\n") {
				t.Errorf("describe: got %q, want a line %q", got, want)
			}
		}
		return
	}
	wantOut(t, output, got, "", map[string]any{"SecretName": name, "Description": desc, "Status": status, "CreateUin": envAccount})
}

func wantVersions(t *testing.T, output, got string, ids []string) {
	t.Helper()
	if output == "table" {
		lines := strings.Split(strings.TrimSpace(got), "\n")
		if len(lines) != len(ids)+1 || !strings.HasSuffix(lines[len(lines)-1], "*") || !strings.HasPrefix(lines[len(lines)-1], ids[len(ids)-1]) {
			t.Errorf("versions: got %q, want %v with the last current", got, ids)
		}
		return
	}
	var v struct {
		Versions []struct {
			VersionId string
			Current   bool
		}
	}
	if err := json.Unmarshal([]byte(got), &v); err != nil || len(v.Versions) != len(ids) || !v.Versions[len(ids)-1].Current {
		t.Errorf("versions json: got %s (%v)", got, err)
	}
	for i, id := range ids {
		if i < len(v.Versions) && v.Versions[i].VersionId != id {
			t.Errorf("versions json %d: got %s, want %s", i, v.Versions[i].VersionId, id)
		}
	}
}

func TestSecretBinaryValues(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t)
	raw := []byte{0, 0xff, 'x', '\n', 0x80}
	file := writeTemp(t, t.TempDir(), "bin", string(raw))
	s.must(t, "", "secret", "create", "bin", "--value-file", file, "--binary")
	if got := s.must(t, "", "secret", "get", "bin"); got != base64.StdEncoding.EncodeToString(raw)+"\n" {
		t.Errorf("get: got %q, want base64", got)
	}
	if got := s.must(t, "", "secret", "get", "bin", "--raw"); !bytes.Equal([]byte(got), raw) {
		t.Errorf("get --raw: got %q, want %q", got, raw)
	}
	var j struct{ SecretBinary string }
	if err := json.Unmarshal([]byte(s.must(t, "", "secret", "get", "bin", "-o", "json")), &j); err != nil || j.SecretBinary != base64.StdEncoding.EncodeToString(raw) {
		t.Errorf("get -o json: got %+v, %v", j, err)
	}
	s.must(t, "", "secret", "put", "bin", "--binary", "--value", base64.StdEncoding.EncodeToString([]byte("b2")))
	if got := s.must(t, "", "secret", "get", "bin", "--raw"); got != "b2" {
		t.Errorf("after put --binary --value: got %q", got)
	}
	wantExit(t, s.env, exitUsage, "not UTF-8", "secret", "put", "bin", "--value-file", file)
	// Exactly the bytes given: a trailing newline stays.
	s.must(t, "line\n", "secret", "put", "bin", "--value-stdin")
	if got := s.must(t, "", "secret", "get", "bin", "--raw"); got != "line\n" {
		t.Errorf("stdin value: got %q, want %q", got, "line\n")
	}
}

// TestSecretExitCodes checks the documented exit statuses.
func TestSecretExitCodes(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t)
	s.must(t, "v", "secret", "create", "exists", "--value-stdin")
	user := subUser(t, s, "nobody")
	closed := "http://" + closedAddr(t)
	dir := t.TempDir()
	tests := []struct {
		name string
		env  []string
		code int
		want string
		args []string
	}{
		{"not found", s.env, exitNotFound, "ResourceNotFound", []string{"secret", "get", "missing"}},
		{"version not found", s.env, exitNotFound, "ResourceNotFound", []string{"secret", "get", "exists", "--version-id", "nope"}},
		{"taken name", s.env, 1, "ResourceInUse.SecretExists", []string{"secret", "create", "exists", "--value", "x"}},
		{"bad value", s.env, 1, "InvalidParameterValue", []string{"secret", "create", "bad name!", "--value", "x"}},
		{"unknown flag", s.env, exitUsage, "unknown flag", []string{"secret", "get", "exists", "--nope"}},
		{"no name", s.env, exitUsage, "give one secret name", []string{"secret", "get"}},
		{"two values", s.env, exitUsage, "exactly one", []string{"secret", "put", "exists", "--value", "a", "--value-stdin"}},
		{"no value", s.env, exitUsage, "exactly one", []string{"secret", "put", "exists"}},
		{"unknown subcommand", s.env, exitUsage, "unknown command", []string{"secret", "frobnicate"}},
		{"bad output", s.env, exitUsage, "--output", []string{"secret", "list", "-o", "yaml"}},
		{"bad status", s.env, exitUsage, "--status", []string{"secret", "list", "--status", "sleeping"}},
		{"unreadable value file", s.env, exitFailed, "value file", []string{"secret", "put", "exists", "--value-file", dir + "/none"}},
		{"no address", []string{"XDG_CONFIG_HOME=" + dir}, exitUsage, "COFFER_ADDR", []string{"secret", "list"}},
		{"no credentials", []string{"COFFER_ADDR=" + s.d.URL, "XDG_CONFIG_HOME=" + dir}, exitUsage, "no credentials", []string{"secret", "list"}},
		{"wrong key", s.with("COFFER_SECRET_KEY=wrong"), exitDenied, "AuthFailure.SignatureFailure", []string{"secret", "list"}},
		{"unknown key id", s.with("COFFER_SECRET_ID=AKIDnobody"), exitDenied, "AuthFailure.SecretIdNotFound", []string{"secret", "list"}},
		{"denied by policy", user, exitDenied, "UnauthorizedOperation", []string{"secret", "get", "exists"}},
		{"unreachable", s.with("COFFER_ADDR=" + closed), exitUnavailable, "connect", []string{"secret", "get", "exists"}},
		{"unknown profile", s.with("COFFER_PROFILE=nope"), exitUsage, `no profile "nope"`, []string{"secret", "list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := wantExit(t, tt.env, tt.code, tt.want, tt.args...)
			if r.stdout != "" {
				t.Errorf("stdout on failure: %q", r.stdout)
			}
		})
	}
}

// subUser adds a CAM user with no policy and returns an environment
// signed by its key.
func subUser(t *testing.T, s *cliServer, name string) []string {
	t.Helper()
	var u struct{ SecretId, SecretKey string }
	if err := s.root(t).DoProduct(context.Background(), sdk.CAM, "AddUser", map[string]any{"Name": name, "UseApi": 1}, &u); err != nil {
		t.Fatalf("AddUser: %v", err)
	}
	return s.with("COFFER_SECRET_ID="+u.SecretId, "COFFER_SECRET_KEY="+u.SecretKey)
}

func TestSecretListPagesAndFilters(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t)
	c := s.root(t)
	for i := range 130 {
		tag := "a"
		if i%2 == 1 {
			tag = "b"
		}
		if _, err := c.CreateSecret(context.Background(), sdk.CreateSecretInput{Name: "many-" + string(rune('a'+i/26)) + string(rune('a'+i%26)),
			Value: sdk.Text("v"), Tags: []sdk.Tag{{Key: "half", Value: tag}}}); err != nil {
			t.Fatal(err)
		}
	}
	count := func(args ...string) int {
		var list []map[string]any
		if err := json.Unmarshal([]byte(s.must(t, "", append([]string{"secret", "list", "-o", "json"}, args...)...)), &list); err != nil {
			t.Fatal(err)
		}
		return len(list)
	}
	for _, tt := range []struct {
		args []string
		want int
	}{
		{nil, 130}, // more than one page
		{[]string{"--limit", "7"}, 7},
		{[]string{"--tag", "half=b"}, 65},
		{[]string{"--tag", "half=a", "--tag", "half=b"}, 130},
		{[]string{"--tag", "half"}, 130},
		{[]string{"--search", "many-aa"}, 1},
		{[]string{"--status", "disabled"}, 0},
	} {
		if got := count(tt.args...); got != tt.want {
			t.Errorf("list %v: got %d secrets, want %d", tt.args, got, tt.want)
		}
	}
}
