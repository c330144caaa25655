package server_test

import (
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// TestAWSVersionsIdempotentCreate checks CreateSecret retried with its
// ClientRequestToken, and the ways a taken name refuses (spec §3.2).
func TestAWSVersionsIdempotentCreate(t *testing.T) {
	x := newAWSX(t, startServer(t, ""))
	token := awsxToken()
	first := x.create("idem", "a", token)
	create := func(tok string, str *string, bin []byte) (*secretsmanager.CreateSecretOutput, error) {
		return x.c.CreateSecret(x.ctx(), &secretsmanager.CreateSecretInput{
			Name: aws.String("idem"), ClientRequestToken: aws.String(tok), SecretString: str, SecretBinary: bin,
		})
	}

	t.Run("same token and value", func(t *testing.T) {
		again, err := create(token, aws.String("a"), nil)
		x.on(t).ok("CreateSecret", err)
		if aws.ToString(again.ARN) != aws.ToString(first.ARN) || aws.ToString(again.Name) != "idem" || aws.ToString(again.VersionId) != token {
			t.Errorf("got %s %s %s, want %s idem %s", aws.ToString(again.ARN), aws.ToString(again.Name), aws.ToString(again.VersionId), aws.ToString(first.ARN), token)
		}
	})
	refused := []struct {
		what  string
		token string
		str   *string
		bin   []byte
		msg   string
	}{
		{"same token, other value", token, aws.String("b"), nil, "ClientRequestToken " + token},
		{"same token, binary of the same bytes", token, nil, []byte("a"), "ClientRequestToken " + token},
		{"other token, same value", awsxToken(), aws.String("a"), nil, "already exists"},
		{"other token, no value", awsxToken(), nil, nil, "already exists"},
	}
	for _, tc := range refused {
		t.Run(tc.what, func(t *testing.T) {
			_, err := create(tc.token, tc.str, tc.bin)
			awsxWantError(t, err, "ResourceExistsException", tc.msg)
		})
	}
	if got := x.versionIDs("idem", true); !slices.Equal(got, []string{token}) {
		t.Errorf("versions: got %v, want [%s]", got, token)
	}
	x.wantString("idem", "a")

	t.Run("name scheduled for deletion", func(t *testing.T) {
		x := x.on(t)
		_, err := x.c.DeleteSecret(x.ctx(), &secretsmanager.DeleteSecretInput{SecretId: aws.String("idem")})
		x.ok("DeleteSecret", err)
		_, err = create(token, aws.String("a"), nil)
		awsxWantError(t, err, "InvalidRequestException", "scheduled for deletion")
		_, err = create(awsxToken(), aws.String("new"), nil)
		awsxWantError(t, err, "InvalidRequestException", "scheduled for deletion")
	})
}

// TestAWSVersionsIdempotentPut checks PutSecretValue and UpdateSecret
// retried with a token that names an existing version (spec §3.2).
func TestAWSVersionsIdempotentPut(t *testing.T) {
	x := newAWSX(t, startServer(t, ""))
	v0 := aws.ToString(x.create("idem", "zero", "").VersionId)
	t1 := awsxToken()
	x.put("idem", "x", t1)
	putBin := func(tok string, b []byte) error {
		_, err := x.c.PutSecretValue(x.ctx(), &secretsmanager.PutSecretValueInput{SecretId: aws.String("idem"), ClientRequestToken: aws.String(tok), SecretBinary: b})
		return err
	}

	t.Run("same token and value is a no-op", func(t *testing.T) {
		x := x.on(t)
		out := x.put("idem", "x", t1)
		if aws.ToString(out.VersionId) != t1 || !slices.Equal(out.VersionStages, []string{"AWSCURRENT"}) {
			t.Errorf("got %s %v, want %s [AWSCURRENT]", aws.ToString(out.VersionId), out.VersionStages, t1)
		}
		if got := x.versions("idem", true); len(got) != 2 {
			t.Errorf("got %d versions after a retry, want 2", len(got))
		}
		x.wantStages("idem", map[string][]string{v0: {"AWSPREVIOUS"}, t1: {"AWSCURRENT"}})
	})
	t.Run("same token, other value", func(t *testing.T) {
		_, err := x.c.PutSecretValue(x.ctx(), &secretsmanager.PutSecretValueInput{SecretId: aws.String("idem"), ClientRequestToken: aws.String(t1), SecretString: aws.String("y")})
		awsxWantError(t, err, "ResourceExistsException", "ClientRequestToken "+t1)
	})
	t.Run("same token, binary x for string x", func(t *testing.T) {
		awsxWantError(t, putBin(t1, []byte("x")), "ResourceExistsException", t1)
	})
	t.Run("same token, string x for binary x", func(t *testing.T) {
		x := x.on(t)
		tb := awsxToken()
		if err := putBin(tb, []byte("x")); err != nil {
			t.Fatalf("PutSecretValue binary: %v", err)
		}
		if err := putBin(tb, []byte("x")); err != nil {
			t.Errorf("binary retry: got %v, want success", err)
		}
		_, err := x.c.PutSecretValue(x.ctx(), &secretsmanager.PutSecretValueInput{SecretId: aws.String("idem"), ClientRequestToken: aws.String(tb), SecretString: aws.String("x")})
		awsxWantError(t, err, "ResourceExistsException", tb)
		x.wantStages("idem", map[string][]string{t1: {"AWSPREVIOUS"}, tb: {"AWSCURRENT"}})
	})
	t.Run("retry of a version no longer current", func(t *testing.T) {
		x := x.on(t)
		before := x.stages("idem")
		n := len(x.versions("idem", true))
		out := x.put("idem", "x", t1)
		if aws.ToString(out.VersionId) != t1 || !slices.Equal(out.VersionStages, []string{"AWSPREVIOUS"}) {
			t.Errorf("got %s %v, want %s [AWSPREVIOUS] (its labels now)", aws.ToString(out.VersionId), out.VersionStages, t1)
		}
		x.wantStages("idem", before)
		if got := len(x.versions("idem", true)); got != n {
			t.Errorf("got %d versions, want %d", got, n)
		}
	})
	t.Run("UpdateSecret retry", func(t *testing.T) {
		x := x.on(t)
		t2 := awsxToken()
		upd := func(v string) (*secretsmanager.UpdateSecretOutput, error) {
			return x.c.UpdateSecret(x.ctx(), &secretsmanager.UpdateSecretInput{SecretId: aws.String("idem"), ClientRequestToken: aws.String(t2), SecretString: aws.String(v)})
		}
		_, err := upd("two")
		x.ok("UpdateSecret", err)
		before := x.stages("idem")
		out, err := upd("two")
		x.ok("UpdateSecret retry", err)
		if got := aws.ToString(out.VersionId); got != t2 {
			t.Errorf("got VersionId %q, want %q", got, t2)
		}
		x.wantStages("idem", before)
		_, err = upd("other")
		awsxWantError(t, err, "ResourceExistsException", t2)
	})
}

// TestAWSVersionsPutStages checks how PutSecretValue moves labels
// (spec §3.3 rules 2 and 3).
func TestAWSVersionsPutStages(t *testing.T) {
	x := newAWSX(t, startServer(t, ""))
	v := map[int]string{}
	v[1] = aws.ToString(x.create("st", "1", "").VersionId)
	steps := []struct {
		what   string
		stages []string
		resp   []string // VersionStages of the response
		want   map[int][]string
	}{
		{"put without stages", nil, []string{"AWSCURRENT"}, map[int][]string{1: {"AWSPREVIOUS"}, 2: {"AWSCURRENT"}}},
		{"put again drops the old previous", nil, []string{"AWSCURRENT"}, map[int][]string{2: {"AWSPREVIOUS"}, 3: {"AWSCURRENT"}}},
		{"AWSPENDING leaves current alone", []string{"AWSPENDING"}, []string{"AWSPENDING"}, map[int][]string{2: {"AWSPREVIOUS"}, 3: {"AWSCURRENT"}, 4: {"AWSPENDING"}}},
		{"AWSPENDING moves", []string{"AWSPENDING"}, []string{"AWSPENDING"}, map[int][]string{2: {"AWSPREVIOUS"}, 3: {"AWSCURRENT"}, 5: {"AWSPENDING"}}},
		{"AWSCURRENT with a custom label", []string{"zeta", "AWSCURRENT"}, []string{"AWSCURRENT", "zeta"}, map[int][]string{3: {"AWSPREVIOUS"}, 5: {"AWSPENDING"}, 6: {"AWSCURRENT", "zeta"}}},
	}
	for i, step := range steps {
		n := i + 2
		ok := t.Run(step.what, func(t *testing.T) {
			x := x.on(t)
			out := x.put("st", strconv.Itoa(n), "", step.stages...)
			v[n] = aws.ToString(out.VersionId)
			if !slices.Equal(out.VersionStages, step.resp) {
				t.Errorf("got VersionStages %v, want %v", out.VersionStages, step.resp)
			}
			want := map[string][]string{}
			for k, s := range step.want {
				want[v[k]] = s
			}
			x.wantStages("st", want)
		})
		if !ok {
			t.FailNow() // later steps build on this one
		}
	}
	x.wantString("st", "6")
	if got, want := x.versionIDs("st", false), awsxSorted(v[3], v[5], v[6]); !slices.Equal(got, want) {
		t.Errorf("ListSecretVersionIds: got %v, want %v", got, want)
	}
	if got := x.versionIDs("st", true); len(got) != 6 {
		t.Errorf("ListSecretVersionIds IncludeDeprecated: got %d versions, want 6", len(got))
	}

	t.Run("first version gets AWSCURRENT", func(t *testing.T) {
		x := x.on(t)
		_, err := x.c.CreateSecret(x.ctx(), &secretsmanager.CreateSecretInput{Name: aws.String("novalue")})
		x.ok("CreateSecret", err)
		out := x.put("novalue", "p", "", "AWSPENDING")
		want := []string{"AWSCURRENT", "AWSPENDING"}
		if !slices.Equal(out.VersionStages, want) {
			t.Errorf("got VersionStages %v, want %v", out.VersionStages, want)
		}
		x.wantString("novalue", "p")
	})
}

func awsxSorted(s ...string) []string {
	slices.Sort(s)
	return s
}

// TestAWSVersionsCustomLabels checks custom labels moving between versions
// and deprecated versions (spec §3.3 rules 4 and 6, AWS's example).
func TestAWSVersionsCustomLabels(t *testing.T) {
	x := newAWSX(t, startServer(t, ""))
	v1 := aws.ToString(x.create("lab", "1", "").VersionId)
	out := x.put("lab", "2", "", "one", "two", "three")
	v2 := aws.ToString(out.VersionId)
	if want := []string{"one", "three", "two"}; !slices.Equal(out.VersionStages, want) {
		t.Errorf("put [one two three]: got VersionStages %v, want %v (sorted)", out.VersionStages, want)
	}
	v3 := aws.ToString(x.put("lab", "3", "", "one", "two", "four").VersionId)
	x.wantStages("lab", map[string][]string{v1: {"AWSCURRENT"}, v2: {"three"}, v3: {"four", "one", "two"}})

	v4 := aws.ToString(x.put("lab", "4", "", "one", "two", "three", "four").VersionId)
	x.wantStages("lab", map[string][]string{v1: {"AWSCURRENT"}, v4: {"four", "one", "three", "two"}})
	x.wantString("lab", "1")

	listed := x.versions("lab", false)
	if got, want := x.versionIDs("lab", false), awsxSorted(v1, v4); !slices.Equal(got, want) {
		t.Errorf("ListSecretVersionIds: got %v, want %v (no deprecated versions)", got, want)
	}
	for _, e := range listed {
		if e.CreatedDate == nil || !slices.Equal(e.KmsKeyIds, []string{"DefaultEncryptionKey"}) {
			t.Errorf("version %s: got CreatedDate %v KmsKeyIds %v, want a date and [DefaultEncryptionKey]", aws.ToString(e.VersionId), e.CreatedDate, e.KmsKeyIds)
		}
	}
	if got, want := x.versionIDs("lab", true), awsxSorted(v1, v2, v3, v4); !slices.Equal(got, want) {
		t.Errorf("ListSecretVersionIds IncludeDeprecated: got %v, want %v", got, want)
	}

	// On the wire, a deprecated version has no VersionStages member at all.
	raw := x.raw("ListSecretVersionIds", map[string]any{"SecretId": "lab", "IncludeDeprecated": true})
	entries, _ := raw.Body["Versions"].([]any)
	for _, e := range entries {
		entry, _ := e.(map[string]any)
		id := entry["VersionId"]
		_, has := entry["VersionStages"]
		if deprecated := id == v2 || id == v3; has == deprecated {
			t.Errorf("version %v: VersionStages present = %v, want %v (%v)", id, has, !deprecated, entry["VersionStages"])
		}
	}
	if len(entries) != 4 {
		t.Errorf("raw ListSecretVersionIds: got %d entries, want 4", len(entries))
	}
}

// TestAWSVersionsUpdateStage checks UpdateSecretVersionStage (spec §3.3
// rule 5). Each step starts from the state the one before left.
func TestAWSVersionsUpdateStage(t *testing.T) {
	x := newAWSX(t, startServer(t, ""))
	ids := map[string]string{"unknown": awsxToken()}
	ids["v1"] = aws.ToString(x.create("mv", "1", "").VersionId)
	ids["v2"] = aws.ToString(x.put("mv", "2", "").VersionId)
	ids["v3"] = aws.ToString(x.put("mv", "3", "", "AWSPENDING").VersionId)
	steps := []struct {
		what           string
		stage          string
		moveTo, remove string // version names, "" for absent
		code, msg      string // the error, when refused
		want           map[string][]string
	}{
		{what: "attached elsewhere, no RemoveFromVersionId", stage: "AWSCURRENT", moveTo: "v3",
			code: "InvalidParameterException", msg: "RemoveFromVersionId",
			want: map[string][]string{"v1": {"AWSPREVIOUS"}, "v2": {"AWSCURRENT"}, "v3": {"AWSPENDING"}}},
		{what: "RemoveFromVersionId not the holder", stage: "AWSCURRENT", moveTo: "v3", remove: "v1",
			code: "InvalidParameterException",
			want: map[string][]string{"v1": {"AWSPREVIOUS"}, "v2": {"AWSCURRENT"}, "v3": {"AWSPENDING"}}},
		{what: "MoveToVersionId unknown", stage: "AWSCURRENT", moveTo: "unknown", remove: "v2",
			code: "InvalidParameterException",
			want: map[string][]string{"v1": {"AWSPREVIOUS"}, "v2": {"AWSCURRENT"}, "v3": {"AWSPENDING"}}},
		{what: "RemoveFromVersionId unknown", stage: "blue", remove: "unknown",
			code: "InvalidParameterException",
			want: map[string][]string{"v1": {"AWSPREVIOUS"}, "v2": {"AWSCURRENT"}, "v3": {"AWSPENDING"}}},
		{what: "move AWSCURRENT to the pending version", stage: "AWSCURRENT", moveTo: "v3", remove: "v2",
			want: map[string][]string{"v2": {"AWSPREVIOUS"}, "v3": {"AWSCURRENT", "AWSPENDING"}}},
		{what: "only RemoveFromVersionId detaches", stage: "AWSPENDING", remove: "v3",
			want: map[string][]string{"v2": {"AWSPREVIOUS"}, "v3": {"AWSCURRENT"}}},
		{what: "attach an unattached label to a deprecated version", stage: "blue", moveTo: "v1",
			want: map[string][]string{"v1": {"blue"}, "v2": {"AWSPREVIOUS"}, "v3": {"AWSCURRENT"}}},
		{what: "custom label attached elsewhere, no RemoveFromVersionId", stage: "blue", moveTo: "v2",
			code: "InvalidParameterException", msg: "RemoveFromVersionId",
			want: map[string][]string{"v1": {"blue"}, "v2": {"AWSPREVIOUS"}, "v3": {"AWSCURRENT"}}},
		{what: "move a custom label", stage: "blue", moveTo: "v2", remove: "v1",
			want: map[string][]string{"v2": {"AWSPREVIOUS", "blue"}, "v3": {"AWSCURRENT"}}},
	}
	for _, step := range steps {
		ok := t.Run(step.what, func(t *testing.T) {
			x := x.on(t)
			in := &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("mv"), VersionStage: aws.String(step.stage)}
			if step.moveTo != "" {
				in.MoveToVersionId = aws.String(ids[step.moveTo])
			}
			if step.remove != "" {
				in.RemoveFromVersionId = aws.String(ids[step.remove])
			}
			out, err := x.c.UpdateSecretVersionStage(x.ctx(), in)
			if step.code != "" {
				awsxWantError(t, err, step.code, step.msg)
			} else {
				x.ok("UpdateSecretVersionStage", err)
				if aws.ToString(out.Name) != "mv" || !awsxARN(testRegion, "mv").MatchString(aws.ToString(out.ARN)) {
					t.Errorf("got %s %s, want the ARN and Name of mv", aws.ToString(out.ARN), aws.ToString(out.Name))
				}
			}
			want := map[string][]string{}
			for k, s := range step.want {
				want[ids[k]] = s
			}
			x.wantStages("mv", want)
		})
		if !ok {
			t.FailNow() // later steps build on this one
		}
	}
	x.wantString("mv", "3")
}

