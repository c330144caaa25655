package server_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/usage"
)

// usageKey is what the usage test compares calls by: times vary with the
// clock, so it sums over them.
type usageKey struct{ Region, Family, Action, Result string }

// TestUsageReport drives a known set of calls, rolls them up, and checks
// DescribeUsage, the CLI report (table, CSV, JSON) and a statement count
// exactly those.
func TestUsageReport(t *testing.T) {
	s := startServer(t, "")
	gz, sh := s.client(testRegion), s.client("ap-shanghai")
	for _, name := range []string{"u1", "u2"} {
		gz.must("CreateSecret", map[string]any{"SecretName": name, "VersionId": "v1", "SecretString": "x"})
	}
	sh.must("CreateSecret", map[string]any{"SecretName": "u3", "VersionId": "v1", "SecretString": "x"})
	for range 5 {
		gz.must("GetSecretValue", map[string]any{"SecretName": "u1", "VersionId": "v1"})
	}
	for range 2 {
		gz.fails("ResourceNotFound", "DescribeSecret", map[string]any{"SecretName": "absent"})
	}
	if _, code := s.awsCall(t, "ListSecrets", map[string]any{}); code != "" {
		t.Fatalf("ListSecrets: %s", code)
	}
	// Refused before authentication: counted under no account, so not here.
	if _, code := s.tencentCall(t, "ssm", "ListSecrets", map[string]any{}, "wrong-key"); code == "" {
		t.Fatal("a call with the wrong key succeeded")
	}
	if err := s.UsageRoller.RollNow(context.Background()); err != nil {
		t.Fatal(err)
	}

	out := gz.must("DescribeUsage", map[string]any{"Granularity": "month"})
	want := map[usageKey]float64{
		{testRegion, "ssm", "CreateSecret", "ok"}:                 2,
		{"ap-shanghai", "ssm", "CreateSecret", "ok"}:              1,
		{testRegion, "ssm", "GetSecretValue", "ok"}:               5,
		{testRegion, "ssm", "DescribeSecret", "ResourceNotFound"}: 2,
		{testRegion, "secretsmanager", "ListSecrets", "ok"}:       1,
	}
	got := map[usageKey]float64{}
	for _, r := range out["Rows"].([]any) {
		r := r.(map[string]any)
		got[usageKey{r["Region"].(string), r["Family"].(string), r["Action"].(string), r["Result"].(string)}] += r["Calls"].(float64)
	}
	wantSame(t, "DescribeUsage calls", got, want)
	secretHours := map[string]float64{}
	for _, r := range out["SecretHours"].([]any) {
		r := r.(map[string]any)
		secretHours[r["Region"].(string)] += r["SecretHours"].(float64)
	}
	wantSame(t, "DescribeUsage secret-hours", secretHours, map[string]float64{testRegion: 2, "ap-shanghai": 1})
	wantSame(t, "totals", [2]any{out["TotalCalls"], out["TotalSecretHours"]}, [2]any{11.0, 3.0})

	// The server's last roll-up, at shutdown, counts the DescribeUsage call too.
	s.stop()
	checkUsageCLI(t, s.dir, 12, 3)
}

func wantSame[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\ngot  %v\nwant %v", what, got, want)
	}
}

// checkUsageCLI runs `coffer usage report` in each output format and
// `coffer usage statement` on dir and checks their totals.
func checkUsageCLI(t *testing.T, dir string, calls, secretHours int64) {
	bin := buildCoffer(t)
	now := time.Now().UTC()
	args := []string{"usage", "report", "--data", dir, "--account", testAccount,
		"--from", now.AddDate(0, 0, -1).Format(time.DateOnly), "--to", now.AddDate(0, 0, 2).Format(time.DateOnly)}
	run := func(args ...string) []byte {
		t.Helper()
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("coffer %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}

	var rep usage.Report
	if err := json.Unmarshal(run(append(args, "--output", "json")...), &rep); err != nil {
		t.Fatal(err)
	}
	wantSame(t, "JSON totals", [2]int64{rep.TotalCalls, rep.TotalSecretHours}, [2]int64{calls, secretHours})

	rows, err := csv.NewReader(bytes.NewReader(run(append(args, "--output", "csv")...))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]int64{}
	for _, row := range rows[1:] {
		n, _ := strconv.ParseInt(row[6], 10, 64)
		sums[row[0]] += n
	}
	wantSame(t, "CSV totals", sums, map[string]int64{"calls": calls, "secret_hours": secretHours})

	table := string(run(append(args, "--output", "table", "--granularity", "day")...))
	totals := map[string]string{}
	for _, line := range strings.Split(table, "\n") {
		if f := strings.Fields(line); len(f) >= 2 {
			totals[strings.Join(f[:len(f)-1], " ")] = f[len(f)-1]
		}
	}
	wantSame(t, "table totals", [2]string{totals["total calls"], totals["secret-hours"]},
		[2]string{strconv.FormatInt(calls, 10), strconv.FormatInt(secretHours, 10)})

	// One secret-month (730 secret-hours) costs 730 and 10,000 calls 10,000,
	// so the total is secret-hours + calls, to the cent.
	prices := filepath.Join(t.TempDir(), "prices.json")
	if err := os.WriteFile(prices, []byte(`{"currency":"USD","secret_month":730,"per_10k_calls":10000,"per_rotation":5}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var st usage.Statement
	out := run("usage", "statement", "--data", dir, "--account", testAccount, "--month", now.Format("2006-01"),
		"--prices", prices, "--output", "json")
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatal(err)
	}
	wantSame(t, "statement total", st.Total, float64(calls+secretHours))
}

// buildCoffer builds the coffer binary into a temporary directory.
func buildCoffer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "coffer")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/coffer-secrets/coffer/cmd/coffer").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
