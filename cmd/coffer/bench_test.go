package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// runBenchBin runs `coffer bench` with args against a server and returns
// its standard output, standard error and exit status.
func runBenchBin(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(cofferBin, append([]string{"bench"}, args...)...)
	cmd.Env = environ(env)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("coffer bench: %v", err)
	}
	return out.String(), errOut.String(), code
}

// benchReport is the part of the JSON report the test reads.
type benchReport struct {
	Protocol   string
	Elapsed    float64 `json:"elapsed_s"`
	Setup      struct{ Created, Reused int }
	Operations []struct {
		Name       string
		Requests   int64
		Errors     int64
		Throughput float64
	}
	Total struct {
		Requests, Errors int64
		Throughput       float64
		Latency          struct{ P50, P99, Max float64 } `json:"latency_ms"`
	}
	Cleanup struct {
		Secrets int64 `json:"secrets_deleted"`
	}
}

// TestBenchAgainstDevServer runs the built binary against a real dev server
// for two seconds per protocol, with set-up and clean-up, and reads the JSON
// report: requests answered, none failed.
func TestBenchAgainstDevServer(t *testing.T) {
	d := startCoffer(t, rootEnv(envKeyID, envSecret, envAccount),
		"server", "--dev", "--listen", "127.0.0.1:0", "--data", t.TempDir(), "--rate-limit-account", "0")
	env := []string{"COFFER_ADDR=" + d.URL, "COFFER_SECRET_ID=" + envKeyID, "COFFER_SECRET_KEY=" + envSecret}
	for _, proto := range []string{"tc3", "aws"} {
		t.Run(proto, func(t *testing.T) {
			out, errOut, code := runBenchBin(t, env, "--protocol", proto, "-d", "2s", "-c", "4", "--setup", "8",
				"--run", proto, "--mix", "get=80,put=10,list=5,describe=5", "--cleanup", "-o", "json")
			if code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			var rep benchReport
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("report is not JSON: %v\n%s", err, out)
			}
			if rep.Protocol != proto || rep.Setup.Created != 8 || rep.Cleanup.Secrets != 8 {
				t.Errorf("protocol %q, created %d, deleted %d; want %s, 8, 8", rep.Protocol, rep.Setup.Created, rep.Cleanup.Secrets, proto)
			}
			if rep.Total.Requests == 0 || rep.Total.Throughput <= 0 || rep.Total.Errors != 0 {
				t.Errorf("total %+v: want requests answered and no errors\n%s", rep.Total, out)
			}
			if len(rep.Operations) != 4 || rep.Elapsed < 2 || rep.Total.Latency.P50 <= 0 || rep.Total.Latency.P99 > rep.Total.Latency.Max {
				t.Errorf("report %+v: want 4 operations over 2 s with latencies", rep)
			}
			if !strings.Contains(errOut, "req/s") {
				t.Errorf("no progress line on stderr:\n%s", errOut)
			}
		})
	}
}

// TestBenchExitStatus: usage errors, refused credentials and an error rate
// over the limit each have their exit status, and text output is the
// default.
func TestBenchExitStatus(t *testing.T) {
	d := startCoffer(t, rootEnv(envKeyID, envSecret, envAccount),
		"server", "--dev", "--listen", "127.0.0.1:0", "--data", t.TempDir(), "--rate-limit-account", "0")
	env := []string{"COFFER_ADDR=" + d.URL, "COFFER_SECRET_ID=" + envKeyID, "COFFER_SECRET_KEY=" + envSecret}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bad mix", []string{"--mix", "fetch=1"}, exitUsage, "fetch=1"},
		{"both modes", []string{"-d", "1s", "-n", "5"}, exitUsage, "not both"},
		{"wrong key", []string{"-n", "5", "--secret-key", "nope"}, exitFailed, "AuthFailure.SignatureFailure"},
		// A page of 5000 is over the server's limit: every list fails.
		{"error rate", []string{"-n", "20", "--setup", "0", "--mix", "list=1", "--page-size", "5000", "-q"}, exitProblem, "InvalidParameterValue"},
		{"error rate allowed", []string{"-n", "20", "--setup", "0", "--mix", "list=1", "--page-size", "5000", "-q", "--max-error-rate", "1"}, 0, "100.00% of requests"},
		{"text report", []string{"-n", "20", "--setup", "2", "--mix", "get=1", "-q"}, 0, "GetSecretValue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runBenchBin(t, env, tt.args...)
			if code != tt.code || !strings.Contains(out+errOut, tt.want) {
				t.Errorf("exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", code, tt.code, tt.want, out, errOut)
			}
		})
	}
}
