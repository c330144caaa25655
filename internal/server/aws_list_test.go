package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/coffer-secrets/coffer/internal/server"
)

// The helpers of the AWS end-to-end tests start with awsy so they cannot
// collide with other test files of this package.

// awsy drives one server through aws-sdk-go-v2 on behalf of one test.
type awsy struct {
	t   testing.TB
	s   *testServer
	c   *secretsmanager.Client
	ctx context.Context
}

// awsyClient returns a driver of s acting in region for t.
func awsyClient(t testing.TB, s *testServer, region string) *awsy {
	t.Helper()
	c := secretsmanager.New(secretsmanager.Options{
		Region:       region,
		BaseEndpoint: aws.String(s.URL()),
		Credentials:  credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
	})
	return &awsy{t: t, s: s, c: c, ctx: context.Background()}
}

// create makes a secret holding the string value ("" for none), after edit
// may change the input.
func (a *awsy) create(name, value string, edit func(*secretsmanager.CreateSecretInput)) *secretsmanager.CreateSecretOutput {
	a.t.Helper()
	in := &secretsmanager.CreateSecretInput{Name: aws.String(name)}
	if value != "" {
		in.SecretString = aws.String(value)
	}
	if edit != nil {
		edit(in)
	}
	out, err := a.c.CreateSecret(a.ctx, in)
	if err != nil {
		a.t.Fatalf("CreateSecret(%s): %v", name, err)
	}
	return out
}

func (a *awsy) put(id, value string) *secretsmanager.PutSecretValueOutput {
	a.t.Helper()
	out, err := a.c.PutSecretValue(a.ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(id), SecretString: aws.String(value)})
	if err != nil {
		a.t.Fatalf("PutSecretValue(%s): %v", id, err)
	}
	return out
}

func (a *awsy) get(id string) *secretsmanager.GetSecretValueOutput {
	a.t.Helper()
	out, err := a.c.GetSecretValue(a.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		a.t.Fatalf("GetSecretValue(%s): %v", id, err)
	}
	return out
}

func (a *awsy) describe(id string) *secretsmanager.DescribeSecretOutput {
	a.t.Helper()
	out, err := a.c.DescribeSecret(a.ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
	if err != nil {
		a.t.Fatalf("DescribeSecret(%s): %v", id, err)
	}
	return out
}

// list returns every entry ListSecrets gives for in, following NextToken.
func (a *awsy) list(in secretsmanager.ListSecretsInput) []types.SecretListEntry {
	a.t.Helper()
	var all []types.SecretListEntry
	p := secretsmanager.NewListSecretsPaginator(a.c, &in)
	for p.HasMorePages() {
		page, err := p.NextPage(a.ctx)
		if err != nil {
			a.t.Fatalf("ListSecrets(%s): %v", awsyJSON(in), err)
		}
		all = append(all, page.SecretList...)
	}
	return all
}

// listNames is list, as names.
func (a *awsy) listNames(in secretsmanager.ListSecretsInput) []string {
	a.t.Helper()
	return awsyNames(a.list(in))
}

func awsyNames(es []types.SecretListEntry) []string {
	out := make([]string, 0, len(es))
	for _, e := range es {
		out = append(out, aws.ToString(e.Name))
	}
	return out
}

// awsyCode checks that err is an AWS API error with code and returns its
// message.
func awsyCode(t testing.TB, err error, code string) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got error %v, want %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("got %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	return ae.ErrorMessage()
}

// awsyJSON prints v for a failure message.
func awsyJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}

func awsyFilter(key string, values ...string) types.Filter {
	return types.Filter{Key: types.FilterNameStringType(key), Values: values}
}

// awsySortTime is the time an entry sorts by under SortBy; the zero time
// (sorting first) when absent, and always for name.
func awsySortTime(e types.SecretListEntry, by types.SortByType) time.Time {
	var t *time.Time
	switch by {
	case types.SortByTypeCreatedDate, "":
		t = e.CreatedDate
	case types.SortByTypeLastChangedDate:
		t = e.LastChangedDate
	case types.SortByTypeLastAccessedDate:
		t = e.LastAccessedDate
	}
	return aws.ToTime(t)
}

