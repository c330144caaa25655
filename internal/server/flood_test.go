package server_test

import (
	"bytes"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/server"
)

// TestFloodBoundedMemory fires thousands of mixed requests (good, badly
// signed, garbage) at a server with low rate limits, and checks the heap
// stays bounded and the server still answers afterwards.
func TestFloodBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("flood test")
	}
	s := startLimited(t, server.Limits{Account: 50, Unauthenticated: 20, MaxConnections: 128})
	c := newLimClient(t, s)
	c.wantTencent("GetRegions", testSecret, http.StatusOK, "")
	before := heapInuse()

	const total, workers = 5000, 64
	var next, served, throttled atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > total {
					return
				}
				var code string
				var err error
				switch i % 4 {
				case 0:
					_, code, err = c.tencent("ListSecrets", testSecret)
				case 1:
					_, code, err = c.aws("ListSecrets", testSecret)
				case 2:
					_, code, err = c.tencent("GetSecretValue", "wrong-key")
				default:
					code, err = c.garbage(i)
				}
				if err != nil {
					t.Errorf("request %d: %v", i, err)
					return
				}
				served.Add(1)
				if code == "RequestLimitExceeded" || code == "ThrottlingException" || code == "RequestLimitExceeded.IPLimitExceeded" {
					throttled.Add(1)
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d requests answered in %v, %d throttled", served.Load(), time.Since(start), throttled.Load())
	if throttled.Load() == 0 {
		t.Error("nothing was throttled")
	}

	const bound = 64 << 20
	if after := heapInuse(); after > before+bound {
		t.Errorf("heap in use grew from %d to %d bytes, more than %d", before, after, bound)
	}
	// Good callers are served again once the account's budget refills.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, code, err := c.tencent("GetRegions", testSecret)
		if err == nil && code == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the flood: got %q %v, want success", code, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// garbage sends a request that is not an API call at all.
func (c *limClient) garbage(i int64) (string, error) {
	body := bytes.Repeat([]byte{byte(i)}, int(i%512))
	req, _ := http.NewRequest(http.MethodPost, c.url+"/", bytes.NewReader(body))
	req.Header.Set("X-TC-Action", "GetSecretValue")
	req.Header.Set("Authorization", "TC3-HMAC-SHA256 garbage")
	var out struct {
		Response struct{ Error struct{ Code string } }
	}
	_, err := c.do(req, &out)
	return out.Response.Error.Code, err
}

func heapInuse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}
