package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/coffer-secrets/coffer/client"
)

// TestRotationReadShapes checks the answers of the rotation reads on a
// secret that never rotated and on a server without databases.
func TestRotationReadShapes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := mustClient(t, startServer(t, "", serverLimits{}).url, nil)
	mustCreate(t, c, "plain", "v")

	d, err := c.DescribeRotationDetail(ctx, "plain")
	if err != nil || d.Enabled || !d.LastRotate.IsZero() || !d.NextRotate.IsZero() {
		t.Errorf("DescribeRotationDetail of a plain secret: got %+v, %v; want off, no times", d, err)
	}
	h, err := c.DescribeRotationHistory(ctx, "plain")
	if err != nil || len(h.VersionIDs) != 0 || len(h.Accounts) != 0 {
		t.Errorf("DescribeRotationHistory of a plain secret: got %+v, %v; want empty", h, err)
	}
	dbs, err := c.DescribeDatabases(ctx)
	if err != nil || dbs == nil || len(dbs) != 0 {
		t.Errorf("DescribeDatabases: got %#v, %v; want an empty list", dbs, err)
	}
	for name, err := range map[string]error{
		"DescribeRotationDetail":   second(c.DescribeRotationDetail(ctx, "nope")),
		"DescribeRotationHistory":  second(c.DescribeRotationHistory(ctx, "nope")),
		"DescribeAsyncRequestInfo": second(c.DescribeAsyncRequestInfo(ctx, 987654)),
		"GetSSHKeyPairValue":       second(c.GetSSHKeyPairValue(ctx, "nope")),
		"DeregisterDatabase":       c.DeregisterDatabase(ctx, "db-none"),
		"PromoteSecretRollout":     c.PromoteSecretRollout(ctx, "nope"),
		"WaitSecretChange":         second(c.WaitSecretChange(ctx, "nope", "v", 0)),
	} {
		if !client.IsNotFound(err) {
			t.Errorf("%s of something missing: got %v, want ResourceNotFound", name, err)
		}
	}
	if _, err := c.GetSSHKeyPairValue(ctx, "plain"); client.CodeOf(err) != "InvalidParameterValue" {
		t.Errorf("GetSSHKeyPairValue of a plain secret: got %v, want InvalidParameterValue", err)
	}
	if _, err := c.RotateProductSecret(ctx, "plain", nil); client.CodeOf(err) != "FailedOperation.RotationForbidden" {
		t.Errorf("RotateProductSecret without a rotator: got %v, want FailedOperation.RotationForbidden", err)
	}
}

func second[T any](_ T, err error) error { return err }

// TestRotateRandom gives a plain secret the coffer:random rotator, rotates
// it and reads the schedule, the flow and the history.
func TestRotateRandom(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := mustClient(t, startServer(t, "", serverLimits{}).url, nil)
	mustCreate(t, c, "rnd", "initial")
	if err := c.UpdateRotationStatus(ctx, client.RotationStatusInput{Name: "rnd", Enable: true, Days: 30, Function: "coffer:nope"}); client.CodeOf(err) != "InvalidParameterValue" {
		t.Errorf("UpdateRotationStatus with an unknown rotator: got %v, want InvalidParameterValue", err)
	}
	if err := c.UpdateRotationStatus(ctx, client.RotationStatusInput{Name: "rnd", Enable: true, Days: 10}); client.CodeOf(err) != "InvalidParameterValue" {
		t.Errorf("UpdateRotationStatus every 10 days: got %v, want InvalidParameterValue", err)
	}
	if err := c.UpdateRotationStatus(ctx, client.RotationStatusInput{Name: "rnd", Enable: true, Days: 45, Function: "coffer:random"}); err != nil {
		t.Fatalf("UpdateRotationStatus: %v", err)
	}
	d, err := c.DescribeRotationDetail(ctx, "rnd")
	if err != nil || !d.Enabled || d.Days != 45 || time.Until(d.NextRotate) < 44*24*time.Hour {
		t.Fatalf("DescribeRotationDetail: got %+v, %v; want on, every 45 days, next in 45 days", d, err)
	}

	flow, err := c.RotateProductSecret(ctx, "rnd", nil)
	if err != nil || flow == 0 {
		t.Fatalf("RotateProductSecret: got flow %d, %v", flow, err)
	}
	f, err := c.WaitFlow(ctx, flow, 10*time.Millisecond)
	if err != nil || f.State != client.FlowSucceeded || f.Description != "success" || !f.Done() {
		t.Fatalf("WaitFlow: got %+v, %v; want succeeded", f, err)
	}
	cur, err := c.GetCurrentSecretValue(ctx, "rnd")
	if err != nil || cur.Value.Text() == "initial" || cur.VersionID == client.CurrentVersion {
		t.Fatalf("after the rotation: got version %s, %v; want a new random value", cur.VersionID, err)
	}
	d, err = c.DescribeRotationDetail(ctx, "rnd")
	if err != nil || time.Since(d.LastRotate) > time.Minute {
		t.Errorf("DescribeRotationDetail after the rotation: got %+v, %v; want LastRotate now", d, err)
	}
	h, err := c.DescribeRotationHistory(ctx, "rnd")
	if err != nil || !slices.Equal(h.VersionIDs, []string{client.CurrentVersion}) {
		t.Errorf("DescribeRotationHistory: got %+v, %v; want [SSM_Current]", h, err)
	}
}

