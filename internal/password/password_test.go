package password

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/coffer-secrets/coffer/internal/fault"
)

// mustGenerate returns a password or fails the test.
func mustGenerate(tb testing.TB, o Options) string {
	tb.Helper()
	pw, err := Generate(o)
	if err != nil {
		tb.Fatalf("Generate(%+v): %v", o, err)
	}
	if len(pw) != o.Length {
		tb.Fatalf("Generate(%+v): length %d, want %d", o, len(pw), o.Length)
	}
	return pw
}

// charset returns the set of characters that appear in the passwords.
func charset(pws ...string) map[byte]bool {
	set := make(map[byte]bool)
	for _, pw := range pws {
		for i := 0; i < len(pw); i++ {
			set[pw[i]] = true
		}
	}
	return set
}

func setOf(s string) map[byte]bool { return charset(s) }

const alphabet = Uppercase + Lowercase + Digits + Punctuation

func TestGenerateCharacterSet(t *testing.T) {
	tests := []struct {
		name  string
		o     Options
		allow string // exactly the characters that may, and with enough draws will, appear
	}{
		{"default classes", Options{}, alphabet},
		{"no numbers", Options{ExcludeNumbers: true}, Uppercase + Lowercase + Punctuation},
		{"no punctuation", Options{ExcludePunctuation: true}, Uppercase + Lowercase + Digits},
		{"no uppercase", Options{ExcludeUppercase: true}, Lowercase + Digits + Punctuation},
		{"no lowercase", Options{ExcludeLowercase: true}, Uppercase + Digits + Punctuation},
		{"space", Options{IncludeSpace: true}, alphabet + " "},
		{"digits only", Options{ExcludeUppercase: true, ExcludeLowercase: true, ExcludePunctuation: true}, Digits},
		{"exclude characters", Options{ExcludeCharacters: `abcXYZ019"'\` + "`"},
			strings.NewReplacer("a", "", "b", "", "c", "", "X", "", "Y", "", "Z", "", "0", "", "1", "", "9", "", `"`, "", "'", "", `\`, "", "`", "").Replace(alphabet)},
		{"exclude space", Options{IncludeSpace: true, ExcludeCharacters: " "}, alphabet},
		{"non-ASCII exclusions are ignored", Options{ExcludeUppercase: true, ExcludeLowercase: true, ExcludePunctuation: true, ExcludeCharacters: "é€0"}, "123456789"},
		{"required types", Options{RequireEachIncludedType: true, IncludeSpace: true}, alphabet + " "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Length = MaxLength
			var pws []string
			for range 8 {
				pws = append(pws, mustGenerate(t, tt.o))
			}
			got, want := charset(pws...), setOf(tt.allow)
			for c := range got {
				if !want[c] {
					t.Errorf("password holds %q, which is not allowed", c)
				}
			}
			// 8×4096 draws from at most 95 characters: a character is
			// missing with probability below 95·(94/95)^32768 ≈ 1e-149.
			for c := range want {
				if !got[c] {
					t.Errorf("%q never appeared in %d characters", c, 8*MaxLength)
				}
			}
		})
	}
}

func TestGenerateRequiresEachType(t *testing.T) {
	tests := []struct {
		name    string
		o       Options
		classes []string
	}{
		{"four classes", Options{}, []string{Uppercase, Lowercase, Digits, Punctuation}},
		{"five classes", Options{IncludeSpace: true}, []string{Uppercase, Lowercase, Digits, Punctuation, Space}},
		{"two classes", Options{ExcludeLowercase: true, ExcludePunctuation: true}, []string{Uppercase, Digits}},
		// A class emptied by ExcludeCharacters is no longer required.
		{"emptied class", Options{ExcludeCharacters: Digits + "ABC"}, []string{Uppercase[3:], Lowercase, Punctuation}},
		{"one character left", Options{ExcludeCharacters: Digits[1:]}, []string{Uppercase, Lowercase, "0", Punctuation}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.RequireEachIncludedType = true
			tt.o.Length = len(tt.classes)
			first := make(map[int]int) // class index → times it came first
			for range 2000 {
				pw := mustGenerate(t, tt.o)
				for i, c := range tt.classes {
					if !strings.ContainsAny(pw, c) {
						t.Fatalf("password %q lacks a character of class %q", pw, c)
					}
					if strings.ContainsRune(c, rune(pw[0])) {
						first[i]++
					}
				}
			}
			// Required characters sit at random positions: each class
			// comes first in about 1/k of the runs. None never does with
			// probability below 5·(4/5)^2000 ≈ 1e-193.
			for i, c := range tt.classes {
				if first[i] == 0 {
					t.Errorf("class %q never came first in 2000 passwords", c)
				}
			}
		})
	}
}

func TestGenerateErrors(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		msg  string
	}{
		{"zero length", Options{}, "between 1 and 4096"},
		{"negative length", Options{Length: -1}, "between 1 and 4096"},
		{"too long", Options{Length: MaxLength + 1}, "between 1 and 4096"},
		{"all classes excluded", Options{Length: 8, ExcludeNumbers: true, ExcludePunctuation: true, ExcludeUppercase: true, ExcludeLowercase: true}, "no characters"},
		{"every character excluded", Options{Length: 8, ExcludeCharacters: alphabet}, "no characters"},
		{"space excluded too", Options{Length: 8, IncludeSpace: true, ExcludeCharacters: alphabet + " "}, "no characters"},
		{"too short for the types", Options{Length: 3, RequireEachIncludedType: true}, "Password length is too short based on the required types."},
		{"too short with space", Options{Length: 4, IncludeSpace: true, RequireEachIncludedType: true}, "Password length is too short based on the required types."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pw, err := Generate(tt.o)
			if err == nil {
				t.Fatalf("Generate(%+v) = %q, want an error", tt.o, pw)
			}
			if got, want := fault.KindOf(err), fault.Invalid; got != want {
				t.Errorf("kind %v, want %v", got, want)
			}
			if got := fault.Message(err); !strings.Contains(got, tt.msg) {
				t.Errorf("message %q, want it to contain %q", got, tt.msg)
			}
		})
	}
}

