package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestCallEachStep(t *testing.T) {
	_, pub := MustSigner(t)
	for _, step := range []string{StepCreate, StepSet, StepTest, StepFinish} {
		t.Run(step, func(t *testing.T) {
			e := MustEndpoint(t, http.StatusOK, "")
			ev := testEvent(step)
			reply, err := MustClient(t, e).Call(t.Context(), e.URL+"/rotate", ev)
			if err != nil || reply != nil {
				t.Fatalf("Call = %v, %v; want nil, nil", reply, err)
			}
			calls := e.Calls()
			if len(calls) != 1 {
				t.Fatalf("got %d calls, want 1", len(calls))
			}
			got := calls[0]
			if err := Verify(pub, got.Header, got.Body, testNow, 0); err != nil {
				t.Errorf("Verify: %v", err)
			}
			for h, want := range map[string]string{
				"Content-Type":    "application/json",
				"User-Agent":      "coffer-rotation/1",
				"Coffer-Step":     step,
				"Idempotency-Key": "rot-7f3a:" + step,
			} {
				if v := got.Header.Get(h); v != want {
					t.Errorf("%s = %q, want %q", h, v, want)
				}
			}
			checkBody(t, got.Body, ev)
		})
	}
}

// checkBody checks that body decodes to ev, values included.
func checkBody(t *testing.T, body []byte, want Event) {
	t.Helper()
	var got Event
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	if got.Step != want.Step || got.SecretId != want.SecretId || got.SecretName != want.SecretName ||
		got.ClientRequestToken != want.ClientRequestToken || got.RotationToken != want.RotationToken ||
		got.Account != want.Account || got.Region != want.Region {
		t.Errorf("body = %s, want the fields of %v", body, want)
	}
	if got.Current == nil || *got.Current.SecretString != currentSecret {
		t.Errorf("body = %s, want Current %q", body, currentSecret)
	}
	if wantPending := want.Step != StepCreate; (got.Pending != nil) != wantPending {
		t.Fatalf("body = %s, has Pending %t, want %t", body, got.Pending != nil, wantPending)
	}
	if got.Pending != nil && (*got.Pending.SecretString != pendingSecret || got.Pending.VersionId != want.ClientRequestToken) {
		t.Errorf("body = %s, want Pending %q", body, pendingSecret)
	}
}

func TestCallBinaryAndNoCurrent(t *testing.T) {
	e := MustEndpoint(t, http.StatusOK, "")
	ev := testEvent(StepSet)
	ev.Current = nil
	ev.Pending.SecretString, ev.Pending.SecretBinary = nil, []byte{0, 1, 2, 0xff}
	if _, err := MustClient(t, e).Call(t.Context(), e.URL, ev); err != nil {
		t.Fatal(err)
	}
	body := string(e.Calls()[0].Body)
	if strings.Contains(body, "Current") || !strings.Contains(body, `"SecretBinary":"AAEC/w=="`) ||
		strings.Contains(body, `"SecretString"`) {
		t.Errorf("body = %s, want no Current, Pending binary only", body)
	}
}

func TestCallReply(t *testing.T) {
	tests := []struct {
		name, step, body string
		want             *Reply
		wantErr          error
	}{
		{name: "string", step: StepCreate, body: `{"SecretString":"chosen-Pw1"}`, want: &Reply{SecretString: strPtr("chosen-Pw1")}},
		{name: "binary", step: StepCreate, body: `{"SecretBinary":"AQID"}`, want: &Reply{SecretBinary: []byte{1, 2, 3}}},
		{name: "extra members", step: StepCreate, body: `{"SecretString":"x","Note":1}`, want: &Reply{SecretString: strPtr("x")}},
		{name: "empty", step: StepCreate, body: ""},
		{name: "blank", step: StepCreate, body: " \r\n"},
		{name: "empty object", step: StepCreate, body: `{}`},
		{name: "null", step: StepCreate, body: `null`},
		{name: "empty values", step: StepCreate, body: `{"SecretString":"","SecretBinary":""}`},
		{name: "both", step: StepCreate, body: `{"SecretString":"a","SecretBinary":"AQID"}`, wantErr: ErrReply},
		{name: "not json", step: StepCreate, body: `SecretString=a`, wantErr: ErrReply},
		{name: "not an object", step: StepCreate, body: `["a"]`, wantErr: ErrReply},
		{name: "bad base64", step: StepCreate, body: `{"SecretBinary":"!!"}`, wantErr: ErrReply},
		{name: "trailing", step: StepCreate, body: `{"SecretString":"a"} {}`, wantErr: ErrReply},
		{name: "ignored on setSecret", step: StepSet, body: `{"SecretString":"a"}`},
		{name: "garbage ignored on testSecret", step: StepTest, body: `not json`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MustEndpoint(t, http.StatusOK, tt.body)
			got, err := MustClient(t, e).Call(t.Context(), e.URL, testEvent(tt.step))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !equalReply(got, tt.want) {
				t.Errorf("reply = %+v, want %+v", replyText(got), replyText(tt.want))
			}
			if err != nil && strings.Contains(err.Error(), `"a"`) {
				t.Errorf("err = %v quotes the reply", err)
			}
		})
	}
}

