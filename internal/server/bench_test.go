package server_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"arbiter/api"
	"arbiter/engine"
	"arbiter/internal/server"
)

// BenchmarkSampleRequests measures every shipped decision in-process on the embedded default
// (in-memory fixtures), one sub-benchmark per fixtures/requests/*.json.
func BenchmarkSampleRequests(b *testing.B) {
	svc, err := server.Build(context.Background(), server.Config{EvalTimeout: 5 * time.Second}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	files, _ := filepath.Glob("../../fixtures/requests/*.json")
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		req := sampleRequest(b, f)
		if !req.DryRun && isCommit(svc, req.Decision) {
			req.DryRun = true // measure the decision, not a growing ledger
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			if _, err := svc.Engine.Decide(ctx, req); err != nil {
				b.Fatalf("%s: %v", f, err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu := processCPU()
			for i := 0; i < b.N; i++ {
				if _, err := svc.Engine.Decide(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
			// CPU time is steadier than wall time on a shared machine.
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

func isCommit(svc *server.Service, decision string) bool {
	info, ok := svc.Engine.PolicySet().Decision(decision)
	if !ok {
		return false
	}
	for _, v := range info.Versions {
		if v.Commit {
			return true
		}
	}
	return false
}

// TestSampleRequestsAnswer checks every sample request decides on the embedded default, so the
// README's curl examples keep working.
func TestSampleRequestsAnswer(t *testing.T) {
	svc, err := server.Build(context.Background(), server.Config{EvalTimeout: 5 * time.Second}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	files, _ := filepath.Glob("../../fixtures/requests/*.json")
	if len(files) == 0 {
		t.Fatal("no sample requests in fixtures/requests")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			req := sampleRequest(t, f)
			req.DryRun = true
			d, err := svc.Engine.Decide(context.Background(), req)
			if err != nil {
				t.Fatalf("%v", err)
			}
			if d.Outcome == "" || d.DecisionID == "" {
				t.Fatalf("incomplete envelope: %+v", d)
			}
		})
	}
}

// sampleRequest reads a sample body the way the API does, deciding the decision from the file name.
func sampleRequest(t testing.TB, file string) engine.Request {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	req, p := api.ParseRequest(raw)
	if p != nil {
		t.Fatalf("%s: %s", file, p)
	}
	parts := strings.SplitN(strings.TrimSuffix(filepath.Base(file), ".json"), ".", 3)
	req.Decision = parts[0] + "." + parts[1]
	return req
}

// processCPU is the process's user and system CPU time so far, in nanoseconds.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
