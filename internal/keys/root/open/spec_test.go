package open

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseSpec(t *testing.T) {
	tests := []struct {
		spec string
		want Spec
	}{
		{"file:/var/lib/coffer/root.key", Spec{Kind: File, File: FileSpec{Path: "/var/lib/coffer/root.key"}}},
		{"file:root.key?create=false", Spec{Kind: File, File: FileSpec{Path: "root.key", NoCreate: true}}},
		{"file:/k?create=true", Spec{Kind: File, File: FileSpec{Path: "/k"}}},
		{"  file:/k\n", Spec{Kind: File, File: FileSpec{Path: "/k"}}},
		{"pkcs11:module=/usr/lib/softhsm/libsofthsm2.so;token=coffer;label=root;pin-env=COFFER_HSM_PIN",
			Spec{Kind: PKCS11, PKCS11: PKCS11Spec{Module: "/usr/lib/softhsm/libsofthsm2.so", Token: "coffer", KeyLabel: "root", PINEnv: "COFFER_HSM_PIN"}}},
		{"pkcs11:label=root%20key;token=My%3BToken;module=/opt/hsm/lib.so;pin-env=PIN;create=true;max-sessions=8",
			Spec{Kind: PKCS11, PKCS11: PKCS11Spec{Module: "/opt/hsm/lib.so", Token: "My;Token", KeyLabel: "root key", PINEnv: "PIN", Create: true, MaxSessions: 8}}},
		{"awskms:arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
			Spec{Kind: AWSKMS, AWSKMS: AWSKMSSpec{KeyID: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}}},
		{"awskms:alias/coffer-root?region=eu-west-1&endpoint=http%3A%2F%2F127.0.0.1%3A4599",
			Spec{Kind: AWSKMS, AWSKMS: AWSKMSSpec{KeyID: "alias/coffer-root", Region: "eu-west-1", Endpoint: "http://127.0.0.1:4599"}}},
		{"awskms:k?region=us-east-1&endpoint=https://kms.internal&access-key-env=AK&secret-key-env=SK&token-env=ST",
			Spec{Kind: AWSKMS, AWSKMS: AWSKMSSpec{KeyID: "k", Region: "us-east-1", Endpoint: "https://kms.internal", AccessKeyEnv: "AK", SecretKeyEnv: "SK", SessionTokenEnv: "ST"}}},
		{"tencentkms:23e80852-1e38-11e9-b129-5cb9019b4b01?region=ap-guangzhou",
			Spec{Kind: TencentKMS, TencentKMS: TencentKMSSpec{KeyID: "23e80852-1e38-11e9-b129-5cb9019b4b01", Region: "ap-guangzhou"}}},
		{"tencentkms:K?region=ap-beijing&endpoint=kms.internal:8443&secret-id-env=TC_ID&secret-key-env=TC_KEY&token-env=TC_TOKEN",
			Spec{Kind: TencentKMS, TencentKMS: TencentKMSSpec{KeyID: "K", Region: "ap-beijing", Endpoint: "kms.internal:8443", SecretIDEnv: "TC_ID", SecretKeyEnv: "TC_KEY", TokenEnv: "TC_TOKEN"}}},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := ParseSpec(tt.spec)
			if err != nil {
				t.Fatalf("ParseSpec: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseSpec = %+v, want %+v", got, tt.want)
			}
			again, err := ParseSpec(got.String())
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("ParseSpec(%q) = %+v, %v; want the same spec back", got.String(), again, err)
			}
		})
	}
}

func TestParseSpecRefuses(t *testing.T) {
	const pkcs = "pkcs11:module=/m.so;token=t;label=k;pin-env=P"
	tests := []struct{ spec, want string }{
		{"", "want KIND:"},
		{"/var/lib/coffer/root.key", "want KIND:"},
		{"file:", "want KIND:"},
		{"vault:transit/coffer", `unknown kind "vault"`},
		{"file:?create=false", "no path"},
		{"file:/k?create=maybe", "create=maybe"},
		{"file:/k?mode=0600", `unknown parameter "mode"`},
		{"pkcs11:token=t;label=k;pin-env=P", "no module="},
		{"pkcs11:module=/m.so;label=k;pin-env=P", "no token="},
		{"pkcs11:module=/m.so;token=t;pin-env=P", "no label="},
		{"pkcs11:module=/m.so;token=t;label=k", "no pin-env="},
		{"pkcs11:module=/m.so;token=t;label=k;pin-env=", "no pin-env="},
		{pkcs + ";pin=123456", "pin= is not accepted"},
		{pkcs + ";pin-value=123456", "pin-value= is not accepted"},
		{pkcs + ";slot=0", `unknown attribute "slot"`},
		{pkcs + ";token=u", "token given twice"},
		{pkcs + ";create=yes-please", "create="},
		{pkcs + ";max-sessions=1", "max-sessions=1"},
		{pkcs + ";label", `attribute "label": want name=value`},
		{"pkcs11:module=/m%zz.so;token=t;label=k;pin-env=P", "bad percent-encoding"},
		{"awskms:", "want KIND:"},
		{"awskms:?region=eu-west-1", "no key id"},
		{"awskms:k?profile=prod", `unknown parameter "profile"`},
		{"awskms:k?region=a&region=b", "region given 2 times"},
		{"awskms:k?region=", "region is empty"},
		{"awskms:k?access-key-env=AK", "go together"},
		{"awskms:k?token-env=ST", "go together"},
		{"awskms:k?region=%zz", "bad encoding"},
		{"tencentkms:K", "no region="},
		{"tencentkms:?region=ap-guangzhou", "no key id"},
		{"tencentkms:K?region=ap-guangzhou&secret-key-env=SK", "go together"},
		{"tencentkms:K?region=ap-guangzhou&secret-key=abc", `unknown parameter "secret-key"`},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			_, err := ParseSpec(tt.spec)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseSpec(%q): %v, want an error containing %q", tt.spec, err, tt.want)
			}
			if strings.Contains(err.Error(), "123456") {
				t.Fatalf("the error quotes the PIN: %v", err)
			}
		})
	}
}
