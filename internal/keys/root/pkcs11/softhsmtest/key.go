//go:build cgo

package softhsmtest

import (
	"encoding/binary"
	"testing"

	"github.com/ThalesGroup/crypto11"
	p11 "github.com/miekg/pkcs11"
)

// Key logs in to the token and reports on the secret keys labelled label,
// as a test checking that a key cannot leave the token needs. It fails tb
// when the token cannot be opened or the attributes not read. The token
// stays logged in until tb ends, so a later login with a wrong PIN would
// succeed: check wrong PINs on another token.
func (tok Token) Key(tb testing.TB, label string) KeyInfo {
	tb.Helper()
	c, err := crypto11.Configure(&crypto11.Config{Path: tok.Module, TokenLabel: tok.Label, Pin: tok.PIN})
	if err != nil {
		tb.Fatalf("softhsmtest: open token %q: %v", tok.Label, err)
	}
	defer c.Close()
	keys, err := c.FindKeys(nil, []byte(label))
	if err != nil {
		tb.Fatalf("softhsmtest: find keys labelled %q: %v", label, err)
	}
	info := KeyInfo{Count: len(keys)}
	if len(keys) == 0 {
		return info
	}
	flags := map[crypto11.AttributeType]*bool{
		p11.CKA_SENSITIVE: &info.Sensitive, p11.CKA_EXTRACTABLE: &info.Extractable,
		p11.CKA_ALWAYS_SENSITIVE: &info.AlwaysSensitive, p11.CKA_NEVER_EXTRACTABLE: &info.NeverExtractable,
		p11.CKA_PRIVATE: &info.Private, p11.CKA_TOKEN: &info.OnToken, p11.CKA_WRAP: &info.Wrap, p11.CKA_DERIVE: &info.Derive,
	}
	types := []crypto11.AttributeType{p11.CKA_VALUE_LEN}
	for typ := range flags {
		types = append(types, typ)
	}
	attrs, err := c.GetAttributes(keys[0], types)
	if err != nil {
		tb.Fatalf("softhsmtest: attributes of key %q: %v", label, err)
	}
	for typ, field := range flags {
		a := attrs[typ]
		*field = a != nil && len(a.Value) == 1 && a.Value[0] != 0
	}
	switch a := attrs[p11.CKA_VALUE_LEN]; {
	case a != nil && len(a.Value) == 8:
		info.ValueLen = int(binary.NativeEndian.Uint64(a.Value))
	case a != nil && len(a.Value) == 4:
		info.ValueLen = int(binary.NativeEndian.Uint32(a.Value))
	}
	v, err := c.GetAttribute(keys[0], p11.CKA_VALUE)
	info.ValueReadable = err == nil && v != nil && len(v.Value) > 0
	return info
}
