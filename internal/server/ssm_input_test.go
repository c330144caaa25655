package server_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

// TestSSMBadInput sends malformed requests through the official client:
// each must fail with its code and leave every secret as it was.
func TestSSMBadInput(t *testing.T) {
	s := startServer(t, "")
	const base = "input-base"
	{
		m := newMX(t, s, testRegion)
		m.create(base, "base-1", mxP{"VersionId": "v1", "Description": "base"})
		m.must("PutSecretValue", mxP{"SecretName": base, "VersionId": "v2", "SecretBinary": base64.StdEncoding.EncodeToString([]byte{0xff, 0x00})})
	}
	var (
		tooLong     = strings.Repeat("s", 64<<10+1)
		tooLongBin  = base64.StdEncoding.EncodeToString(make([]byte, 64<<10+1))
		name129     = strings.Repeat("n", 129)
		version65   = strings.Repeat("v", 65)
		description = strings.Repeat("d", 2049)
		dupTags     = []mxP{{"TagKey": "env", "TagValue": "a"}, {"TagKey": "env", "TagValue": "b"}}
	)
	// create returns CreateSecret parameters for a fresh valid secret,
	// changed by edit.
	n := 0
	create := func(edit mxP) mxP {
		n++
		return mxMerge(mxP{"SecretName": fmt.Sprintf("input-new-%d", n), "SecretString": "v"}, edit)
	}
	del := func(p mxP, keys ...string) mxP {
		for _, k := range keys {
			delete(p, k)
		}
		return p
	}
	put := func(edit mxP) mxP {
		return mxMerge(mxP{"SecretName": base, "VersionId": "v9", "SecretString": "v"}, edit)
	}
	update := func(edit mxP) mxP {
		return mxMerge(mxP{"SecretName": base, "VersionId": "v1", "SecretString": "v"}, edit)
	}
	for _, tc := range []struct {
		name, action string
		params       mxP
		code         string
	}{
		// Names.
		{"name missing", "CreateSecret", del(create(nil), "SecretName"), "MissingParameter"},
		{"name empty", "CreateSecret", create(mxP{"SecretName": ""}), "MissingParameter"},
		{"name -leading", "CreateSecret", create(mxP{"SecretName": "-leading"}), "InvalidParameterValue"},
		{"name _leading", "CreateSecret", create(mxP{"SecretName": "_leading"}), "InvalidParameterValue"},
		{"name with space", "CreateSecret", create(mxP{"SecretName": "has space"}), "InvalidParameterValue"},
		{"name with slash", "CreateSecret", create(mxP{"SecretName": "a/b"}), "InvalidParameterValue"},
		{"name with dot", "CreateSecret", create(mxP{"SecretName": "a.b"}), "InvalidParameterValue"},
		{"name not ASCII", "CreateSecret", create(mxP{"SecretName": "naïve"}), "InvalidParameterValue"},
		{"name 129 chars", "CreateSecret", create(mxP{"SecretName": name129}), "InvalidParameterValue"},
		{"name taken", "CreateSecret", create(mxP{"SecretName": base}), "ResourceInUse.SecretExists"},
		{"describe name missing", "DescribeSecret", mxP{}, "MissingParameter"},
		{"describe name with space", "DescribeSecret", mxP{"SecretName": "has space"}, "InvalidParameterValue"},

		// Version ids.
		{"create version ..", "CreateSecret", create(mxP{"VersionId": ".."}), "InvalidParameterValue"},
		{"create version 65 chars", "CreateSecret", create(mxP{"VersionId": version65}), "InvalidParameterValue"},
		{"create version with space", "CreateSecret", create(mxP{"VersionId": "has space"}), "InvalidParameterValue"},
		{"put version missing", "PutSecretValue", del(put(nil), "VersionId"), "MissingParameter"},
		{"put version ..", "PutSecretValue", put(mxP{"VersionId": ".."}), "InvalidParameterValue"},
		{"put version 65 chars", "PutSecretValue", put(mxP{"VersionId": version65}), "InvalidParameterValue"},
		{"put version with space", "PutSecretValue", put(mxP{"VersionId": "has space"}), "InvalidParameterValue"},
		{"put version -leading", "PutSecretValue", put(mxP{"VersionId": "-v"}), "InvalidParameterValue"},
		{"put version taken", "PutSecretValue", put(mxP{"VersionId": "v1"}), "ResourceInUse.VersionIdExists"},
		{"update version ..", "UpdateSecret", update(mxP{"VersionId": ".."}), "InvalidParameterValue"},
		{"update version unknown", "UpdateSecret", update(mxP{"VersionId": "v9"}), "ResourceNotFound"},
		{"get version missing", "GetSecretValue", mxP{"SecretName": base}, "MissingParameter"},
		{"delete version ..", "DeleteSecretVersion", mxP{"SecretName": base, "VersionId": ".."}, "InvalidParameterValue"},
		{"delete version missing", "DeleteSecretVersion", mxP{"SecretName": base}, "MissingParameter"},

		// Values.
		{"create string 64 KiB + 1", "CreateSecret", create(mxP{"SecretString": tooLong}), "InvalidParameterValue"},
		{"create binary 64 KiB + 1", "CreateSecret", del(create(mxP{"SecretBinary": tooLongBin}), "SecretString"), "InvalidParameterValue"},
		{"create both values", "CreateSecret", create(mxP{"SecretBinary": "YWJj"}), "InvalidParameterValue"},
		{"create no value", "CreateSecret", del(create(nil), "SecretString"), "MissingParameter"},
		{"create empty string", "CreateSecret", create(mxP{"SecretString": ""}), "InvalidParameterValue"},
		{"create bad base64", "CreateSecret", del(create(mxP{"SecretBinary": "not base64!"}), "SecretString"), "InvalidParameterValue"},
		{"create bad base64 padding", "CreateSecret", del(create(mxP{"SecretBinary": "YWJ"}), "SecretString"), "InvalidParameterValue"},
		{"put string 64 KiB + 1", "PutSecretValue", put(mxP{"SecretString": tooLong}), "InvalidParameterValue"},
		{"put binary 64 KiB + 1", "PutSecretValue", del(put(mxP{"SecretBinary": tooLongBin}), "SecretString"), "InvalidParameterValue"},
		{"put both values", "PutSecretValue", put(mxP{"SecretBinary": "YWJj"}), "InvalidParameterValue"},
		{"put no value", "PutSecretValue", del(put(nil), "SecretString"), "MissingParameter"},
		{"put bad base64", "PutSecretValue", del(put(mxP{"SecretBinary": "%%%"}), "SecretString"), "InvalidParameterValue"},
		{"update string 64 KiB + 1", "UpdateSecret", update(mxP{"SecretString": tooLong}), "InvalidParameterValue"},
		{"update both values", "UpdateSecret", update(mxP{"SecretBinary": "YWJj"}), "InvalidParameterValue"},
		{"update no value", "UpdateSecret", del(update(nil), "SecretString"), "MissingParameter"},
		{"update bad base64", "UpdateSecret", del(update(mxP{"SecretBinary": "%%%"}), "SecretString"), "InvalidParameterValue"},

		// JSON types.
		{"name is a number", "CreateSecret", create(mxP{"SecretName": 123}), "InvalidParameter"},
		{"string is a number", "CreateSecret", create(mxP{"SecretString": 123}), "InvalidParameter"},
		{"tags is an object", "CreateSecret", create(mxP{"Tags": mxP{"env": "dev"}}), "InvalidParameter"},
		{"version is a number", "PutSecretValue", put(mxP{"VersionId": 2}), "InvalidParameter"},
		{"window is a string", "DeleteSecret", mxP{"SecretName": base, "RecoveryWindowInDays": "7"}, "InvalidParameter"},
		{"window is a fraction", "DeleteSecret", mxP{"SecretName": base, "RecoveryWindowInDays": 1.5}, "InvalidParameter"},
		{"description is a number", "UpdateDescription", mxP{"SecretName": base, "Description": 1}, "InvalidParameter"},
		{"name is an array", "DescribeSecret", mxP{"SecretName": []string{base}}, "InvalidParameter"},

		// Other values.
		{"unknown parameter", "CreateSecret", create(mxP{"Foo": "bar"}), "UnknownParameter"},
		{"unknown parameter on get", "GetSecretValue", mxP{"SecretName": base, "VersionId": "v1", "Stage": "x"}, "UnknownParameter"},
		{"window 31", "DeleteSecret", mxP{"SecretName": base, "RecoveryWindowInDays": 31}, "InvalidParameterValue"},
		{"window -1", "DeleteSecret", mxP{"SecretName": base, "RecoveryWindowInDays": -1}, "InvalidParameterValue"},
		{"delete mode 2", "DeleteSecret", mxP{"SecretName": base, "DeleteMode": 2}, "InvalidParameterValue"},
		{"duplicate tag keys", "CreateSecret", create(mxP{"Tags": dupTags}), "InvalidParameterValue.TagKeysDuplicated"},
		{"tag without value", "CreateSecret", create(mxP{"Tags": []mxP{{"TagKey": "env"}}}), "MissingParameter"},
		{"description 2049 bytes", "CreateSecret", create(mxP{"Description": description}), "InvalidParameterValue"},
		{"update description 2049 bytes", "UpdateDescription", mxP{"SecretName": base, "Description": description}, "InvalidParameterValue"},
		{"update description missing", "UpdateDescription", mxP{"SecretName": base}, "MissingParameter"},
		{"secret type 1", "CreateSecret", create(mxP{"SecretType": 1}), "InvalidParameterValue"},
		{"encryption public key", "GetSecretValue", mxP{"SecretName": base, "VersionId": "v1", "EncryptionPublicKey": "k"}, "UnsupportedOperation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMX(t, s, testRegion)
			before := m.snapshot(base)
			m.fails(tc.code, tc.action, tc.params)
			m.unchanged(base, before)
		})
	}
}

