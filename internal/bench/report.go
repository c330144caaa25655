package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Report is what a run measured. Durations are seconds, latencies
// milliseconds; throughput is requests a second over the measured time.
type Report struct {
	Protocol     string         `json:"protocol"`
	Endpoint     string         `json:"endpoint"`
	Region       string         `json:"region"`
	Mix          string         `json:"mix"`
	Connections  int            `json:"connections"`
	Rate         float64        `json:"rate,omitempty"`       // the cap asked for, requests a second
	Duration     float64        `json:"duration_s,omitempty"` // asked for
	Requests     int64          `json:"requests,omitempty"`   // asked for
	Warmup       float64        `json:"warmup_s"`
	Started      time.Time      `json:"started"`
	Elapsed      float64        `json:"elapsed_s"` // measured: after the warm-up, to the last answer
	Interrupted  bool           `json:"interrupted,omitempty"`
	Client       ClientInfo     `json:"client"`
	Setup        *SetupReport   `json:"setup,omitempty"`
	Operations   []OpReport     `json:"operations"`
	Total        OpReport       `json:"total"`
	Housekeeping *OpReport      `json:"housekeeping,omitempty"`
	ErrorRate    float64        `json:"error_rate"` // Total.Errors / Total.Requests
	Cleanup      *CleanupReport `json:"cleanup,omitempty"`
}

// ClientInfo describes the machine the tool ran on, to judge whether the
// client shared it with other work.
type ClientInfo struct {
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	LoadStart  string `json:"load_start,omitempty"` // /proc/loadavg's 1, 5 and 15 minute loads
	LoadEnd    string `json:"load_end,omitempty"`
}

// OpReport is the measurement of one operation, or of all together.
type OpReport struct {
	Name       string           `json:"name"`
	Requests   int64            `json:"requests"` // answered, errors included
	Errors     int64            `json:"errors"`
	ErrorCodes map[string]int64 `json:"error_codes,omitempty"`
	Throughput float64          `json:"throughput"`
	Latency    Latency          `json:"latency_ms"` // of the successful requests
}

