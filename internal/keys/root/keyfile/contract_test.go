package keyfile_test

import (
	"path/filepath"
	"testing"

	"github.com/coffer-secrets/coffer/internal/keys/root/keyfile"
	"github.com/coffer-secrets/coffer/internal/keys/root/roottest"
)

func TestContract(t *testing.T) {
	f, err := keyfile.Open(filepath.Join(t.TempDir(), "root.key"), true)
	if err != nil {
		t.Fatal(err)
	}
	roottest.Run(t, f)
}