func TestWaitFlowFailed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := mustClient(t, startServer(t, "", serverLimits{}).url, nil)
	mustCreate(t, c, "hooked", "v")
	// A webhook nothing answers: every attempt fails and the rotation is rolled back.
	hook := "https://" + closedAddr(t) + "/rotate"
	if err := c.UpdateRotationStatus(ctx, client.RotationStatusInput{Name: "hooked", Enable: false, Function: hook}); err != nil {
		t.Fatalf("UpdateRotationStatus with a webhook: %v", err)
	}
	flow, err := c.RotateProductSecret(ctx, "hooked", nil)
	if err != nil {
		t.Fatalf("RotateProductSecret: %v", err)
	}
	f, err := c.WaitFlow(ctx, flow, 10*time.Millisecond)
	if !errors.Is(err, client.ErrFlowFailed) || f == nil || f.State != client.FlowFailed || f.Done() != true {
		t.Fatalf("WaitFlow of a failing rotation: got %+v, %v; want FlowFailed and ErrFlowFailed", f, err)
	}
	if !strings.Contains(err.Error(), fmt.Sprint(flow)) {
		t.Errorf("error %q does not name flow %d", err, flow)
	}
	wantValue(t, c, "hooked", client.CurrentVersion, "v")
}

func TestSSHKeyPairSecret(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := mustClient(t, startServer(t, "", serverLimits{}).url, nil)
	for _, tt := range []struct {
		in      client.SSHKeyPairInput
		keyType string
	}{
		{client.SSHKeyPairInput{Name: "ssh-ed", ProjectID: 7, Description: "deploy key", KeyName: "deploy"}, ssh.KeyAlgoED25519},
		{client.SSHKeyPairInput{Name: "ssh-rsa", Algorithm: "rsa", KeyBits: 2048}, ssh.KeyAlgoRSA},
	} {
		ref, err := c.CreateSSHKeyPairSecret(ctx, tt.in)
		if err != nil {
			t.Fatalf("CreateSSHKeyPairSecret %s: %v", tt.in.Name, err)
		}
		if ref.Name != tt.in.Name || !strings.HasPrefix(ref.KeyID, "skey-") || ref.KeyName == "" {
			t.Errorf("CreateSSHKeyPairSecret: got %+v", ref)
		}
		k, err := c.GetSSHKeyPairValue(ctx, tt.in.Name)
		if err != nil {
			t.Fatalf("GetSSHKeyPairValue %s: %v", tt.in.Name, err)
		}
		if k.KeyID != ref.KeyID || k.KeyName != ref.KeyName || k.ProjectID != tt.in.ProjectID || k.Description != tt.in.Description {
			t.Errorf("GetSSHKeyPairValue: got %+v, want the key of %+v", k, ref)
		}
		wantKeyPair(t, k, tt.keyType)
	}
	if _, err := c.CreateSSHKeyPairSecret(ctx, client.SSHKeyPairInput{Name: "ssh-ed"}); !client.IsExists(err) {
		t.Errorf("CreateSSHKeyPairSecret of a taken name: got %v, want IsExists", err)
	}
	if _, err := c.CreateSSHKeyPairSecret(ctx, client.SSHKeyPairInput{Name: "ssh-bad", Algorithm: "dsa"}); client.CodeOf(err) != "InvalidParameterValue" {
		t.Errorf("CreateSSHKeyPairSecret with dsa: got %v, want InvalidParameterValue", err)
	}
}

