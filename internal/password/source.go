package password

import (
	"crypto/rand"
	"encoding/binary"
)

// source draws unbiased random numbers from crypto/rand, reading it in
// blocks rather than four bytes at a time.
type source struct {
	buf [1024]byte
	n   int // unread bytes at the end of buf
}

func (s *source) uint32() uint32 {
	if s.n < 4 {
		// crypto/rand.Read does not fail on supported platforms (it
		// crashes the program instead), so there is no error to return.
		_, _ = rand.Read(s.buf[:])
		s.n = len(s.buf)
	}
	v := binary.LittleEndian.Uint32(s.buf[len(s.buf)-s.n:])
	s.n -= 4
	return v
}

// intn returns a uniform number in [0, n). It rejects the draws at the top
// of the uint32 range that would make a plain modulo favour small results.
func (s *source) intn(n uint32) uint32 {
	if n == 0 {
		panic("password: intn(0)")
	}
	limit := -n % n // (2³² − n) mod n = 2³² mod n: the size of the biased tail
	for {
		if v := s.uint32(); v >= limit {
			return v % n
		}
	}
}

// shuffle permutes b uniformly (Fisher–Yates).
func (s *source) shuffle(b []byte) {
	for i := len(b) - 1; i > 0; i-- {
		j := s.intn(uint32(i + 1))
		b[i], b[j] = b[j], b[i]
	}
}

// clear wipes the random bytes, which the password was derived from.
func (s *source) clear() {
	clear(s.buf[:])
	s.n = 0
}