// TestSSMValueLimit checks the value bound is exactly 64 KiB, for strings
// and for binary values, on every action that writes one.
func TestSSMValueLimit(t *testing.T) {
	s := startServer(t, "")
	m := newMX(t, s, testRegion)
	str := strings.Repeat("x", 64<<10)
	bin := base64.StdEncoding.EncodeToString(make([]byte, 64<<10))
	m.must("CreateSecret", mxP{"SecretName": "limit-str", "VersionId": "v1", "SecretString": str})
	m.must("CreateSecret", mxP{"SecretName": "limit-bin", "VersionId": "v1", "SecretBinary": bin})
	m.must("PutSecretValue", mxP{"SecretName": "limit-str", "VersionId": "v2", "SecretString": str})
	m.must("UpdateSecret", mxP{"SecretName": "limit-bin", "VersionId": "v1", "SecretBinary": bin})
	for _, name := range []string{"limit-str", "limit-bin"} {
		before := m.snapshot(name)
		m.fails("InvalidParameterValue", "UpdateSecret", mxP{"SecretName": name, "VersionId": "v1", "SecretString": str + "x"})
		m.unchanged(name, before)
	}
	if got := len(mxStr(t, m.value("limit-str", "SSM_Current"), "SecretString")); got != len(str) {
		t.Errorf("got a value of %d bytes, want %d", got, len(str))
	}
}
