package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/coffer-secrets/coffer/internal/server"
)

// The helpers of the AWS end-to-end tests: the SDK driver here, version
// helpers in aws_versions_test.go, wire and error helpers in
// aws_errors_test.go. Names start with awsx so they cannot collide with
// other test files of this package.

// awsx drives one server through aws-sdk-go-v2 on behalf of one test or
// subtest: failures are reported on that test, never on the server's.
type awsx struct {
	t      *testing.T
	s      *testServer
	c      *secretsmanager.Client
	region string
	now    func() time.Time // the signing clock: the server's, when the test moves it
}

// newAWSX returns a driver of s in testRegion signing with the real clock.
func newAWSX(t *testing.T, s *testServer) *awsx {
	t.Helper()
	return newAWSXAt(t, s, testRegion, time.Now)
}

// newAWSXAt returns a driver of s in region whose requests are signed at
// now(), so a test may move the server clock by days and still be let in.
func newAWSXAt(t *testing.T, s *testServer, region string, now func() time.Time) *awsx {
	t.Helper()
	c := secretsmanager.New(secretsmanager.Options{
		Region:       region,
		BaseEndpoint: aws.String(s.URL()),
		Credentials:  credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
		HTTPSignerV4: awsxSigner{now: now},
		// The SDK retries LimitExceededException with backoff; one attempt
		// keeps the tests fast and shows what the server answered.
		RetryMaxAttempts: 1,
	})
	return &awsx{t: t, s: s, c: c, region: region, now: now}
}

// on returns the same driver reporting on t (a subtest).
func (x *awsx) on(t *testing.T) *awsx {
	c := *x
	c.t = t
	return &c
}

func (x *awsx) ctx() context.Context { return x.t.Context() }

// awsxSigner is the SDK's own SigV4 signer, signing at the test's clock.
type awsxSigner struct{ now func() time.Time }

func (s awsxSigner) SignHTTP(ctx context.Context, cred aws.Credentials, r *http.Request, payloadHash, service, region string, _ time.Time, optFns ...func(*v4.SignerOptions)) error {
	return v4.NewSigner().SignHTTP(ctx, cred, r, payloadHash, service, region, s.now(), optFns...)
}

// ok fails the test when a call that must succeed failed.
func (x *awsx) ok(action string, err error) {
	x.t.Helper()
	if err != nil {
		x.t.Fatalf("%s: %v", action, err)
	}
}

// awsxToken returns a fresh ClientRequestToken: a random UUID, as the SDKs send.
func awsxToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (Go 1.24+)
	const hexd = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hexd[c>>4], hexd[c&15])
	}
	return string(out)
}

// create makes a secret holding the string value under token (fresh when "").
func (x *awsx) create(name, value, token string) *secretsmanager.CreateSecretOutput {
	x.t.Helper()
	if token == "" {
		token = awsxToken()
	}
	out, err := x.c.CreateSecret(x.ctx(), &secretsmanager.CreateSecretInput{
		Name: aws.String(name), SecretString: aws.String(value), ClientRequestToken: aws.String(token),
	})
	x.ok("CreateSecret "+name, err)
	return out
}

// put adds a string version under token (fresh when "") with stages (nil
// for the default).
func (x *awsx) put(id, value, token string, stages ...string) *secretsmanager.PutSecretValueOutput {
	x.t.Helper()
	if token == "" {
		token = awsxToken()
	}
	out, err := x.c.PutSecretValue(x.ctx(), &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(id), SecretString: aws.String(value), ClientRequestToken: aws.String(token), VersionStages: stages,
	})
	x.ok("PutSecretValue "+id, err)
	return out
}

