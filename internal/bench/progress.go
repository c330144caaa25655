package bench

import (
	"fmt"
	"time"
)

// progress writes a line every ProgressInterval until done is closed: the
// request rate over the last interval, and the p99 and errors measured so
// far. It returns a channel closed once it has written its last line.
func (r *runner) progress(done <-chan struct{}) <-chan struct{} {
	finished := make(chan struct{})
	if r.cfg.Progress == nil {
		close(finished)
		return finished
	}
	go func() {
		defer close(finished)
		t := time.NewTicker(r.cfg.ProgressInterval)
		defer t.Stop()
		prevN, prevT := int64(0), r.start
		for {
			select {
			case <-done:
				if r.cfg.ProgressOverwrite {
					fmt.Fprintln(r.cfg.Progress)
				}
				return
			case now := <-t.C:
				n := r.completed.Load()
				r.writeProgress(now, float64(n-prevN)/now.Sub(prevT).Seconds())
				prevN, prevT = n, now
			}
		}
	}()
	return finished
}

func (r *runner) writeProgress(now time.Time, rate float64) {
	s, _ := r.snapshot()
	total := s.workload()
	phase := fmt.Sprintf("%5.0fs", now.Sub(r.measureStart).Seconds())
	if now.Before(r.measureStart) {
		phase = "warm-up"
	}
	line := fmt.Sprintf("%s %10.0f req/s   p99 %9.3f ms   errors %d", phase, rate, ms(total.lat.Quantile(0.99)), total.errors)
	if r.cfg.ProgressOverwrite {
		fmt.Fprintf(r.cfg.Progress, "\r%s\x1b[K", line)
		return
	}
	fmt.Fprintln(r.cfg.Progress, line)
}
