package server_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coffer-secrets/coffer/internal/iam"
	"github.com/coffer-secrets/coffer/internal/server"
	"github.com/coffer-secrets/coffer/internal/store"
)

// clusterAdminDSN is the PostgreSQL the cluster tests create their
// databases in: $COFFER_TEST_POSTGRES, or the machine's own.
func clusterAdminDSN() string {
	if dsn := os.Getenv("COFFER_TEST_POSTGRES"); dsn != "" {
		return dsn
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// clusterDatabase creates a database for one test and drops it after. An
// unreachable PostgreSQL skips the test, or fails it with CI=true.
func clusterDatabase(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, clusterAdminDSN())
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL unreachable (set COFFER_TEST_POSTGRES): %v", err)
		}
		t.Skipf("PostgreSQL unreachable (set COFFER_TEST_POSTGRES): %v", err)
	}
	defer admin.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "coffer_cluster_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := pgx.Connect(ctx, clusterAdminDSN())
		if err != nil {
			t.Errorf("drop %s: %v", name, err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	return fmt.Sprintf("postgres://postgres@127.0.0.1:5432/%s?sslmode=disable", name)
}

// startCluster starts n servers on one PostgreSQL database sharing a root
// key file.
func startCluster(t *testing.T, n int) ([]*testServer, string) {
	t.Helper()
	dsn := clusterDatabase(t)
	keyFile := filepath.Join(t.TempDir(), "root.key")
	var out []*testServer
	for range n {
		out = append(out, mxStartServer(t, func(c *server.Config) {
			c.Store, c.RootKey, c.LeaseTTL = dsn, "file:"+keyFile, time.Second
		}))
	}
	return out, dsn
}

// eventually polls cond until it holds or a deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestClusterOfThree(t *testing.T) {
	servers, _ := startCluster(t, 3)
	clients := make([]*testServer, 3)
	copy(clients, servers)

	// A write through one server is read through the others at once.
	servers[0].mustAs(t, rootKey, "", "ssm", "CreateSecret", map[string]any{"SecretName": "shared", "VersionId": "v1", "SecretString": "one"}, nil)
	for i, s := range servers[1:] {
		var v struct{ SecretString string }
		s.mustAs(t, rootKey, "", "ssm", "GetSecretValue", map[string]any{"SecretName": "shared", "VersionId": "v1"}, &v)
		if v.SecretString != "one" {
			t.Fatalf("server %d reads %q", i+1, v.SecretString)
		}
	}
	// Each server keeps what it read and checks it on every read
	// (secrets/checkedcache.go): a value changed through one server, and a
	// disabled secret, are what the others' very next read sees.
	read := func(s *testServer) string {
		t.Helper()
		var v struct{ SecretString string }
		s.mustAs(t, rootKey, "", "ssm", "GetSecretValue", map[string]any{"SecretName": "shared", "VersionId": "v1"}, &v)
		return v.SecretString
	}
	for _, value := range []string{"two", "three"} {
		for _, s := range servers[1:] {
			read(s) // cached now
		}
		servers[0].mustAs(t, rootKey, "", "ssm", "UpdateSecret", map[string]any{"SecretName": "shared", "VersionId": "v1", "SecretString": value}, nil)
		for i, s := range servers[1:] {
			if got := read(s); got != value {
				t.Fatalf("server %d reads %q after server 0 stored %q", i+1, got, value)
			}
		}
	}
	servers[0].mustAs(t, rootKey, "", "ssm", "DisableSecret", map[string]any{"SecretName": "shared"}, nil)
	for i, s := range servers[1:] {
		if _, code, _ := s.callAs(t, rootKey, "", "ssm", "GetSecretValue", map[string]any{"SecretName": "shared", "VersionId": "v1"}); code == "" {
			t.Fatalf("server %d reads a secret disabled through server 0", i+1)
		}
	}
	servers[0].mustAs(t, rootKey, "", "ssm", "EnableSecret", map[string]any{"SecretName": "shared"}, nil)

	// A policy change through one server applies on all: warm every
	// server's caches first, then detach.
	u, k := servers[0].addUser(t, testAccount, "reader")
	pid := servers[0].grant(t, testAccount, u, "read", `{"version":"2.0","statement":[{"effect":"allow","action":"ssm:GetSecretValue","resource":"*"}]}`)
	// addUser and grant went through servers[0]'s IAM service directly,
	// which announces like an API call does; the others hear it.
	for _, s := range servers {
		eventually(t, "the grant reaches every server", func() bool {
			_, code, _ := s.callAs(t, k, "", "ssm", "GetSecretValue", map[string]any{"SecretName": "shared", "VersionId": "v1"})
			return code == ""
		})
	}
	servers[0].mustAs(t, rootKey, "", "cam", "DetachUserPolicy", map[string]any{"PolicyId": pid, "DetachUin": u.Uin}, nil)
	for i, s := range servers {
		start := time.Now()
		eventually(t, fmt.Sprintf("server %d stops allowing the detached policy", i), func() bool {
			_, code, _ := s.callAs(t, k, "", "ssm", "GetSecretValue", map[string]any{"SecretName": "shared", "VersionId": "v1"})
			return code == "UnauthorizedOperation"
		})
		t.Logf("server %d applied the change after %v", i, time.Since(start))
	}
	// A disabled key stops working on every server.
	servers[1].mustAs(t, rootKey, "", "cam", "UpdateAccessKey", map[string]any{"AccessKeyId": k.id, "Status": "Inactive", "TargetUin": u.Uin}, nil)
	for i, s := range servers {
		eventually(t, fmt.Sprintf("server %d refuses the disabled key", i), func() bool {
			_, code, _ := s.callAs(t, k, "", "ssm", "GetRegions", map[string]any{})
			return code == "AuthFailure.SecretIdNotFound"
		})
	}

	// Exactly one server leads the background jobs.
	leaders := func() (int, int) {
		n, at := 0, -1
		for i, s := range servers {
			if s.Server != nil && s.Leading() {
				n, at = n+1, i
			}
		}
		return n, at
	}
	eventually(t, "one leader", func() bool { n, _ := leaders(); return n == 1 })
	_, leader := leaders()

	// Kill the leader mid-load: the clients of the others see no error, and
	// another server takes the jobs over.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var ok, failed atomic.Int64
	var acked sync.Map
	for w := range 4 {
		s := servers[(leader+1+w%2)%3]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				v := fmt.Sprintf("w%d-%d", w, n)
				_, code, raw := s.callAs(t, rootKey, "", "ssm", "CreateSecret", map[string]any{"SecretName": v, "VersionId": "v1", "SecretString": v})
				if code != "" {
					failed.Add(1)
					t.Errorf("a client of a live server saw %s: %s", code, raw)
					return
				}
				acked.Store(v, true)
				ok.Add(1)
			}
		}()
	}
	eventually(t, "load running", func() bool { return ok.Load() > 20 })
	killed := servers[leader]
	killed.kill()
	before := ok.Load()
	eventually(t, "load goes on after the kill", func() bool { return ok.Load() > before+20 || failed.Load() > 0 })
	eventually(t, "another server leads", func() bool {
		n, at := leaders()
		return n == 1 && at != leader
	})
	close(stop)
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d requests failed on live servers", failed.Load())
	}
	// Every acknowledged write is there, read through a live server.
	live := servers[(leader+1)%3]
	n := 0
	acked.Range(func(name, _ any) bool {
		var v struct{ SecretString string }
		live.mustAs(t, rootKey, "", "ssm", "GetSecretValue", map[string]any{"SecretName": name, "VersionId": "v1"}, &v)
		if v.SecretString != name {
			t.Errorf("secret %s reads %q", name, v.SecretString)
		}
		n++
		return true
	})
	t.Logf("%d acknowledged writes, all present", n)
}

