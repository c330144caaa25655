package server_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/server"
)

// TestSSMListSecrets covers ListSecrets' paging, order, filters and fields.
// Its server's clock is moved forward between creations where CreateTime
// order matters, instead of sleeping.
func TestSSMListSecrets(t *testing.T) {
	clock := &mxClock{}
	s := mxStartServer(t, func(c *server.Config) { c.Clock = clock.now })

	t.Run("Paging", func(t *testing.T) {
		m := newMX(t, s, testRegion)
		var all []string
		for i := range 25 {
			name := fmt.Sprintf("page-%02d", i)
			m.create(name, "v", nil)
			all = append(all, name)
		}
		for _, order := range []int{0, 1} {
			full, total, metas := m.list(mxP{"SearchSecretName": "page-", "OrderType": order, "Limit": 1000})
			if total != len(all) || !mxSameSet(full, all) {
				t.Fatalf("OrderType %d: got %d %v, want the %d secrets %v", order, total, full, len(all), all)
			}
			mxWantSorted(t, metas, order == 1)
			for _, limit := range []int{1, 7, 10, 25, 30} {
				var paged []string
				for off := 0; off < total+limit; off += limit {
					page, n, _ := m.list(mxP{"SearchSecretName": "page-", "OrderType": order, "Offset": off, "Limit": limit})
					if n != total {
						t.Errorf("OrderType %d Offset %d Limit %d: got TotalCount %d, want %d", order, off, limit, n, total)
					}
					if want := min(limit, max(total-off, 0)); len(page) != want {
						t.Errorf("OrderType %d Offset %d Limit %d: got %d secrets, want %d", order, off, limit, len(page), want)
					}
					paged = append(paged, page...)
				}
				if !slices.Equal(paged, full) {
					t.Errorf("OrderType %d Limit %d: pages give %v, want %v (no repeats, no gaps)", order, limit, paged, full)
				}
			}
		}
		asc, _, _ := m.list(mxP{"SearchSecretName": "page-", "OrderType": 1, "Limit": 1000})
		desc, _, _ := m.list(mxP{"SearchSecretName": "page-", "Limit": 1000})
		slices.Reverse(asc)
		if !slices.Equal(asc, desc) {
			t.Errorf("OrderType 1 is not OrderType 0 reversed:\n got %v\nwant %v", asc, desc)
		}
		for _, p := range []mxP{{}, {"Limit": 0}} {
			page, n, _ := m.list(mxMerge(p, mxP{"SearchSecretName": "page-"}))
			if len(page) != 20 || n != 25 {
				t.Errorf("ListSecrets(%v): got %d secrets of %d, want 20 (the default Limit) of 25", p, len(page), n)
			}
		}
	})

	t.Run("OrderType", func(t *testing.T) {
		m := newMX(t, s, testRegion)
		// Created c, b, a: CreateTime order is the reverse of name order.
		for _, name := range []string{"ord-c", "ord-b", "ord-a"} {
			clock.advance(2 * time.Second)
			m.create(name, "v", nil)
		}
		for _, tc := range []struct {
			params mxP
			want   []string
		}{
			{mxP{}, []string{"ord-a", "ord-b", "ord-c"}},
			{mxP{"OrderType": 0}, []string{"ord-a", "ord-b", "ord-c"}},
			{mxP{"OrderType": 1}, []string{"ord-c", "ord-b", "ord-a"}},
		} {
			got, _, metas := m.list(mxMerge(tc.params, mxP{"SearchSecretName": "ord-"}))
			if !slices.Equal(got, tc.want) {
				t.Errorf("ListSecrets(%v): got %v, want %v (by CreateTime)", tc.params, got, tc.want)
			}
			mxWantSorted(t, metas, tc.params["OrderType"] == 1)
		}
	})

	t.Run("State", func(t *testing.T) {
		m := newMX(t, s, testRegion)
		m.inStatus("state-en", "Enabled")
		m.inStatus("state-dis", "Disabled")
		m.inStatus("state-pd", "PendingDelete")
		for _, tc := range []struct {
			state int
			want  []string
		}{
			{0, []string{"state-dis", "state-en", "state-pd"}},
			{1, []string{"state-en"}},
			{2, []string{"state-dis"}},
			{3, []string{"state-pd"}},
			{4, nil},
			{5, nil},
		} {
			got, total, _ := m.list(mxP{"SearchSecretName": "state-", "State": tc.state})
			if !mxSameSet(got, tc.want) || total != len(tc.want) {
				t.Errorf("State %d: got %d %v, want %v", tc.state, total, got, tc.want)
			}
		}
	})

	t.Run("SearchSecretName", func(t *testing.T) {
		m := newMX(t, s, testRegion)
		// The exact match is created between the others, so neither
		// CreateTime order alone puts it first.
		for _, name := range []string{"srch-key-a", "srch-key", "a-srch-key", "srch-ke", "unrelated"} {
			clock.advance(2 * time.Second)
			m.create(name, "v", nil)
		}
		want := []string{"srch-key", "srch-key-a", "a-srch-key"}
		for _, order := range []int{0, 1} {
			got, total, _ := m.list(mxP{"SearchSecretName": "srch-key", "OrderType": order})
			if total != len(want) || !mxSameSet(got, want) {
				t.Fatalf("OrderType %d: got %d %v, want the secrets containing srch-key %v", order, total, got, want)
			}
			if got[0] != "srch-key" {
				t.Errorf("OrderType %d: got %v, want the exact name srch-key first", order, got)
			}
			var paged []string
			for off := range total {
				page, _, _ := m.list(mxP{"SearchSecretName": "srch-key", "OrderType": order, "Offset": off, "Limit": 1})
				paged = append(paged, page...)
			}
			if !slices.Equal(paged, got) {
				t.Errorf("OrderType %d: pages of 1 give %v, want %v", order, paged, got)
			}
		}
		// The search is literal: SQL wildcards match only themselves.
		m.create("srch_x", "v", nil)
		m.create("srchax", "v", nil)
		for _, search := range []string{"srch_", "rch_x", "h_"} {
			if got, total, _ := m.list(mxP{"SearchSecretName": search}); total != 1 || got[0] != "srch_x" {
				t.Errorf("search %q: got %d %v, want [srch_x]", search, total, got)
			}
		}
		if got, total, _ := m.list(mxP{"SearchSecretName": "%"}); total != 0 {
			t.Errorf("search %%: got %d %v, want none", total, got)
		}
		if got, total, _ := m.list(mxP{"SearchSecretName": "no-such-name"}); total != 0 || len(got) != 0 {
			t.Errorf("search with no match: got %d %v, want none", total, got)
		}
	})

	t.Run("TagFilters", func(t *testing.T) {
		m := newMX(t, s, testRegion)
		tag := func(kv ...string) mxP {
			var tags []mxP
			for i := 0; i < len(kv); i += 2 {
				tags = append(tags, mxP{"TagKey": kv[i], "TagValue": kv[i+1]})
			}
			return mxP{"Tags": tags}
		}
		m.create("tag-1", "v", tag("env", "dev", "team", "a"))
		m.create("tag-2", "v", tag("env", "prod", "team", "a"))
		m.create("tag-3", "v", tag("env", "dev", "team", "b"))
		m.create("tag-4", "v", tag("env", "test"))
		m.create("tag-5", "v", nil)
		for _, tc := range []struct {
			name    string
			filters []mxP
			want    []string
		}{
			{"one value", []mxP{{"TagKey": "env", "TagValue": []string{"dev"}}}, []string{"tag-1", "tag-3"}},
			{"values ORed", []mxP{{"TagKey": "env", "TagValue": []string{"dev", "prod"}}}, []string{"tag-1", "tag-2", "tag-3"}},
			{"filters ANDed", []mxP{{"TagKey": "env", "TagValue": []string{"dev"}}, {"TagKey": "team", "TagValue": []string{"a"}}}, []string{"tag-1"}},
			{"OR within AND", []mxP{{"TagKey": "env", "TagValue": []string{"dev", "prod"}}, {"TagKey": "team", "TagValue": []string{"a"}}}, []string{"tag-1", "tag-2"}},
			{"key only", []mxP{{"TagKey": "team"}}, []string{"tag-1", "tag-2", "tag-3"}},
			{"no match", []mxP{{"TagKey": "env", "TagValue": []string{"staging"}}}, nil},
			{"unknown key", []mxP{{"TagKey": "owner", "TagValue": []string{"a"}}}, nil},
			{"AND with no overlap", []mxP{{"TagKey": "env", "TagValue": []string{"test"}}, {"TagKey": "team", "TagValue": []string{"a"}}}, nil},
		} {
			got, total, _ := m.list(mxP{"SearchSecretName": "tag-", "TagFilters": tc.filters})
			if !mxSameSet(got, tc.want) || total != len(tc.want) {
				t.Errorf("%s: got %d %v, want %v", tc.name, total, got, tc.want)
			}
		}
	})

	t.Run("SecretType", func(t *testing.T) {
		m := newMX(t, s, testRegion)
		m.create("type-user", "v", nil)
		m.create("type-redis", "v", mxP{"SecretType": 4, "AdditionalConfig": `{"Region":"ap-guangzhou","Privilege":"r","InstanceId":"crs-1"}`})
		if got := m.describe("type-redis")["SecretType"]; got != 4.0 {
			t.Fatalf("CreateSecret(SecretType 4): got SecretType %v, want 4", got)
		}
		for _, tc := range []struct {
			params mxP
			want   []string
		}{
			{mxP{}, []string{"type-user"}}, // default 0: user-defined only
			{mxP{"SecretType": 0}, []string{"type-user"}},
			{mxP{"SecretType": 4}, []string{"type-redis"}},
			{mxP{"SecretType": 1}, nil},
			{mxP{"SecretType": 2}, nil},
		} {
			got, total, _ := m.list(mxMerge(tc.params, mxP{"SearchSecretName": "type-"}))
			if !mxSameSet(got, tc.want) || total != len(tc.want) {
				t.Errorf("ListSecrets(%v): got %d %v, want %v", tc.params, total, got, tc.want)
			}
		}
	})

	t.Run("Fields", func(t *testing.T) {
		m := newMX(t, s, testRegion)
		m.create("fields-list", "v", mxP{"Description": "listed"})
		_, _, metas := m.list(mxP{"SearchSecretName": "fields-list"})
		if len(metas) != 1 {
			t.Fatalf("got %d secrets, want 1", len(metas))
		}
		meta := metas[0]
		mxFields(t, "SecretMetadata", meta, map[string]string{
			"SecretName": "string", "Description": "string", "KmsKeyId": "string", "CreateUin": "number",
			"Status": "string", "DeleteTime": "number", "CreateTime": "number", "KmsKeyType": "string",
			"RotationStatus": "number", "NextRotationTime": "number", "SecretType": "number",
			"ProductName": "string", "ResourceName": "string", "ProjectID": "number",
			"AssociatedInstanceIDs": "array", "TargetUin": "number", "RotationFrequency": "number",
			"ResourceID": "string", "RotationBeginTime": "string", "EncryptType": "number",
			"EncryptSwitching": "bool", "CreateUinString": "string", "TargetUinString": "string",
		})
		for k, want := range map[string]any{
			"SecretName": "fields-list", "Description": "listed", "Status": "Enabled", "DeleteTime": 0.0,
			"CreateUin": 100000000001.0, "CreateUinString": testAccount, "SecretType": 0.0,
			"ProductName": "default", "RotationStatus": 0.0,
		} {
			if got := meta[k]; got != want {
				t.Errorf("got %s %v, want %v", k, got, want)
			}
		}
		d := m.describe("fields-list")
		for _, k := range []string{"CreateTime", "KmsKeyId", "ResourceID", "CreateUinString"} {
			if meta[k] != d[k] {
				t.Errorf("ListSecrets %s %v differs from DescribeSecret's %v", k, meta[k], d[k])
			}
		}
	})

	t.Run("BadParameters", func(t *testing.T) {
		m := newMX(t, s, testRegion)
		if _, _, metas := m.list(mxP{"Limit": 1000}); metas == nil {
			t.Errorf("Limit 1000: got no list, want it accepted")
		}
		for _, tc := range []struct {
			params mxP
			code   string
		}{
			{mxP{"Limit": 1001}, "InvalidParameterValue"},
			{mxP{"Limit": 100000}, "InvalidParameterValue"},
			{mxP{"Limit": -1}, "InvalidParameterValue"},
			{mxP{"Offset": -1}, "InvalidParameterValue"},
			{mxP{"OrderType": 2}, "InvalidParameterValue"},
			{mxP{"State": 6}, "InvalidParameterValue"},
			{mxP{"Limit": "10"}, "InvalidParameter"},
			{mxP{"TagFilters": mxP{"TagKey": "env"}}, "InvalidParameter"},
			{mxP{"TagFilters": []mxP{{"TagValue": []string{"dev"}}}}, "MissingParameter"},
			{mxP{"Unknown": 1}, "UnknownParameter"},
		} {
			t.Run(fmt.Sprint(tc.params), func(t *testing.T) {
				newMX(t, s, testRegion).fails(tc.code, "ListSecrets", tc.params)
			})
		}
	})
}

// mxWantSorted checks that metas are in CreateTime order (descending
// unless asc), ties broken by name in the same direction.
func mxWantSorted(t *testing.T, metas []map[string]any, asc bool) {
	t.Helper()
	for i := 1; i < len(metas); i++ {
		a, b := metas[i-1], metas[i]
		ta, tb := mxNum(t, a, "CreateTime"), mxNum(t, b, "CreateTime")
		na, nb := mxStr(t, a, "SecretName"), mxStr(t, b, "SecretName")
		if !asc {
			ta, tb, na, nb = tb, ta, nb, na
		}
		if ta > tb || ta == tb && na > nb {
			t.Errorf("asc=%v: %s (CreateTime %v) listed before %s (CreateTime %v)", asc, a["SecretName"], a["CreateTime"], b["SecretName"], b["CreateTime"])
		}
	}
}

// mxSameSet reports whether got and want hold the same names, once each.
func mxSameSet(got, want []string) bool {
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(g, w)
}

// mxMerge returns the union of a and b (b wins).
func mxMerge(a, b mxP) mxP {
	out := mxP{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