// get returns GetSecretValue's output for the current version of id.
func (x *awsx) get(id string) *secretsmanager.GetSecretValueOutput {
	x.t.Helper()
	out, err := x.c.GetSecretValue(x.ctx(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	x.ok("GetSecretValue "+id, err)
	return out
}

// wantString checks that the current value of id is the string want.
func (x *awsx) wantString(id, want string) {
	x.t.Helper()
	out := x.get(id)
	if got := aws.ToString(out.SecretString); got != want || out.SecretBinary != nil {
		x.t.Errorf("GetSecretValue(%s): got SecretString %q (SecretBinary %v), want %q", id, got, out.SecretBinary, want)
	}
}

func (x *awsx) describe(id string) *secretsmanager.DescribeSecretOutput {
	x.t.Helper()
	out, err := x.c.DescribeSecret(x.ctx(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
	x.ok("DescribeSecret "+id, err)
	return out
}

// awsxClockServer starts a server whose clock the test moves, and a driver
// signing at that clock.
func awsxClockServer(t *testing.T) (*awsx, *mxClock) {
	t.Helper()
	clock := &mxClock{}
	s := mxStartServer(t, func(c *server.Config) { c.Clock = clock.now })
	return newAWSXAt(t, s, testRegion, clock.now), clock
}

// awsxNear checks that got is within tolerance of want.
func awsxNear(t testing.TB, what string, got *time.Time, want time.Time, tolerance time.Duration) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: absent, want about %s", what, want.UTC())
		return
	}
	if d := got.Sub(want); d < -tolerance || d > tolerance {
		t.Errorf("%s: got %s, want %s ± %s", what, got.UTC(), want.UTC(), tolerance)
	}
}

// awsxARN matches the ARN of the secret name in the test account and region.
func awsxARN(region, name string) *regexp.Regexp {
	return regexp.MustCompile(`^arn:aws:secretsmanager:` + regexp.QuoteMeta(region) + `:` + testAccount + `:secret:` + regexp.QuoteMeta(name) + `-[A-Za-z0-9]{6}$`)
}

// TestAWSLifecycleCreateValues checks CreateSecret with a string, a binary
// value that is not UTF-8, and no value (spec §3.3 rule 1, §3.4).
func TestAWSLifecycleCreateValues(t *testing.T) {
	x := newAWSX(t, startServer(t, ""))
	notUTF8 := []byte{0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28}
	cases := []struct {
		name string
		str  *string
		bin  []byte
		none bool // no value: no version at all
	}{
		{name: "app/string", str: aws.String(`{"user":"admin","pass":"s3cr3t"}`)},
		{name: "app/binary", bin: notUTF8},
		{name: "app/empty", none: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x := x.on(t)
			token := awsxToken()
			out, err := x.c.CreateSecret(x.ctx(), &secretsmanager.CreateSecretInput{
				Name: aws.String(tc.name), SecretString: tc.str, SecretBinary: tc.bin, ClientRequestToken: aws.String(token),
			})
			x.ok("CreateSecret", err)
			if arn := aws.ToString(out.ARN); !awsxARN(testRegion, tc.name).MatchString(arn) {
				t.Errorf("got ARN %q, want arn:aws:secretsmanager:%s:%s:secret:%s-XXXXXX", arn, testRegion, testAccount, tc.name)
			}
			if got := aws.ToString(out.Name); got != tc.name {
				t.Errorf("got Name %q, want %q", got, tc.name)
			}
			if tc.none {
				if out.VersionId != nil {
					t.Errorf("got VersionId %q, want none", *out.VersionId)
				}
				_, err := x.c.GetSecretValue(x.ctx(), &secretsmanager.GetSecretValueInput{SecretId: out.ARN})
				awsxWantError(t, err, "ResourceNotFoundException", "for staging label: AWSCURRENT")
				if d := x.describe(tc.name); d.VersionIdsToStages != nil {
					t.Errorf("got VersionIdsToStages %v, want none", d.VersionIdsToStages)
				}
				return
			}
			if got := aws.ToString(out.VersionId); got != token {
				t.Errorf("got VersionId %q, want the token %q", got, token)
			}
			got := x.get(tc.name)
			if !slices.Equal(got.VersionStages, []string{"AWSCURRENT"}) || aws.ToString(got.VersionId) != token {
				t.Errorf("got version %s %v, want %s [AWSCURRENT]", aws.ToString(got.VersionId), got.VersionStages, token)
			}
			switch {
			case tc.str != nil && (aws.ToString(got.SecretString) != *tc.str || got.SecretBinary != nil):
				t.Errorf("got SecretString %q SecretBinary %v, want SecretString %q", aws.ToString(got.SecretString), got.SecretBinary, *tc.str)
			case tc.bin != nil && (!bytes.Equal(got.SecretBinary, tc.bin) || got.SecretString != nil):
				t.Errorf("got SecretBinary %x SecretString %v, want SecretBinary %x", got.SecretBinary, got.SecretString, tc.bin)
			}
			x.wantStages(tc.name, map[string][]string{token: {"AWSCURRENT"}})
		})
	}
}

// TestAWSLifecycleRecreatedSecretNewARN checks that a secret deleted and
// created again gets a new ARN suffix, and the old full ARN no longer
// resolves (spec §3.1).
func TestAWSLifecycleRecreatedSecretNewARN(t *testing.T) {
	x := newAWSX(t, startServer(t, ""))
	first := aws.ToString(x.create("reborn", "one", "").ARN)
	_, err := x.c.DeleteSecret(x.ctx(), &secretsmanager.DeleteSecretInput{SecretId: aws.String("reborn"), ForceDeleteWithoutRecovery: aws.Bool(true)})
	x.ok("DeleteSecret", err)
	second := aws.ToString(x.create("reborn", "two", "").ARN)
	if first == second {
		t.Fatalf("got the same ARN %s after re-creation, want a new suffix", first)
	}
	if !awsxARN(testRegion, "reborn").MatchString(second) {
		t.Errorf("got ARN %q, want the ARN format", second)
	}
	_, err = x.c.GetSecretValue(x.ctx(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(first)})
	awsxWantError(t, err, "ResourceNotFoundException", "")
	_, err = x.c.DescribeSecret(x.ctx(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(first)})
	awsxWantError(t, err, "ResourceNotFoundException", "")
	x.wantString(second, "two")
	x.wantString("reborn", "two")
}

// TestAWSLifecycleSecretIdResolution checks every spelling of SecretId
// (spec §3.1).
func TestAWSLifecycleSecretIdResolution(t *testing.T) {
	x := newAWSX(t, startServer(t, ""))
	plain := aws.ToString(x.create("team/db-pass", "plain", "").ARN)
	short := aws.ToString(x.create("svc-a1b2", "short", "").ARN)
	six := aws.ToString(x.create("svc-abcdef", "six", "").ARN)
	partial := func(arn string) string { return arn[:len(arn)-7] }
	other := func(arn, from, to string) string { return strings.Replace(arn, from, to, 1) }
	cases := []struct {
		what, id string
		want     string // the value, or the error code
	}{
		{"name", "team/db-pass", "plain"},
		{"full ARN", plain, "plain"},
		{"partial ARN", partial(plain), "plain"},
		{"name ending -a1b2 by partial ARN", partial(short), "short"},
		{"name ending -a1b2 by full ARN", short, "short"},
		{"name ending -abcdef by name", "svc-abcdef", "six"},
		{"name ending -abcdef by full ARN", six, "six"},
		{"name ending -abcdef by partial ARN (taken as full)", partial(six), "ResourceNotFoundException"},
		{"ARN of another region", other(plain, ":"+testRegion+":", ":ap-shanghai:"), "ResourceNotFoundException"},
		{"ARN of another account", other(plain, ":"+testAccount+":", ":123456789012:"), "AccessDeniedException"}, // cross-account access needs a resource policy
		{"full ARN with a wrong suffix", partial(plain) + "-zzzzzz", "ResourceNotFoundException"},
		{"unknown name", "team/nope", "ResourceNotFoundException"},
		{"space in name", "team db", "ValidationException"},
		{"hash in name", "team#db", "ValidationException"},
		{"space in partial ARN", other(partial(plain), "team/db-pass", "team db"), "ValidationException"},
	}
	for _, tc := range cases {
		t.Run(tc.what, func(t *testing.T) {
			x := x.on(t)
			got, err := x.c.GetSecretValue(x.ctx(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(tc.id)})
			_, derr := x.c.DescribeSecret(x.ctx(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(tc.id)})
			if strings.HasSuffix(tc.want, "Exception") {
				awsxWantError(t, err, tc.want, "")
				awsxWantError(t, derr, tc.want, "")
				return
			}
			x.ok("GetSecretValue "+tc.id, err)
			x.ok("DescribeSecret "+tc.id, derr)
			if s := aws.ToString(got.SecretString); s != tc.want {
				t.Errorf("GetSecretValue(%s): got %q, want %q", tc.id, s, tc.want)
			}
		})
	}
	t.Run("CreateSecret with an invalid name", func(t *testing.T) {
		x := x.on(t)
		_, err := x.c.CreateSecret(x.ctx(), &secretsmanager.CreateSecretInput{Name: aws.String("bad name!"), SecretString: aws.String("v")})
		awsxWantError(t, err, "ValidationException", "Invalid name")
	})
}

// TestAWSLifecycleUpdateSecret checks UpdateSecret with and without a value,
// the default KMS alias, and that PutSecretValue keeps description and tags
// (spec §3.2, §3.6, §3.10).
func TestAWSLifecycleUpdateSecret(t *testing.T) {
	x, clock := awsxClockServer(t)
	token := awsxToken()
	_, err := x.c.CreateSecret(x.ctx(), &secretsmanager.CreateSecretInput{
		Name: aws.String("upd"), SecretString: aws.String("v1"), ClientRequestToken: aws.String(token),
		Description: aws.String("first"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("core")}},
	})
	x.ok("CreateSecret", err)
	before := x.describe("upd")

	t.Run("description only", func(t *testing.T) {
		x := x.on(t)
		clock.advance(time.Minute)
		out, err := x.c.UpdateSecret(x.ctx(), &secretsmanager.UpdateSecretInput{SecretId: aws.String("upd"), Description: aws.String("second")})
		x.ok("UpdateSecret", err)
		if out.VersionId != nil {
			t.Errorf("got VersionId %q, want none", *out.VersionId)
		}
		after := x.describe("upd")
		if got := aws.ToString(after.Description); got != "second" {
			t.Errorf("got Description %q, want %q", got, "second")
		}
		if !aws.ToTime(after.LastChangedDate).After(aws.ToTime(before.LastChangedDate)) {
			t.Errorf("LastChangedDate: got %v, want after %v", after.LastChangedDate, before.LastChangedDate)
		}
		if !aws.ToTime(after.CreatedDate).Equal(aws.ToTime(before.CreatedDate)) {
			t.Errorf("CreatedDate: got %v, want %v", after.CreatedDate, before.CreatedDate)
		}
		x.wantStages("upd", map[string][]string{token: {"AWSCURRENT"}})
	})
	t.Run("with a value", func(t *testing.T) {
		x := x.on(t)
		next := awsxToken()
		out, err := x.c.UpdateSecret(x.ctx(), &secretsmanager.UpdateSecretInput{SecretId: aws.String("upd"), SecretString: aws.String("v2"), ClientRequestToken: aws.String(next)})
		x.ok("UpdateSecret", err)
		if got := aws.ToString(out.VersionId); got != next {
			t.Errorf("got VersionId %q, want %q", got, next)
		}
		x.wantString("upd", "v2")
		x.wantStages("upd", map[string][]string{token: {"AWSPREVIOUS"}, next: {"AWSCURRENT"}})
	})
	t.Run("default KMS alias", func(t *testing.T) {
		x := x.on(t)
		_, err := x.c.UpdateSecret(x.ctx(), &secretsmanager.UpdateSecretInput{SecretId: aws.String("upd"), KmsKeyId: aws.String("alias/aws/secretsmanager")})
		x.ok("UpdateSecret", err)
		if d := x.describe("upd"); d.KmsKeyId != nil {
			t.Errorf("got KmsKeyId %q, want it omitted for the default key", *d.KmsKeyId)
		}
	})
	t.Run("PutSecretValue keeps description and tags", func(t *testing.T) {
		x := x.on(t)
		x.put("upd", "v3", "")
		d := x.describe("upd")
		if got := aws.ToString(d.Description); got != "second" {
			t.Errorf("got Description %q, want %q", got, "second")
		}
		if len(d.Tags) != 1 || aws.ToString(d.Tags[0].Key) != "team" || aws.ToString(d.Tags[0].Value) != "core" {
			t.Errorf("got Tags %v, want [team=core]", d.Tags)
		}
		x.wantString("upd", "v3")
	})
}

