package schedule

import "math/bits"

// set is a bit set of small non-negative integers, big enough for the 230
// years AWS cron allows.
type set [4]uint64

const setSize = 256

func (s *set) add(i int) { s[i>>6] |= 1 << (i & 63) }

func (s *set) has(i int) bool { return 0 <= i && i < setSize && s[i>>6]&(1<<(i&63)) != 0 }

// next returns the smallest member that is at least i, or -1.
func (s *set) next(i int) int {
	i = max(i, 0)
	for i < setSize {
		if w := s[i>>6] >> (i & 63); w != 0 {
			return i + bits.TrailingZeros64(w)
		}
		i = (i>>6 + 1) << 6
	}
	return -1
}
