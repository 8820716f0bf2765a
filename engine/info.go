package engine

import (
	"maps"
	"slices"
	"time"

	"arbiter/store"
)

// DecisionInfo describes one decision and its versions.
type DecisionInfo struct {
	Decision string        `json:"decision"`
	Versions []VersionInfo `json:"versions"`
}

// VersionInfo describes one policy version: its window, digest and what it reads.
type VersionInfo struct {
	Version     string     `json:"version"`
	Description string     `json:"description,omitempty"`
	Language    string     `json:"language"`
	Digest      string     `json:"digest"`
	ValidFrom   time.Time  `json:"valid_from"`
	ValidTo     *time.Time `json:"valid_to,omitempty"`
	Rules       []string   `json:"rules"`
	Facts       []string   `json:"facts"`
	Tables      []string   `json:"tables"`
	Commit      bool       `json:"commit"`
	Dir         string     `json:"dir"`
}

// TableInfo describes one rule table and its versions.
type TableInfo struct {
	Table    string             `json:"table"`
	Versions []TableVersionInfo `json:"versions"`
}

// TableVersionInfo describes one rule-table version.
type TableVersionInfo struct {
	Version     string     `json:"version"`
	Description string     `json:"description,omitempty"`
	File        string     `json:"file"`
	Digest      string     `json:"digest"`
	ValidFrom   time.Time  `json:"valid_from"`
	ValidTo     *time.Time `json:"valid_to,omitempty"`
}

// Revision is a digest of every policy and table version in the set.
func (s *PolicySet) Revision() string { return s.revision }

// LoadedAt is when the set was built.
func (s *PolicySet) LoadedAt() time.Time { return s.loadedAt }

// Decisions lists every decision, sorted by id, with versions sorted by valid_from.
func (s *PolicySet) Decisions() []DecisionInfo {
	out := make([]DecisionInfo, 0, len(s.decisions))
	for _, id := range slices.Sorted(maps.Keys(s.decisions)) {
		info, _ := s.Decision(id)
		out = append(out, info)
	}
	return out
}

// HasDecision reports whether the set declares decision id.
func (s *PolicySet) HasDecision(id string) bool { _, ok := s.decisions[id]; return ok }

// Decision describes one decision; ok is false when it does not exist.
func (s *PolicySet) Decision(id string) (DecisionInfo, bool) {
	e, ok := s.decisions[id]
	if !ok {
		return DecisionInfo{}, false
	}
	info := DecisionInfo{Decision: id}
	for _, v := range e.versions {
		vi := VersionInfo{
			Version: v.version, Dir: v.dir, Description: v.desc, Language: v.language, Digest: v.digest,
			ValidFrom: v.window.From, ValidTo: v.window.To, Rules: v.ruleIDs, Commit: v.commit != nil,
			Facts: []string{}, Tables: []string{},
		}
		if vi.Rules == nil {
			vi.Rules = []string{}
		}
		for _, f := range v.facts {
			vi.Facts = append(vi.Facts, f.provider)
		}
		for _, t := range v.tables {
			vi.Tables = append(vi.Tables, t.id)
		}
		info.Versions = append(info.Versions, vi)
	}
	return info, true
}

// Tables lists every rule table with its versions.
func (s *PolicySet) Tables() []TableInfo {
	out := make([]TableInfo, 0, len(s.tables))
	for _, id := range slices.Sorted(maps.Keys(s.tables)) {
		ti := TableInfo{Table: id}
		for _, v := range s.tables[id].versions {
			ti.Versions = append(ti.Versions, TableVersionInfo{
				Version: v.version, Description: v.desc, File: v.file, Digest: v.digest, ValidFrom: v.window.From, ValidTo: v.window.To,
			})
		}
		out = append(out, ti)
	}
	return out
}

// Catalog returns the fact catalog the set was validated against.
func (s *PolicySet) Catalog() *store.Catalog { return s.catalog }

// TableVersionData is one rule-table version with its data and its table's schema.
type TableVersionData struct {
	Table string `json:"table"`
	TableVersionInfo
	Data   any `json:"data"`
	Schema any `json:"schema"`
}

// TableVersion returns the data of one version of a rule table with the table's schema; ok is false
// when the table or the version does not exist.
func (s *PolicySet) TableVersion(table, version string) (TableVersionData, bool) {
	e, ok := s.tables[table]
	if !ok {
		return TableVersionData{}, false
	}
	for _, v := range e.versions {
		if v.version == version {
			return TableVersionData{
				Table: table,
				TableVersionInfo: TableVersionInfo{
					Version: v.version, Description: v.desc, File: v.file, Digest: v.digest, ValidFrom: v.window.From, ValidTo: v.window.To,
				},
				Data: v.data, Schema: e.schemaDoc,
			}, true
		}
	}
	return TableVersionData{}, false
}
