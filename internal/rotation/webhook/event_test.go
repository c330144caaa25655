package webhook

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretsDoNotPrint(t *testing.T) {
	s, _ := MustSigner(t)
	ev := testEvent(StepSet)
	ev.Pending.SecretString, ev.Pending.SecretBinary = nil, []byte(pendingSecret)
	reply := &Reply{SecretString: strPtr(pendingSecret)}
	c := &Client{Signer: s}
	leaks := []string{currentSecret, pendingSecret, fmt.Sprint([]byte(s.Key)), fmt.Sprintf("%x", []byte(s.Key[:8]))}

	var out bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		for _, x := range []any{ev, &ev, *ev.Current, ev.Current, *reply, reply, s, &s, c, *c} {
			fmt.Fprintf(&out, verb+"\n", x)
		}
	}
	for _, h := range []slog.Handler{slog.NewJSONHandler(&out, nil), slog.NewTextHandler(&out, nil)} {
		slog.New(h).Info("rotating", "event", ev, "value", ev.Current, "reply", reply, "signer", s)
	}
	for _, leak := range leaks {
		if strings.Contains(out.String(), leak) {
			t.Errorf("printed a secret %q:\n%s", leak, out.String())
		}
	}
	for _, want := range []string{"v-current [redacted]", "coffer-test-1 [redacted]", ev.ClientRequestToken} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestStatusErrorText(t *testing.T) {
	tests := []struct {
		err  *StatusError
		want string
	}{
		{&StatusError{Step: StepSet, Status: 500}, "webhook: setSecret: endpoint returned HTTP 500"},
		{&StatusError{Step: StepTest, Status: 401, Message: "bad signature"}, "webhook: testSecret: endpoint returned HTTP 401: bad signature"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}
