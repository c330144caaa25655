package jsonscan

import (
	"encoding/json"
	"testing"
)

// TestNumber: Number takes exactly what encoding/json takes as a number.
func TestNumber(t *testing.T) {
	for _, in := range []string{"0", "-0", "12", "-12.5", "1e9", "1E+9", "2.5e-3", "01", "-", "1.", ".5", "1e", "+1", "1.e3", "--1", "0x1"} {
		s := Scanner{In: []byte(in)}
		got := s.Number() && s.Pos == len(in)
		var n json.Number
		want := json.Unmarshal([]byte(in), &n) == nil
		if got != want {
			t.Errorf("Number(%q) = %v, encoding/json takes it: %v", in, got, want)
		}
	}
}

func TestNextAndLiteral(t *testing.T) {
	s := Scanner{In: []byte(` , ] } x`)}
	if end, ok := s.Next(']'); end || !ok {
		t.Fatalf("Next at a comma = %v, %v", end, ok)
	}
	if end, ok := s.Next(']'); !end || !ok {
		t.Fatalf("Next at the closing bracket = %v, %v", end, ok)
	}
	if _, ok := s.Next(']'); ok {
		t.Fatal("Next took a brace for a bracket")
	}
	for in, want := range map[string]string{"true,": "true", "false": "false", "null}": "null", "nul": "", "True": ""} {
		s := Scanner{In: []byte(in)}
		if got := string(s.Literal()); got != want {
			t.Errorf("Literal(%q) = %q, want %q", in, got, want)
		}
	}
}
