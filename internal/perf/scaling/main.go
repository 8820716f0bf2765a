// Command scaling measures the checkout decisions against the size of their input (payment lines,
// cart lines, wallet coupons, 10 … 5,000) in-process on generated facts, and writes the figures as
// CSV and the plot of docs/performance.md as a self-contained SVG (no plotting tool needed):
//
//	go run ./internal/perf/scaling -csv docs/scaling.csv -svg docs/scaling.svg
//
// -replot redraws the SVG from the CSV without measuring.
//
// Each point is the median over repeated decisions of the process's CPU time per decision (user and
// system: evaluation, garbage collection), which depends much less than wall time on what else the
// machine runs; the wall time and allocations are in the CSV too.
package main

import (
	"context"
	encodingcsv "encoding/csv"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"arbiter/engine"
	"arbiter/internal/perf"
	"arbiter/store"
)

type series struct {
	name  string
	axis  string // what the size counts
	rows  func(n int) store.Rows
	req   func(n int) engine.Request
	color string
}

type point struct {
	series string
	size   int
	cpu    time.Duration
	wall   time.Duration
	allocs uint64
	err    string
}

func main() {
	csvPath := flag.String("csv", "docs/scaling.csv", "where to write the figures")
	svgPath := flag.String("svg", "docs/scaling.svg", "where to write the plot")
	sizes := flag.String("sizes", "10,20,50,100,200,500,1000,2000,5000", "input sizes")
	budget := flag.Duration("budget", 300*time.Millisecond, "measuring time per point (at least 3 decisions)")
	replot := flag.Bool("replot", false, "only redraw the plot from the figures already in -csv")
	beforePath := flag.String("before", "", "figures of an earlier version (a CSV this command wrote) to draw beside, dotted")
	flag.Parse()
	var before []point
	if *beforePath != "" {
		var err error
		if before, err = readCSV(*beforePath); err != nil {
			log.Fatal(err)
		}
	}

	all := []series{
		{name: "coupon.applicability", axis: "payment lines", color: "#1f77b4",
			rows: func(n int) store.Rows { return merge(perf.Payment(n), perf.Broad()) },
			req:  func(int) engine.Request { return perf.Applicability() }},
		{name: "coupon.quote", axis: "cart lines", color: "#2ca02c",
			rows: func(int) store.Rows { return perf.Broad() },
			req:  perf.Quote},
		{name: "coupon.candidates", axis: "wallet coupons (10 lines)", color: "#d62728",
			rows: func(n int) store.Rows { return merge(perf.Payment(10), perf.Wallet(n)) },
			req:  func(int) engine.Request { return perf.Candidates(false) }},
		{name: "coupon.candidates include_rejected", axis: "wallet coupons (10 lines)", color: "#ff7f0e",
			rows: func(n int) store.Rows { return merge(perf.Payment(10), perf.Wallet(n)) },
			req:  func(int) engine.Request { return perf.Candidates(true) }},
	}
	if *replot {
		points, err := readCSV(*csvPath)
		if err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(*svgPath, []byte(svg(all, points, before)), 0o644); err != nil {
			log.Fatal(err)
		}
		return
	}
	var ns []int
	for _, s := range strings.Split(*sizes, ",") {
		var n int
		if _, err := fmt.Sscan(s, &n); err != nil || n < 1 {
			log.Fatalf("bad size %q", s)
		}
		if n > 5000 {
			log.Fatalf("size %d is over coupon.quote's schema maximum of 5,000 lines", n)
		}
		ns = append(ns, n)
	}

	ctx := context.Background()
	var points []point
	for _, s := range all {
		for _, n := range ns {
			p := measure(ctx, s, n, *budget)
			points = append(points, p)
			log.Printf("%-36s %5d  cpu %10v  wall %10v  allocs %8d %s", s.name, n, p.cpu, p.wall, p.allocs, p.err)
		}
	}
	if err := os.WriteFile(*csvPath, []byte(csv(points)), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*svgPath, []byte(svg(all, points, before)), 0o644); err != nil {
		log.Fatal(err)
	}
}

