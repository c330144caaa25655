package awskms

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// The tests run against nsmithuk/local-kms, a KMS emulator in Go, built once
// with go install into a cache directory that outlives the test binary.
const (
	localKMSModule  = "github.com/nsmithuk/local-kms"
	localKMSVersion = "v0.0.0-20260228092603-2a5e92d09ab6"
	testRegion      = "eu-west-2"
	testAccount     = "111122223333"
	testAccessKey   = "AKIACOFFERTEST000001"
	testSecretKey   = "coffer-test-secret-5f1d0a77"
)

// localKMSBin is the emulator's path, or "" when tests skip for skipWhy.
var localKMSBin, skipWhy string

func TestMain(m *testing.M) {
	isolateAWSEnv()
	bin, err := installLocalKMS()
	switch {
	case err == nil:
		localKMSBin = bin
	case os.Getenv("CI") == "true":
		fmt.Fprintln(os.Stderr, "awskms: local-kms is required when CI=true:", err)
		os.Exit(1)
	default:
		skipWhy = "local-kms unavailable: " + err.Error()
	}
	os.Exit(m.Run())
}

// isolateAWSEnv keeps the developer's AWS settings out of the tests, and the
// SDK away from the EC2 metadata endpoint: tests talk to loopback only.
func isolateAWSEnv() {
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ACCESS_KEY_ID",
		"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KMS",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		os.Unsetenv(k)
	}
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	os.Setenv("AWS_CONFIG_FILE", os.DevNull)
	os.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
}

// installLocalKMS returns the cached emulator, building it when missing.
// The build goes to a fresh directory and is renamed into place, so test
// binaries racing to build it do not see half a file.
func installLocalKMS() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "coffer", "local-kms-"+localKMSVersion)
	bin := filepath.Join(dir, "local-kms")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(dir, "install-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("go", "install", localKMSModule+"@"+localKMSVersion)
	cmd.Dir = tmp // outside this module: go install pkg@version needs no go.mod
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s@%s: %v: %s", localKMSModule, localKMSVersion, err, out)
	}
	if err := os.Rename(filepath.Join(tmp, "local-kms"), bin); err != nil {
		return "", err
	}
	return bin, nil
}

// emulator is one running local-kms.
type emulator struct {
	endpoint string
	cmd      *exec.Cmd
}

var startedLine = regexp.MustCompile(`Local KMS started on [^ "]*:(\d+)`)

// startKMS runs local-kms on a free port with its own data directory, or
// skips t. It stops when t ends.
func startKMS(t *testing.T) *emulator {
	t.Helper()
	if skipWhy != "" {
		t.Skip(skipWhy)
	}
	data := t.TempDir()
	r, w := io.Pipe()
	cmd := exec.Command(localKMSBin)
	cmd.Env = append(os.Environ(), "PORT=0", "KMS_DATA_PATH="+data, "KMS_REGION="+testRegion,
		"KMS_ACCOUNT_ID="+testAccount, "KMS_SEED_PATH="+filepath.Join(data, "no-seed.yaml"))
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	e := &emulator{cmd: cmd}
	t.Cleanup(func() { e.stop(); w.Close() })
	port := make(chan string, 1)
	go scanPort(r, port)
	select {
	case p := <-port:
		e.endpoint = "http://" + net.JoinHostPort("127.0.0.1", p)
	case <-time.After(15 * time.Second):
		t.Fatal("local-kms did not report its port within 15s")
	}
	return e
}

// scanPort sends the port local-kms reports, then drains its log so it
// never blocks on a full pipe.
func scanPort(r io.Reader, port chan<- string) {
	s := bufio.NewScanner(r)
	for s.Scan() {
		if m := startedLine.FindStringSubmatch(s.Text()); m != nil {
			port <- m[1]
			break
		}
	}
	io.Copy(io.Discard, r)
}

// stop kills the emulator; a second stop does nothing.
func (e *emulator) stop() {
	if e.cmd.ProcessState != nil {
		return
	}
	e.cmd.Process.Kill()
	e.cmd.Wait()
}

func (e *emulator) client() *kms.Client {
	return kms.New(kms.Options{
		Region:       testRegion,
		BaseEndpoint: aws.String(e.endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, ""),
	})
}

// createKey makes a symmetric key and returns its ARN.
func (e *emulator) createKey(t *testing.T) string {
	t.Helper()
	out, err := e.client().CreateKey(context.Background(), &kms.CreateKeyInput{Description: aws.String("coffer test root key")})
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return aws.ToString(out.KeyMetadata.Arn)
}

func (e *emulator) config(keyID string) Config {
	return Config{KeyID: keyID, Endpoint: e.endpoint, AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey, MaxAttempts: 1}
}

func mustOpen(t *testing.T, cfg Config) *KMS {
	t.Helper()
	k, err := Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Open(%v): %v", cfg, err)
	}
	return k
}

var errNoPort = errors.New("no free port")

// deadEndpoint returns an endpoint on loopback that nothing listens on.
func deadEndpoint(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(errNoPort, err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}
