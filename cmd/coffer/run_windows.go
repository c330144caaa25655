//go:build windows

package main

import (
	"os"
	"syscall"
)

// forwarded are the signals coffer run passes on to its command.
var forwarded = []os.Signal{os.Interrupt}

// signalNames are the signals the agent may send, by name: Windows has
// only KILL.
var signalNames = map[string]syscall.Signal{"SIGKILL": syscall.SIGKILL}
