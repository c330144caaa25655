package bench

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// exactQuantile is the ceil(q·n)-th smallest of sorted, the value Quantile
// approximates.
func exactQuantile(sorted []time.Duration, q float64) time.Duration {
	rank := max(int(math.Ceil(q*float64(len(sorted)))), 1)
	return sorted[rank-1]
}

// within reports whether got is want within the histogram's relative error
// (at least 1 ns, for rounding).
func within(got, want time.Duration) bool {
	return math.Abs(float64(got-want)) <= math.Max(float64(want)*RelativeError, 1)
}

func TestHistogramUniform(t *testing.T) {
	var h Histogram
	for i := 1; i <= 10000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	tests := []struct {
		q    float64
		want time.Duration
	}{
		{0, time.Microsecond},
		{0.5, 5000 * time.Microsecond},
		{0.9, 9000 * time.Microsecond},
		{0.99, 9900 * time.Microsecond},
		{0.999, 9990 * time.Microsecond},
		{1, 10000 * time.Microsecond},
	}
	for _, tt := range tests {
		if got := h.Quantile(tt.q); !within(got, tt.want) {
			t.Errorf("Quantile(%v) = %v, want %v ± %.2f%%", tt.q, got, tt.want, 100*RelativeError)
		}
	}
	if got, want := h.Count(), uint64(10000); got != want {
		t.Errorf("Count = %d, want %d", got, want)
	}
	if got, want := h.Min(), time.Microsecond; got != want {
		t.Errorf("Min = %v, want %v", got, want)
	}
	if got, want := h.Max(), 10*time.Millisecond; got != want {
		t.Errorf("Max = %v, want %v", got, want)
	}
	if got, want := h.Mean(), 5000500*time.Nanosecond; got != want {
		t.Errorf("Mean = %v, want %v", got, want)
	}
}

// TestHistogramBimodal is the shape a cache in front of a disk gives: 99%
// fast, 1% slow. p99 must fall on the fast mode, p99.9 on the slow one.
func TestHistogramBimodal(t *testing.T) {
	var h Histogram
	for i := range 10000 {
		d := 200 * time.Microsecond
		if i%100 == 0 {
			d = 40 * time.Millisecond
		}
		h.Record(d)
	}
	for _, tt := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 200 * time.Microsecond}, {0.99, 200 * time.Microsecond}, {0.991, 40 * time.Millisecond}} {
		if got := h.Quantile(tt.q); !within(got, tt.want) {
			t.Errorf("Quantile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
}

func TestHistogramSmallValuesExact(t *testing.T) {
	for v := range int64(2 * subCount) {
		var h Histogram
		h.Record(time.Duration(v))
		if got := h.Quantile(0.5); got != time.Duration(v) {
			t.Errorf("Quantile of one %d ns = %v, want exact", v, got)
		}
	}
}

func TestHistogramEmpty(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 || h.Min() != 0 || h.Max() != 0 || h.Mean() != 0 || h.Count() != 0 {
		t.Errorf("empty histogram: got q50 %v min %v max %v mean %v count %d, want zeros",
			h.Quantile(0.5), h.Min(), h.Max(), h.Mean(), h.Count())
	}
	var o Histogram
	h.Merge(&o)
	if h.Count() != 0 {
		t.Errorf("merging empty histograms: Count = %d, want 0", h.Count())
	}
}

func TestHistogramExtremes(t *testing.T) {
	var h Histogram
	h.Record(-time.Second)
	h.Record(48 * time.Hour)
	if got := h.Min(); got != 0 {
		t.Errorf("Min after a negative duration = %v, want 0", got)
	}
	if got, want := h.Quantile(1), 48*time.Hour; got != want {
		t.Errorf("Quantile(1) past the tracked range = %v, want Max %v", got, want)
	}
}

func TestBucketsContiguous(t *testing.T) {
	prevHi := int64(-1)
	for i := range nBuckets {
		lo, hi := bucketRange(i)
		if lo != prevHi+1 || hi < lo {
			t.Fatalf("bucket %d = [%d, %d], previous ended at %d", i, lo, hi, prevHi)
		}
		if bucketOf(lo) != i || bucketOf(hi) != i {
			t.Fatalf("bucket %d = [%d, %d], but bucketOf gives %d and %d", i, lo, hi, bucketOf(lo), bucketOf(hi))
		}
		if i >= 2*subCount && float64(hi-lo+1)/2 > float64(lo)*RelativeError {
			t.Fatalf("bucket %d = [%d, %d] is wider than RelativeError allows", i, lo, hi)
		}
		prevHi = hi
	}
}

// TestHistogramQuantilesProperty: for any durations, every quantile is
// within RelativeError of the exact one, and merging two histograms is
// recording both sets into one.
func TestHistogramQuantilesProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := rapid.SliceOfN(rapid.Int64Range(0, int64(10*time.Minute)), 1, 300).Draw(t, "a")
		b := rapid.SliceOfN(rapid.Int64Range(0, int64(time.Second)), 0, 300).Draw(t, "b")
		var ha, hb, all Histogram
		var sorted []time.Duration
		for _, v := range a {
			ha.Record(time.Duration(v))
			all.Record(time.Duration(v))
			sorted = append(sorted, time.Duration(v))
		}
		for _, v := range b {
			hb.Record(time.Duration(v))
			all.Record(time.Duration(v))
			sorted = append(sorted, time.Duration(v))
		}
		ha.Merge(&hb)
		slices.Sort(sorted)
		for _, q := range []float64{0, 0.1, 0.5, 0.9, 0.99, 0.999, 1} {
			want := exactQuantile(sorted, q)
			if got := ha.Quantile(q); !within(got, want) {
				t.Fatalf("Quantile(%v) = %v, want %v", q, got, want)
			}
			if got, want := ha.Quantile(q), all.Quantile(q); got != want {
				t.Fatalf("merged Quantile(%v) = %v, recorded together %v", q, got, want)
			}
		}
		if ha.Min() != sorted[0] || ha.Max() != sorted[len(sorted)-1] || ha.Count() != uint64(len(sorted)) {
			t.Fatalf("min/max/count = %v/%v/%d, want %v/%v/%d", ha.Min(), ha.Max(), ha.Count(), sorted[0], sorted[len(sorted)-1], len(sorted))
		}
	})
}

// TestHistogramExponential checks a long-tailed distribution against the
// exact quantiles of the same sample.
func TestHistogramExponential(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	sample := make([]time.Duration, 100000)
	for i := range sample {
		sample[i] = time.Duration(r.ExpFloat64() * float64(2*time.Millisecond))
		h.Record(sample[i])
	}
	slices.Sort(sample)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.9999} {
		if got, want := h.Quantile(q), exactQuantile(sample, q); !within(got, want) {
			t.Errorf("Quantile(%v) = %v, want %v", q, got, want)
		}
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	var h Histogram
	for i := range b.N {
		h.Record(time.Duration(i%100000) * time.Microsecond)
	}
}