// TestAWSVersionsUpdateStageSwap checks that moving AWSCURRENT back and
// forth between two versions swaps AWSCURRENT and AWSPREVIOUS, the target
// keeping its other labels (spec §3.3 rule 5): a rollback.
func TestAWSVersionsUpdateStageSwap(t *testing.T) {
	x := newAWSX(t, startServer(t, ""))
	v1 := aws.ToString(x.create("swap", "1", "").VersionId)
	v2 := aws.ToString(x.put("swap", "2", "", "AWSCURRENT", "blue").VersionId)
	x.wantStages("swap", map[string][]string{v1: {"AWSPREVIOUS"}, v2: {"AWSCURRENT", "blue"}})
	steps := []struct {
		what, to, from string
		value          string
		want           map[string][]string
	}{
		{"back to the previous version", v1, v2, "1", map[string][]string{v1: {"AWSCURRENT"}, v2: {"AWSPREVIOUS", "blue"}}},
		{"forth again", v2, v1, "2", map[string][]string{v1: {"AWSPREVIOUS"}, v2: {"AWSCURRENT", "blue"}}},
		{"and back", v1, v2, "1", map[string][]string{v1: {"AWSCURRENT"}, v2: {"AWSPREVIOUS", "blue"}}},
	}
	for _, step := range steps {
		ok := t.Run(step.what, func(t *testing.T) {
			x := x.on(t)
			_, err := x.c.UpdateSecretVersionStage(x.ctx(), &secretsmanager.UpdateSecretVersionStageInput{
				SecretId: aws.String("swap"), VersionStage: aws.String("AWSCURRENT"),
				MoveToVersionId: aws.String(step.to), RemoveFromVersionId: aws.String(step.from),
			})
			x.ok("UpdateSecretVersionStage", err)
			x.wantStages("swap", step.want)
			x.wantString("swap", step.value)
		})
		if !ok {
			t.FailNow() // later steps build on this one
		}
	}
}

