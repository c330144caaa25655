package bench

import (
	"math"
	"math/bits"
	"time"
)

// The histogram keeps 2^subBits buckets per power of two, as HDR histograms
// do: values below 2^(subBits+1) ns land in buckets of their own, larger
// ones in buckets 2^k ns wide for values of at least 2^(subBits+k) ns. A
// bucket's width is then at most 1/2^subBits of its values.
const (
	subBits  = 7
	subCount = 1 << subBits
	// maxShift caps tracked values at about 2^(subBits+1+maxShift) ns
	// (73 minutes); larger ones count in the last bucket (Max stays exact).
	maxShift = 34
	nBuckets = (maxShift+1)*subCount + subCount
)

// RelativeError bounds how far a Histogram's quantile may be from the
// recorded value it stands for, relative to that value: a quantile is the
// middle of its bucket, at most half a bucket's width away.
const RelativeError = 1.0 / (2 * subCount)

// Histogram counts durations in logarithmic buckets, so its quantiles are
// within RelativeError of the true ones, whatever the range, in fixed
// memory (about 36 KiB). Min, Max, Count and Mean are exact. The zero
// Histogram is empty and ready; it is not safe for concurrent use.
type Histogram struct {
	counts   []uint64 // nil until the first Record
	n        uint64
	sum      float64 // nanoseconds
	min, max int64   // nanoseconds
	lo, hi   int     // the buckets in use, inclusive, when n > 0
}

// bucketOf returns the bucket of v nanoseconds (v >= 0).
func bucketOf(v int64) int {
	shift := bits.Len64(uint64(v)) - (subBits + 1)
	if shift <= 0 {
		return int(v)
	}
	if shift > maxShift {
		return nBuckets - 1
	}
	return shift*subCount + int(v>>shift)
}

// bucketRange returns the smallest and largest value of bucket i.
func bucketRange(i int) (lo, hi int64) {
	if i < 2*subCount {
		return int64(i), int64(i)
	}
	shift := i/subCount - 1
	top := int64(i%subCount + subCount)
	return top << shift, (top+1)<<shift - 1
}

// Record adds one duration; a negative one counts as zero.
func (h *Histogram) Record(d time.Duration) {
	v := max(int64(d), 0)
	if h.counts == nil {
		h.counts = make([]uint64, nBuckets)
	}
	i := bucketOf(v)
	h.counts[i]++
	if h.n == 0 {
		h.min, h.max, h.lo, h.hi = v, v, i, i
	} else {
		h.min, h.max = min(h.min, v), max(h.max, v)
		h.lo, h.hi = min(h.lo, i), max(h.hi, i)
	}
	h.n++
	h.sum += float64(v)
}

// Merge adds every value o recorded to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	if h.counts == nil {
		h.counts = make([]uint64, nBuckets)
	}
	for i := o.lo; i <= o.hi; i++ {
		h.counts[i] += o.counts[i]
	}
	if h.n == 0 {
		h.min, h.max, h.lo, h.hi = o.min, o.max, o.lo, o.hi
	} else {
		h.min, h.max = min(h.min, o.min), max(h.max, o.max)
		h.lo, h.hi = min(h.lo, o.lo), max(h.hi, o.hi)
	}
	h.n += o.n
	h.sum += o.sum
}

// Count returns how many durations were recorded.
func (h *Histogram) Count() uint64 { return h.n }

// Min returns the smallest duration recorded, or 0 when none was.
func (h *Histogram) Min() time.Duration { return time.Duration(h.min) }

// Max returns the largest duration recorded, or 0 when none was.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Mean returns the mean of the durations recorded, or 0 when none was.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(math.Round(h.sum / float64(h.n)))
}

// Quantile returns the q-quantile (0 <= q <= 1) of the durations recorded:
// the middle of the bucket holding the ceil(q·Count)-th smallest, kept
// within [Min, Max]. It returns 0 when nothing was recorded.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(min(max(q, 0), 1) * float64(h.n)))
	rank = max(rank, 1)
	var seen uint64
	for i := h.lo; i <= h.hi; i++ {
		if seen += h.counts[i]; seen >= rank {
			if i == nBuckets-1 { // past the tracked range: unbounded
				return time.Duration(h.max)
			}
			lo, hi := bucketRange(i)
			mid := lo + (hi-lo)/2
			return time.Duration(min(max(mid, h.min), h.max))
		}
	}
	return time.Duration(h.max)
}