// kill closes the server at once, without draining: a crash as far as its
// clients and the cluster can tell.
func (s *testServer) kill() {
	if s.cancel == nil {
		return
	}
	s.Server.Close()
	s.cancel()
	s.cancel = nil
	<-s.done
	s.Server = nil
}

// TestClusterLeaseRunsJobsOnce: lease-held jobs run on one server at a
// time, and a purge due in the deletion window happens exactly once.
func TestClusterLeaseRunsJobsOnce(t *testing.T) {
	servers, _ := startCluster(t, 3)
	ctx := t.Context()
	servers[0].mustAs(t, rootKey, "", "ssm", "CreateSecret", map[string]any{"SecretName": "doomed", "VersionId": "v1", "SecretString": "x"}, nil)
	servers[0].mustAs(t, rootKey, "", "ssm", "DisableSecret", map[string]any{"SecretName": "doomed"}, nil)
	servers[0].mustAs(t, rootKey, "", "ssm", "DeleteSecret", map[string]any{"SecretName": "doomed", "RecoveryWindowInDays": 0}, nil)
	// Every server sweeps at once; the purge is recorded once.
	var wg sync.WaitGroup
	for _, s := range servers {
		wg.Add(1)
		go func() { defer wg.Done(); s.SweepNow(ctx) }()
	}
	wg.Wait()
	var purges int
	err := servers[0].AuditLog.Store.View(ctx, func(tx store.Tx) error {
		evs, err := tx.Events(ctx, store.EventQuery{})
		for _, ev := range evs {
			if ev.Action == "PurgeSecret" {
				purges++
			}
		}
		return err
	})
	if err != nil || purges > 1 {
		t.Fatalf("purges %d (%v)", purges, err)
	}
	n := 0
	for _, s := range servers {
		if s.Leading() {
			n++
		}
	}
	if n > 1 {
		t.Fatalf("%d leaders", n)
	}
}

