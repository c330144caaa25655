package server_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	"github.com/coffer-secrets/coffer/internal/secrets"
)

// mxCode returns the Tencent error code of err, "" for nil and "transport"
// for an error the server did not answer with a code.
func mxCode(err error) string {
	if err == nil {
		return ""
	}
	var e *tcerr.TencentCloudSDKError
	if errors.As(err, &e) {
		return e.Code
	}
	return "transport: " + err.Error()
}

// mxParallel runs call(i) for i in [0, n) at once and returns each error code.
func mxParallel(n int, call func(i int) error) []string {
	codes := make([]string, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			codes[i] = mxCode(call(i))
		}()
	}
	close(start)
	wg.Wait()
	return codes
}

// TestSSMConcurrentPut races PutSecretValue calls with distinct version ids
// on one secret: each either lands or hits the version limit, every landed
// version is listed, and exactly one version (the newest) is current.
func TestSSMConcurrentPut(t *testing.T) {
	s := startServer(t, "")
	m := newMX(t, s, testRegion)
	const name, n = "race-put", 24
	m.create(name, "value-v0", mxP{"VersionId": "v0"})
	codes := mxParallel(n, func(i int) error {
		c := newSSM(t, s.URL(), testKeyID, testSecret, testRegion)
		_, err := c.call("PutSecretValue", mxP{"SecretName": name, "VersionId": fmt.Sprintf("v%d", i+1), "SecretString": fmt.Sprintf("value-v%d", i+1)})
		return err
	})
	written := []string{"v0"}
	for i, code := range codes {
		switch code {
		case "":
			written = append(written, fmt.Sprintf("v%d", i+1))
		case "LimitExceeded":
		default:
			t.Errorf("PutSecretValue v%d: got code %s, want success or LimitExceeded", i+1, code)
		}
	}
	listed := m.versions(name)
	if !mxSameSet(listed, written) {
		t.Errorf("got versions %v, want the %d that were written %v", listed, len(written), written)
	}
	if len(listed) > 10 {
		t.Errorf("got %d versions, want at most 10", len(listed))
	}
	if len(written) != 10 {
		t.Errorf("%d puts landed, want 9 (the limit less v0): codes %v", len(written)-1, codes)
	}

	// Exactly one version carries the current stage, and it is the newest.
	_, vs, err := s.Secrets.Describe(context.Background(), secrets.Scope{Account: testAccount, Region: testRegion}, name)
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	var current []string
	for _, v := range vs {
		if slices.Contains(v.Stages, secrets.StageCurrent) {
			current = append(current, v.ID)
		}
	}
	if len(current) != 1 || current[0] != vs[len(vs)-1].ID {
		t.Fatalf("versions holding current: got %v, want exactly the newest, %s", current, vs[len(vs)-1].ID)
	}
	if newest := listed[len(listed)-1]; newest != current[0] {
		t.Errorf("ListSecretVersionIds ends with %s, want the current version %s last", newest, current[0])
	}
	m.wantString(name, "SSM_Current", "value-"+current[0])
}

// TestSSMConcurrentCreate races CreateSecret calls for one name: exactly
// one wins, the others get ResourceInUse.SecretExists, and the winner's
// value is the one stored.
func TestSSMConcurrentCreate(t *testing.T) {
	s := startServer(t, "")
	const name, n = "race-create", 16
	codes := mxParallel(n, func(i int) error {
		c := newSSM(t, s.URL(), testKeyID, testSecret, testRegion)
		_, err := c.call("CreateSecret", mxP{"SecretName": name, "SecretString": fmt.Sprintf("value-%d", i)})
		return err
	})
	winner := -1
	for i, code := range codes {
		switch code {
		case "":
			if winner >= 0 {
				t.Errorf("CreateSecret %d and %d both succeeded", winner, i)
			}
			winner = i
		case "ResourceInUse.SecretExists":
		default:
			t.Errorf("CreateSecret %d: got code %s, want success or ResourceInUse.SecretExists", i, code)
		}
	}
	if winner < 0 {
		t.Fatalf("no CreateSecret succeeded: codes %v", codes)
	}
	m := newMX(t, s, testRegion)
	m.wantString(name, "SSM_Current", fmt.Sprintf("value-%d", winner))
	if names, total, _ := m.list(mxP{}); total != 1 || !slices.Equal(names, []string{name}) {
		t.Errorf("ListSecrets: got %d %v, want just %s", total, names, name)
	}
}
