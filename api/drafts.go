package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"gopkg.in/yaml.v3"

	"arbiter/casetest"
	"arbiter/engine"
	"arbiter/impact"
	"arbiter/internal/reload"
	"arbiter/revision"
	"arbiter/store"
	"arbiter/store/decisionlog"
)

func (s *server) draftRoutes(r chi.Router) {
	r.Post("/drafts", s.createDraft)
	r.Get("/drafts/{id}", s.getDraft)
	r.Put("/drafts/{id}/files/*", s.putDraftFile)
	r.Delete("/drafts/{id}/files/*", s.deleteDraftFile)
	r.Post("/drafts/{id}/cases", s.addDraftCase)
	r.Post("/drafts/{id}/impact", s.draftImpact)
	r.Post("/drafts/{id}/publish", s.publishDraft)
	s.draftTableRoutes(r)
}

// Validation is what loading a draft's tree and running every case found.
type Validation struct {
	OK       bool             `json:"ok"`
	Tree     string           `json:"tree"`
	Problems []engine.Problem `json:"problems"`
	Cases    CaseCounts       `json:"cases"`
	Results  []CaseResult     `json:"results"`
}

// CaseCounts sums the case results.
type CaseCounts struct {
	Total  int `json:"total"`
	Passed int `json:"passed"`
	Failed int `json:"failed"`
}

// CaseResult is one tests.yaml case's result.
type CaseResult struct {
	File     string   `json:"file"`
	Line     int      `json:"line,omitempty"`
	Name     string   `json:"name"`
	Passed   bool     `json:"passed"`
	Failures []string `json:"failures,omitempty"`
}

// validations caches the validation of recent trees by digest: a GET after an edit costs nothing.
var validations = struct {
	sync.Mutex
	byTree map[string]*Validation
	order  []string
}{byTree: map[string]*Validation{}}

func validate(ctx context.Context, t revision.Tree) *Validation {
	digest := t.Digest()
	validations.Lock()
	if v, ok := validations.byTree[digest]; ok {
		validations.Unlock()
		return v
	}
	validations.Unlock()
	v := &Validation{Tree: digest, Problems: []engine.Problem{}, Results: []CaseResult{}}
	set, cases, err := reload.Build(ctx, func() (fs.FS, error) { return t.FS(), nil })
	if err != nil {
		var le *engine.LoadError
		if errors.As(err, &le) {
			v.Problems = le.Problems
		} else {
			v.Problems = []engine.Problem{{Code: "load", Message: err.Error()}}
		}
	} else {
		for _, res := range casetest.RunAll(ctx, set, cases) {
			v.Results = append(v.Results, CaseResult{File: res.Case.File, Line: res.Case.Line, Name: res.Case.Name, Passed: res.Passed(), Failures: res.Failures})
			v.Cases.Total++
			if res.Passed() {
				v.Cases.Passed++
			} else {
				v.Cases.Failed++
			}
		}
	}
	v.OK = len(v.Problems) == 0 && v.Cases.Failed == 0
	if ctx.Err() != nil {
		return v // cut short: not cached
	}
	validations.Lock()
	defer validations.Unlock()
	validations.byTree[digest] = v
	validations.order = append(validations.order, digest)
	if len(validations.order) > 8 {
		delete(validations.byTree, validations.order[0])
		validations.order = validations.order[1:]
	}
	return v
}

// draftView is the draft as the API shows it: changes, the diff from its base, why publishing would be
// refused, and the validation of its tree.
type draftView struct {
	revision.Draft
	Changes         map[string]string `json:"changes"` // path -> "put" or "delete"
	Diff            revision.Diff     `json:"diff"`
	PublishBlockers []string          `json:"publish_blockers"`
	Validation      *Validation       `json:"validation"`
}

func (s *server) draftView(ctx context.Context, d revision.Draft) (*draftView, error) {
	tree, base, err := s.cfg.Revisions.DraftTree(ctx, d)
	if err != nil {
		return nil, err
	}
	blockers, err := s.cfg.Revisions.PublishBlockers(ctx, tree)
	if err != nil {
		return nil, err
	}
	if blockers == nil {
		blockers = []string{}
	}
	v := &draftView{Draft: d, Changes: map[string]string{}, Diff: revision.DiffTrees(base, tree), PublishBlockers: blockers, Validation: validate(ctx, tree)}
	for p, c := range d.Changes {
		v.Changes[p] = "put"
		if c == nil {
			v.Changes[p] = "delete"
		}
	}
	return v, nil
}