// TestAWSVersionsGetSelection checks how GetSecretValue picks a version
// (spec §3.3 rules 6 and 7).
func TestAWSVersionsGetSelection(t *testing.T) {
	x := newAWSX(t, startServer(t, ""))
	ids := map[string]string{}
	ids["v1"] = aws.ToString(x.create("sel", "1", "").VersionId)
	ids["v2"] = aws.ToString(x.put("sel", "2", "").VersionId)
	ids["v3"] = aws.ToString(x.put("sel", "3", "", "zeta", "AWSPENDING", "alpha").VersionId)
	unknown := awsxToken()
	cases := []struct {
		what         string
		id, stage    string // version name / stage, "" for absent
		value        string
		stages       []string
		code, msg    string
		rawVersionID string // a VersionId given as is
	}{
		{what: "neither", value: "2", stages: []string{"AWSCURRENT"}},
		{what: "by VersionId", id: "v1", value: "1", stages: []string{"AWSPREVIOUS"}},
		{what: "by VersionStage", stage: "AWSPREVIOUS", value: "1", stages: []string{"AWSPREVIOUS"}},
		{what: "by custom stage, labels sorted", stage: "zeta", value: "3", stages: []string{"AWSPENDING", "alpha", "zeta"}},
		{what: "both, consistent", id: "v3", stage: "AWSPENDING", value: "3", stages: []string{"AWSPENDING", "alpha", "zeta"}},
		{what: "both, inconsistent", id: "v1", stage: "AWSCURRENT", code: "InvalidRequestException", msg: "not associated"},
		{what: "unknown stage", stage: "nope", code: "ResourceNotFoundException", msg: "for staging label: nope"},
		{what: "unknown VersionId", rawVersionID: unknown, code: "ResourceNotFoundException", msg: "for VersionId: " + unknown},
	}
	for _, tc := range cases {
		t.Run(tc.what, func(t *testing.T) {
			x := x.on(t)
			in := &secretsmanager.GetSecretValueInput{SecretId: aws.String("sel")}
			if tc.id != "" {
				in.VersionId = aws.String(ids[tc.id])
			}
			if tc.rawVersionID != "" {
				in.VersionId = aws.String(tc.rawVersionID)
			}
			if tc.stage != "" {
				in.VersionStage = aws.String(tc.stage)
			}
			out, err := x.c.GetSecretValue(x.ctx(), in)
			if tc.code != "" {
				awsxWantError(t, err, tc.code, tc.msg)
				return
			}
			x.ok("GetSecretValue", err)
			if got := aws.ToString(out.SecretString); got != tc.value {
				t.Errorf("got value %q, want %q", got, tc.value)
			}
			if !slices.Equal(out.VersionStages, tc.stages) {
				t.Errorf("got VersionStages %v, want %v", out.VersionStages, tc.stages)
			}
		})
	}
}