func merge(rs ...store.Rows) store.Rows {
	all := store.Rows{}
	for _, r := range rs {
		all.Merge(r)
	}
	return all
}

// measure decides s at size n repeatedly (a generous deadline: the point is the cost, not the limit).
func measure(ctx context.Context, s series, n int, budget time.Duration) point {
	p := point{series: s.name, size: n}
	e, err := perf.Engine(ctx, s.rows(n), engine.WithTimeout(time.Minute))
	if err != nil {
		log.Fatal(err)
	}
	req := s.req(n)
	if _, err := e.Decide(ctx, req); err != nil {
		p.err = err.Error()
		return p
	}
	var cpus, walls []time.Duration
	var allocs []uint64
	var ms runtime.MemStats
	start := time.Now()
	for len(cpus) < 3 || time.Since(start) < budget {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		m0 := ms.Mallocs
		c0, w0 := cpuTime(), time.Now()
		if _, err := e.Decide(ctx, req); err != nil {
			p.err = err.Error()
			return p
		}
		walls = append(walls, time.Since(w0))
		cpus = append(cpus, cpuTime()-c0)
		runtime.ReadMemStats(&ms)
		allocs = append(allocs, ms.Mallocs-m0)
	}
	p.cpu, p.wall = median(cpus), median(walls)
	sort.Slice(allocs, func(i, j int) bool { return allocs[i] < allocs[j] })
	p.allocs = allocs[len(allocs)/2]
	return p
}

func median(ds []time.Duration) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		log.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func csv(points []point) string {
	var b strings.Builder
	b.WriteString("decision,size,cpu_us,wall_us,allocs,error\n")
	for _, p := range points {
		fmt.Fprintf(&b, "%s,%d,%d,%d,%d,%q\n", p.series, p.size, p.cpu.Microseconds(), p.wall.Microseconds(), p.allocs, p.err)
	}
	return b.String()
}

// readCSV reads the figures csv wrote.
func readCSV(path string) ([]point, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := encodingcsv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var points []point
	for i, r := range rows {
		if i == 0 {
			continue
		}
		if len(r) != 6 {
			return nil, fmt.Errorf("%s: line %d has %d fields, want 6", path, i+1, len(r))
		}
		p := point{series: r[0], err: r[5]}
		var cpu, wall int64
		if _, err := fmt.Sscan(r[1]+" "+r[2]+" "+r[3]+" "+r[4], &p.size, &cpu, &wall, &p.allocs); err != nil {
			return nil, fmt.Errorf("%s: line %d: %w", path, i+1, err)
		}
		p.cpu, p.wall = time.Duration(cpu)*time.Microsecond, time.Duration(wall)*time.Microsecond
		points = append(points, p)
	}
	return points, nil
}