// draftTree reads draft id and the tree it makes; on failure it has answered the problem.
func (s *server) draftTree(w http.ResponseWriter, r *http.Request, id string) (revision.Draft, revision.Tree, bool) {
	d, err := s.cfg.Revisions.GetDraft(r.Context(), id)
	if err != nil {
		writeRevisionError(w, r, err)
		return d, revision.Tree{}, false
	}
	tree, _, err := s.cfg.Revisions.DraftTree(r.Context(), d)
	if err != nil {
		writeRevisionError(w, r, err)
		return d, revision.Tree{}, false
	}
	return d, tree, true
}

func (s *server) writeDraft(w http.ResponseWriter, r *http.Request, id string, status int) {
	d, err := s.cfg.Revisions.GetDraft(r.Context(), id)
	if err != nil {
		writeRevisionError(w, r, err)
		return
	}
	v, err := s.draftView(r.Context(), d)
	if err != nil {
		writeRevisionError(w, r, err)
		return
	}
	writeJSON(w, status, v)
}

// decodeBody reads an optional JSON body into v.
func decodeBody(w http.ResponseWriter, r *http.Request, max int64, v any) bool {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		writeProblem(w, r, problem(http.StatusRequestEntityTooLarge, codeBodyTooLarge, err.Error()))
		return false
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return true
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeProblem(w, r, problem(http.StatusBadRequest, codeMalformedJSON, err.Error()))
		return false
	}
	return true
}

func (s *server) createDraft(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Base   string `json:"base"` // revision reference; empty: the latest
		Author string `json:"author"`
	}
	if !decodeBody(w, r, s.cfg.MaxBodyBytes, &body) {
		return
	}
	var base int64
	if body.Base != "" {
		rev, err := s.cfg.Revisions.Resolve(r.Context(), body.Base)
		if err != nil {
			writeRevisionError(w, r, err)
			return
		}
		base = rev.Seq
	}
	if body.Author == "" {
		body.Author = callerName(r)
	}
	d, err := s.cfg.Revisions.CreateDraft(r.Context(), base, body.Author)
	if err != nil {
		writeRevisionError(w, r, err)
		return
	}
	s.writeDraft(w, r, d.ID, http.StatusCreated)
}

func (s *server) getDraft(w http.ResponseWriter, r *http.Request) {
	s.writeDraft(w, r, chi.URLParam(r, "id"), http.StatusOK)
}

// maxDraftFile bounds one file of a draft (the largest shipped file is far smaller).
const maxDraftFile = 4 << 20

func (s *server) putDraftFile(w http.ResponseWriter, r *http.Request) {
	content, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxDraftFile))
	if err != nil {
		writeProblem(w, r, problem(http.StatusRequestEntityTooLarge, codeBodyTooLarge, err.Error()))
		return
	}
	if content == nil {
		content = []byte{}
	}
	s.editDraft(w, r, content)
}

func (s *server) deleteDraftFile(w http.ResponseWriter, r *http.Request) {
	s.editDraft(w, r, nil)
}

func (s *server) editDraft(w http.ResponseWriter, r *http.Request, content []byte) {
	id, p := chi.URLParam(r, "id"), chi.URLParam(r, "*")
	if err := revision.CheckPath(p); err != nil {
		writeProblem(w, r, problem(http.StatusUnprocessableEntity, codeInvalidRequest, err.Error(),
			engine.FieldError{Field: "path", Message: err.Error()}))
		return
	}
	if err := s.cfg.Revisions.PutDraftFile(r.Context(), id, p, content); err != nil {
		writeRevisionError(w, r, err)
		return
	}
	s.writeDraft(w, r, id, http.StatusOK)
}

