package server_test

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestSSMVersions covers version ids, the current version, limits and
// in-place updates.
func TestSSMVersions(t *testing.T) {
	s := startServer(t, "")

	t.Run("DefaultVersionId", func(t *testing.T) {
		m := newMX(t, s, testRegion)
		m.create("ver-default", "first", nil)
		if got, want := m.versions("ver-default"), []string{"SSM_Current"}; !slices.Equal(got, want) {
			t.Errorf("got versions %v, want %v", got, want)
		}
		m.wantString("ver-default", "SSM_Current", "first")
	})

	t.Run("PutMakesCurrent", func(t *testing.T) {
		m := newMX(t, s, testRegion)
		m.create("ver-put", "one", mxP{"VersionId": "v1"})
		m.wantString("ver-put", "SSM_Current", "one")
		for i, v := range []string{"two", "three"} {
			id := fmt.Sprintf("v%d", i+2)
			m.must("PutSecretValue", mxP{"SecretName": "ver-put", "VersionId": id, "SecretString": v})
			m.wantString("ver-put", "SSM_Current", v)
		}
		m.wantString("ver-put", "v1", "one")
		if got, want := m.versions("ver-put"), []string{"v1", "v2", "v3"}; !slices.Equal(got, want) {
			t.Errorf("got versions %v, want %v", got, want)
		}
	})

	// A version literally named SSM_Current (CreateSecret's default id)
	// wins over the current stage; once it is gone, SSM_Current means the
	// current version again.
	t.Run("LiteralSSMCurrentWins", func(t *testing.T) {
		m := newMX(t, s, testRegion)
		m.create("ver-literal", "literal", nil)
		m.must("PutSecretValue", mxP{"SecretName": "ver-literal", "VersionId": "v2", "SecretString": "newer"})
		m.wantString("ver-literal", "SSM_Current", "literal")
		m.wantString("ver-literal", "v2", "newer")
		m.must("DeleteSecretVersion", mxP{"SecretName": "ver-literal", "VersionId": "SSM_Current"})
		m.wantString("ver-literal", "SSM_Current", "newer")
	})

	t.Run("DuplicateVersionId", func(t *testing.T) {
		m := newMX(t, s, testRegion)
		m.create("ver-dup", "one", mxP{"VersionId": "v1"})
		m.create("ver-dup-default", "one", nil)
		for _, tc := range []struct{ name, id string }{{"ver-dup", "v1"}, {"ver-dup-default", "SSM_Current"}} {
			before := m.snapshot(tc.name)
			m.fails("ResourceInUse.VersionIdExists", "PutSecretValue", mxP{"SecretName": tc.name, "VersionId": tc.id, "SecretString": "two"})
			m.unchanged(tc.name, before)
		}
	})

	t.Run("TenVersionsAtMost", func(t *testing.T) {
		m := newMX(t, s, testRegion)
		m.create("ver-limit", "value-1", mxP{"VersionId": "v1"})
		for i := 2; i <= 10; i++ {
			m.must("PutSecretValue", mxP{"SecretName": "ver-limit", "VersionId": fmt.Sprintf("v%d", i), "SecretString": fmt.Sprintf("value-%d", i)})
		}
		before := m.snapshot("ver-limit")
		m.fails("LimitExceeded", "PutSecretValue", mxP{"SecretName": "ver-limit", "VersionId": "v11", "SecretString": "value-11"})
		m.unchanged("ver-limit", before)
		if got, want := len(before.Versions), 10; got != want {
			t.Errorf("got %d versions, want %d", got, want)
		}
		// Deleting one makes room again.
		m.must("DeleteSecretVersion", mxP{"SecretName": "ver-limit", "VersionId": "v1"})
		m.must("PutSecretValue", mxP{"SecretName": "ver-limit", "VersionId": "v11", "SecretString": "value-11"})
		m.wantString("ver-limit", "SSM_Current", "value-11")
	})

	t.Run("DeletedVersionNotFound", func(t *testing.T) {
		m := newMX(t, s, testRegion)
		m.create("ver-del", "one", mxP{"VersionId": "v1"})
		m.must("PutSecretValue", mxP{"SecretName": "ver-del", "VersionId": "v2", "SecretString": "two"})
		m.must("DeleteSecretVersion", mxP{"SecretName": "ver-del", "VersionId": "v1"})
		m.fails("ResourceNotFound", "GetSecretValue", mxP{"SecretName": "ver-del", "VersionId": "v1"})
		m.fails("ResourceNotFound", "UpdateSecret", mxP{"SecretName": "ver-del", "VersionId": "v1", "SecretString": "x"})
		m.fails("ResourceNotFound", "DeleteSecretVersion", mxP{"SecretName": "ver-del", "VersionId": "v1"})
		m.wantString("ver-del", "v2", "two")
		// A deleted id may be used again.
		m.must("PutSecretValue", mxP{"SecretName": "ver-del", "VersionId": "v1", "SecretString": "one-again"})
		m.wantString("ver-del", "v1", "one-again")
	})

	t.Run("DeleteCurrentPromotesNewest", func(t *testing.T) {
		m := newMX(t, s, testRegion)
		m.create("ver-promote", "one", mxP{"VersionId": "v1"})
		for _, id := range []string{"v2", "v3", "v4"} {
			m.must("PutSecretValue", mxP{"SecretName": "ver-promote", "VersionId": id, "SecretString": "value-" + id})
		}
		for _, step := range []struct{ del, current string }{
			{"v4", "value-v3"}, // current deleted: the newest remaining takes over
			{"v1", "value-v3"}, // another deleted: current stays
			{"v3", "value-v2"},
		} {
			m.must("DeleteSecretVersion", mxP{"SecretName": "ver-promote", "VersionId": step.del})
			m.wantString("ver-promote", "SSM_Current", step.current)
		}
		// The last version goes: the secret has none, then a new one is current.
		m.must("DeleteSecretVersion", mxP{"SecretName": "ver-promote", "VersionId": "v2"})
		if got := m.versions("ver-promote"); len(got) != 0 {
			t.Errorf("got versions %v, want none", got)
		}
		m.fails("ResourceNotFound", "GetSecretValue", mxP{"SecretName": "ver-promote", "VersionId": "SSM_Current"})
		m.must("PutSecretValue", mxP{"SecretName": "ver-promote", "VersionId": "v5", "SecretString": "value-v5"})
		m.wantString("ver-promote", "SSM_Current", "value-v5")
	})

	t.Run("UpdateSecretInPlace", func(t *testing.T) {
		m := newMX(t, s, testRegion)
		m.create("ver-upd", "one", mxP{"VersionId": "v1"})
		m.must("PutSecretValue", mxP{"SecretName": "ver-upd", "VersionId": "v2", "SecretString": "two"})
		listed := m.must("ListSecretVersionIds", mxP{"SecretName": "ver-upd"})["Versions"]
		bin := base64.StdEncoding.EncodeToString([]byte{0xde, 0xad, 0xbe, 0xef})

		m.must("UpdateSecret", mxP{"SecretName": "ver-upd", "VersionId": "v1", "SecretBinary": bin})
		m.wantBinary("ver-upd", "v1", bin)
		m.wantString("ver-upd", "SSM_Current", "two") // current did not move to v1
		m.must("UpdateSecret", mxP{"SecretName": "ver-upd", "VersionId": "v1", "SecretString": "one-again"})
		m.wantString("ver-upd", "v1", "one-again")
		m.must("UpdateSecret", mxP{"SecretName": "ver-upd", "VersionId": "v2", "SecretString": "two-again"})
		m.wantString("ver-upd", "SSM_Current", "two-again")

		after := m.must("ListSecretVersionIds", mxP{"SecretName": "ver-upd"})["Versions"]
		if !reflect.DeepEqual(after, listed) {
			t.Errorf("UpdateSecret changed the version list: got %v, want %v", after, listed)
		}
	})

	t.Run("BinaryRoundTrip", func(t *testing.T) {
		all := make([]byte, 256)
		for i := range all {
			all[i] = byte(i)
		}
		for i, b := range [][]byte{
			{0xff, 0xfe, 0xfd},       // not UTF-8
			{0x00},                   // NUL only
			{0xc3, 0x28, 0xa0, 0xa1}, // invalid UTF-8 sequences
			[]byte("plain text, sent as binary"),
			all,
		} {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				m := newMX(t, s, testRegion)
				name := fmt.Sprintf("ver-bin-%d", i)
				enc := base64.StdEncoding.EncodeToString(b)
				m.must("CreateSecret", mxP{"SecretName": name, "VersionId": "v1", "SecretBinary": enc})
				m.wantBinary(name, "v1", enc)
				m.must("PutSecretValue", mxP{"SecretName": name, "VersionId": "v2", "SecretBinary": enc})
				m.wantBinary(name, "SSM_Current", enc)
				m.must("UpdateSecret", mxP{"SecretName": name, "VersionId": "v1", "SecretBinary": enc})
				m.wantBinary(name, "v1", enc)
			})
		}
	})

	t.Run("LargestValue", func(t *testing.T) {
		m := newMX(t, s, testRegion)
		str := strings.Repeat("s", 64<<10)
		bin := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("\xff", 64<<10)))
		m.must("CreateSecret", mxP{"SecretName": "ver-large", "VersionId": "v1", "SecretString": str})
		m.must("PutSecretValue", mxP{"SecretName": "ver-large", "VersionId": "v2", "SecretBinary": bin})
		m.must("UpdateSecret", mxP{"SecretName": "ver-large", "VersionId": "v1", "SecretString": str})
		if got := mxStr(t, m.value("ver-large", "v1"), "SecretString"); got != str {
			t.Errorf("v1: got a SecretString of %d bytes, want the %d bytes stored", len(got), len(str))
		}
		if got := mxStr(t, m.value("ver-large", "v2"), "SecretBinary"); got != bin {
			t.Errorf("v2: got a SecretBinary of %d characters, want the %d stored", len(got), len(bin))
		}
	})
}

// wantBinary checks that version of name holds the binary value whose
// base64 is want, byte for byte.
func (m *mx) wantBinary(name, version, want string) {
	m.t.Helper()
	got := m.value(name, version)
	if b := mxStr(m.t, got, "SecretBinary"); b != want {
		m.t.Errorf("GetSecretValue(%s, %s): got SecretBinary %q, want %q", name, version, b, want)
	}
	if s := mxStr(m.t, got, "SecretString"); s != "" {
		m.t.Errorf("GetSecretValue(%s, %s): got SecretString %q, want \"\"", name, version, s)
	}
}