func TestGenerateLengthBounds(t *testing.T) {
	for _, n := range []int{MinLength, 2, DefaultLength, MaxLength} {
		mustGenerate(t, Options{Length: n})
	}
	// Exactly as long as the number of required classes is enough.
	mustGenerate(t, Options{Length: 4, RequireEachIncludedType: true})
}

// TestGenerateUniform checks that no digit is drawn far more or less often
// than the others. The band is ten standard deviations wide, so a correct
// generator fails it with probability below 1e-20.
func TestGenerateUniform(t *testing.T) {
	o := Options{Length: MaxLength, ExcludeUppercase: true, ExcludeLowercase: true, ExcludePunctuation: true}
	counts := make(map[rune]int)
	const runs = 25
	for range runs {
		for _, c := range mustGenerate(t, o) {
			counts[c]++
		}
	}
	const n, p = runs * MaxLength, 0.1
	mean, band := n*p, 10*math.Sqrt(n*p*(1-p)) // 10240 ± 960
	for _, c := range Digits {
		if got := float64(counts[c]); math.Abs(got-mean) > band {
			t.Errorf("%q drawn %v times in %d, want %v ± %.0f", c, got, n, mean, band)
		}
	}
}

// TestIntnUnbiased uses a bound where a plain modulo would be badly biased:
// for n = 3·2³⁰, reducing a uint32 mod n would put half the results in the
// lowest third. Unbiased, each third gets 1/3. The threshold sits about ten
// standard deviations from both, so the test fails wrongly with probability
// below 1e-20.
func TestIntnUnbiased(t *testing.T) {
	var s source
	const n = 3 << 30
	const draws = 3000
	low := 0
	for range draws {
		v := s.intn(n)
		if v >= n {
			t.Fatalf("intn(%d) = %d", uint32(n), v)
		}
		if v < 1<<30 {
			low++
		}
	}
	if low > 1250 {
		t.Errorf("%d of %d draws in the lowest third, want about 1000", low, draws)
	}
}

func TestShufflePermutes(t *testing.T) {
	var s source
	b := []byte(alphabet)
	s.shuffle(b)
	if got, want := charset(string(b)), setOf(alphabet); len(got) != len(want) || len(b) != len(alphabet) {
		t.Fatalf("shuffle lost characters: %q", b)
	}
}

func BenchmarkGenerate(b *testing.B) {
	for _, n := range []int{DefaultLength, MaxLength} {
		o := Options{Length: n, RequireEachIncludedType: true}
		b.Run(fmt.Sprintf("length=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Generate(o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
