// Package password generates random passwords from character classes, with
// crypto/rand. It implements the semantics of AWS Secrets Manager's
// GetRandomPassword; edges map their request fields onto Options.
package password

import (
	"fmt"

	"github.com/coffer-secrets/coffer/internal/fault"
)

// Length bounds. DefaultLength is what an edge passes when a request names no
// length; Generate itself does not treat 0 as "default", because an explicit
// length of 0 is an invalid request.
const (
	MinLength     = 1
	MaxLength     = 4096
	DefaultLength = 32
)

// The character classes. Space is a class of its own, used only with
// Options.IncludeSpace.
const (
	Uppercase   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	Lowercase   = "abcdefghijklmnopqrstuvwxyz"
	Digits      = "0123456789"
	Punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
	Space       = " "
)

// Options says which characters a password may hold. The zero value allows
// upper and lower case letters, digits and punctuation, but has no valid
// Length.
type Options struct {
	Length             int    // 1..4096
	ExcludeCharacters  string // characters never to use
	ExcludeNumbers     bool
	ExcludePunctuation bool
	ExcludeUppercase   bool
	ExcludeLowercase   bool
	IncludeSpace       bool
	// RequireEachIncludedType asks for at least one character of every
	// class that is left after the exclusions. AWS defaults it to true;
	// an edge must set it explicitly.
	RequireEachIncludedType bool
}

// Generate returns a random password. Every character is drawn uniformly
// from the allowed ones; with RequireEachIncludedType, one character of each
// class is drawn from that class and placed at a random position. It returns
// fault.Invalid when the length is outside 1..4096, when the exclusions leave
// no character, or when the length is shorter than the number of required
// classes.
func Generate(o Options) (string, error) {
	const op = "password.Generate"
	if o.Length < MinLength || o.Length > MaxLength {
		return "", fault.E(op, fault.Invalid, fmt.Sprintf("Password length must be between %d and %d.", MinLength, MaxLength))
	}
	classes := o.classes()
	if len(classes) == 0 {
		return "", fault.E(op, fault.Invalid, "The exclusions leave no characters to build a password from.")
	}
	if o.RequireEachIncludedType && o.Length < len(classes) {
		return "", fault.E(op, fault.Invalid, "Password length is too short based on the required types.")
	}
	var src source
	defer src.clear()
	pw := make([]byte, 0, o.Length)
	if o.RequireEachIncludedType {
		for _, c := range classes {
			pw = append(pw, c[src.intn(uint32(len(c)))])
		}
	}
	all := join(classes)
	for len(pw) < o.Length {
		pw = append(pw, all[src.intn(uint32(len(all)))])
	}
	src.shuffle(pw)
	s := string(pw)
	clear(pw)
	return s, nil
}

// classes returns the included classes with the excluded characters
// removed, dropping classes that end up empty.
func (o Options) classes() [][]byte {
	var excluded [128]bool
	for i := 0; i < len(o.ExcludeCharacters); i++ {
		if b := o.ExcludeCharacters[i]; b < 128 {
			excluded[b] = true
		}
	}
	var classes [][]byte
	add := func(include bool, class string) {
		if !include {
			return
		}
		var kept []byte
		for i := 0; i < len(class); i++ {
			if !excluded[class[i]] {
				kept = append(kept, class[i])
			}
		}
		if len(kept) > 0 {
			classes = append(classes, kept)
		}
	}
	add(!o.ExcludeUppercase, Uppercase)
	add(!o.ExcludeLowercase, Lowercase)
	add(!o.ExcludeNumbers, Digits)
	add(!o.ExcludePunctuation, Punctuation)
	add(o.IncludeSpace, Space)
	return classes
}

func join(classes [][]byte) []byte {
	var all []byte
	for _, c := range classes {
		all = append(all, c...)
	}
	return all
}
