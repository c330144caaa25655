package bench

import (
	"fmt"
	"strconv"
	"strings"
)

// Op is an operation a workload mixes.
type Op uint8

// The operations, in report order.
const (
	Get      Op = Op(actGet)      // GetSecretValue of a set-up secret
	Put      Op = Op(actPut)      // PutSecretValue of a new version of a set-up secret
	List     Op = Op(actList)     // ListSecrets, one page
	Describe Op = Op(actDescribe) // DescribeSecret of a set-up secret
	nOps        = 4
)

var opKeys = [nOps]string{"get", "put", "list", "describe"}

// String returns the operation's API action, e.g. "GetSecretValue".
func (o Op) String() string { return action(o).String() }

// Mix weighs the operations of a workload: each request is operation o
// with probability Mix[o] / the sum of the weights.
type Mix [nOps]int

// ParseMix parses "get=90,put=5,list=3,describe=2". Keys are get, put, list
// and describe, or the action names (GetSecretValue…), in any case; weights
// are non-negative integers, at least one positive; a missing key weighs 0.
// It returns an error naming the first bad part.
func ParseMix(s string) (Mix, error) {
	var m Mix
	for part := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		o, known := opByKey(k)
		n, err := strconv.Atoi(strings.TrimSpace(v))
		switch {
		case !ok || !known:
			return Mix{}, fmt.Errorf("mix %q: %q is not get=N, put=N, list=N or describe=N", s, part)
		case err != nil || n < 0:
			return Mix{}, fmt.Errorf("mix %q: weight %q of %s is not a non-negative integer", s, v, k)
		}
		m[o] = n
	}
	if m.total() == 0 {
		return Mix{}, fmt.Errorf("mix %q: every weight is 0", s)
	}
	return m, nil
}

func opByKey(k string) (Op, bool) {
	k = strings.ToLower(strings.TrimSpace(k))
	for o := range Op(nOps) {
		if k == opKeys[o] || k == strings.ToLower(o.String()) {
			return o, true
		}
	}
	return 0, false
}

// String formats m as ParseMix reads it, without the zero weights.
func (m Mix) String() string {
	var parts []string
	for o, w := range m {
		if w > 0 {
			parts = append(parts, opKeys[o]+"="+strconv.Itoa(w))
		}
	}
	return strings.Join(parts, ",")
}

func (m Mix) total() int {
	n := 0
	for _, w := range m {
		n += w
	}
	return n
}

// needsSecrets reports whether m names set-up secrets (all but List do).
func (m Mix) needsSecrets() bool { return m[Get]+m[Put]+m[Describe] > 0 }

// pick returns the operation of ticket n, 0 <= n < m.total().
func (m Mix) pick(n int) Op {
	for o, w := range m {
		if n < w {
			return Op(o)
		}
		n -= w
	}
	return List // unreachable for n in range
}