func (s *server) publishDraft(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Message string `json:"message"`
		Author  string `json:"author"`
		// Force publishes although cases fail or the tree has problems (replicas will then refuse it).
		Force bool `json:"force"`
	}
	if !decodeBody(w, r, s.cfg.MaxBodyBytes, &body) {
		return
	}
	if strings.TrimSpace(body.Message) == "" {
		writeProblem(w, r, problem(http.StatusUnprocessableEntity, codeInvalidRequest, "message is required",
			engine.FieldError{Field: "message", Message: "is required"}))
		return
	}
	id := chi.URLParam(r, "id")
	_, tree, ok := s.draftTree(w, r, id)
	if !ok {
		return
	}
	if v := validate(r.Context(), tree); !v.OK && !body.Force {
		p := problem(http.StatusUnprocessableEntity, codeInvalidRequest,
			fmt.Sprintf("the draft does not validate: %d problem(s), %d of %d cases fail; no replica would serve it", len(v.Problems), v.Cases.Failed, v.Cases.Total))
		writeProblem(w, r, p)
		return
	}
	rev, err := s.cfg.Revisions.PublishDraft(r.Context(), id, revision.Meta{Author: body.Author, Message: body.Message})
	if err != nil {
		writeRevisionError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, rev)
}

// caseName must cite a catalog rule id, as every tests.yaml case name does.
var caseName = regexp.MustCompile(`^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*-\d+`)

// addDraftCase turns a logged decision into a case of its policy version's tests.yaml in the draft:
// the logged input and as_of, the logged facts as given rows, and the logged answer as want.
func (s *server) addDraftCase(w http.ResponseWriter, r *http.Request) {
	var body struct {
		DecisionID string `json:"decision_id"`
		Name       string `json:"name"`
	}
	if !decodeBody(w, r, s.cfg.MaxBodyBytes, &body) {
		return
	}
	var bad []engine.FieldError
	if body.DecisionID == "" {
		bad = append(bad, engine.FieldError{Field: "decision_id", Message: "is required"})
	}
	if !caseName.MatchString(body.Name) {
		bad = append(bad, engine.FieldError{Field: "name", Message: "must cite a catalog rule id (e.g. INC-04 …)"})
	}
	if len(bad) > 0 {
		writeProblem(w, r, problem(http.StatusUnprocessableEntity, codeInvalidRequest, "decision_id is required, and name must start with a catalog rule id (e.g. INC-04 …)", bad...))
		return
	}
	if s.cfg.Log == nil {
		writeProblem(w, r, problem(http.StatusNotFound, codeNotFound, "no decision log is configured"))
		return
	}
	rec, err := s.cfg.Log.Get(r.Context(), body.DecisionID)
	if errors.Is(err, decisionlog.ErrNotFound) {
		writeProblem(w, r, problem(http.StatusNotFound, codeNotFound, "no logged decision "+body.DecisionID))
		return
	}
	if err != nil {
		writeProblem(w, r, problem(http.StatusServiceUnavailable, codeInternal, err.Error()))
		return
	}
	id := chi.URLParam(r, "id")
	_, tree, ok := s.draftTree(w, r, id)
	if !ok {
		return
	}
	file, content, err := appendCase(tree, rec, body.Name)
	if err != nil {
		writeProblem(w, r, problem(http.StatusUnprocessableEntity, codeInvalidRequest, err.Error()))
		return
	}
	if err := s.cfg.Revisions.PutDraftFile(r.Context(), id, file, content); err != nil {
		writeRevisionError(w, r, err)
		return
	}
	s.writeDraft(w, r, id, http.StatusOK)
}