// awsyWantAscending checks that es is in ascending order of by, ties
// broken by name.
func awsyWantAscending(t testing.TB, what string, es []types.SecretListEntry, by types.SortByType) {
	t.Helper()
	ok := slices.IsSortedFunc(es, func(x, y types.SecretListEntry) int {
		if c := awsySortTime(x, by).Compare(awsySortTime(y, by)); c != 0 {
			return c
		}
		return strings.Compare(aws.ToString(x.Name), aws.ToString(y.Name))
	})
	if !ok {
		t.Errorf("%s: got %v, want ascending by %q then name", what, awsyNames(es), by)
	}
}

// TestAWSListSecretsPaging pages ListSecrets over 250 secrets with the
// SDK's paginator, in every order.
func TestAWSListSecretsPaging(t *testing.T) {
	clock := &mxClock{}
	s := mxStartServer(t, func(c *server.Config) { c.Clock = clock.now })
	a := awsyClient(t, s, testRegion)
	const n = 250
	var created []string // in creation order, which is not name order
	for i := range n {
		clock.advance(time.Millisecond) // distinct CreatedDates without sleeping
		name := fmt.Sprintf("pg/%03d", i*37%n)
		a.create(name, "v", nil)
		created = append(created, name)
	}
	// Give the other orders something to sort: some secrets read, some changed.
	for i := 0; i < n; i += 3 {
		a.get(created[i])
	}
	for i := 0; i < n; i += 5 {
		clock.advance(time.Millisecond)
		if _, err := a.c.UpdateSecret(a.ctx, &secretsmanager.UpdateSecretInput{SecretId: aws.String(created[i]), Description: aws.String("changed")}); err != nil {
			t.Fatalf("UpdateSecret(%s): %v", created[i], err)
		}
	}

	t.Run("DefaultOrder", func(t *testing.T) {
		for _, size := range []*int32{aws.Int32(7), aws.Int32(100), nil} {
			pageSize := int(aws.ToInt32(size))
			if size == nil {
				pageSize = 100 // Coffer's default page
			}
			var got []string
			p := secretsmanager.NewListSecretsPaginator(a.c, &secretsmanager.ListSecretsInput{MaxResults: size})
			for pages := 1; p.HasMorePages(); pages++ {
				page, err := p.NextPage(a.ctx)
				if err != nil {
					t.Fatalf("MaxResults %d page %d: %v", pageSize, pages, err)
				}
				got = append(got, awsyNames(page.SecretList)...)
				last := len(got) == n
				if last != (page.NextToken == nil) {
					t.Errorf("MaxResults %d page %d: got NextToken %v after %d of %d secrets, want nil only on the last page",
						pageSize, pages, aws.ToString(page.NextToken), len(got), n)
				}
				if want := min(pageSize, n-(pages-1)*pageSize); len(page.SecretList) != want {
					t.Errorf("MaxResults %d page %d: got %d secrets, want %d", pageSize, pages, len(page.SecretList), want)
				}
				if pages > n {
					t.Fatalf("MaxResults %d: more pages than secrets", pageSize)
				}
			}
			if i := awsyFirstDiff(got, created); i >= 0 {
				t.Errorf("MaxResults %d: got %d names differing from the creation order at %d, want each of the %d once in creation order",
					pageSize, len(got), i, n)
			}
		}
	})

	t.Run("LastPageHasNoNextTokenKey", func(t *testing.T) {
		var token any
		for pages := 1; ; pages++ {
			body := map[string]any{"MaxResults": 100}
			if token != nil {
				body["NextToken"] = token
			}
			r := awsyRawOK(t, s.URL(), "ListSecrets", body)
			next, has := r["NextToken"]
			if pages < 3 {
				if s, ok := next.(string); !ok || s == "" {
					t.Fatalf("page %d: got NextToken %v, want a non-empty string", pages, next)
				}
				token = next
				continue
			}
			if has {
				t.Errorf("last page: got NextToken %v, want no NextToken member", next)
			}
			if list, _ := r["SecretList"].([]any); len(list) != n-200 {
				t.Errorf("last page: got %d secrets, want %d", len(list), n-200)
			}
			break
		}
	})

	for _, by := range []types.SortByType{types.SortByTypeName, types.SortByTypeCreatedDate, types.SortByTypeLastChangedDate, types.SortByTypeLastAccessedDate} {
		t.Run("SortBy="+string(by), func(t *testing.T) {
			lists := map[types.SortOrderType][]types.SecretListEntry{}
			for _, order := range []types.SortOrderType{types.SortOrderTypeAsc, types.SortOrderTypeDesc} {
				es := a.list(secretsmanager.ListSecretsInput{SortBy: by, SortOrder: order, MaxResults: aws.Int32(7)})
				names := awsyNames(es)
				if got := slices.Sorted(slices.Values(names)); len(names) != n || !slices.Equal(slices.Compact(got), slices.Sorted(slices.Values(created))) {
					t.Fatalf("SortOrder %s: got %d entries, want each of the %d secrets once", order, len(names), n)
				}
				lists[order] = es
			}
			awsyWantAscending(t, "asc", lists[types.SortOrderTypeAsc], by)
			desc := awsyNames(lists[types.SortOrderTypeDesc])
			slices.Reverse(desc)
			if asc := awsyNames(lists[types.SortOrderTypeAsc]); !slices.Equal(desc, asc) {
				t.Errorf("desc is not asc reversed:\n got %v\nwant %v", desc, asc)
			}
		})
	}
}