// TestAWSVersionsRetention checks AWS's version quota (spec §3.3 rule 8):
// at 100 versions a put first deletes deprecated versions older than a
// day, oldest first, keeping every labeled version; without such versions
// it is refused with LimitExceededException.
func TestAWSVersionsRetention(t *testing.T) {
	x, clock := awsxClockServer(t)
	current := aws.ToString(x.create("churn", "v0", "").VersionId)
	keep := aws.ToString(x.put("churn", "keep", "", "keep").VersionId)
	var churned []string // oldest first; all but the last are deprecated
	for i := range 98 {
		churned = append(churned, aws.ToString(x.put("churn", "c"+strconv.Itoa(i), "", "churn").VersionId))
	}
	if got := len(x.versions("churn", true)); got != 100 {
		t.Fatalf("got %d versions, want 100", got)
	}

	_, err := x.c.PutSecretValue(x.ctx(), &secretsmanager.PutSecretValueInput{SecretId: aws.String("churn"), SecretString: aws.String("young")})
	awsxWantError(t, err, "LimitExceededException", "")
	if got := len(x.versions("churn", true)); got != 100 {
		t.Errorf("got %d versions after a refused put, want 100", got)
	}

	clock.advance(25 * time.Hour)
	v101 := aws.ToString(x.put("churn", "v101", "").VersionId)
	v102 := aws.ToString(x.put("churn", "v102", "").VersionId)
	all := x.versionIDs("churn", true)
	if len(all) != 100 {
		t.Errorf("got %d versions, want 100", len(all))
	}
	for _, gone := range churned[:2] {
		if slices.Contains(all, gone) {
			t.Errorf("oldest deprecated version %s kept, want it pruned", gone)
		}
	}
	for _, kept := range []string{current, keep, churned[2], churned[97], v101, v102} {
		if !slices.Contains(all, kept) {
			t.Errorf("version %s pruned, want it kept", kept)
		}
	}
	x.wantStages("churn", map[string][]string{
		keep: {"keep"}, churned[97]: {"churn"}, v101: {"AWSPREVIOUS"}, v102: {"AWSCURRENT"},
	})
	_, err = x.c.GetSecretValue(x.ctx(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("churn"), VersionId: aws.String(churned[0])})
	awsxWantError(t, err, "ResourceNotFoundException", "for VersionId")
}

