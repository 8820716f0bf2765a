package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"arbiter/engine/lang"
	"arbiter/engine/lang/cel"
	"arbiter/engine/lang/rego"
	"arbiter/internal/strictyaml"
	"arbiter/store"
)

// PolicySet is an immutable, validated and compiled set of policy versions and rule tables.
type PolicySet struct {
	revision  string
	loadedAt  time.Time
	decisions map[string]*decisionEntry
	tables    map[string]*tableEntry
	catalog   *store.Catalog
}

type decisionEntry struct {
	id       string
	versions []*policyVersion // sorted by valid_from
}

type policyVersion struct {
	decision   string
	version    string
	dir        string
	digest     string
	language   string
	desc       string
	window     window
	ruleIDs    []string
	ruleOrder  map[string]int
	facts      []factSpec
	stages     int // later fact-loading stages after the first
	tables     []tableRef
	lateTables bool // some table's version is chosen by a date read from facts
	schema     *jsonschema.Schema
	commit     *commitPlan
	program    lang.Program
}

type factSpec struct {
	name     string
	provider string
	key      []keySpec
	stage    int // 0: keyed by the input alone; n: keyed by facts of earlier stages
}

type keySpec struct {
	column string
	tmpl   template
}

type tableRef struct {
	name string
	id   string
	at   *template // the instant choosing the version; nil: as_of
}

type commitPlan struct {
	idempotencyKey template
	locks          []template
	holdOnRefer    bool // a referred answer records its ledger entries: the act waits for a person
}

type tableEntry struct {
	id        string
	schema    *jsonschema.Schema
	schemaDoc any // schema.yaml as decoded, for callers that show column descriptions
	versions  []*tableVersion
}

type tableVersion struct {
	id      string
	version string
	file    string
	digest  string
	window  window
	data    any
	desc    string
}

type tableFileYAML struct {
	Table       string     `yaml:"table"`
	Version     string     `yaml:"version"`
	ValidFrom   time.Time  `yaml:"valid_from"`
	ValidTo     *time.Time `yaml:"valid_to"`
	Description string     `yaml:"description"`
	Data        yaml.Node  `yaml:"data"`
}

// LoadOption narrows or adjusts loading.
type LoadOption func(*loadConfig)

type loadConfig struct {
	only      []string
	catalog   *store.Catalog
	languages map[string]lang.Compiler
}

// WithCatalog validates the set against cat instead of the catalog in the tree's facts/ folder.
func WithCatalog(cat *store.Catalog) LoadOption { return func(c *loadConfig) { c.catalog = cat } }

// WithLanguage adds (or replaces) the compiler of one policy language; rego and cel are built in.
func WithLanguage(name string, c lang.Compiler) LoadOption {
	return func(cfg *loadConfig) { cfg.languages[name] = c }
}

// Only loads the policy versions under these paths (such as "policies/coupon"); every rule table is
// still loaded. It lets a policy author test one domain while another is half-written.
func Only(paths ...string) LoadOption {
	return func(c *loadConfig) {
		for _, p := range paths {
			p = strings.TrimSuffix(strings.TrimPrefix(path.Clean(p), "./"), "/")
			if p != "." && p != "" {
				c.only = append(c.only, p)
			}
		}
	}
}

// wantsTable keeps a rule-table problem when every policy is loaded, or when a loaded policy reads
// that table or the table is in a loaded domain.
func (c *loadConfig) wantsTable(set *PolicySet) func(lang.Problem) bool {
	if len(c.only) == 0 {
		return func(lang.Problem) bool { return true }
	}
	read := map[string]bool{}
	for _, e := range set.decisions {
		for _, v := range e.versions {
			for _, t := range v.tables {
				read[t.id] = true
			}
		}
	}
	return func(p lang.Problem) bool {
		parts := strings.Split(p.File, "/") // rules/<domain>/<table>/...
		if len(parts) < 3 {
			return true
		}
		return read[parts[1]+"."+parts[2]] || c.wants("policies/"+parts[1])
	}
}