func equalReply(a, b *Reply) bool {
	if a == nil || b == nil {
		return a == b
	}
	return (a.SecretString == nil) == (b.SecretString == nil) &&
		(a.SecretString == nil || *a.SecretString == *b.SecretString) &&
		bytes.Equal(a.SecretBinary, b.SecretBinary)
}

// replyText shows a reply's contents, which Reply itself will not.
func replyText(r *Reply) string {
	if r == nil {
		return "nil"
	}
	s, _ := json.Marshal(struct {
		S *string
		B []byte
	}{r.SecretString, r.SecretBinary})
	return string(s)
}

func TestCallStatusError(t *testing.T) {
	long := strings.Repeat("é", 150) // 300 bytes
	tests := []struct {
		name   string
		status int
		body   string
		want   string // the message kept
	}{
		{name: "no body", status: 500},
		{name: "message", status: 500, body: `{"Message":"database unreachable"}`, want: "database unreachable"},
		{name: "error first", status: 400, body: `{"Message":"m","Error":"e"}`, want: "e"},
		{name: "error not a string", status: 400, body: `{"Error":{"x":1},"Message":"m"}`, want: "m"},
		{name: "not json", status: 503, body: `Service Unavailable`},
		{name: "json not an object", status: 503, body: `"Error"`},
		{name: "clipped between runes", status: 500, body: `{"Error":"` + long + `"}`, want: long[:200]},
		{name: "control characters", status: 500, body: `{"Error":"a\nb\u001b[31mc\u202ed"}`, want: "a b [31mc d"},
		{name: "invalid utf-8", status: 500, body: "{\"Error\":\"a\xffb\"}", want: "a\uFFFDb"},
		{name: "oversize", status: 500, body: `{"Error":"big","Pad":"` + strings.Repeat("x", DefaultMaxReply) + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MustEndpoint(t, tt.status, tt.body)
			_, err := MustClient(t, e).Call(t.Context(), e.URL, testEvent(StepSet))
			var se *StatusError
			if !errors.As(err, &se) || !errors.Is(err, ErrStatus) {
				t.Fatalf("err = %v, want a *StatusError", err)
			}
			if se.Status != tt.status || se.Message != tt.want || se.Step != StepSet {
				t.Errorf("got %s %d %q, want %s %d %q", se.Step, se.Status, se.Message, StepSet, tt.status, tt.want)
			}
		})
	}
}

func TestCallStatusMessageWithheld(t *testing.T) {
	jsonSecret := `{"username":"app","password":"p<w>\"d-4711","port":54321}`
	tests := []struct {
		name    string
		pending *Value
		message string // JSON string contents
	}{
		{name: "pending echoed", message: "cannot set " + pendingSecret},
		{name: "current echoed", message: "old password " + currentSecret + " rejected"},
		{name: "escaped control character", pending: &Value{SecretString: strPtr("pw\nnext")}, message: `pw\nnext`},
		{name: "completed by cleaning", pending: &Value{SecretString: strPtr("pw next")}, message: `pw\nnext`},
		{name: "binary as sent", pending: &Value{SecretBinary: []byte("\x00\x01binary")}, message: "got AAFiaW5hcnk="},
		{name: "binary raw", pending: &Value{SecretBinary: []byte("raw-bytes")}, message: "got raw-bytes"},
		{name: "json member", pending: &Value{SecretString: &jsonSecret}, message: `password p<w>\"d-4711 too weak`},
		{name: "json member escaped", pending: &Value{SecretString: &jsonSecret}, message: `saw {\"password\":\"p\\u003cw\\u003e\\\"d-4711\"}`},
		{name: "json number", pending: &Value{SecretString: &jsonSecret}, message: `port 54321`},
		{name: "past the clip", message: strings.Repeat("x", 195) + pendingSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MustEndpoint(t, http.StatusBadRequest, `{"Error":"`+tt.message+`"}`)
			ev := testEvent(StepSet)
			if tt.pending != nil {
				ev.Pending = tt.pending
			}
			_, err := MustClient(t, e).Call(t.Context(), e.URL, ev)
			var se *StatusError
			if !errors.As(err, &se) || se.Message != withheld {
				t.Fatalf("err = %v, want the message withheld", err)
			}
		})
	}
	t.Run("short json member kept", func(t *testing.T) {
		e := MustEndpoint(t, http.StatusBadRequest, `{"Error":"user app locked"}`)
		ev := testEvent(StepSet)
		ev.Pending.SecretString = &jsonSecret
		_, err := MustClient(t, e).Call(t.Context(), e.URL, ev)
		if se := (*StatusError)(nil); !errors.As(err, &se) || se.Message != "user app locked" {
			t.Fatalf("err = %v, want the message kept", err)
		}
	})
}

