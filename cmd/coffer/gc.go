package main

import (
	"os"
	"runtime/debug"
)

// Garbage collection defaults for the long-running commands (server,
// bench). Go's default, GOGC=100, collects each time the heap doubles; a
// server whose live heap is a few tens of MiB then spends about a tenth
// of its CPU collecting. GOGC=400 collects a quarter as often, and the
// soft limit makes the collector work harder again before the heap passes
// it, so memory stays bounded (docs/operations.md, "Memory and GC").
// GOGC and GOMEMLIMIT in the environment win over both.
const (
	defaultGCPercent   = 400
	defaultMemoryLimit = 256 << 20
)

func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}