func (c *loadConfig) wants(dir string) bool {
	if len(c.only) == 0 {
		return true
	}
	for _, p := range c.only {
		if dir == p || strings.HasPrefix(dir, p+"/") || strings.HasPrefix(p, dir+"/") {
			return true
		}
	}
	return false
}

// Load reads, validates and compiles a policy tree: the fact catalog in facts/, the rule tables in
// rules/ and the policy versions in policies/. Every problem found is reported at once in a *LoadError.
func Load(ctx context.Context, fsys fs.FS, opts ...LoadOption) (*PolicySet, error) {
	cfg := &loadConfig{languages: map[string]lang.Compiler{"rego": rego.Compiler{}, "cel": cel.Compiler{}}}
	for _, o := range opts {
		o(cfg)
	}
	cat := cfg.catalog
	if cat == nil {
		sub, err := fs.Sub(fsys, "facts")
		if err != nil {
			return nil, err
		}
		if cat, err = store.LoadCatalog(sub); err != nil {
			return nil, fmt.Errorf("fact catalog: %w", err)
		}
	}
	ps := &lang.Problems{}
	set := &PolicySet{
		loadedAt:  time.Now(),
		decisions: map[string]*decisionEntry{},
		tables:    map[string]*tableEntry{},
		catalog:   cat,
	}
	tps := &lang.Problems{}
	loadTables(fsys, set, tps)
	loadPolicies(ctx, fsys, set, cfg, ps)
	ps.List = append(filterProblems(tps.List, cfg.wantsTable(set)), ps.List...)
	if err := loadError(ps); err != nil {
		return nil, err
	}
	set.revision = set.computeRevision()
	return set, nil
}

func loadTables(fsys fs.FS, set *PolicySet, ps *lang.Problems) {
	domains, err := fs.ReadDir(fsys, "rules")
	if err != nil {
		if !isNotExist(err) {
			ps.Add(lang.ProblemRead, "rules", 0, "cannot read: %v", err)
		}
		return
	}
	for _, d := range domains {
		if !d.IsDir() {
			ps.Add(lang.ProblemInvalid, path.Join("rules", d.Name()), 0, "expected a domain folder")
			continue
		}
		tables, err := fs.ReadDir(fsys, path.Join("rules", d.Name()))
		if err != nil {
			ps.Add(lang.ProblemRead, path.Join("rules", d.Name()), 0, "cannot read: %v", err)
			continue
		}
		for _, t := range tables {
			dir := path.Join("rules", d.Name(), t.Name())
			if !t.IsDir() {
				ps.Add(lang.ProblemInvalid, dir, 0, "expected a table folder rules/<domain>/<table>/")
				continue
			}
			loadTable(fsys, dir, d.Name()+"."+t.Name(), set, ps)
		}
	}
}

