package policy

import (
	"reflect"
	"testing"

	"github.com/coffer-secrets/coffer/internal/fault"
)

// FuzzParse checks that Parse never panics, that it and Validate agree,
// and that a parsed document survives its canonical encoding.
func FuzzParse(f *testing.F) {
	for _, doc := range validDocs {
		f.Add(doc)
	}
	for _, tt := range invalidDocs {
		if len(tt.doc) <= 4096 {
			f.Add(tt.doc)
		}
	}
	f.Fuzz(func(t *testing.T, doc string) {
		d, err := Parse(doc)
		findings := Validate(doc)
		if err != nil {
			if !fault.Is(err, fault.Invalid) {
				t.Fatalf("error of kind %v: %v", fault.KindOf(err), err)
			}
			if len(findings) == 0 || findings[0].Message != fault.Message(err) {
				t.Fatalf("Parse: %v; Validate: %+v", err, findings)
			}
			return
		}
		for _, f := range findings {
			if f.Check != CheckPrincipal && f.Check != CheckBroadAccess {
				t.Fatalf("Parse accepted what Validate rejects: %+v", f)
			}
		}
		d.IsPublic()
		enc := d.String()
		// The canonical form may outgrow MaxSize (every value becomes a
		// list), so it is read back without the size check.
		again, fs := parseDocument(enc)
		if len(fs) > 0 {
			t.Fatalf("canonical form %s does not parse: %+v", enc, fs)
		}
		if !reflect.DeepEqual(again, d) {
			t.Fatalf("round trip through %s\ngot  %#v\nwant %#v", enc, again, d)
		}
		if got := again.String(); got != enc {
			t.Fatalf("encoding is not stable:\n%s\n%s", got, enc)
		}
	})
}