func TestCallRedirectNotFollowed(t *testing.T) {
	var followed atomic.Int32
	e := MustHandler(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/elsewhere" {
			followed.Add(1)
			return
		}
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	})
	c := MustClient(t, e)
	_, err := c.Call(t.Context(), e.URL+"/rotate", testEvent(StepSet))
	var se *StatusError
	if !errors.As(err, &se) || se.Status != http.StatusTemporaryRedirect {
		t.Fatalf("err = %v, want a StatusError 307", err)
	}
	if n := followed.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times", n)
	}
	if c.HTTP.CheckRedirect != nil {
		t.Error("Call changed the caller's http.Client")
	}
}

func TestCallHTTP(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	s, _ := MustSigner(t)
	c := &Client{HTTP: srv.Client(), Signer: s}
	if _, err := c.Call(t.Context(), srv.URL, testEvent(StepSet)); !errors.Is(err, ErrURL) {
		t.Fatalf("err = %v, want ErrURL", err)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the endpoint was called %d times over http", n)
	}
	c.AllowHTTP = true
	if _, err := c.Call(t.Context(), srv.URL, testEvent(StepSet)); err != nil {
		t.Fatalf("with AllowHTTP: %v", err)
	}
}

func TestValidateURL(t *testing.T) {
	tests := []struct {
		url       string
		allowHTTP bool
		ok        bool
	}{
		{url: "https://rotate.example.com/hook", ok: true},
		{url: "https://rotate.example.com:8443/hook?tenant=a", ok: true},
		{url: "HTTPS://rotate.example.com/", ok: true},
		{url: "https://[::1]:8443/", ok: true},
		{url: "http://localhost:8080/", allowHTTP: true, ok: true},
		{url: "http://localhost:8080/"},
		{url: "ftp://rotate.example.com/"},
		{url: "rotate.example.com/hook"},
		{url: "//rotate.example.com/hook"},
		{url: "https:rotate.example.com"},
		{url: "https:///hook"},
		{url: "https://:443/hook"},
		{url: "https://user:pw@rotate.example.com/"},
		{url: "https://user@rotate.example.com/"},
		{url: "https://rotate.example.com/hook#frag"},
		{url: "https://rotate.example.com/hook#"},
		{url: "https://rotate.example.com/\x7f"},
		{url: ""},
	}
	for _, tt := range tests {
		err := ValidateURL(tt.url, tt.allowHTTP)
		if (err == nil) != tt.ok || err != nil && !errors.Is(err, ErrURL) {
			t.Errorf("ValidateURL(%q, %t) = %v, want ok %t", tt.url, tt.allowHTTP, err, tt.ok)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("ValidateURL(%q) = %v quotes the URL", tt.url, err)
		}
	}
}

func TestCallOversizeReply(t *testing.T) {
	big := `{"SecretString":"` + strings.Repeat("s", 2000) + `"}`
	e := MustEndpoint(t, http.StatusOK, big)
	c := MustClient(t, e)
	c.MaxReply = 1024
	if _, err := c.Call(t.Context(), e.URL, testEvent(StepCreate)); !errors.Is(err, ErrReply) {
		t.Fatalf("MaxReply 1024: err = %v, want ErrReply", err)
	}
	// Valid JSON within the bound, padded past it: the size alone refuses it.
	padded := MustEndpoint(t, http.StatusOK, `{"SecretString":"x"}`+strings.Repeat(" ", 2000))
	c = MustClient(t, padded)
	c.MaxReply = 1024
	if _, err := c.Call(t.Context(), padded.URL, testEvent(StepCreate)); !errors.Is(err, ErrReply) ||
		!strings.Contains(err.Error(), "larger than 1024 bytes") {
		t.Fatalf("padded: err = %v, want ErrReply for the size", err)
	}
	c = MustClient(t, e)
	if _, err := c.Call(t.Context(), e.URL, testEvent(StepCreate)); err != nil {
		t.Fatalf("default MaxReply: %v", err)
	}
	huge := MustEndpoint(t, http.StatusOK, `{"SecretString":"`+strings.Repeat("s", DefaultMaxReply)+`"}`)
	c = MustClient(t, huge)
	if _, err := c.Call(t.Context(), huge.URL, testEvent(StepCreate)); !errors.Is(err, ErrReply) {
		t.Fatalf("default MaxReply exceeded: err = %v, want ErrReply", err)
	}
}

