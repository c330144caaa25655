package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"github.com/coffer-secrets/coffer/internal/secrets"
)

// TestReplicationAcrossDeployments links two deployments — two server
// processes, each with its own data directory, root key and region — over
// mutual TLS, and checks that writes to the primary appear at the replica,
// that cutting and restoring the link loses and duplicates nothing, that a
// killed primary's replica, once promoted, holds every write acknowledged
// up to the lag the primary last reported, and that the replica's
// files hold no value in the clear.
func TestReplicationAcrossDeployments(t *testing.T) {
	pki := newTestPKI(t)
	dirA, dirB := t.TempDir(), t.TempDir()
	portB := freePort(t)
	env := rootEnv(envKeyID, envSecret, envAccount)
	argsB := []string{"server", "--listen", "127.0.0.1:" + portB, "--data", dirB, "--region", "ap-shanghai",
		"--tls-cert", pki.file("b-server.crt"), "--tls-key", pki.file("b-server.key"), "--peer-ca", pki.file("ca.crt")}
	b := startCoffer(t, env, argsB...)
	argsA := []string{"server", "--listen", "127.0.0.1:0", "--data", dirA, "--region", "ap-guangzhou",
		"--tls-cert", pki.file("a-server.crt"), "--tls-key", pki.file("a-server.key"),
		"--peer", "ap-shanghai=https://127.0.0.1:" + portB, "--peer-cert", pki.file("a-client.crt"),
		"--peer-key", pki.file("a-client.key"), "--peer-ca", pki.file("ca.crt"), "--replication-interval", "200ms"}
	a := startCoffer(t, env, argsA...)
	ca := pki.transport()
	onA := newClient(t, a.URL, envKeyID, envSecret, ca)
	onB := newRegionClient(t, b.URL, "ap-shanghai", ca)

	// Writes to the primary appear at the replica.
	values := map[string][]string{} // secret → its values, oldest first
	put := func(name string) {
		v := "val-" + secrets.NewID(20)
		if _, ok := values[name]; !ok {
			onA.must("CreateSecret", map[string]any{"SecretName": name, "VersionId": "v0", "SecretString": v})
			onA.must("ReplicateSecretToRegions", map[string]any{"SecretName": name, "Regions": []map[string]any{{"Region": "ap-shanghai"}}})
		} else {
			onA.must("PutSecretValue", map[string]any{"SecretName": name, "VersionId": fmt.Sprintf("v%d", len(values[name])), "SecretString": v})
		}
		values[name] = append(values[name], v)
	}
	for range 3 {
		put("alpha")
	}
	put("beta")
	awaitReplicas(t, onB, values)

	// The link cut (the replica's deployment stopped) and restored.
	b.stop()
	for range 4 {
		put("alpha")
		put("gamma")
	}
	st := onA.must("DescribeSecret", map[string]any{"SecretName": "alpha"})
	if rs := st["ReplicationStatus"].([]any); len(rs) != 1 || rs[0].(map[string]any)["Status"] == "InSync" {
		t.Fatalf("with the link cut the primary reports %v", rs)
	}
	b = startCoffer(t, env, argsB...)
	onB = newRegionClient(t, b.URL, "ap-shanghai", ca)
	awaitReplicas(t, onB, values)

	// The primary killed under load; the replica promoted.
	type ack struct {
		name, value string
		at          time.Time
	}
	var mu sync.Mutex
	var acked []ack
	var syncedAsOf time.Time // every write acknowledged before this is at the replica, as the primary reported
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // the application, writing
		defer wg.Done()
		w := newClient(t, a.URL, envKeyID, envSecret, pki.transport())
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if i >= loadSecrets*9 { // the versions a Tencent secret may hold, used up
				<-stop
				return
			}
			name, v := fmt.Sprintf("load-%d", i%loadSecrets), "val-"+secrets.NewID(20)
			var err error
			if i < loadSecrets {
				_, err = w.call("CreateSecret", map[string]any{"SecretName": name, "VersionId": "v0", "SecretString": v})
				if err == nil {
					_, err = w.call("ReplicateSecretToRegions", map[string]any{"SecretName": name, "Regions": []map[string]any{{"Region": "ap-shanghai"}}})
				}
			} else {
				_, err = w.call("PutSecretValue", map[string]any{"SecretName": name, "VersionId": fmt.Sprintf("v%d", i/loadSecrets), "SecretString": v})
			}
			if err != nil {
				return // the primary died
			}
			mu.Lock()
			acked = append(acked, ack{name, v, time.Now()})
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
	}()
	go func() { // the operator, watching the reported lag
		defer wg.Done()
		m := newClient(t, a.URL, envKeyID, envSecret, pki.transport())
		for {
			select {
			case <-stop:
				return
			default:
			}
			// The primary's promise: a write acknowledged before the time
			// of asking minus the lag it reports is at the replica.
			var asOf time.Time
			for i := range loadSecrets {
				asked := time.Now()
				out, err := m.call("DescribeSecret", map[string]any{"SecretName": fmt.Sprintf("load-%d", i)})
				if err != nil {
					asOf = time.Time{}
					break
				}
				rs, _ := out["ReplicationStatus"].([]any)
				if len(rs) != 1 || rs[0].(map[string]any)["Status"] == "Failed" {
					asOf = time.Time{}
					break
				}
				lag := time.Duration(rs[0].(map[string]any)["LagSeconds"].(float64) * float64(time.Second))
				if at := asked.Add(-lag); i == 0 || at.Before(asOf) {
					asOf = at
				}
			}
			if !asOf.IsZero() {
				mu.Lock()
				syncedAsOf = asOf
				mu.Unlock()
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		ok := len(acked) > 120 && syncedAsOf.After(acked[90].at)
		mu.Unlock()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			out, err := onA.call("DescribeSecret", map[string]any{"SecretName": "load-0"})
			t.Fatalf("the primary never reported a lag that covers the writes under load (%d acknowledged; load-0: %v %v)", len(acked), out["ReplicationStatus"], err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-a.exited
	close(stop)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	checked := 0
	for i := range loadSecrets {
		name := fmt.Sprintf("load-%d", i)
		if _, err := onB.call("StopReplicationToReplica", map[string]any{"SecretName": name}); err != nil {
			t.Fatalf("promote %s: %v", name, err)
		}
		have := replicaValues(t, onB, name)
		for _, w := range acked {
			if w.name == name && w.at.Before(syncedAsOf) {
				checked++
				if !slices.Contains(have, w.value) {
					t.Errorf("%s: a write acknowledged at %v, within what the primary reported replicated (%v), is missing", name, w.at, syncedAsOf)
				}
			}
		}
	}
	if checked < 90 {
		t.Fatalf("only %d acknowledged writes fell within the reported lag", checked)
	}
	t.Logf("replication: %d writes acknowledged, %d within the last reported lag, all present after promotion", len(acked), checked)
	// The promoted replica takes writes.
	onB.must("PutSecretValue", map[string]any{"SecretName": "load-0", "VersionId": "after-failover", "SecretString": "x"})

	// No value in the clear in the replica's files.
	b.stop()
	var all [][]byte
	for _, vs := range values {
		for _, v := range vs {
			all = append(all, []byte(v))
		}
	}
	for _, w := range acked {
		all = append(all, []byte(w.value))
	}
	err := filepath.WalkDir(dirB, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, v := range all {
			if bytes.Contains(raw, v) {
				t.Errorf("%s holds a value in the clear", path)
				return nil
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// loadSecrets is how many secrets the load writes to.
const loadSecrets = 20

// awaitReplicas waits until the replica deployment holds exactly the
// versions and values written, each once.
func awaitReplicas(t *testing.T, onB *client, values map[string][]string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for name, want := range values {
		for {
			have := replicaValues(t, onB, name)
			if slices.Equal(have, want) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s at the replica: %d values, want %d (in order, once each)", name, len(have), len(want))
			}
			time.Sleep(20 * time.Millisecond) // polling the replica as a client would
		}
	}
}

// replicaValues returns the values of every version of a secret at the
// replica, oldest first; nil when it does not exist yet.
func replicaValues(t *testing.T, c *client, name string) []string {
	t.Helper()
	out, err := c.call("ListSecretVersionIds", map[string]any{"SecretName": name})
	if err != nil {
		return nil
	}
	var vals []string
	for _, v := range out["Versions"].([]any) {
		id := v.(map[string]any)["VersionId"].(string)
		got, err := c.call("GetSecretValue", map[string]any{"SecretName": name, "VersionId": id})
		if err != nil {
			return nil
		}
		vals = append(vals, got["SecretString"].(string))
	}
	return vals
}

func newRegionClient(t *testing.T, url, region string, rt http.RoundTripper) *client {
	scheme, host, _ := strings.Cut(url, "://")
	prof := profile.NewClientProfile()
	prof.HttpProfile.Endpoint = host
	prof.HttpProfile.Scheme = strings.ToUpper(scheme)
	prof.HttpProfile.ReqTimeout = 10
	prof.Language = "en-US"
	sc := common.NewCommonClient(common.NewCredential(envKeyID, envSecret), region, prof)
	sc.WithHttpTransport(rt)
	return &client{t: t, sc: sc}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// testPKI is a CA with server and client certificates for 127.0.0.1, in
// PEM files.
type testPKI struct {
	dir  string
	pool *x509.CertPool
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	p := &testPKI{dir: t.TempDir(), pool: x509.NewCertPool()}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "coffer test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	p.pool.AddCert(caCert)
	p.write(t, "ca.crt", "CERTIFICATE", caDER)
	for i, name := range []string{"a-server", "b-server", "a-client"} {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 2)), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kb, _ := x509.MarshalPKCS8PrivateKey(key)
		p.write(t, name+".crt", "CERTIFICATE", der)
		p.write(t, name+".key", "PRIVATE KEY", kb)
	}
	return p
}

func (p *testPKI) write(t *testing.T, name, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(p.file(name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (p *testPKI) file(name string) string { return filepath.Join(p.dir, name) }

// transport trusts the test CA (API clients present no certificate).
func (p *testPKI) transport() *http.Transport {
	return &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.pool, MinVersion: tls.VersionTLS12}}
}