// appendCase returns the tests.yaml of rec's policy version in tree with a case made from rec appended.
func appendCase(tree revision.Tree, rec decisionlog.Record, name string) (string, []byte, error) {
	domain, decision, ok := strings.Cut(rec.Decision, ".")
	if !ok {
		return "", nil, fmt.Errorf("decision %q has no domain", rec.Decision)
	}
	dir := path.Join("policies", domain, decision, rec.Version)
	file := path.Join(dir, "tests.yaml")
	tests, ok := tree[file]
	if !ok {
		return "", nil, fmt.Errorf("%s is not in the draft: the version that made the decision is gone", file)
	}
	var m struct {
		Facts map[string]struct {
			Provider string `yaml:"provider"`
		} `yaml:"facts"`
	}
	if err := yaml.Unmarshal(tree[path.Join(dir, "manifest.yaml")], &m); err != nil {
		return "", nil, fmt.Errorf("%s: %w", path.Join(dir, "manifest.yaml"), err)
	}
	cat, err := catalogOf(tree)
	if err != nil {
		return "", nil, err
	}
	var env struct {
		Outcome string `json:"outcome"`
		Reasons []struct {
			Code string `json:"code"`
		} `json:"reasons"`
		Outputs map[string]any `json:"outputs"`
	}
	var input any
	var facts map[string]any
	if err := errors.Join(json.Unmarshal(rec.Envelope, &env), json.Unmarshal(rec.Input, &input), json.Unmarshal(rec.Facts, &facts)); err != nil {
		return "", nil, fmt.Errorf("logged decision %s: %w", rec.ID, err)
	}
	given := map[string][]any{}
	for name, v := range facts {
		ref, ok := m.Facts[name]
		if !ok || v == nil {
			continue
		}
		prov, ok := cat.Provider(ref.Provider)
		if !ok || prov.Table == "" {
			continue
		}
		switch x := v.(type) {
		case []any:
			given[prov.Table] = append(given[prov.Table], x...)
		case map[string]any:
			given[prov.Table] = append(given[prov.Table], x)
		}
	}
	reasons := make([]string, 0, len(env.Reasons))
	for _, r := range env.Reasons {
		reasons = append(reasons, r.Code)
	}
	c := map[string]any{
		"name":  name,
		"as_of": rec.AsOf.In(engine.Beijing).Format(time.RFC3339),
		"input": input,
		"want":  map[string]any{"outcome": env.Outcome, "reasons": reasons, "outputs": env.Outputs},
	}
	if len(given) > 0 {
		c["given"] = given
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode([]any{orderedCase(c)}); err != nil {
		return "", nil, err
	}
	indent := "  "
	if bytes.Contains(tests, []byte("\n- ")) && !bytes.Contains(tests, []byte("\n  - ")) {
		indent = ""
	}
	out := bytes.TrimRight(tests, "\n")
	if !bytes.Contains(tests, []byte("cases:")) {
		out = append(out, []byte("\ncases:")...)
	}
	out = append(out, '\n')
	for _, line := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
		out = append(out, []byte(indent+line+"\n")...)
	}
	return file, out, nil
}

// orderedCase writes a case's keys in the order tests.yaml files use.
func orderedCase(c map[string]any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, k := range []string{"name", "as_of", "input", "given", "want"} {
		v, ok := c[k]
		if !ok {
			continue
		}
		var val yaml.Node
		if err := val.Encode(v); err != nil {
			continue
		}
		if k == "input" || k == "want" {
			flowStyle(&val)
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, &val)
	}
	return n
}

// flowStyle writes nested maps and lists on one line, as the catalog's cases do.
func flowStyle(n *yaml.Node) {
	if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
		n.Style = yaml.FlowStyle
	}
	for _, c := range n.Content {
		flowStyle(c)
	}
}

func (s *server) draftImpact(w http.ResponseWriter, r *http.Request) {
	var body struct {
		From      time.Time `json:"from"`
		To        time.Time `json:"to"`
		Decisions []string  `json:"decisions"`
		IDs       []string  `json:"decision_ids"`
		AsOfShift string    `json:"as_of_shift"`
		Examples  int       `json:"examples"`
	}
	if !decodeBody(w, r, s.cfg.MaxBodyBytes, &body) {
		return
	}
	shift, err := impact.ParseShift(body.AsOfShift)
	if err != nil {
		writeProblem(w, r, problem(http.StatusUnprocessableEntity, codeInvalidRequest, err.Error()))
		return
	}
	d, err := s.cfg.Revisions.GetDraft(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		writeRevisionError(w, r, err)
		return
	}
	tree, _, err := s.cfg.Revisions.DraftTree(r.Context(), d)
	if err != nil {
		writeRevisionError(w, r, err)
		return
	}
	set, err := engine.Load(r.Context(), tree.FS())
	if err != nil {
		writeProblem(w, r, problem(http.StatusUnprocessableEntity, codeInvalidRequest, "the draft does not load: "+err.Error()))
		return
	}
	filter := decisionlog.Filter{From: body.From, To: body.To, Decisions: body.Decisions, IDs: body.IDs}
	pool := s.cfg.Revisions.Pool()
	rep, err := impact.Run(r.Context(), set, func(ctx context.Context, fn func(decisionlog.Record) error) error {
		return decisionlog.Stream(ctx, pool, filter, fn)
	}, impact.Options{Shift: shift, Examples: body.Examples})
	if err != nil {
		writeProblem(w, r, problem(http.StatusServiceUnavailable, codeInternal, "impact: "+err.Error()))
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// catalogOf reads the fact catalog of a tree.
func catalogOf(t revision.Tree) (*store.Catalog, error) {
	sub, err := fs.Sub(t.FS(), "facts")
	if err != nil {
		return nil, err
	}
	return store.LoadCatalog(sub)
}