func loadTable(fsys fs.FS, dir, id string, set *PolicySet, ps *lang.Problems) {
	entry := &tableEntry{id: id}
	schemaFile := path.Join(dir, "schema.yaml")
	raw, err := fs.ReadFile(fsys, schemaFile)
	if err != nil {
		ps.Add(lang.ProblemReference, schemaFile, 0, "missing: every rule table needs a schema.yaml")
	} else if n, ok := strictyaml.Parse(schemaFile, raw, ps); ok {
		if doc, err := strictyaml.Value(n); err != nil {
			ps.Add(lang.ProblemSchema, schemaFile, 0, "%v", err)
		} else if s, err := compileSchema(schemaFile, doc); err != nil {
			ps.Add(lang.ProblemSchema, schemaFile, 0, "%v", err)
		} else {
			entry.schema, entry.schemaDoc = s, doc
		}
	}
	files, _ := fs.ReadDir(fsys, dir)
	for _, f := range files {
		name := f.Name()
		if f.IsDir() || name == "schema.yaml" || !strings.HasSuffix(name, ".yaml") || IsExample(name) {
			continue
		}
		file := path.Join(dir, name)
		raw, err := fs.ReadFile(fsys, file)
		if err != nil {
			ps.Add(lang.ProblemRead, file, 0, "cannot read: %v", err)
			continue
		}
		var tf tableFileYAML
		if !strictyaml.Decode(file, raw, &tf, ps) {
			continue
		}
		line := tf.Data.Line
		if tf.Table != id {
			ps.Add(lang.ProblemInvalid, file, 1, "table is %q, but the folder makes it %q", tf.Table, id)
		}
		if want := strings.TrimSuffix(name, ".yaml"); tf.Version != want {
			ps.Add(lang.ProblemInvalid, file, 1, "version is %q, but the file name makes it %q", tf.Version, want)
		}
		if tf.ValidFrom.IsZero() {
			ps.Add(lang.ProblemInvalid, file, 1, "valid_from is required")
		}
		w := window{From: tf.ValidFrom, To: tf.ValidTo}
		if w.To != nil && !w.To.After(w.From) {
			ps.Add(lang.ProblemInvalid, file, 1, "valid_to %s is not after valid_from %s", w.To.Format(time.RFC3339), w.From.Format(time.RFC3339))
		}
		if tf.Data.Kind == 0 {
			ps.Add(lang.ProblemInvalid, file, 1, "data is required")
			continue
		}
		data, err := strictyaml.Value(&tf.Data)
		if err != nil {
			ps.Add(lang.ProblemInvalid, file, line, "%v", err)
			continue
		}
		if p := strictyaml.FindFloat(data, "data"); p != "" {
			ps.Add(lang.ProblemInvalid, file, line, "%s: write decimals as quoted strings (\"0.04\"), never as YAML floats", p)
			continue
		}
		if entry.schema != nil {
			for _, fe := range validateFields(entry.schema, data, "data") {
				ps.Add(lang.ProblemSchema, file, line, "%s %s", fe.Field, fe.Message)
			}
		}
		sum := sha256.Sum256(raw)
		entry.versions = append(entry.versions, &tableVersion{
			id: id, version: tf.Version, file: file, digest: "sha256:" + hex.EncodeToString(sum[:]),
			window: w, data: data, desc: tf.Description,
		})
	}
	if len(entry.versions) == 0 {
		ps.Add(lang.ProblemInvalid, dir, 0, "rule table %s has no version files", id)
	}
	sort.Slice(entry.versions, func(i, j int) bool { return entry.versions[i].window.From.Before(entry.versions[j].window.From) })
	for i := 0; i < len(entry.versions); i++ {
		for j := i + 1; j < len(entry.versions); j++ {
			a, b := entry.versions[i], entry.versions[j]
			if a.window.overlaps(b.window) {
				ps.Add(lang.ProblemOverlap, b.file, 1, "window %s overlaps version %s %s of table %s", b.window, a.version, a.window, id)
			}
		}
	}
	set.tables[id] = entry
}

func loadPolicies(ctx context.Context, fsys fs.FS, set *PolicySet, cfg *loadConfig, ps *lang.Problems) {
	manifests, err := fs.Glob(fsys, "policies/*/*/*/manifest.yaml")
	if err != nil {
		ps.Add(lang.ProblemInvalid, "policies", 0, "%v", err)
		return
	}
	if len(manifests) == 0 {
		ps.Add(lang.ProblemInvalid, "policies", 0, "no policy versions found (policies/<domain>/<decision>/<version>/manifest.yaml)")
		return
	}
	for _, mf := range manifests {
		if !cfg.wants(path.Dir(mf)) || IsExample(path.Dir(mf)) {
			continue
		}
		if pv := loadPolicyVersion(ctx, fsys, path.Dir(mf), set, cfg, ps); pv != nil {
			e := set.decisions[pv.decision]
			if e == nil {
				e = &decisionEntry{id: pv.decision}
				set.decisions[pv.decision] = e
			}
			e.versions = append(e.versions, pv)
		}
	}
	for _, e := range set.decisions {
		sort.Slice(e.versions, func(i, j int) bool { return e.versions[i].window.From.Before(e.versions[j].window.From) })
		for i := 0; i < len(e.versions); i++ {
			for j := i + 1; j < len(e.versions); j++ {
				a, b := e.versions[i], e.versions[j]
				if a.window.overlaps(b.window) {
					ps.Add(lang.ProblemOverlap, path.Join(b.dir, "manifest.yaml"), 1, "window %s overlaps version %s %s of decision %s", b.window, a.version, a.window, e.id)
				}
			}
		}
	}
}