// svg draws CPU time per decision against input size on log-log axes, with a dashed line of slope 1
// (linear growth) through each series' first point for reference, and the before points dotted
// with hollow markers.
func svg(all []series, points, before []point) string {
	const (
		w, h                     = 860, 480
		left, right, top, bottom = 80, 300, 30, 60
	)
	pw, ph := float64(w-left-right), float64(h-top-bottom)
	minX, maxX := math.Inf(1), math.Inf(-1)
	minY, maxY := math.Inf(1), math.Inf(-1)
	for _, p := range append(append([]point{}, points...), before...) {
		if p.err != "" {
			continue
		}
		x, y := math.Log10(float64(p.size)), math.Log10(float64(p.cpu.Microseconds()+1))
		minX, maxX = math.Min(minX, x), math.Max(maxX, x)
		minY, maxY = math.Min(minY, y), math.Max(maxY, y)
	}
	minX, maxX = math.Floor(minX), math.Ceil(maxX)
	minY, maxY = math.Floor(minY), math.Ceil(maxY)
	if maxY == minY {
		maxY++
	}
	px := func(x float64) float64 { return float64(left) + (x-minX)/(maxX-minX)*pw }
	py := func(y float64) float64 { return float64(top) + ph - (y-minY)/(maxY-minY)*ph }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", w, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", w, h)
	for e := minX; e <= maxX; e++ {
		x := px(e)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>`+"\n", x, top, x, h-bottom)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x, h-bottom+18, power(e, ""))
	}
	for e := minY; e <= maxY; e++ {
		y := py(e)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`+"\n", left, y, w-right, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", left-6, y+4, power(e, "µs"))
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.0f" height="%.0f" fill="none" stroke="#333"/>`+"\n", left, top, pw, ph)
	fmt.Fprintf(&b, `<text x="%.0f" y="%d" text-anchor="middle">input size: payment or cart lines, wallet coupons (log scale)</text>`+"\n", float64(left)+pw/2, h-18)
	fmt.Fprintf(&b, `<text transform="translate(18 %.0f) rotate(-90)" text-anchor="middle">CPU time per decision (log scale)</text>`+"\n", float64(top)+ph/2)
	for _, s := range all {
		var pts []string
		for _, p := range before {
			if p.series == s.name && p.err == "" {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(math.Log10(float64(p.size))), py(math.Log10(float64(p.cpu.Microseconds()+1)))))
			}
		}
		if len(pts) > 0 {
			fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="1.5" stroke-dasharray="1 3"/>`+"\n", strings.Join(pts, " "), s.color)
			for _, xy := range pts {
				var x, y float64
				fmt.Sscanf(xy, "%f,%f", &x, &y)
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="white" stroke="%s"/>`+"\n", x, y, s.color)
			}
		}
	}
	for i, s := range all {
		var pts []string
		var first *point
		for j := range points {
			p := &points[j]
			if p.series != s.name || p.err != "" {
				continue
			}
			if first == nil {
				first = p
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(math.Log10(float64(p.size))), py(math.Log10(float64(p.cpu.Microseconds()+1)))))
		}
		if first != nil {
			// slope 1 from the first point: where a linear cost would be at the largest size.
			x0, y0 := math.Log10(float64(first.size)), math.Log10(float64(first.cpu.Microseconds()+1))
			x1 := maxX
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-dasharray="4 4" stroke-opacity="0.5"/>`+"\n",
				px(x0), py(y0), px(x1), py(y0+x1-x0), s.color)
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", strings.Join(pts, " "), s.color)
		for _, xy := range pts {
			var x, y float64
			fmt.Sscanf(xy, "%f,%f", &x, &y)
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`+"\n", x, y, s.color)
		}
		ly := top + 10 + i*34
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"/>`+"\n", w-right+12, ly, w-right+36, ly, s.color)
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", w-right+42, ly+4, s.name)
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#666">against %s</text>`+"\n", w-right+42, ly+18, s.axis)
	}
	ly := top + 10 + len(all)*34
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333" stroke-dasharray="4 4"/>`+"\n", w-right+12, ly, w-right+36, ly)
	fmt.Fprintf(&b, `<text x="%d" y="%d">linear growth</text>`+"\n", w-right+42, ly+4)
	if len(before) > 0 {
		ly += 20
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333" stroke-dasharray="1 3"/>`+"\n", w-right+12, ly, w-right+36, ly)
		fmt.Fprintf(&b, `<circle cx="%d" cy="%d" r="3" fill="white" stroke="#333"/>`+"\n", w-right+24, ly)
		fmt.Fprintf(&b, `<text x="%d" y="%d">before (dotted, hollow)</text>`+"\n", w-right+42, ly+4)
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// power labels 10^e, in the given unit scaled to ms or s when e is large enough.
func power(e float64, unit string) string {
	v := math.Pow(10, e)
	switch {
	case unit == "µs" && v >= 1e6:
		return fmt.Sprintf("%g s", v/1e6)
	case unit == "µs" && v >= 1e3:
		return fmt.Sprintf("%g ms", v/1e3)
	case unit != "":
		return fmt.Sprintf("%g %s", v, unit)
	}
	return fmt.Sprintf("%g", v)
}
