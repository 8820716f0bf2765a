package casetest

import (
	"slices"

	"arbiter/engine"
)

// VersionCoverage says which of a policy version's catalog rule ids fired in some case.
type VersionCoverage struct {
	Decision string   `json:"decision"`
	Version  string   `json:"version"`
	Rules    int      `json:"rules"`
	Fired    []string `json:"fired"`
	Never    []string `json:"never_fired"`
}

// CoverageReport is the rule coverage of a set's cases.
type CoverageReport struct {
	Rules    int               `json:"rules"`
	Fired    int               `json:"fired"`
	Percent  float64           `json:"percent"`
	Versions []VersionCoverage `json:"versions"`
}

// Coverage lists, for every policy version of set whose cases ran, the manifest's rule ids that some case's answer
// cited and those no case ever made fire.
func Coverage(set *engine.PolicySet, results []Result) CoverageReport {
	fired := map[string]map[string]bool{}
	for _, r := range results {
		key := r.Case.Decision + "@" + r.Case.Version
		if fired[key] == nil {
			// A version appears in the report once any of its cases ran.
			fired[key] = map[string]bool{}
		}
		for _, id := range r.Fired {
			fired[key][id] = true
		}
	}
	var rep CoverageReport
	for _, d := range set.Decisions() {
		for _, v := range d.Versions {
			vc := VersionCoverage{Decision: d.Decision, Version: v.Version, Rules: len(v.Rules), Fired: []string{}, Never: []string{}}
			seen, ran := fired[d.Decision+"@"+v.Version]
			if !ran {
				continue
			}
			for _, id := range v.Rules {
				if seen[id] {
					vc.Fired = append(vc.Fired, id)
				} else {
					vc.Never = append(vc.Never, id)
				}
			}
			slices.Sort(vc.Fired)
			rep.Rules += vc.Rules
			rep.Fired += len(vc.Fired)
			rep.Versions = append(rep.Versions, vc)
		}
	}
	if rep.Rules > 0 {
		rep.Percent = float64(rep.Fired) * 100 / float64(rep.Rules)
	}
	return rep
}