func loadPolicyVersion(ctx context.Context, fsys fs.FS, dir string, set *PolicySet, cfg *loadConfig, ps *lang.Problems) *policyVersion {
	file := path.Join(dir, "manifest.yaml")
	raw, err := fs.ReadFile(fsys, file)
	if err != nil {
		ps.Add(lang.ProblemRead, file, 0, "cannot read: %v", err)
		return nil
	}
	var m manifest
	if !strictyaml.Decode(file, raw, &m, ps) {
		return nil
	}
	before := ps.Len()
	parts := strings.Split(dir, "/") // policies/<domain>/<decision>/<version>
	wantDecision := parts[1] + "." + parts[2]
	if m.Decision != wantDecision {
		ps.Add(lang.ProblemInvalid, file, 1, "decision is %q, but the folder makes it %q", m.Decision, wantDecision)
	}
	if m.Version != parts[3] {
		ps.Add(lang.ProblemInvalid, file, 1, "version is %q, but the folder name makes it %q", m.Version, parts[3])
	}
	if m.ValidFrom.IsZero() {
		ps.Add(lang.ProblemInvalid, file, 1, "valid_from is required")
	}
	w := window{From: m.ValidFrom, To: m.ValidTo}
	if w.To != nil && !w.To.After(w.From) {
		ps.Add(lang.ProblemInvalid, file, 1, "valid_to is not after valid_from")
	}
	pv := &policyVersion{
		decision: m.Decision, version: m.Version, dir: dir, language: m.Language, desc: m.Description,
		window: w, ruleIDs: m.Rules, ruleOrder: map[string]int{},
	}
	for i, r := range m.Rules {
		pv.ruleOrder[r] = i
	}
	// facts
	names := slices.Sorted(maps.Keys(m.Facts))
	for _, name := range names {
		ref := m.Facts[name]
		prov, ok := set.catalog.Provider(ref.Provider)
		if !ok {
			ps.Add(lang.ProblemReference, file, 0, "facts.%s: provider %q does not exist", name, ref.Provider)
			continue
		}
		fs := factSpec{name: name, provider: ref.Provider}
		for _, col := range slices.Sorted(maps.Keys(ref.Key)) {
			t, err := parseTemplate(ref.Key[col])
			if err != nil {
				ps.Add(lang.ProblemInvalid, file, 0, "facts.%s.key.%s: %v", name, col, err)
				continue
			}
			fs.key = append(fs.key, keySpec{column: col, tmpl: t})
		}
		if !sameSet(slices.Sorted(maps.Keys(ref.Key)), prov.By) {
			ps.Add(lang.ProblemInvalid, file, 0, "facts.%s: key columns %v must be exactly the provider's lookup columns %v", name, slices.Sorted(maps.Keys(ref.Key)), prov.By)
		}
		pv.facts = append(pv.facts, fs)
	}
	pv.stages = stageFacts(file, pv.facts, set.catalog, ps)
	// tables
	factNames := map[string]bool{}
	for _, f := range pv.facts {
		factNames[f.name] = true
	}
	for _, name := range slices.Sorted(maps.Keys(m.Tables)) {
		id := m.Tables[name].Table
		if _, ok := set.tables[id]; !ok {
			ps.Add(lang.ProblemReference, file, 0, "tables.%s: rule table %q does not exist", name, id)
			continue
		}
		ref := tableRef{name: name, id: id}
		if at := m.Tables[name].At; at != "" {
			t, err := parseTemplate(at)
			if err != nil {
				ps.Add(lang.ProblemInvalid, file, 0, "tables.%s.at: %v", name, err)
				continue
			}
			if len(t.parts) == 0 || (len(t.parts) == 1 && t.parts[0].literal != "") {
				ps.Add(lang.ProblemInvalid, file, 0, "tables.%s.at: %q must take its date from the input or a fact, such as \"{input.policy_year}-12-31T00:00:00+08:00\"", name, at)
				continue
			}
			bad := false
			for _, f := range t.facts() {
				if !factNames[f] {
					ps.Add(lang.ProblemReference, file, 0, "tables.%s.at: no fact %q in this manifest", name, f)
					bad = true
				}
			}
			if bad {
				continue
			}
			ref.at = &t
			pv.lateTables = pv.lateTables || ref.late()
		}
		pv.tables = append(pv.tables, ref)
	}
	// input schema
	if m.InputSchema.Kind == 0 {
		ps.Add(lang.ProblemInvalid, file, 1, "input_schema is required")
	} else if doc, err := strictyaml.Value(&m.InputSchema); err != nil {
		ps.Add(lang.ProblemSchema, file, m.InputSchema.Line, "input_schema: %v", err)
	} else if s, err := compileSchema(file, doc); err != nil {
		ps.Add(lang.ProblemSchema, file, m.InputSchema.Line, "input_schema: %v", err)
	} else {
		pv.schema = s
	}
	// commit
	if m.Commit != nil {
		cp := &commitPlan{holdOnRefer: m.Commit.HoldOnRefer}
		t, err := parseTemplate(m.Commit.IdempotencyKey)
		if err != nil || m.Commit.IdempotencyKey == "" {
			ps.Add(lang.ProblemInvalid, file, 0, "commit.idempotency_key: must be a template such as \"{input.payment_id}\" (%v)", err)
		}
		cp.idempotencyKey = t
		if len(m.Commit.Locks) == 0 {
			ps.Add(lang.ProblemInvalid, file, 0, "commit.locks: a commit needs at least one lock key")
		}
		if len(t.facts()) > 0 {
			ps.Add(lang.ProblemInvalid, file, 0, "commit.idempotency_key: a commit's keys come from the input, not from facts")
		}
		for _, l := range m.Commit.Locks {
			t, err := parseTemplate(l)
			if err != nil {
				ps.Add(lang.ProblemInvalid, file, 0, "commit.locks: %v", err)
				continue
			}
			if len(t.facts()) > 0 {
				ps.Add(lang.ProblemInvalid, file, 0, "commit.locks: %q: locks are taken before facts load, so they come from the input", l)
				continue
			}
			cp.locks = append(cp.locks, t)
		}
		pv.commit = cp
	}
	// program
	modules := sharedModules(file, m.Modules, ps)
	if c, ok := cfg.languages[m.Language]; !ok {
		ps.Add(lang.ProblemInvalid, file, 1, "language must be one of %v, not %q", slices.Sorted(maps.Keys(cfg.languages)), m.Language)
	} else {
		prog, problems := c.Compile(ctx, lang.Source{FS: fsys, Dir: dir, Entrypoint: m.Entrypoint, Modules: modules, RuleIDs: m.Rules})
		ps.List = append(ps.List, problems...)
		pv.program = prog
	}
	if ps.Len() > before {
		return nil
	}
	pv.digest = digestFiles(fsys, dir, modules)
	return pv
}

