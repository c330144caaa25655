package main

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestAccountCreate: an operator creates a tenant beside a running
// server; its root key works at once and sees none of the first
// account's secrets.
func TestAccountCreate(t *testing.T) {
	dir := t.TempDir()
	d := startCoffer(t, environ(rootEnv("AKIDcofferCLI00000000000000000000000", "cofferCliSecret0000000000000000000000000", "100000000007")),
		"server", "--dev", "--listen", "127.0.0.1:0", "--data", dir)
	url := "http://" + d.addr()
	first := newClient(t, url, "AKIDcofferCLI00000000000000000000000", "cofferCliSecret0000000000000000000000000", nil)
	first.must("CreateSecret", map[string]any{"SecretName": "mine", "VersionId": "v1", "SecretString": "x"})

	out, err := exec.Command(cofferBin, "account", "create", "tenant-b", "--data", dir, "-o", "json").Output()
	if err != nil {
		t.Fatalf("account create: %v", err)
	}
	var cred struct{ AccountId, SecretId, SecretKey string }
	if err := json.Unmarshal(out, &cred); err != nil || cred.SecretKey == "" || cred.AccountId == "100000000007" {
		t.Fatalf("account create printed %q (%v)", out, err)
	}
	b := newClient(t, url, cred.SecretId, cred.SecretKey, nil)
	if got := b.must("ListSecrets", map[string]any{}); got["TotalCount"] != float64(0) {
		t.Fatalf("new tenant lists %v", got)
	}
	b.fails("ResourceNotFound", "DescribeSecret", map[string]any{"SecretName": "mine"})

	list, err := exec.Command(cofferBin, "account", "list", "--data", dir).Output()
	if err != nil || !strings.Contains(string(list), "tenant-b") || !strings.Contains(string(list), "100000000007") {
		t.Fatalf("account list: %q %v", list, err)
	}
	if err := exec.Command(cofferBin, "account", "create", "x", "--data", t.TempDir()).Run(); exitCodeOf(err) != exitFailed {
		t.Fatalf("account create on an empty directory: %v", err)
	}
}

func exitCodeOf(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err == nil {
		return 0
	}
	return -1
}