// wantKeyPair checks that the private key parses, is of keyType, and
// matches the public key; and that it does not print.
func wantKeyPair(t *testing.T, k *client.SSHKeyPair, keyType string) {
	t.Helper()
	signer, err := ssh.ParsePrivateKey(k.PrivateKey.Bytes())
	if err != nil {
		t.Fatalf("the private key does not parse: %v", err)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(k.PublicKey))
	if err != nil {
		t.Fatalf("the public key %q does not parse: %v", k.PublicKey, err)
	}
	if pub.Type() != keyType || string(pub.Marshal()) != string(signer.PublicKey().Marshal()) {
		t.Errorf("public key %s: type %s, want %s and the private key's", k.PublicKey, pub.Type(), keyType)
	}
	if s := fmt.Sprintf("%v %+v", k, *k); strings.Contains(s, "PRIVATE KEY") {
		t.Errorf("an SSHKeyPair prints its private key: %s", s)
	}
}

// TestRollout rolls an earlier version out to root, abandons it, then
// rolls it out again and promotes it.
func TestRollout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := mustClient(t, startServer(t, "", serverLimits{}).url, nil)
	if _, err := c.CreateSecret(ctx, client.CreateSecretInput{Name: "ro", VersionID: "v1", Value: client.Text("one")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutSecretValue(ctx, client.PutSecretValueInput{Name: "ro", VersionID: "v2", Value: client.Text("two")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StartSecretRollout(ctx, "ro", "v2", client.RolloutSelector{Users: []string{"root"}}); client.CodeOf(err) != "InvalidParameterValue" {
		t.Errorf("StartSecretRollout of the current version: got %v, want InvalidParameterValue", err)
	}
	if _, err := c.StartSecretRollout(ctx, "ro", "v1", client.RolloutSelector{}); client.CodeOf(err) != "InvalidParameterValue" {
		t.Errorf("StartSecretRollout to nobody: got %v, want InvalidParameterValue", err)
	}
	sel := client.RolloutSelector{Users: []string{"root"}, Roles: []string{"canary"}, Tags: []client.Tag{{Key: "ring", Value: "0"}}, Percent: 5}
	r, err := c.StartSecretRollout(ctx, "ro", "v1", sel)
	if err != nil {
		t.Fatalf("StartSecretRollout: %v", err)
	}
	if r.VersionID != "v1" || !slices.Equal(r.Users, sel.Users) || !slices.Equal(r.Roles, sel.Roles) || !slices.Equal(r.Tags, sel.Tags) ||
		r.Percent != 5 || time.Since(r.Started) > time.Minute {
		t.Errorf("StartSecretRollout: got %+v, want v1 to %+v, started now", r, sel)
	}
	wantValue(t, c, "ro", client.CurrentVersion, "one") // root is in the roll-out
	if ch, err := c.WaitSecretChange(ctx, "ro", "v2", 0); err != nil || !ch.Changed || ch.VersionID != "v1" {
		t.Errorf("WaitSecretChange during the roll-out: got %+v, %v; want v1, changed", ch, err)
	}
	if err := c.AbandonSecretRollout(ctx, "ro"); err != nil {
		t.Fatalf("AbandonSecretRollout: %v", err)
	}
	wantValue(t, c, "ro", client.CurrentVersion, "two")
	if err := c.PromoteSecretRollout(ctx, "ro"); client.CodeOf(err) != "FailedOperation" {
		t.Errorf("PromoteSecretRollout without a roll-out: got %v, want FailedOperation", err)
	}

	if _, err := c.StartSecretRollout(ctx, "ro", "v1", client.RolloutSelector{Percent: 100}); err != nil {
		t.Fatalf("StartSecretRollout again: %v", err)
	}
	if err := c.PromoteSecretRollout(ctx, "ro"); err != nil {
		t.Fatalf("PromoteSecretRollout: %v", err)
	}
	wantValue(t, c, "ro", client.CurrentVersion, "one")
	if ch, err := c.WaitSecretChange(ctx, "ro", "", 0); err != nil || ch.VersionID != "v1" {
		t.Errorf("WaitSecretChange after the promotion: got %+v, %v; want v1 current", ch, err)
	}
}

// TestRotateIntoRollout rotates a secret into a roll-out to root, then
// promotes the new version.
func TestRotateIntoRollout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := mustClient(t, startServer(t, "", serverLimits{}).url, nil)
	mustCreate(t, c, "canary", "old")
	if err := c.UpdateRotationStatus(ctx, client.RotationStatusInput{Name: "canary", Function: "coffer:random"}); err != nil {
		t.Fatal(err)
	}
	flow, err := c.RotateProductSecret(ctx, "canary", &client.RolloutSelector{Users: []string{"root"}})
	if err != nil {
		t.Fatalf("RotateProductSecret into a roll-out: %v", err)
	}
	if _, err := c.WaitFlow(ctx, flow, 10*time.Millisecond); err != nil {
		t.Fatalf("WaitFlow: %v", err)
	}
	beta, err := c.GetSecretValue(ctx, "canary", client.CurrentVersion)
	if err != nil || beta.Value.Text() == "old" {
		t.Fatalf("root during the roll-out: got %+v, %v; want the rotated value", beta, err)
	}
	served, err := c.WaitSecretChange(ctx, "canary", "", 0)
	if err != nil || served.VersionID == client.CurrentVersion {
		t.Fatalf("WaitSecretChange during the roll-out: got %+v, %v; want the rotated version", served, err)
	}
	if err := c.PromoteSecretRollout(ctx, "canary"); err != nil {
		t.Fatalf("PromoteSecretRollout: %v", err)
	}
	cur, err := c.GetCurrentSecretValue(ctx, "canary")
	if err != nil || cur.VersionID != served.VersionID || !cur.Value.Equal(beta.Value) {
		t.Errorf("after the promotion: got %+v, %v; want version %s current", cur, err, served.VersionID)
	}
}

func TestWaitSecretChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := mustClient(t, startServer(t, "", serverLimits{}).url, nil)
	mustCreate(t, c, "waited", "v1")

	ch, err := c.WaitSecretChange(ctx, "waited", "", client.MaxWait)
	if err != nil || !ch.Changed || ch.VersionID != client.CurrentVersion || ch.Name != "waited" {
		t.Fatalf("WaitSecretChange without a known version: got %+v, %v; want SSM_Current at once", ch, err)
	}

	start := time.Now()
	ch, err = c.WaitSecretChange(ctx, "waited", client.CurrentVersion, time.Second)
	if d := time.Since(start); err != nil || ch.Changed || ch.VersionID != client.CurrentVersion || d < time.Second || d > 3*time.Second {
		t.Errorf("WaitSecretChange with nothing happening: got %+v, %v after %v; want unchanged after a second", ch, err, d)
	}

	type putResult struct {
		ref *client.VersionRef
		err error
		at  time.Time
	}
	put := make(chan putResult, 1)
	go func() {
		time.Sleep(200 * time.Millisecond)
		ref, err := c.PutSecretValue(ctx, client.PutSecretValueInput{Name: "waited", Value: client.Text("v2")})
		put <- putResult{ref, err, time.Now()}
	}()
	ch, err = c.WaitSecretChange(ctx, "waited", client.CurrentVersion, client.MaxWait)
	returned := time.Now()
	p := <-put
	if p.err != nil {
		t.Fatalf("PutSecretValue: %v", p.err)
	}
	v2, at := p.ref.VersionID, p.at
	if err != nil || !ch.Changed || ch.VersionID != v2 {
		t.Fatalf("WaitSecretChange across a put: got %+v, %v; want %s, changed", ch, err, v2)
	}
	if d := returned.Sub(at); d > time.Second {
		t.Errorf("WaitSecretChange returned %v after the put, want within a second", d)
	}
	if _, err := c.WaitSecretChange(ctx, "waited", v2, 21*time.Second); client.CodeOf(err) != "InvalidParameterValue" {
		t.Errorf("WaitSecretChange for 21 s: got %v, want InvalidParameterValue", err)
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