// digestFiles digests every file of the version folder and the shared modules it names.
// stageFacts orders facts keyed by other facts after those facts, and returns the number of later
// stages (0 when every key comes from the input). A reference to an unknown fact, to a list of rows
// or a cycle is a problem.
func stageFacts(file string, specs []factSpec, cat *store.Catalog, ps *lang.Problems) int {
	index := map[string]int{}
	for i, f := range specs {
		index[f.name] = i
	}
	const visiting = -1
	stage := make([]int, len(specs))
	done := make([]bool, len(specs))
	var visit func(i int) int
	visit = func(i int) int {
		if done[i] {
			return stage[i]
		}
		if stage[i] == visiting {
			ps.Add(lang.ProblemInvalid, file, 0, "facts.%s: its key depends on itself through other facts", specs[i].name)
			return 0
		}
		stage[i] = visiting
		s := 0
		for _, k := range specs[i].key {
			for _, dep := range k.tmpl.facts() {
				j, ok := index[dep]
				if !ok {
					ps.Add(lang.ProblemReference, file, 0, "facts.%s.key.%s: no fact %q in this manifest", specs[i].name, k.column, dep)
					continue
				}
				if p, _ := cat.Provider(specs[j].provider); !p.One {
					ps.Add(lang.ProblemInvalid, file, 0, "facts.%s.key.%s: %s is a list of rows; keys can come only from a one-row fact", specs[i].name, k.column, dep)
					continue
				}
				s = max(s, visit(j)+1)
			}
		}
		stage[i], done[i] = s, true
		return s
	}
	top := 0
	for i := range specs {
		top = max(top, visit(i))
	}
	for i := range specs {
		specs[i].stage = stage[i]
	}
	return top
}

