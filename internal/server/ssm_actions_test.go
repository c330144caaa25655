package server_test

import (
	"slices"
	"testing"
	"time"
)

// TestSSMActions calls every served SSM action once, the way a client
// does, and checks its response shape and effect.
func TestSSMActions(t *testing.T) {
	s := startServer(t, "")

	t.Run("CreateSecret", func(t *testing.T) {
		m := newMX(t, s, testRegion)
		out := m.must("CreateSecret", mxP{
			"SecretName": "act-create", "SecretString": "v-create", "Description": "first",
			"Tags": []mxP{{"TagKey": "env", "TagValue": "dev"}},
		})
		mxFields(t, "CreateSecret", out, map[string]string{
			"SecretName": "string", "VersionId": "string", "TagCode": "number", "TagMsg": "string", "RequestId": "string",
		})
		if got, want := out["SecretName"], "act-create"; got != want {
			t.Errorf("got SecretName %v, want %v", got, want)
		}
		if got, want := out["VersionId"], "SSM_Current"; got != want {
			t.Errorf("got VersionId %v, want %v (the default first version)", got, want)
		}
		if got, want := out["TagCode"], 0.0; got != want {
			t.Errorf("got TagCode %v, want %v", got, want)
		}
		if got, want := m.status("act-create"), "Enabled"; got != want {
			t.Errorf("got Status %s, want %s", got, want)
		}
		out = m.create("act-create-v1", "v-one", mxP{"VersionId": "v1"})
		if got, want := out["VersionId"], "v1"; got != want {
			t.Errorf("got VersionId %v, want %v", got, want)
		}
	})

	t.Run("GetSecretValue", func(t *testing.T) {
		m := newMX(t, s, testRegion)
		m.create("act-get", "v-get", mxP{"VersionId": "v1"})
		out := m.must("GetSecretValue", mxP{"SecretName": "act-get", "VersionId": "v1"})
		mxFields(t, "GetSecretValue", out, map[string]string{
			"SecretName": "string", "VersionId": "string", "SecretBinary": "string", "SecretString": "string", "RequestId": "string",
		})
		want := mxP{"SecretName": "act-get", "VersionId": "v1", "SecretBinary": "", "SecretString": "v-get"}
		for k, v := range want {
			if out[k] != v {
				t.Errorf("got %s %v, want %v", k, out[k], v)
			}
		}
		m.fails("ResourceNotFound", "GetSecretValue", mxP{"SecretName": "act-get", "VersionId": "v9"})
		m.fails("ResourceNotFound", "GetSecretValue", mxP{"SecretName": "act-get-none", "VersionId": "v1"})
	})

	t.Run("PutSecretValue", func(t *testing.T) {
		m := newMX(t, s, testRegion)
		m.create("act-put", "v-1", mxP{"VersionId": "v1"})
		out := m.must("PutSecretValue", mxP{"SecretName": "act-put", "VersionId": "v2", "SecretString": "v-2"})
		mxFields(t, "PutSecretValue", out, map[string]string{"SecretName": "string", "VersionId": "string", "RequestId": "string"})
		if got, want := out["VersionId"], "v2"; got != want {
			t.Errorf("got VersionId %v, want %v", got, want)
		}
		m.wantString("act-put", "v2", "v-2")
		m.wantString("act-put", "v1", "v-1")
		m.wantString("act-put", "SSM_Current", "v-2")
		m.fails("ResourceNotFound", "PutSecretValue", mxP{"SecretName": "act-put-none", "VersionId": "v1", "SecretString": "x"})
	})

	t.Run("UpdateSecret", func(t *testing.T) {
		m := newMX(t, s, testRegion)
		m.create("act-update", "v-old", mxP{"VersionId": "v1"})
		out := m.must("UpdateSecret", mxP{"SecretName": "act-update", "VersionId": "v1", "SecretString": "v-new"})
		mxFields(t, "UpdateSecret", out, map[string]string{"SecretName": "string", "VersionId": "string", "RequestId": "string"})
		if got, want := out["VersionId"], "v1"; got != want {
			t.Errorf("got VersionId %v, want %v", got, want)
		}
		m.wantString("act-update", "v1", "v-new")
		m.fails("ResourceNotFound", "UpdateSecret", mxP{"SecretName": "act-update", "VersionId": "v2", "SecretString": "x"})
	})

	t.Run("DisableEnableSecret", func(t *testing.T) {
		m := newMX(t, s, testRegion)
		m.create("act-toggle", "v", nil)
		for _, step := range []struct{ action, status string }{
			{"DisableSecret", "Disabled"}, {"DisableSecret", "Disabled"}, // idempotent
			{"EnableSecret", "Enabled"}, {"EnableSecret", "Enabled"},
		} {
			out := m.must(step.action, mxP{"SecretName": "act-toggle"})
			mxFields(t, step.action, out, map[string]string{"SecretName": "string", "RequestId": "string"})
			if got := m.status("act-toggle"); got != step.status {
				t.Errorf("after %s: got Status %s, want %s", step.action, got, step.status)
			}
		}
		m.fails("ResourceNotFound", "DisableSecret", mxP{"SecretName": "act-toggle-none"})
		m.fails("ResourceNotFound", "EnableSecret", mxP{"SecretName": "act-toggle-none"})
	})

	t.Run("DeleteRestoreSecret", func(t *testing.T) {
		m := newMX(t, s, testRegion)
		m.create("act-delete", "v", nil)
		m.must("DisableSecret", mxP{"SecretName": "act-delete"})
		out := m.must("DeleteSecret", mxP{"SecretName": "act-delete", "RecoveryWindowInDays": 3})
		mxFields(t, "DeleteSecret", out, map[string]string{
			"SecretName": "string", "DeleteTime": "number", "FlowID": "number", "RequestId": "string",
		})
		out = m.must("RestoreSecret", mxP{"SecretName": "act-delete"})
		mxFields(t, "RestoreSecret", out, map[string]string{"SecretName": "string", "RequestId": "string"})
		if got, want := m.status("act-delete"), "Disabled"; got != want {
			t.Errorf("after RestoreSecret: got Status %s, want %s", got, want)
		}
		m.fails("ResourceNotFound", "DeleteSecret", mxP{"SecretName": "act-delete-none"})
		m.fails("ResourceNotFound", "RestoreSecret", mxP{"SecretName": "act-delete-none"})
	})

	t.Run("ListSecretVersionIds", func(t *testing.T) {
		m := newMX(t, s, testRegion)
		m.create("act-versions", "v-1", mxP{"VersionId": "v1"})
		m.must("PutSecretValue", mxP{"SecretName": "act-versions", "VersionId": "v2", "SecretString": "v-2"})
		before := time.Now().Unix()
		out := m.must("ListSecretVersionIds", mxP{"SecretName": "act-versions"})
		mxFields(t, "ListSecretVersionIds", out, map[string]string{"SecretName": "string", "Versions": "array", "RequestId": "string"})
		for _, v := range out["Versions"].([]any) {
			info, _ := v.(map[string]any)
			mxFields(t, "VersionInfo", info, map[string]string{"VersionId": "string", "CreateTime": "number"})
			if ct := int64(mxNum(t, info, "CreateTime")); ct <= 0 || ct > before+1 {
				t.Errorf("version %v: got CreateTime %d, want a unix time at most %d", info["VersionId"], ct, before+1)
			}
		}
		if got, want := m.versions("act-versions"), []string{"v1", "v2"}; !slices.Equal(got, want) {
			t.Errorf("got versions %v, want %v", got, want)
		}
		m.fails("ResourceNotFound", "ListSecretVersionIds", mxP{"SecretName": "act-versions-none"})
	})

	t.Run("DeleteSecretVersion", func(t *testing.T) {
		m := newMX(t, s, testRegion)
		m.create("act-delver", "v-1", mxP{"VersionId": "v1"})
		m.must("PutSecretValue", mxP{"SecretName": "act-delver", "VersionId": "v2", "SecretString": "v-2"})
		out := m.must("DeleteSecretVersion", mxP{"SecretName": "act-delver", "VersionId": "v1"})
		mxFields(t, "DeleteSecretVersion", out, map[string]string{"SecretName": "string", "VersionId": "string", "RequestId": "string"})
		if got, want := out["VersionId"], "v1"; got != want {
			t.Errorf("got VersionId %v, want %v", got, want)
		}
		if got, want := m.versions("act-delver"), []string{"v2"}; !slices.Equal(got, want) {
			t.Errorf("got versions %v, want %v", got, want)
		}
		m.fails("ResourceNotFound", "DeleteSecretVersion", mxP{"SecretName": "act-delver", "VersionId": "v1"})
	})

	t.Run("UpdateDescription", func(t *testing.T) {
		m := newMX(t, s, testRegion)
		m.create("act-desc", "v", mxP{"Description": "before"})
		for _, d := range []string{"after", ""} {
			out := m.must("UpdateDescription", mxP{"SecretName": "act-desc", "Description": d})
			mxFields(t, "UpdateDescription", out, map[string]string{"SecretName": "string", "RequestId": "string"})
			if got := m.describe("act-desc")["Description"]; got != d {
				t.Errorf("got Description %q, want %q", got, d)
			}
		}
		m.fails("ResourceNotFound", "UpdateDescription", mxP{"SecretName": "act-desc-none", "Description": "x"})
	})

	t.Run("GetRegions", func(t *testing.T) {
		m := newMX(t, s, testRegion)
		out := m.must("GetRegions", nil)
		mxFields(t, "GetRegions", out, map[string]string{"Regions": "array", "RequestId": "string"})
		var got []string
		for _, r := range out["Regions"].([]any) {
			got = append(got, r.(string))
		}
		if want := []string{testRegion, "ap-shanghai"}; !slices.Equal(got, want) {
			t.Errorf("got Regions %v, want %v", got, want)
		}
	})

	t.Run("GetServiceStatus", func(t *testing.T) {
		m := newMX(t, s, "ap-shanghai")
		out := m.must("GetServiceStatus", nil)
		mxFields(t, "GetServiceStatus", out, map[string]string{
			"ServiceEnabled": "bool", "InvalidType": "number", "AccessKeyEscrowEnabled": "bool",
			"ExpireTime": "string", "QPSLimit": "number", "SecretLimit": "number", "PayModel": "string",
			"RenewFlag": "number", "ResourceId": "string", "TotalCount": "number", "ResourceRegion": "number",
			"RequestId": "string",
		})
		if got, want := out["ServiceEnabled"], true; got != want {
			t.Errorf("got ServiceEnabled %v, want %v", got, want)
		}
		if got, want := out["InvalidType"], 1.0; got != want {
			t.Errorf("got InvalidType %v, want %v (normal)", got, want)
		}
		n := mxNum(t, out, "TotalCount")
		m.create("act-status", "v", nil)
		if got, want := mxNum(t, m.must("GetServiceStatus", nil), "TotalCount"), n+1; got != want {
			t.Errorf("after one CreateSecret: got TotalCount %v, want %v", got, want)
		}
	})

	t.Run("DescribeSupportedProducts", func(t *testing.T) {
		m := newMX(t, s, testRegion)
		out := m.must("DescribeSupportedProducts", nil)
		mxFields(t, "DescribeSupportedProducts", out, map[string]string{"Products": "array", "TotalCount": "number", "RequestId": "string"})
		if got, want := len(out["Products"].([]any)), int(mxNum(t, out, "TotalCount")); got != want {
			t.Errorf("got %d Products, TotalCount %d: want them equal", got, want)
		}
	})
}

// TestSSMUnservedActions checks that the product and SSH-key actions not
// served yet say so, and that a name no API has is InvalidAction.
func TestSSMUnservedActions(t *testing.T) {
	s := startServer(t, "")
	for _, tc := range []struct {
		action string
		params mxP
		code   string
	}{
		// The rotation actions are served (rotation_*_test.go); their
		// options Coffer does not take are UnsupportedOperation.
		{"CreateProductSecret", mxP{"SecretName": "p", "UserNamePrefix": "u", "ProductName": "Mysql", "InstanceID": "cdb-1",
			"Domains": []string{"%"}, "PrivilegesList": []mxP{}, "AccountType": "L3"}, "UnsupportedOperation"},
		{"CreateSSHKeyPairSecret", mxP{"SecretName": "p", "ProjectId": 0, "KmsHsmClusterId": "cls-1"}, "UnsupportedOperation"},
		{"GetSecretValues", mxP{"SecretName": "p"}, "InvalidAction"},
		{"CreateKey", nil, "InvalidAction"}, // a KMS action, not SSM's
	} {
		t.Run(tc.action, func(t *testing.T) {
			newMX(t, s, testRegion).fails(tc.code, tc.action, tc.params)
		})
	}
}
