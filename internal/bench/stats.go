package bench

import (
	"sync"
	"time"
)

// housekeeping is the stats slot after the four operations: requests the
// tool makes to keep a workload running (deleting old versions so puts stay
// under the version limit), counted apart from the workload.
const housekeeping = nOps

// opStats counts one kind of request. Latency covers successes only: a
// refused request is often answered early, and would flatter the latency.
type opStats struct {
	lat      Histogram
	requests int64
	errors   int64
	codes    map[string]int64 // errors by code
}

func (s *opStats) add(d time.Duration, code string) {
	s.requests++
	if code == "" {
		s.lat.Record(d)
		return
	}
	s.errors++
	if s.codes == nil {
		s.codes = make(map[string]int64)
	}
	s.codes[code]++
}

func (s *opStats) merge(o *opStats) {
	s.lat.Merge(&o.lat)
	s.requests += o.requests
	s.errors += o.errors
	for c, n := range o.codes {
		if s.codes == nil {
			s.codes = make(map[string]int64)
		}
		s.codes[c] += n
	}
}

// statSet is a count per operation, plus housekeeping.
type statSet [nOps + 1]opStats

// workload returns the sum over the four operations.
func (s *statSet) workload() opStats {
	var t opStats
	for o := range Op(nOps) {
		t.merge(&s[o])
	}
	return t
}

// recorder is one worker's measurements. The worker writes, the progress
// line reads once a second: the mutex is all but uncontended.
type recorder struct {
	mu    sync.Mutex
	stats statSet
	last  time.Time // when the last measured request completed
}

func (r *recorder) add(kind int, d time.Duration, code string, end time.Time) {
	r.mu.Lock()
	r.stats[kind].add(d, code)
	if end.After(r.last) {
		r.last = end
	}
	r.mu.Unlock()
}

// mergeInto adds r's measurements to s and returns r's last completion.
func (r *recorder) mergeInto(s *statSet) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range s {
		s[i].merge(&r.stats[i])
	}
	return r.last
}
