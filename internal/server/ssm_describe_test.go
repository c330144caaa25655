package server_test

import (
	"testing"
	"time"
)

// TestSSMDescribeSecret checks every field of spec §3.9 with its JSON type,
// in every status: clients dereference them without nil checks.
func TestSSMDescribeSecret(t *testing.T) {
	s := startServer(t, "")
	fields := map[string]string{
		"SecretName": "string", "Description": "string", "KmsKeyId": "string", "CreateUin": "number",
		"Status": "string", "DeleteTime": "number", "CreateTime": "number", "SecretType": "number",
		"ProductName": "string", "ResourceID": "string", "RotationStatus": "bool",
		"RotationFrequency": "number", "ResourceName": "string", "ProjectID": "number",
		"AssociatedInstanceIDs": "array", "TargetUin": "number", "AdditionalConfig": "string",
		"EncryptType": "number", "EncryptSwitching": "bool", "CreateUinString": "string",
		"TargetUinString": "string", "AccountInfoList": "array", "NextRotationTime": "string",
		"RequestId": "string",
	}
	for _, status := range mxStatuses {
		t.Run(status, func(t *testing.T) {
			m := newMX(t, s, testRegion)
			name := "describe-" + status
			before := time.Now().Unix()
			m.create(name, "v-1", mxP{"VersionId": "v1", "Description": "about " + status})
			after := time.Now().Unix()
			if status != "Enabled" {
				m.must("DisableSecret", mxP{"SecretName": name})
			}
			if status == "PendingDelete" {
				m.must("DeleteSecret", mxP{"SecretName": name, "RecoveryWindowInDays": 1})
			}
			out := m.must("DescribeSecret", mxP{"SecretName": name})
			mxFields(t, "DescribeSecret", out, fields)
			for k, want := range map[string]any{
				"SecretName": name, "Description": "about " + status, "Status": status,
				"CreateUin": 100000000001.0, "CreateUinString": testAccount,
				"SecretType": 0.0, "ProductName": "default", "RotationStatus": false,
			} {
				if got := out[k]; got != want {
					t.Errorf("got %s %v, want %v", k, got, want)
				}
			}
			if ct := int64(mxNum(t, out, "CreateTime")); ct < before || ct > after {
				t.Errorf("got CreateTime %d, want the creation time, in [%d, %d]", ct, before, after)
			}
			if dt := mxNum(t, out, "DeleteTime"); (dt != 0) != (status == "PendingDelete") {
				t.Errorf("got DeleteTime %v, want it set only while PendingDelete", dt)
			}
			if mxStr(t, out, "ResourceID") == "" {
				t.Errorf("got an empty ResourceID, want the secret's opaque id")
			}
		})
	}
}
