package engine

import "sort"

// PersonalFields maps each fact of a decision's version to the columns its catalog table marks
// personal (facts without any are left out); ok is false when the set has no such version.
func (s *PolicySet) PersonalFields(decision, version string) (fields map[string][]string, ok bool) {
	e, found := s.decisions[decision]
	if !found {
		return nil, false
	}
	for _, v := range e.versions {
		if v.version != version {
			continue
		}
		fields = map[string][]string{}
		for _, f := range v.facts {
			p, ok := s.catalog.Provider(f.provider)
			if !ok {
				continue
			}
			if cols := s.catalog.PersonalColumns(p.Table); len(cols) > 0 {
				fields[f.name] = cols
			}
		}
		return fields, true
	}
	return nil, false
}

// PersonalColumnNames lists every column name any catalog table marks personal, sorted: the
// conservative mask for facts whose decision version is no longer in the set.
func (s *PolicySet) PersonalColumnNames() []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range s.catalog.Tables() {
		for _, c := range s.catalog.PersonalColumns(t) {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	sort.Strings(out)
	return out
}
