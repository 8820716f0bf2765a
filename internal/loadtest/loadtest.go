// Package loadtest sends HTTP requests at a fixed rate (open loop) and reports latency percentiles.
//
// An open loop keeps sending on schedule even when the server slows down, so queueing shows up in
// the latencies instead of silently lowering the offered rate (the coordinated-omission trap).
package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"
)

// Target is one request to send; Bodies are used round-robin, and so are URLs (replicas) when set
// instead of URL.
type Target struct {
	Method string
	URL    string
	URLs   []string
	Bodies [][]byte
}

// Result summarises a run.
type Result struct {
	Rate      int
	Duration  time.Duration
	Sent      int
	OK        int
	Failed    int
	Statuses  map[int]int
	Latencies []time.Duration // sorted
}

// Percentile returns the p-th percentile latency (0 < p <= 100).
func (r Result) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(float64(len(r.Latencies))*p/100+0.5) - 1
	i = max(0, min(i, len(r.Latencies)-1))
	return r.Latencies[i]
}

func (r Result) String() string {
	return fmt.Sprintf("rate=%d/s duration=%s sent=%d ok=%d failed=%d p50=%s p90=%s p99=%s max=%s statuses=%v",
		r.Rate, r.Duration, r.Sent, r.OK, r.Failed, r.Percentile(50), r.Percentile(90), r.Percentile(99), r.Percentile(100), r.Statuses)
}

// Run sends rate requests per second for d and waits for every answer.
func Run(ctx context.Context, client *http.Client, t Target, rate int, d time.Duration) Result {
	if t.Method == "" {
		t.Method = http.MethodPost
	}
	total := int(float64(rate) * d.Seconds())
	interval := time.Second / time.Duration(rate)
	res := Result{Rate: rate, Duration: d, Statuses: map[int]int{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < total; i++ {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			select {
			case <-ctx.Done():
				i = total
				continue
			case <-time.After(wait):
			}
		}
		body := t.Bodies[i%len(t.Bodies)]
		url := t.URL
		if len(t.URLs) > 0 {
			url = t.URLs[i%len(t.URLs)]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Latency counts from when the request was due, not when it left: a late send is slowness too.
			status, err := send(ctx, client, t.Method, url, body)
			lat := time.Since(due)
			mu.Lock()
			defer mu.Unlock()
			res.Sent++
			res.Latencies = append(res.Latencies, lat)
			if err != nil {
				res.Failed++
				res.Statuses[0]++
				return
			}
			res.Statuses[status]++
			if status == http.StatusOK {
				res.OK++
			} else {
				res.Failed++
			}
		}()
	}
	wg.Wait()
	sort.Slice(res.Latencies, func(i, j int) bool { return res.Latencies[i] < res.Latencies[j] })
	return res
}

func send(ctx context.Context, client *http.Client, method, url string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// Client returns an HTTP client that keeps enough idle connections for rate requests per second.
func Client() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 512
	tr.MaxIdleConnsPerHost = 512
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}
