package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// awsyCLI runs the aws CLI against one server, isolated from the user's
// configuration and credentials.
type awsyCLI struct {
	t    *testing.T
	path string
	url  string
	env  []string
}

// awsyFindCLI returns the aws CLI, failing in CI (CI=true) when it is
// missing and skipping elsewhere.
func awsyFindCLI(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("aws")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the aws CLI is not on PATH (%v); CI must install it (pip install awscli)", err)
		}
		t.Skipf("skipping: the aws CLI is not on PATH (%v); install it (pip install awscli) to run this test", err)
	}
	return path
}

// awsyNewCLI returns a runner of the aws CLI at path against s.
func awsyNewCLI(t *testing.T, s *testServer, path string) *awsyCLI {
	t.Helper()
	dir := t.TempDir()
	config, creds := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	for _, f := range []string{config, creds} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"HOME="+dir,
		"AWS_ACCESS_KEY_ID="+testKeyID,
		"AWS_SECRET_ACCESS_KEY="+testSecret,
		"AWS_DEFAULT_REGION="+testRegion,
		"AWS_CONFIG_FILE="+config,
		"AWS_SHARED_CREDENTIALS_FILE="+creds,
		"AWS_PAGER=",
	)
	return &awsyCLI{t: t, path: path, url: s.URL(), env: env}
}

// run runs one secretsmanager command that must succeed and decodes its
// JSON output (nil when it prints nothing).
func (c *awsyCLI) run(args ...string) map[string]any {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	full := append([]string{"--endpoint-url", c.url, "--output", "json", "secretsmanager"}, args...)
	cmd := exec.CommandContext(ctx, c.path, full...)
	cmd.Env = c.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		c.t.Fatalf("aws secretsmanager %s: %v\nstderr: %s", strings.Join(args, " "), err, stderr.String())
	}
	if len(bytes.TrimSpace(stdout.Bytes())) == 0 {
		return nil
	}
	var out map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		c.t.Fatalf("aws secretsmanager %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, stdout.String())
	}
	return out
}

// TestAWSCLI drives a secret's life with the aws CLI (botocore's signer
// and parsers).
func TestAWSCLI(t *testing.T) {
	path := awsyFindCLI(t)
	s := startServer(t, "")
	cli := awsyNewCLI(t, s, path)
	a := awsyClient(t, s, testRegion)

	created := cli.run("create-secret", "--name", "cli/db", "--secret-string", "hunter2", "--description", "from the cli")
	arn := mxStr(t, created, "ARN")
	v1 := mxStr(t, created, "VersionId")
	if mxStr(t, created, "Name") != "cli/db" || !strings.HasPrefix(arn, "arn:aws:secretsmanager:"+testRegion+":"+testAccount+":secret:cli/db-") || len(v1) < 32 {
		t.Errorf("create-secret: got %v", created)
	}

	got := cli.run("get-secret-value", "--secret-id", "cli/db")
	if mxStr(t, got, "SecretString") != "hunter2" || mxStr(t, got, "VersionId") != v1 || mxStr(t, got, "ARN") != arn {
		t.Errorf("get-secret-value: got %v, want hunter2 version %s", got, v1)
	}
	if stages, _ := got["VersionStages"].([]any); len(stages) != 1 || stages[0] != "AWSCURRENT" {
		t.Errorf("get-secret-value: got VersionStages %v, want [AWSCURRENT]", got["VersionStages"])
	}

	put := cli.run("put-secret-value", "--secret-id", arn, "--secret-string", "correct horse")
	v2 := mxStr(t, put, "VersionId")
	if v2 == v1 || mxStr(t, put, "ARN") != arn {
		t.Errorf("put-secret-value: got %v", put)
	}
	if got := a.get("cli/db"); *got.SecretString != "correct horse" || *got.VersionId != v2 {
		t.Errorf("SDK read after the CLI put: got %q version %s, want correct horse version %s", *got.SecretString, *got.VersionId, v2)
	}
	a.create("cli/other", "v", nil)

	list := cli.run("list-secrets", "--filters", "Key=name,Values=cli/")
	entries, _ := list["SecretList"].([]any)
	var names []string
	for _, e := range entries {
		names = append(names, mxStr(t, e.(map[string]any), "Name"))
	}
	if want := []string{"cli/db", "cli/other"}; !slices.Equal(names, want) {
		t.Errorf("list-secrets: got %v, want %v", names, want)
	}
	if _, ok := list["NextToken"]; ok {
		t.Errorf("list-secrets: got NextToken %v, want none", list["NextToken"])
	}

	desc := cli.run("describe-secret", "--secret-id", "cli/db")
	if mxStr(t, desc, "Description") != "from the cli" || mxStr(t, desc, "ARN") != arn {
		t.Errorf("describe-secret: got %v", desc)
	}
	stages, _ := desc["VersionIdsToStages"].(map[string]any)
	if len(stages) != 2 || !slices.Equal(stages[v2].([]any), []any{"AWSCURRENT"}) || !slices.Equal(stages[v1].([]any), []any{"AWSPREVIOUS"}) {
		t.Errorf("describe-secret: got VersionIdsToStages %v, want %s current and %s previous", desc["VersionIdsToStages"], v2, v1)
	}
	for _, field := range []string{"CreatedDate", "LastChangedDate"} {
		if _, ok := desc[field]; !ok {
			t.Errorf("describe-secret: no %s in %v", field, desc)
		}
	}

	del := cli.run("delete-secret", "--secret-id", "cli/db", "--force-delete-without-recovery")
	if mxStr(t, del, "Name") != "cli/db" || mxStr(t, del, "ARN") != arn {
		t.Errorf("delete-secret: got %v", del)
	}
	if _, ok := del["DeletionDate"]; !ok {
		t.Errorf("delete-secret: no DeletionDate in %v", del)
	}
	if got := a.listNames(secretsmanager.ListSecretsInput{IncludePlannedDeletion: aws.Bool(true)}); !slices.Equal(got, []string{"cli/other"}) {
		t.Errorf("after delete-secret: got secrets %v, want [cli/other]", got)
	}
}