// TestAWSLifecycleDeleteWindow checks RecoveryWindowInDays and
// ForceDeleteWithoutRecovery (spec §3.5).
func TestAWSLifecycleDeleteWindow(t *testing.T) {
	x := newAWSX(t, startServer(t, ""))
	cases := []struct {
		what   string
		window *int64
		force  *bool
		days   int    // the window, when accepted
		code   string // the error code, when refused
	}{
		{what: "default", days: 30},
		{what: "7 days", window: aws.Int64(7), days: 7},
		{what: "30 days", window: aws.Int64(30), days: 30},
		{what: "force false and a window", window: aws.Int64(10), force: aws.Bool(false), days: 10},
		{what: "6 days", window: aws.Int64(6), code: "InvalidParameterException"},
		{what: "31 days", window: aws.Int64(31), code: "InvalidParameterException"},
		{what: "force and a window", window: aws.Int64(7), force: aws.Bool(true), code: "InvalidParameterException"},
	}
	for i, tc := range cases {
		t.Run(tc.what, func(t *testing.T) {
			x := x.on(t)
			name := "del-" + string(rune('a'+i))
			x.create(name, "v", "")
			start := time.Now()
			out, err := x.c.DeleteSecret(x.ctx(), &secretsmanager.DeleteSecretInput{
				SecretId: aws.String(name), RecoveryWindowInDays: tc.window, ForceDeleteWithoutRecovery: tc.force,
			})
			if tc.code != "" {
				awsxWantError(t, err, tc.code, "")
				x.wantString(name, "v") // left alone
				return
			}
			x.ok("DeleteSecret", err)
			awsxNear(t, "DeletionDate", out.DeletionDate, start.Add(time.Duration(tc.days)*24*time.Hour), 5*time.Second)
			if d := x.describe(name); d.DeletedDate == nil {
				t.Errorf("DescribeSecret: no DeletedDate on a scheduled secret")
			}
		})
	}
}

