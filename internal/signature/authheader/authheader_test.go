package authheader

import (
	"slices"
	"strings"
	"testing"
	"unicode"
)

const sig = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"

func TestSplitAccepts(t *testing.T) {
	tests := []struct{ name, h string }{
		{"sdk", "ALG Credential=a/b/c, SignedHeaders=host;x, Signature=" + sig},
		{"no spaces", "ALG Credential=a/b/c,SignedHeaders=host;x,Signature=" + sig},
		{"padded", "  ALG  Credential=a/b/c ,\tSignedHeaders=host;x , Signature=" + sig + " "},
		{"other order", "ALG Signature=" + sig + ", SignedHeaders=host;x, Credential=a/b/c"},
	}
	// A part without "=" has an empty value; checking values is the caller's.
	if _, _, s, err := Split("ALG Credential=a, SignedHeaders=host, Signature", "ALG"); err != nil || s != "" {
		t.Errorf("Split with a bare Signature = %q, %v; want \"\", nil", s, err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cred, sh, s, err := Split(tt.h, "ALG")
			if err != nil {
				t.Fatalf("Split: %v", err)
			}
			if got, want := []string{cred, sh, s}, []string{"a/b/c", "host;x", sig}; !slices.Equal(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func TestSplitRejects(t *testing.T) {
	const parts = "Credential=a/b/c, SignedHeaders=host, Signature=" + sig
	tests := []struct{ name, h, want string }{
		{"empty", " \t", "empty Authorization header"},
		{"algorithm only", "ALG", `algorithm "ALG" is not ALG2`},
		{"tab after algorithm", "ALG2\t" + parts, `algorithm "ALG2\tCredential=a/b/c," is not ALG2`},
		{"missing part", "ALG2 Credential=a/b/c, SignedHeaders=host", "want 3 comma-separated parts, got 2"},
		{"extra part", "ALG2 " + parts + ", Foo=bar", "want 3 comma-separated parts, got 4"},
		{"repeated part", "ALG2 Credential=a, Credential=b, Signature=" + sig, `unexpected or repeated part "Credential"`},
		{"lower-case key", "ALG2 credential=a, SignedHeaders=host, Signature=" + sig, `unexpected or repeated part "credential"`},
		{"no equals", "ALG2 Credential a, SignedHeaders=host, Signature=" + sig, `unexpected or repeated part "Credential a"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := Split(tt.h, "ALG2")
			if err == nil {
				t.Fatalf("Split succeeded, want %q", tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("err = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSignedHeaders(t *testing.T) {
	got, err := SignedHeaders("content-type;host;x-tc-action")
	if want := []string{"content-type", "host", "x-tc-action"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("SignedHeaders = %q, %v; want %q", got, err, want)
	}
	tests := []struct{ in, want string }{
		{"", `signed header "" is not a lower-case header name`},
		{"host;", `signed header "" is not a lower-case header name`},
		{"Host", `signed header "Host" is not a lower-case header name`},
		{"a; b", `signed header " b" is not a lower-case header name`},
		{"a/b", `signed header "a/b" is not a lower-case header name`},
		{"host;content-type", `signed headers are not sorted or repeat "content-type"`},
		{"a;host;host", `signed headers are not sorted or repeat "host"`},
	}
	for _, tt := range tests {
		names, err := SignedHeaders(tt.in)
		if err == nil || err.Error() != tt.want || names != nil {
			t.Errorf("SignedHeaders(%q) = %q, %v; want nil, %q", tt.in, names, err, tt.want)
		}
	}
}

func TestIsHeaderName(t *testing.T) {
	for _, s := range []string{"a", "x-amz-date", "0", "!#$%&'*+-.^_`|~"} {
		if !isHeaderName(s) {
			t.Errorf("isHeaderName(%q) = false, want true", s)
		}
	}
	for _, s := range []string{"", "A", "a b", "a:b", "a\x00", "é", "a\"b", "(a)"} {
		if isHeaderName(s) {
			t.Errorf("isHeaderName(%q) = true, want false", s)
		}
	}
}

func TestIsVisible(t *testing.T) {
	for _, s := range []string{"a", "AKIDEXAMPLE", "!~"} {
		if !IsVisible(s) {
			t.Errorf("IsVisible(%q) = false, want true", s)
		}
	}
	for _, s := range []string{"", "a b", "a\tb", "\x01", "\x7f", "é"} {
		if IsVisible(s) {
			t.Errorf("IsVisible(%q) = true, want false", s)
		}
	}
}

func TestIsLowerHex(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want bool
	}{
		{sig, 64, true},
		{"", 0, true},
		{"0a", 2, true},
		{sig[:63], 64, false},
		{sig + "0", 64, false},
		{strings.ToUpper(sig), 64, false},
		{strings.Repeat("g", 64), 64, false},
		{"0a", 3, false},
	}
	for _, tt := range tests {
		if got := IsLowerHex(tt.s, tt.n); got != tt.want {
			t.Errorf("IsLowerHex(%q, %d) = %v, want %v", tt.s, tt.n, got, tt.want)
		}
	}
}

func TestClip(t *testing.T) {
	long := strings.Repeat("x", 41)
	tests := []struct{ in, want string }{
		{"", `""`},
		{"a\"b\n", `"a\"b\n"`},
		{long[:40], `"` + long[:40] + `"`},
		{long, `"` + long[:40] + `"...`},
	}
	for _, tt := range tests {
		if got := Clip(tt.in); got != tt.want {
			t.Errorf("Clip(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzSplit checks that whatever Split accepts it can rebuild: the three
// values joined in the canonical order split back to themselves, unless the
// signature, now last, ends in white space that trimming h would take.
func FuzzSplit(f *testing.F) {
	f.Add("ALG Credential=a/b/c, SignedHeaders=host;x, Signature=" + sig)
	f.Add("ALG Signature=, Credential=,SignedHeaders=")
	f.Add("")
	f.Fuzz(func(t *testing.T, h string) {
		cred, sh, s, err := Split(h, "ALG")
		if err != nil || strings.TrimRightFunc(s, unicode.IsSpace) != s {
			return
		}
		for _, v := range []string{cred, sh, s} {
			if strings.Contains(v, ",") || strings.HasSuffix(v, " ") || strings.HasSuffix(v, "\t") {
				t.Fatalf("Split(%q) returned the value %q", h, v)
			}
		}
		again := "ALG Credential=" + cred + ", SignedHeaders=" + sh + ", Signature=" + s
		c2, sh2, s2, err := Split(again, "ALG")
		if err != nil || c2 != cred || sh2 != sh || s2 != s {
			t.Fatalf("Split(%q) = %q, %q, %q, %v; want %q, %q, %q", again, c2, sh2, s2, err, cred, sh, s)
		}
	})
}