// Latency summarizes a histogram, in milliseconds. Percentiles are within
// RelativeError of the measured values; min, mean and max are exact.
type Latency struct {
	Min  float64 `json:"min"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
}

func (r *runner) newReport() *Report {
	c := r.cfg
	return &Report{
		Protocol: c.Protocol.String(), Endpoint: strings.TrimSuffix(r.url, "/"), Region: c.Region,
		Mix: c.Mix.String(), Connections: c.Connections, Rate: c.Rate,
		Duration: c.Duration.Seconds(), Requests: c.Requests, Warmup: c.Warmup.Seconds(),
		Started: time.Now().UTC().Truncate(time.Second),
		Client:  ClientInfo{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), LoadStart: loadAverage()},
	}
}

// fill sets rep's measurements from the workers'.
func (r *runner) fill(rep *Report) {
	s, last := r.snapshot()
	elapsed := last.Sub(r.measureStart)
	if last.IsZero() || elapsed <= 0 {
		elapsed = max(time.Since(r.measureStart), 0)
	}
	rep.Elapsed = round(elapsed.Seconds(), 3)
	for o := range Op(nOps) {
		if r.cfg.Mix[o] > 0 {
			rep.Operations = append(rep.Operations, opReport(o.String(), &s[o], elapsed))
		}
	}
	total := s.workload()
	rep.Total = opReport("total", &total, elapsed)
	if s[housekeeping].requests > 0 {
		hk := opReport(actDeleteVersion.String(), &s[housekeeping], elapsed)
		rep.Housekeeping = &hk
	}
	if total.requests > 0 {
		rep.ErrorRate = float64(total.errors) / float64(total.requests)
	}
}

func opReport(name string, s *opStats, elapsed time.Duration) OpReport {
	o := OpReport{Name: name, Requests: s.requests, Errors: s.errors, ErrorCodes: maps.Clone(s.codes)}
	if elapsed > 0 {
		o.Throughput = round(float64(s.requests)/elapsed.Seconds(), 1)
	}
	h := &s.lat
	o.Latency = Latency{
		Min: ms(h.Min()), Mean: ms(h.Mean()), P50: ms(h.Quantile(0.5)), P90: ms(h.Quantile(0.9)),
		P99: ms(h.Quantile(0.99)), P999: ms(h.Quantile(0.999)), Max: ms(h.Max()),
	}
	return o
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }

func round(v float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(v*p) / p
}

// WriteJSON writes r as indented JSON. It returns w's error.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes r for a person: the settings, a table with a row per
// operation and the total, and the errors by code. It returns w's error.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	r.writeHeader(&b)
	rows := append(slices.Clone(r.Operations), r.Total)
	if r.Housekeeping != nil {
		rows = append(rows, *r.Housekeeping)
	}
	width := len("operation")
	for _, o := range rows {
		width = max(width, len(o.Name))
	}
	line := func(cells ...any) {
		fmt.Fprintf(&b, "%-*s %10v %8v %10v %9v %9v %9v %9v %9v\n", append([]any{width}, cells...)...)
	}
	line("operation", "requests", "errors", "req/s", "min ms", "p50 ms", "p90 ms", "p99 ms", "max ms")
	for _, o := range rows {
		l := o.Latency
		line(o.Name, o.Requests, o.Errors, fmt.Sprintf("%.1f", o.Throughput),
			f3(l.Min), f3(l.P50), f3(l.P90), f3(l.P99), f3(l.Max))
	}
	r.writeErrors(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

func f3(v float64) string { return fmt.Sprintf("%.3f", v) }

func (r *Report) writeHeader(b *strings.Builder) {
	fmt.Fprintf(b, "coffer bench: %s %s, region %s, started %s\n", r.Protocol, r.Endpoint, r.Region, r.Started.Format(time.RFC3339))
	rate := "unlimited"
	if r.Rate > 0 {
		rate = fmt.Sprintf("%g/s", r.Rate)
	}
	fmt.Fprintf(b, "mix %s, %d connections, rate %s, warm-up %gs, measured %.2fs", r.Mix, r.Connections, rate, r.Warmup, r.Elapsed)
	if r.Interrupted {
		b.WriteString(" (interrupted)")
	}
	b.WriteString("\n")
	if s := r.Setup; s != nil {
		fmt.Fprintf(b, "secrets: %d of %d bytes (%d created, %d reused", s.Secrets, s.Size, s.Created, s.Reused)
		if s.Pruned > 0 {
			fmt.Fprintf(b, ", %d old versions deleted", s.Pruned)
		}
		fmt.Fprintf(b, ") in %.2fs\n", s.Elapsed)
	}
	fmt.Fprintf(b, "client: %d CPUs, GOMAXPROCS %d", r.Client.CPUs, r.Client.GOMAXPROCS)
	if r.Client.LoadStart != "" {
		fmt.Fprintf(b, ", load %s at start, %s at end", r.Client.LoadStart, r.Client.LoadEnd)
	}
	b.WriteString("\n\n")
}

func (r *Report) writeErrors(b *strings.Builder) {
	rows := slices.Clone(r.Operations)
	if r.Housekeeping != nil {
		rows = append(rows, *r.Housekeeping)
	}
	if r.Total.Errors > 0 || r.Housekeeping != nil && r.Housekeeping.Errors > 0 {
		fmt.Fprintf(b, "\nerrors (%.2f%% of requests):\n", 100*r.ErrorRate)
		for _, o := range rows {
			for _, c := range slices.Sorted(maps.Keys(o.ErrorCodes)) {
				fmt.Fprintf(b, "  %-20s %-40s %d\n", o.Name, c, o.ErrorCodes[c])
			}
		}
	}
	if r.Housekeeping != nil {
		b.WriteString("\nDeleteSecretVersion is housekeeping: it keeps each secret under Tencent's 10 versions; it is not in the total.\n")
	}
	if c := r.Cleanup; c != nil {
		fmt.Fprintf(b, "\ncleanup: %d secrets and %d versions deleted, %d failed", c.Secrets, c.Versions, c.Failed)
		if c.FirstError != "" {
			fmt.Fprintf(b, " (first: %s)", c.FirstError)
		}
		b.WriteString("\n")
	}
}

// loadAverage returns the 1, 5 and 15 minute load averages, or "" where
// /proc/loadavg does not exist.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