func digestFiles(fsys fs.FS, dir string, shared []string) string {
	h := sha256.New()
	entries, _ := fs.ReadDir(fsys, dir)
	files := make([]string, 0, len(entries)+len(shared))
	for _, e := range entries {
		if !e.IsDir() {
			files = append(files, path.Join(dir, e.Name()))
		}
	}
	files = append(files, shared...)
	for _, f := range files {
		raw, _ := fs.ReadFile(fsys, f)
		fmt.Fprintf(h, "%s\x00%d\x00", f, len(raw))
		h.Write(raw)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// sharedModules resolves a manifest's modules (paths under policies/) to files.
func sharedModules(manifestFile string, modules []string, ps *lang.Problems) []string {
	out := make([]string, 0, len(modules))
	for _, m := range modules {
		clean := path.Clean(m)
		if path.IsAbs(clean) || strings.HasPrefix(clean, "..") || !strings.HasSuffix(clean, ".rego") {
			ps.Add(lang.ProblemInvalid, manifestFile, 0, "modules: %q must be a .rego path under policies/", m)
			continue
		}
		out = append(out, path.Join("policies", clean))
	}
	return out
}

func (s *PolicySet) computeRevision() string {
	h := sha256.New()
	for _, id := range slices.Sorted(maps.Keys(s.decisions)) {
		for _, v := range s.decisions[id].versions {
			fmt.Fprintf(h, "%s@%s=%s\n", id, v.version, v.digest)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(s.tables)) {
		for _, v := range s.tables[id].versions {
			fmt.Fprintf(h, "%s@%s=%s\n", id, v.version, v.digest)
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:16]
}

// IsExample reports whether a path names an example or a draft that is never served: a rule-table
// file *.example.yaml or *.draft.yaml, or anything under a folder named *.example or *.draft.
func IsExample(p string) bool {
	for _, part := range strings.Split(p, "/") {
		base := strings.TrimSuffix(part, ".yaml")
		if strings.HasSuffix(base, ".example") || strings.HasSuffix(base, ".draft") {
			return true
		}
	}
	return false
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]bool{}
	for _, x := range a {
		seen[x] = true
	}
	for _, x := range b {
		if !seen[x] {
			return false
		}
	}
	return true
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
