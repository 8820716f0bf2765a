//go:build unix

package impact_test

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time this process has used so far (user and system, every thread, the
// collector included): on a shared machine it measures the work where wall time cannot.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