// The version helpers of the AWS end-to-end tests.

// stages returns DescribeSecret's VersionIdsToStages of id.
func (x *awsx) stages(id string) map[string][]string {
	x.t.Helper()
	return x.describe(id).VersionIdsToStages
}

// wantStages checks VersionIdsToStages of id.
func (x *awsx) wantStages(id string, want map[string][]string) {
	x.t.Helper()
	if got := x.stages(id); !maps.EqualFunc(got, want, slices.Equal) {
		x.t.Errorf("VersionIdsToStages(%s):\n got %v\nwant %v", id, got, want)
	}
}

// versions returns ListSecretVersionIds' entries of id (one page of up to 100).
func (x *awsx) versions(id string, deprecated bool) []types.SecretVersionsListEntry {
	x.t.Helper()
	out, err := x.c.ListSecretVersionIds(x.ctx(), &secretsmanager.ListSecretVersionIdsInput{
		SecretId: aws.String(id), IncludeDeprecated: aws.Bool(deprecated), MaxResults: aws.Int32(100),
	})
	x.ok("ListSecretVersionIds "+id, err)
	if out.NextToken != nil {
		x.t.Fatalf("ListSecretVersionIds(%s): more than one page", id)
	}
	return out.Versions
}

// versionIDs returns the version ids ListSecretVersionIds reports, sorted.
func (x *awsx) versionIDs(id string, deprecated bool) []string {
	x.t.Helper()
	var ids []string
	for _, v := range x.versions(id, deprecated) {
		ids = append(ids, aws.ToString(v.VersionId))
	}
	slices.Sort(ids)
	return ids
}
