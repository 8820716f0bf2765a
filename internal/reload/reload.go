// Package reload rebuilds the policy set aside, proves it with every tests.yaml case and swaps it in.
package reload

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"arbiter/casetest"
	"arbiter/engine"
	"arbiter/store"
)

// Source returns the tree (policies/, rules/, facts/) to build the next policy set from.
type Source func() (fs.FS, error)

// Report describes one reload attempt.
type Report struct {
	OK               bool      `json:"ok"`
	At               time.Time `json:"at"`
	Revision         string    `json:"revision,omitempty"`
	PreviousRevision string    `json:"previous_revision"`
	ServingRevision  string    `json:"serving_revision"`
	Cases            int       `json:"cases"`
	FailedCases      []string  `json:"failed_cases,omitempty"`
	Problems         []string  `json:"problems,omitempty"`
	Error            string    `json:"error,omitempty"`
}

// Hooks observe reload results (metrics, logs).
type Hooks struct {
	OnResult func(Report)
}

// Manager serialises reloads of one engine.
type Manager struct {
	mu      sync.Mutex
	engine  *engine.Engine
	source  Source
	catalog *store.Catalog
	hooks   Hooks
	last    Report
	lastOK  Report
	tried   bool
}

// New returns a manager that reloads e from source.
func New(e *engine.Engine, source Source, cat *store.Catalog, hooks Hooks) *Manager {
	return &Manager{engine: e, source: source, catalog: cat, hooks: hooks}
}

// Reload builds the next set, runs every case and swaps it in only when all pass.
func (m *Manager) Reload(ctx context.Context) Report {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reload(ctx, m.source)
}

// ReloadFrom reloads like Reload from source instead; when the set swaps in, source becomes the one
// later reloads read.
func (m *Manager) ReloadFrom(ctx context.Context, source Source) Report {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.reload(ctx, source)
	if r.OK {
		m.source = source
	}
	return r
}

func (m *Manager) reload(ctx context.Context, source Source) Report {
	prev := m.engine.PolicySet().Revision()
	r := Report{At: time.Now(), PreviousRevision: prev, ServingRevision: prev}
	next, cases, err := Build(ctx, source)
	if err == nil && next.Catalog().Digest() != m.catalog.Digest() {
		err = &engine.LoadError{Problems: []engine.Problem{{Code: "catalog_changed", File: "facts",
			Message: "the fact catalog differs from the one the store was opened with; migrate and restart to serve it"}}}
	}
	if err != nil {
		r.Error = err.Error()
		var le *engine.LoadError
		if errors.As(err, &le) {
			for _, p := range le.Problems {
				r.Problems = append(r.Problems, p.String())
			}
			r.Error = fmt.Sprintf("policy set has %d problem(s)", len(le.Problems))
		}
		return m.finish(r)
	}
	r.Revision = next.Revision()
	results := casetest.RunAll(ctx, next, cases)
	r.Cases = len(results)
	for _, res := range results {
		if !res.Passed() {
			r.FailedCases = append(r.FailedCases, fmt.Sprintf("%s: %s: %v", res.Case.File, res.Case.Name, res.Failures))
		}
	}
	if len(r.FailedCases) > 0 {
		r.Error = fmt.Sprintf("%d of %d cases failed", len(r.FailedCases), r.Cases)
		return m.finish(r)
	}
	m.engine.Swap(next)
	r.OK = true
	r.ServingRevision = next.Revision()
	return m.finish(r)
}

func (m *Manager) finish(r Report) Report {
	m.last, m.tried = r, true
	if r.OK {
		m.lastOK = r
	}
	if m.hooks.OnResult != nil {
		m.hooks.OnResult(r)
	}
	return r
}

// Status returns the last attempt and the last successful one; ok is false before any attempt.
func (m *Manager) Status() (last, lastOK Report, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last, m.lastOK, m.tried
}

// Build loads a policy set and its catalog cases from source.
func Build(ctx context.Context, source Source, opts ...engine.LoadOption) (*engine.PolicySet, []casetest.Case, error) {
	fsys, err := source()
	if err != nil {
		return nil, nil, fmt.Errorf("policy source: %w", err)
	}
	set, err := engine.Load(ctx, fsys, opts...)
	if err != nil {
		return nil, nil, err
	}
	cases, err := casetest.Load(fsys, set)
	if err != nil {
		return nil, nil, err
	}
	return set, cases, nil
}