func TestCallContextCancel(t *testing.T) {
	arrived := make(chan struct{})
	e := MustHandler(t, func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-arrived
		cancel()
	}()
	start := time.Now()
	_, err := MustClient(t, e).Call(ctx, e.URL, testEvent(StepTest))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Call took %v after the cancel", d)
	}
}

func TestCallTransportErrorHidesURL(t *testing.T) {
	e := MustEndpoint(t, http.StatusOK, "")
	e.Close() // nothing listens any more
	c := MustClient(t, e)
	_, err := c.Call(t.Context(), e.URL+"/hooks/T0PATHTOKEN?key=QUERYTOKEN", testEvent(StepSet))
	if err == nil {
		t.Fatal("Call to a closed endpoint succeeded")
	}
	if msg := err.Error(); strings.Contains(msg, "PATHTOKEN") || strings.Contains(msg, "QUERYTOKEN") ||
		!strings.Contains(msg, strings.TrimPrefix(e.URL, "https://")) {
		t.Errorf("err = %q, want the host without path or query", msg)
	}
}

func TestCallRefusesBadInput(t *testing.T) {
	withPending := testEvent(StepCreate)
	withPending.Pending = &Value{SecretString: strPtr(pendingSecret)}
	noToken := testEvent(StepSet)
	noToken.RotationToken = ""
	unknown := testEvent(StepSet)
	unknown.Step = "rotateSecret"
	s, _ := MustSigner(t)
	tests := []struct {
		name   string
		ev     Event
		signer Signer
	}{
		{name: "pending on createSecret", ev: withPending, signer: s},
		{name: "no rotation token", ev: noToken, signer: s},
		{name: "unknown step", ev: unknown, signer: s},
		{name: "no key", ev: testEvent(StepSet), signer: Signer{KeyID: "k"}},
		{name: "short key", ev: testEvent(StepSet), signer: Signer{KeyID: "k", Key: s.Key[:32]}},
		{name: "no key id", ev: testEvent(StepSet), signer: Signer{Key: s.Key}},
		{name: "key id with comma", ev: testEvent(StepSet), signer: Signer{KeyID: "a,v1=x", Key: s.Key}},
		{name: "key id with space", ev: testEvent(StepSet), signer: Signer{KeyID: "a b", Key: s.Key}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MustEndpoint(t, http.StatusOK, "")
			c := MustClient(t, e)
			c.Signer = tt.signer
			if _, err := c.Call(t.Context(), e.URL, tt.ev); err == nil {
				t.Fatal("Call succeeded")
			}
			if n := len(e.Calls()); n != 0 {
				t.Errorf("the endpoint got %d calls", n)
			}
		})
	}
}

func TestDefaultHTTPClient(t *testing.T) {
	hc, done := (&Client{}).httpClient()
	defer done()
	tr, ok := hc.Transport.(*http.Transport)
	if !ok || tr.TLSClientConfig == nil || tr.TLSClientConfig.MinVersion != tls.VersionTLS12 {
		t.Errorf("transport = %#v, want TLS 1.2 or later", hc.Transport)
	}
	if hc.Timeout != 30*time.Second {
		t.Errorf("timeout = %v, want 30s", hc.Timeout)
	}
	if hc.CheckRedirect == nil || hc.CheckRedirect(nil, nil) != http.ErrUseLastResponse {
		t.Error("the default client follows redirects")
	}
}

func TestDefaultHTTPClientRefusesOldTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.TLS = &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	srv.StartTLS()
	t.Cleanup(srv.Close)
	roots := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	get := func(hc *http.Client) error {
		resp, err := hc.Get(srv.URL)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	// The control: the server does speak TLS 1.1 to a client that allows it.
	old := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS10}}
	defer old.CloseIdleConnections()
	if err := get(&http.Client{Transport: old}); err != nil {
		t.Skipf("this TLS stack does not speak TLS 1.1 at all: %v", err)
	}
	hc, done := (&Client{}).httpClient()
	defer done()
	hc.Transport.(*http.Transport).TLSClientConfig.RootCAs = roots
	if err := get(hc); err == nil {
		t.Fatal("the default client spoke TLS 1.1")
	}
}
