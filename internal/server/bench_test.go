package server_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/signature/tc3"
)

// BenchmarkGetSecretValue measures one signed GetSecretValue over loopback
// HTTP against the real server: signature check, store read, decrypt, encode.
func BenchmarkGetSecretValue(b *testing.B) {
	s := startServer(b, "")
	c := s.client(testRegion)
	c.must("CreateSecret", map[string]any{"SecretName": "bench", "SecretString": string(bytes.Repeat([]byte("x"), 1024))})
	body := []byte(`{"SecretName":"bench","VersionId":"SSM_Current"}`)
	url := s.URL() + "/"
	b.ReportAllocs()
	b.SetParallelism(16) // 32 concurrent clients on 2 cores: what group commit is for
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-TC-Action", "GetSecretValue")
			req.Header.Set("X-TC-Version", "2019-09-23")
			req.Header.Set("X-TC-Region", testRegion)
			tc3.SignRequest(req, body, testKeyID, []byte(testSecret), "ssm", time.Now())
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			out, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !bytes.Contains(out, []byte(`"SecretString":"xxx`)) {
				b.Fatalf("unexpected response %.200s", out)
			}
		}
	})
	b.StopTimer()
	// Connections dialed but never used count as busy for up to five
	// seconds when the server drains: close them first.
	http.DefaultClient.CloseIdleConnections()
}