// TestClusterReadyz: /readyz answers while the database does, /healthz always.
func TestClusterReadyz(t *testing.T) {
	s := startServer(t, "")
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(s.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
	}
	_ = iam.KindRoot
}

// TestClusterDatabaseOutage: the database goes away under load (every
// connection to it cut and new ones refused, as while PostgreSQL
// restarts): calls fail with a clear unavailable error, then succeed
// again once it is back, without restarting the server, and no
// acknowledged write is lost.
func TestClusterDatabaseOutage(t *testing.T) {
	servers, dsn := startCluster(t, 1)
	s := servers[0]
	name := dsn[len("postgres://postgres@127.0.0.1:5432/"):]
	name = name[:len(name)-len("?sslmode=disable")]
	admin, err := pgx.Connect(t.Context(), clusterAdminDSN())
	if err != nil {
		t.Fatal(err)
	}
	setAllowed := func(allowed bool) {
		t.Helper()
		if _, err := admin.Exec(context.Background(), fmt.Sprintf("ALTER DATABASE %s ALLOW_CONNECTIONS %v", name, allowed)); err != nil {
			t.Fatal(err)
		}
		if !allowed {
			if _, err := admin.Exec(context.Background(), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Cleanup(func() { setAllowed(true); admin.Close(context.Background()) })
	var acked []string
	write := func(n int) string {
		v := fmt.Sprintf("o%d", n)
		_, code, _ := s.callAs(t, rootKey, "", "ssm", "CreateSecret", map[string]any{"SecretName": v, "VersionId": "v1", "SecretString": v})
		if code == "" {
			acked = append(acked, v)
		}
		return code
	}
	for n := range 10 {
		if code := write(n); code != "" {
			t.Fatalf("before the outage: %s", code)
		}
	}
	setAllowed(false)
	codes := map[string]int{}
	for n := 10; n < 30; n++ {
		codes[write(n)]++
	}
	for code := range codes {
		if code != "" && code != "ServiceUnavailable" {
			t.Errorf("during the outage: %q", code)
		}
	}
	if codes[""] == 20 {
		t.Fatal("every write succeeded during the outage")
	}
	if resp, err := http.Get(s.URL() + "/readyz"); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz during the outage: %v %v", resp, err)
	}
	t.Logf("during the outage: %v", codes)
	setAllowed(true)
	eventually(t, "writes succeed again", func() bool { return write(100+len(acked)) == "" })
	for _, v := range acked {
		s.mustAs(t, rootKey, "", "ssm", "GetSecretValue", map[string]any{"SecretName": v, "VersionId": "v1"}, nil)
	}
}
