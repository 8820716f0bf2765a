package server

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// memLimitShare of the container's memory goes to the Go heap limit; the rest covers stacks,
// goroutines and what the runtime does not count.
const memLimitShare = 0.9

// cgroupMemoryLimit reads the memory limit of the cgroup under root (normally /sys/fs/cgroup): the
// v2 memory.max, else the v1 memory/memory.limit_in_bytes. ok is false when there is no limit.
func cgroupMemoryLimit(root string) (limit int64, file string, ok bool, err error) {
	for _, f := range []string{"memory.max", filepath.Join("memory", "memory.limit_in_bytes")} {
		path := filepath.Join(root, f)
		raw, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, path, false, err
		}
		v := strings.TrimSpace(string(raw))
		if v == "max" {
			return 0, path, false, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, path, false, fmt.Errorf("%s: %w", path, err)
		}
		// cgroup v1 writes "no limit" as a page-rounded huge number.
		if n <= 0 || n >= math.MaxInt64/2 {
			return 0, path, false, nil
		}
		return n, path, true, nil
	}
	return 0, "", false, nil
}

// memoryPolicy is what Run does to the garbage collector before serving.
type memoryPolicy struct {
	Limit     int64  // bytes for debug.SetMemoryLimit; 0 leaves it alone
	GCPercent int    // for debug.SetGCPercent; 0 leaves it alone
	Reason    string // logged
}

// chooseMemoryPolicy keeps the operator's GOMEMLIMIT and GOGC; otherwise it caps the heap at 90% of the
// cgroup limit and, under a cap, collects less often (GOGC=400: the live heap is small and collections
// drove the latency tail). Without any limit it keeps Go's default GOGC so the heap cannot grow to
// five times the live set unchecked.
func chooseMemoryPolicy(env func(string) string, cgroupRoot string) memoryPolicy {
	var p memoryPolicy
	limited := env("GOMEMLIMIT") != ""
	switch {
	case limited:
		p.Reason = "GOMEMLIMIT set by the environment"
	default:
		n, file, ok, err := cgroupMemoryLimit(cgroupRoot)
		switch {
		case err != nil:
			p.Reason = "no memory limit: " + err.Error()
		case !ok:
			p.Reason = "no memory limit: the cgroup sets none"
		default:
			p.Limit = int64(float64(n) * memLimitShare)
			limited = true
			p.Reason = fmt.Sprintf("GOMEMLIMIT %d bytes: 90%% of %d in %s", p.Limit, n, file)
		}
	}
	if env("GOGC") == "" && limited {
		p.GCPercent = defaultGCPercent
	}
	return p
}