// awsyFirstDiff returns the first index where got and want differ, or -1.
func awsyFirstDiff(got, want []string) int {
	for i := range max(len(got), len(want)) {
		if i >= len(got) || i >= len(want) || got[i] != want[i] {
			return i
		}
	}
	return -1
}

// TestAWSListSecretsSort checks each order on a few secrets whose times
// the test sets, and that the default is CreatedDate ascending.
func TestAWSListSecretsSort(t *testing.T) {
	clock := &mxClock{}
	s := mxStartServer(t, func(c *server.Config) { c.Clock = clock.now })
	a := awsyClient(t, s, testRegion)
	for _, name := range []string{"srt-c", "srt-a", "srt-b"} {
		clock.advance(time.Second)
		a.create(name, "v", nil)
	}
	for _, name := range []string{"srt-b", "srt-c", "srt-a"} {
		clock.advance(time.Second)
		if _, err := a.c.UpdateSecret(a.ctx, &secretsmanager.UpdateSecretInput{SecretId: aws.String(name), Description: aws.String("d")}); err != nil {
			t.Fatalf("UpdateSecret(%s): %v", name, err)
		}
	}
	// Read on the same day: a tie, broken by name. Reads are not changes, so
	// reading a before c must not move a after c under last-changed-date.
	for _, name := range []string{"srt-a", "srt-c"} {
		a.get(name)
	}
	for _, tc := range []struct {
		by    types.SortByType
		order types.SortOrderType
		want  []string
	}{
		{"", "", []string{"srt-c", "srt-a", "srt-b"}},
		{"", types.SortOrderTypeDesc, []string{"srt-b", "srt-a", "srt-c"}},
		{types.SortByTypeName, "", []string{"srt-a", "srt-b", "srt-c"}},
		{types.SortByTypeName, types.SortOrderTypeAsc, []string{"srt-a", "srt-b", "srt-c"}},
		{types.SortByTypeName, types.SortOrderTypeDesc, []string{"srt-c", "srt-b", "srt-a"}},
		{types.SortByTypeCreatedDate, types.SortOrderTypeAsc, []string{"srt-c", "srt-a", "srt-b"}},
		{types.SortByTypeCreatedDate, types.SortOrderTypeDesc, []string{"srt-b", "srt-a", "srt-c"}},
		{types.SortByTypeLastChangedDate, types.SortOrderTypeAsc, []string{"srt-b", "srt-c", "srt-a"}},
		{types.SortByTypeLastChangedDate, types.SortOrderTypeDesc, []string{"srt-a", "srt-c", "srt-b"}},
		{types.SortByTypeLastAccessedDate, types.SortOrderTypeAsc, []string{"srt-b", "srt-a", "srt-c"}},
		{types.SortByTypeLastAccessedDate, types.SortOrderTypeDesc, []string{"srt-c", "srt-a", "srt-b"}},
	} {
		for _, size := range []*int32{nil, aws.Int32(1)} {
			got := a.listNames(secretsmanager.ListSecretsInput{SortBy: tc.by, SortOrder: tc.order, MaxResults: size})
			if !slices.Equal(got, tc.want) {
				t.Errorf("SortBy %q SortOrder %q MaxResults %d: got %v, want %v", tc.by, tc.order, aws.ToInt32(size), got, tc.want)
			}
		}
	}
	for _, tc := range []struct {
		what string
		body map[string]any
	}{
		{"SortBy size", map[string]any{"SortBy": "size"}},
		{"SortOrder up", map[string]any{"SortOrder": "up"}},
	} {
		if r := awsyRaw(t, nil, s.URL(), "ListSecrets", awsyBody(t, tc.body), awsySigning(), nil); r.code() != "ValidationException" {
			t.Errorf("ListSecrets with %s: got %d %s, want ValidationException", tc.what, r.Status, r.code())
		}
	}
}