// TestAWSLifecycleScheduledSecret checks what a secret scheduled for
// deletion allows, restoring it, and purging it (spec §3.5).
func TestAWSLifecycleScheduledSecret(t *testing.T) {
	x := newAWSX(t, startServer(t, ""))
	first := x.create("doomed", "v1", "")
	_, err := x.c.DeleteSecret(x.ctx(), &secretsmanager.DeleteSecretInput{SecretId: aws.String("doomed")})
	x.ok("DeleteSecret", err)

	d := x.describe("doomed")
	if d.DeletedDate == nil {
		t.Errorf("DescribeSecret: no DeletedDate on a scheduled secret")
	}
	id := aws.String("doomed")
	refused := []struct {
		action string
		call   func() error
	}{
		{"GetSecretValue", func() error {
			_, err := x.c.GetSecretValue(x.ctx(), &secretsmanager.GetSecretValueInput{SecretId: id})
			return err
		}},
		{"PutSecretValue", func() error {
			_, err := x.c.PutSecretValue(x.ctx(), &secretsmanager.PutSecretValueInput{SecretId: id, SecretString: aws.String("v2")})
			return err
		}},
		{"UpdateSecret description", func() error {
			_, err := x.c.UpdateSecret(x.ctx(), &secretsmanager.UpdateSecretInput{SecretId: id, Description: aws.String("d")})
			return err
		}},
		{"UpdateSecret value", func() error {
			_, err := x.c.UpdateSecret(x.ctx(), &secretsmanager.UpdateSecretInput{SecretId: id, SecretString: aws.String("v2")})
			return err
		}},
		{"TagResource", func() error {
			_, err := x.c.TagResource(x.ctx(), &secretsmanager.TagResourceInput{SecretId: id, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		}},
		{"UntagResource", func() error {
			_, err := x.c.UntagResource(x.ctx(), &secretsmanager.UntagResourceInput{SecretId: id, TagKeys: []string{"k"}})
			return err
		}},
		{"UpdateSecretVersionStage", func() error {
			_, err := x.c.UpdateSecretVersionStage(x.ctx(), &secretsmanager.UpdateSecretVersionStageInput{SecretId: id, VersionStage: aws.String("custom"), MoveToVersionId: first.VersionId})
			return err
		}},
	}
	for _, tc := range refused {
		t.Run(tc.action, func(t *testing.T) {
			awsxWantError(t, tc.call(), "InvalidRequestException", "marked for deletion")
		})
	}
	t.Run("delete again", func(t *testing.T) {
		_, err := x.c.DeleteSecret(x.ctx(), &secretsmanager.DeleteSecretInput{SecretId: id, RecoveryWindowInDays: aws.Int64(7)})
		awsxWantError(t, err, "InvalidRequestException", "")
	})
	t.Run("restore", func(t *testing.T) {
		x := x.on(t)
		out, err := x.c.RestoreSecret(x.ctx(), &secretsmanager.RestoreSecretInput{SecretId: id})
		x.ok("RestoreSecret", err)
		if aws.ToString(out.ARN) != aws.ToString(first.ARN) || aws.ToString(out.Name) != "doomed" {
			t.Errorf("got %s %s, want %s doomed", aws.ToString(out.ARN), aws.ToString(out.Name), aws.ToString(first.ARN))
		}
		x.wantString("doomed", "v1")
		if d := x.describe("doomed"); d.DeletedDate != nil {
			t.Errorf("got DeletedDate %v after restore, want none", d.DeletedDate)
		}
	})
	t.Run("force delete of a scheduled secret purges it", func(t *testing.T) {
		x := x.on(t)
		_, err := x.c.DeleteSecret(x.ctx(), &secretsmanager.DeleteSecretInput{SecretId: id})
		x.ok("DeleteSecret", err)
		_, err = x.c.DeleteSecret(x.ctx(), &secretsmanager.DeleteSecretInput{SecretId: id, ForceDeleteWithoutRecovery: aws.Bool(true)})
		x.ok("DeleteSecret force", err)
		_, err = x.c.DescribeSecret(x.ctx(), &secretsmanager.DescribeSecretInput{SecretId: id})
		awsxWantError(t, err, "ResourceNotFoundException", "")
		x.create("doomed", "again", "") // the name is free
	})
}

// TestAWSLifecycleForceDeleteMissing checks that a forced delete of a secret
// that does not exist succeeds (spec §3.5).
func TestAWSLifecycleForceDeleteMissing(t *testing.T) {
	x := newAWSX(t, startServer(t, ""))
	start := time.Now()
	out, err := x.c.DeleteSecret(x.ctx(), &secretsmanager.DeleteSecretInput{SecretId: aws.String("never/was"), ForceDeleteWithoutRecovery: aws.Bool(true)})
	x.ok("DeleteSecret", err)
	if got := aws.ToString(out.Name); got != "never/was" {
		t.Errorf("got Name %q, want %q", got, "never/was")
	}
	if arn := aws.ToString(out.ARN); !awsxARN(testRegion, "never/was").MatchString(arn) {
		t.Errorf("got ARN %q, want the ARN format", arn)
	}
	awsxNear(t, "DeletionDate", out.DeletionDate, start, 5*time.Second)
	_, err = x.c.DeleteSecret(x.ctx(), &secretsmanager.DeleteSecretInput{SecretId: aws.String("never/was")})
	awsxWantError(t, err, "ResourceNotFoundException", "")
}

// TestAWSLifecycleRestoreLiveSecret checks that RestoreSecret of a secret
// not scheduled for deletion succeeds and changes nothing (spec §3.5).
func TestAWSLifecycleRestoreLiveSecret(t *testing.T) {
	x := newAWSX(t, startServer(t, ""))
	c := x.create("alive", "v", "")
	out, err := x.c.RestoreSecret(x.ctx(), &secretsmanager.RestoreSecretInput{SecretId: aws.String("alive")})
	x.ok("RestoreSecret", err)
	if aws.ToString(out.ARN) != aws.ToString(c.ARN) || aws.ToString(out.Name) != "alive" {
		t.Errorf("got %s %s, want %s alive", aws.ToString(out.ARN), aws.ToString(out.Name), aws.ToString(c.ARN))
	}
	x.wantString("alive", "v")
}

// TestAWSLifecycleDisabledThroughTencent checks a secret disabled through
// the Tencent API as the AWS API sees it (docs/api-aws.md "One core").
func TestAWSLifecycleDisabledThroughTencent(t *testing.T) {
	s := startServer(t, "")
	x := newAWSX(t, s)
	tc := newSSM(t, s.URL(), testKeyID, testSecret, testRegion)
	x.create("shared", "v", "")
	tc.must("DisableSecret", map[string]any{"SecretName": "shared"})

	_, err := x.c.GetSecretValue(x.ctx(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("shared")})
	awsxWantError(t, err, "InvalidRequestException", "disabled")
	x.describe("shared") // still described

	_, err = x.c.DeleteSecret(x.ctx(), &secretsmanager.DeleteSecretInput{SecretId: aws.String("shared"), RecoveryWindowInDays: aws.Int64(7)})
	x.ok("DeleteSecret", err)
	_, err = x.c.RestoreSecret(x.ctx(), &secretsmanager.RestoreSecretInput{SecretId: aws.String("shared")})
	x.ok("RestoreSecret", err)
	x.wantString("shared", "v")
	if got := tc.must("DescribeSecret", map[string]any{"SecretName": "shared"})["Status"]; got != "Enabled" {
		t.Errorf("Tencent DescribeSecret: got Status %v, want Enabled", got)
	}
}

// TestAWSLifecycleTimestamps checks CreatedDate, LastChangedDate and
// LastAccessedDate (spec §3.10).
func TestAWSLifecycleTimestamps(t *testing.T) {
	x := newAWSX(t, startServer(t, ""))
	start := time.Now()
	x.create("ts", "v", "")
	d := x.describe("ts")
	awsxNear(t, "CreatedDate", d.CreatedDate, start, 5*time.Second)
	awsxNear(t, "LastChangedDate", d.LastChangedDate, start, 5*time.Second)
	if d.LastAccessedDate != nil {
		t.Errorf("got LastAccessedDate %v before any read, want none", d.LastAccessedDate)
	}
	got := x.get("ts")
	awsxNear(t, "GetSecretValue CreatedDate", got.CreatedDate, start, 5*time.Second)
	changed := aws.ToTime(d.LastChangedDate)
	d = x.describe("ts")
	// The read may straddle midnight UTC: accept either day.
	today := time.Now().UTC().Truncate(24 * time.Hour)
	if d.LastAccessedDate == nil {
		t.Fatalf("no LastAccessedDate after GetSecretValue")
	}
	if la := d.LastAccessedDate.UTC(); !la.Equal(today) && !la.Equal(today.Add(-24*time.Hour)) {
		t.Errorf("got LastAccessedDate %s, want %s (midnight UTC of today)", la, today)
	}
	if got := aws.ToTime(d.LastChangedDate); !got.Equal(changed) {
		t.Errorf("LastChangedDate: got %s after a read, want %s unchanged", got, changed)
	}
}
