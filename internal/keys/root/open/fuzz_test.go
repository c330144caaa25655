package open

import (
	"reflect"
	"testing"
)

// FuzzParseSpec: whatever ParseSpec accepts, String writes back in a form
// ParseSpec reads as the same spec.
func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{
		"file:/var/lib/coffer/root.key?create=false",
		"pkcs11:module=/usr/lib/softhsm/libsofthsm2.so;token=coffer;label=root;pin-env=COFFER_HSM_PIN;create=true;max-sessions=4",
		"pkcs11:module=/m%3B.so;token=a%20b;label=%25;pin-env=P",
		"awskms:alias/coffer?region=eu-west-1&endpoint=http://127.0.0.1:1&access-key-env=A&secret-key-env=S&token-env=T",
		"tencentkms:K?region=ap-guangzhou&endpoint=kms.internal&secret-id-env=I&secret-key-env=S",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := ParseSpec(spec)
		if err != nil {
			return
		}
		again, err := ParseSpec(s.String())
		if err != nil || !reflect.DeepEqual(again, s) {
			t.Fatalf("ParseSpec(%q) = %+v; its String %q parses to %+v, %v", spec, s, s.String(), again, err)
		}
	})
}
