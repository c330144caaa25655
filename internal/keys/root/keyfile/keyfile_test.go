package keyfile_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-secrets/coffer/internal/fault"
	"github.com/coffer-secrets/coffer/internal/keys/root/keyfile"
)

func TestCreateAndReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "root.key")
	f, err := keyfile.Open(path, true)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v; want 0600", st.Mode().Perm(), err)
	}
	ctx := context.Background()
	w, err := f.Wrap(ctx, []byte("material"), []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := keyfile.Open(path, false)
	if err != nil {
		t.Fatal(err)
	}
	got, err := g.Unwrap(ctx, w, []byte("aad"))
	if err != nil || !bytes.Equal(got, []byte("material")) {
		t.Fatalf("Unwrap after reopen = %q, %v", got, err)
	}
	if _, err := g.Unwrap(ctx, w, []byte("other")); !fault.Is(err, fault.KeyUnavailable) {
		t.Fatalf("Unwrap with other aad: %v, want KeyUnavailable", err)
	}
	if s := f.String() + f.GoString(); strings.Contains(s, string(mustRead(t, path))) {
		t.Fatal("String shows the key")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Fields(b)[1]
}

func TestRefuses(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := "coffer-root-key-v1\n" + strings.Repeat("ab", 32) + "\n"
	tests := []struct {
		name, path, want string
	}{
		{"missing without create", filepath.Join(dir, "absent"), "no such file"},
		{"group readable", write("wide", good, 0o640), "chmod 600"},
		{"wrong header", write("hdr", "nope\n"+strings.Repeat("ab", 32)+"\n", 0o600), "not a Coffer root key"},
		{"short key", write("short", "coffer-root-key-v1\nabab\n", 0o600), "malformed"},
		{"not hex", write("hex", "coffer-root-key-v1\n"+strings.Repeat("zz", 32)+"\n", 0o600), "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := keyfile.Open(tt.path, false)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
