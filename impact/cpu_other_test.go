//go:build !unix

package impact_test

import "time"

// cpuTime is unknown here; the cpu-ns/op metric then reads 0.
func cpuTime() time.Duration { return 0 }