// TestAWSListSecretsFilters checks ListSecrets' filters (spec §3.7): prefix
// matches for name and tags, word matches for description and all,
// negation, OR within a filter and AND across filters.
func TestAWSListSecretsFilters(t *testing.T) {
	s := startServer(t, "")
	a := awsyClient(t, s, testRegion)
	tag := func(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }
	for _, sec := range []struct {
		name, desc string
		tags       []types.Tag
	}{
		{"flt/Prod/db", "Main database password", []types.Tag{tag("Env", "prod"), tag("Team", "core")}},
		{"flt/prod/api", "api-gateway-key", []types.Tag{tag("env", "Dev")}},
		{"flt/dev/app", "CamelCaseThing", []types.Tag{tag("Owner", "COMPANYthings")}},
		{"flt/dev/svc", "user_service.token", nil},
		{"other/e", "HTTPServer COMPANYthings", nil},
	} {
		a.create(sec.name, "v", func(in *secretsmanager.CreateSecretInput) {
			in.Description, in.Tags = aws.String(sec.desc), sec.tags
		})
	}
	const (
		A = "flt/Prod/db"
		B = "flt/prod/api"
		C = "flt/dev/app"
		D = "flt/dev/svc"
		E = "other/e"
	)
	f := awsyFilter
	for _, tc := range []struct {
		what    string
		filters []types.Filter
		want    []string
	}{
		{"name is a case-sensitive prefix", []types.Filter{f("name", "flt/prod")}, []string{B}},
		{"name, other case", []types.Filter{f("name", "flt/Prod")}, []string{A}},
		{"name prefix of several", []types.Filter{f("name", "flt/")}, []string{A, B, C, D}},
		{"name is not a substring match", []types.Filter{f("name", "prod")}, nil},
		{"values OR", []types.Filter{f("name", "flt/Prod", "other")}, []string{A, E}},
		{"name negated", []types.Filter{f("name", "!flt/")}, []string{E}},
		{"tag-key prefix", []types.Filter{f("tag-key", "En")}, []string{A}},
		{"tag-key is case-sensitive", []types.Filter{f("tag-key", "env")}, []string{B}},
		{"tag-key OR", []types.Filter{f("tag-key", "Env", "env")}, []string{A, B}},
		{"tag-value", []types.Filter{f("tag-value", "prod")}, []string{A}},
		{"tag-value is case-sensitive", []types.Filter{f("tag-value", "dev")}, nil},
		{"tag-value prefix", []types.Filter{f("tag-value", "COMPANY")}, []string{C}},
		{"description ignores case", []types.Filter{f("description", "MAIN")}, []string{A}},
		{"description word prefix", []types.Filter{f("description", "pass")}, []string{A}},
		{"description not inside a word", []types.Filter{f("description", "word")}, nil},
		{"description every word", []types.Filter{f("description", "main pass")}, []string{A}},
		{"description every word, one missing", []types.Filter{f("description", "main zzz")}, nil},
		{"description single separator splits", []types.Filter{f("description", "gate")}, []string{B}},
		{"description single separator, last word", []types.Filter{f("description", "KEY")}, []string{B}},
		{"description CamelCase splits", []types.Filter{f("description", "case")}, []string{C}},
		{"description CamelCase, last word", []types.Filter{f("description", "thing")}, []string{C}},
		{"description CamelCase, not inside", []types.Filter{f("description", "amel")}, nil},
		{"description two separators stay one word", []types.Filter{f("description", "service")}, nil},
		{"description two separators, first word", []types.Filter{f("description", "user")}, []string{D}},
		{"description acronym", []types.Filter{f("description", "server")}, []string{E}},
		{"description acronym start", []types.Filter{f("description", "http")}, []string{E}},
		{"description upper run", []types.Filter{f("description", "ythings")}, []string{E}},
		{"description upper run, not inside", []types.Filter{f("description", "things")}, nil},
		{"description negated", []types.Filter{f("description", "!main")}, []string{B, C, D, E}},
		{"all: name words and tag values", []types.Filter{f("all", "prod")}, []string{A, B}},
		{"all: tag value", []types.Filter{f("all", "core")}, []string{A}},
		{"all: tag key", []types.Filter{f("all", "owner")}, []string{C}},
		{"all: tag value and description words", []types.Filter{f("all", "ythings")}, []string{C, E}},
		{"all: description", []types.Filter{f("all", "gateway")}, []string{B}},
		{"filters AND", []types.Filter{f("name", "flt/"), f("description", "!main")}, []string{B, C, D}},
		{"same key twice AND", []types.Filter{f("name", "flt/"), f("name", "flt/dev")}, []string{C, D}},
		{"tag-key AND tag-value", []types.Filter{f("tag-key", "Env", "env"), f("tag-value", "Dev")}, []string{B}},
		{"primary-region matches nothing yet", []types.Filter{f("primary-region", "ap")}, nil},
		{"owning-service negated matches all", []types.Filter{f("owning-service", "!x")}, []string{A, B, C, D, E}},
	} {
		// Which secrets match, not their order: secrets created in the
		// same millisecond list by name, not in the order made.
		got := a.listNames(secretsmanager.ListSecretsInput{Filters: tc.filters})
		slices.Sort(got)
		want := slices.Sorted(slices.Values(tc.want))
		if !slices.Equal(got, want) {
			t.Errorf("%s: Filters %s: got %v, want %v", tc.what, awsyJSON(tc.filters), got, want)
		}
	}
	for _, tc := range []struct {
		what    string
		filters []types.Filter
		code    string
	}{
		{"unknown key", []types.Filter{f("colour", "red")}, "ValidationException"},
		{"missing values", []types.Filter{{Key: "name"}}, "InvalidParameterException"},
		{"missing key", []types.Filter{{Values: []string{"x"}}}, "InvalidParameterException"},
		{"value outside the pattern", []types.Filter{f("name", "a*b")}, "InvalidParameterException"},
		{"eleven values", []types.Filter{f("name", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11")}, "InvalidParameterException"},
	} {
		_, err := a.c.ListSecrets(a.ctx, &secretsmanager.ListSecretsInput{Filters: tc.filters})
		t.Run(tc.what, func(t *testing.T) { awsyCode(t, err, tc.code) })
	}
}

// TestAWSListSecretsWordSplitting replays the word-matching examples moto
// verified against AWS (spec §3.7: the filter value is split into words
// like the attribute, each word a case-insensitive prefix of some word;
// one kind of separator splits, two kinds make one word; CamelCase splits
// at lower-case runs).
func TestAWSListSecretsWordSplitting(t *testing.T) {
	s := startServer(t, "")
	a := awsyClient(t, s, testRegion)
	special := []string{"prod/AppBeta/u1", "prod_AppBeta_u1", "prod+AppBeta+u1", "prod=AppBeta=u1", "prod.AppBeta.u1", "prod@AppBeta@u1", "prod-AppBeta-u1"}
	const upper, partial, mixed = "uat/COMPANY/u1", "uat/COMPANYthings/u1", "prod-AppBeta/u1"
	for _, name := range append(slices.Clone(special), upper, partial) {
		a.create(name, "s", nil)
	}
	for _, d := range []struct{ name, desc string }{
		{"d/foo", "one two"}, {"d/bar", "one and two"}, {"d/baz", "one"}, {"d/qux", "two"}, {"d/other", "unrelated"},
	} {
		a.create(d.name, "s", func(in *secretsmanager.CreateSecretInput) { in.Description = aws.String(d.desc) })
	}
	f := awsyFilter
	for _, tc := range []struct {
		what    string
		filters []types.Filter
		want    []string
	}{
		{"a CamelCase value matches its words", []types.Filter{f("all", "AppBeta")}, special},
		{"the second word", []types.Filter{f("all", "Beta")}, special},
		{"values OR", []types.Filter{f("all", "AppBeta", "prod")}, special},
		{"a separator alone matches nothing", []types.Filter{f("all", "+")}, nil},
		{"a whole word", []types.Filter{f("all", "company")}, []string{upper}},
		{"not a word on its own", []types.Filter{f("all", "things")}, nil},
		{"split as COMPAN + Ythings", []types.Filter{f("all", "Ythings")}, []string{partial}},
		{"not a single capital", []types.Filter{f("all", "N")}, nil},
		{"not inside a word", []types.Filter{f("all", "pany")}, nil},
		{"every word of the value", []types.Filter{f("description", "one two")}, []string{"d/foo", "d/bar"}},
		{"every word as a prefix", []types.Filter{f("description", "o t")}, []string{"d/foo", "d/bar"}},
		{"one letter", []types.Filter{f("description", "t")}, []string{"d/foo", "d/bar", "d/qux"}},
		{"the same key twice is AND", []types.Filter{f("description", "one"), f("description", "two")}, []string{"d/foo", "d/bar"}},
	} {
		// Which secrets match, not their order: secrets created in the
		// same millisecond list by name, not in the order made.
		got := a.listNames(secretsmanager.ListSecretsInput{Filters: tc.filters})
		slices.Sort(got)
		want := slices.Sorted(slices.Values(tc.want))
		if !slices.Equal(got, want) {
			t.Errorf("%s: Filters %s: got %v, want %v", tc.what, awsyJSON(tc.filters), got, want)
		}
	}

	// A name mixing two separators is one word (spec §3.7), so a word
	// inside it is not found.
	a.create(mixed, "s", nil)
	for _, v := range []string{"Beta", "AppBeta"} {
		got := a.listNames(secretsmanager.ListSecretsInput{Filters: []types.Filter{f("all", v)}})
		if slices.Contains(got, mixed) {
			t.Errorf("all %q: got %v, want no %s (two kinds of separator make one word)", v, got, mixed)
		}
	}
}

// TestAWSListSecretsEntries checks what a ListSecrets entry holds, and
// IncludePlannedDeletion.
func TestAWSListSecretsEntries(t *testing.T) {
	s := startServer(t, "")
	a := awsyClient(t, s, testRegion)
	one := a.create("ent/one", "v1", nil)
	two := a.put("ent/one", "v2")
	a.create("ent/empty", "", nil)
	doomed := a.create("ent/doomed", "v", nil)
	del, err := a.c.DeleteSecret(a.ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("ent/doomed"), RecoveryWindowInDays: aws.Int64(7)})
	if err != nil {
		t.Fatalf("DeleteSecret: %v", err)
	}

	if got, want := a.listNames(secretsmanager.ListSecretsInput{}), []string{"ent/one", "ent/empty"}; !slices.Equal(got, want) {
		t.Errorf("ListSecrets: got %v, want %v (no secret scheduled for deletion)", got, want)
	}
	es := a.list(secretsmanager.ListSecretsInput{IncludePlannedDeletion: aws.Bool(true)})
	if got, want := awsyNames(es), []string{"ent/one", "ent/empty", "ent/doomed"}; !slices.Equal(got, want) {
		t.Fatalf("ListSecrets IncludePlannedDeletion: got %v, want %v", got, want)
	}
	wantStages := map[string][]string{*one.VersionId: {"AWSPREVIOUS"}, *two.VersionId: {"AWSCURRENT"}}
	if got := es[0].SecretVersionsToStages; !awsyEqualStages(got, wantStages) {
		t.Errorf("ent/one SecretVersionsToStages: got %v, want %v", got, wantStages)
	}
	if got := es[0].ARN; aws.ToString(got) != aws.ToString(one.ARN) {
		t.Errorf("ent/one ARN: got %s, want %s", aws.ToString(got), aws.ToString(one.ARN))
	}
	if es[0].CreatedDate == nil || es[0].LastChangedDate == nil {
		t.Errorf("ent/one: got CreatedDate %v LastChangedDate %v, want both", es[0].CreatedDate, es[0].LastChangedDate)
	}
	if got := es[1].SecretVersionsToStages; got != nil {
		t.Errorf("ent/empty SecretVersionsToStages: got %v, want none", got)
	}
	if es[0].DeletedDate != nil || es[1].DeletedDate != nil {
		t.Errorf("live secrets: got DeletedDate %v and %v, want none", es[0].DeletedDate, es[1].DeletedDate)
	}
	if got := es[2].DeletedDate; got == nil || !got.Equal(aws.ToTime(del.DeletionDate)) {
		t.Errorf("ent/doomed DeletedDate: got %v, want the DeletionDate %v", got, del.DeletionDate)
	}
	if aws.ToString(es[2].ARN) != aws.ToString(doomed.ARN) {
		t.Errorf("ent/doomed ARN: got %s, want %s", aws.ToString(es[2].ARN), aws.ToString(doomed.ARN))
	}

	// On the wire: SecretVersionsToStages, never VersionIdsToStages.
	raw := awsyRawOK(t, s.URL(), "ListSecrets", map[string]any{})
	list, _ := raw["SecretList"].([]any)
	if len(list) != 2 {
		t.Fatalf("raw ListSecrets: got %d entries, want 2", len(list))
	}
	first, _ := list[0].(map[string]any)
	if _, ok := first["SecretVersionsToStages"]; !ok {
		t.Errorf("raw ListSecrets entry %v: no SecretVersionsToStages", first)
	}
	if _, ok := first["VersionIdsToStages"]; ok {
		t.Errorf("raw ListSecrets entry %v: has VersionIdsToStages, a DescribeSecret member", first)
	}
	if _, ok := raw["NextToken"]; ok {
		t.Errorf("raw ListSecrets of one page: got NextToken %v, want none", raw["NextToken"])
	}
}

// awsyEqualStages compares version-to-stages maps, ignoring label order.
func awsyEqualStages(got, want map[string][]string) bool {
	if len(got) != len(want) {
		return false
	}
	for id, w := range want {
		g := slices.Sorted(slices.Values(got[id]))
		if !slices.Equal(g, slices.Sorted(slices.Values(w))) {
			return false
		}
	}
	return true
}

// TestAWSListSecretsNextToken checks that a NextToken is refused when it
// is not one, or belongs to another order.
func TestAWSListSecretsNextToken(t *testing.T) {
	s := startServer(t, "")
	a := awsyClient(t, s, testRegion)
	for i := range 3 {
		a.create(fmt.Sprintf("tok-%d", i), "v", nil)
	}
	first := func(by types.SortByType, order types.SortOrderType) *string {
		out, err := a.c.ListSecrets(a.ctx, &secretsmanager.ListSecretsInput{SortBy: by, SortOrder: order, MaxResults: aws.Int32(1)})
		if err != nil || out.NextToken == nil {
			t.Fatalf("ListSecrets SortBy %q SortOrder %q: got %v, %v, want a NextToken", by, order, out, err)
		}
		return out.NextToken
	}
	byName := first(types.SortByTypeName, types.SortOrderTypeAsc)
	byDefault := first("", "")
	// A token stays valid when the secret it ends on is deleted.
	out, err := a.c.ListSecrets(a.ctx, &secretsmanager.ListSecretsInput{MaxResults: aws.Int32(1)})
	if err != nil || len(out.SecretList) != 1 || out.NextToken == nil {
		t.Fatalf("ListSecrets MaxResults 1: got %s, %v", awsyJSON(out), err)
	}
	if _, err := a.c.DeleteSecret(a.ctx, &secretsmanager.DeleteSecretInput{SecretId: out.SecretList[0].Name, ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
		t.Fatalf("DeleteSecret: %v", err)
	}
	rest := a.listNames(secretsmanager.ListSecretsInput{NextToken: out.NextToken})
	if want := []string{"tok-1", "tok-2"}; aws.ToString(out.SecretList[0].Name) != "tok-0" || !slices.Equal(rest, want) {
		t.Errorf("pages around a deleted secret: got %s then %v, want tok-0 then %v", aws.ToString(out.SecretList[0].Name), rest, want)
	}
	for _, tc := range []struct {
		what  string
		in    secretsmanager.ListSecretsInput
		valid bool
	}{
		{"garbage", secretsmanager.ListSecretsInput{NextToken: aws.String("not-a-token!")}, false},
		{"base64 of nothing useful", secretsmanager.ListSecretsInput{NextToken: aws.String("e30")}, false},
		{"name token with created-date", secretsmanager.ListSecretsInput{NextToken: byName, SortBy: types.SortByTypeCreatedDate}, false},
		{"name token with last-changed-date", secretsmanager.ListSecretsInput{NextToken: byName, SortBy: types.SortByTypeLastChangedDate, SortOrder: types.SortOrderTypeAsc}, false},
		{"asc token with desc", secretsmanager.ListSecretsInput{NextToken: byName, SortBy: types.SortByTypeName, SortOrder: types.SortOrderTypeDesc}, false},
		{"default token with the default spelt out", secretsmanager.ListSecretsInput{NextToken: byDefault, SortBy: types.SortByTypeCreatedDate, SortOrder: types.SortOrderTypeAsc}, true},
		{"name token with name", secretsmanager.ListSecretsInput{NextToken: byName, SortBy: types.SortByTypeName, MaxResults: aws.Int32(1)}, true},
	} {
		t.Run(tc.what, func(t *testing.T) {
			out, err := a.c.ListSecrets(a.ctx, &tc.in)
			if tc.valid {
				if err != nil {
					t.Fatalf("got %v, want a page", err)
				}
				if len(out.SecretList) == 0 {
					t.Errorf("got an empty page, want the secrets after the first")
				}
				return
			}
			awsyCode(t, err, "InvalidNextTokenException")
		})
	}
}

// TestAWSListSecretVersionIdsPaging checks ListSecretVersionIds' pages,
// IncludeDeprecated and the ARN and Name of every page.
