package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"strings"

	"arbiter/casetest"
)

// testReport is what `arbiter test --json` prints.
type testReport struct {
	Passed   int                      `json:"passed"`
	Failed   int                      `json:"failed"`
	Failures []caseFailure            `json:"failures"`
	Coverage *casetest.CoverageReport `json:"coverage,omitempty"`
}

type caseFailure struct {
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Name     string   `json:"name"`
	Failures []string `json:"failures"`
}

func writeJSONReport(w io.Writer, results []casetest.Result, cov *casetest.CoverageReport) error {
	rep := testReport{Failures: []caseFailure{}, Coverage: cov}
	for _, r := range results {
		if r.Passed() {
			rep.Passed++
			continue
		}
		rep.Failed++
		rep.Failures = append(rep.Failures, caseFailure{File: r.Case.File, Line: r.Case.Line, Name: r.Case.Name, Failures: r.Failures})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

func writeCoverage(w io.Writer, cov casetest.CoverageReport) {
	fmt.Fprintf(w, "rule coverage: %d of %d catalog rule ids fired in some case (%.1f%%)\n", cov.Fired, cov.Rules, cov.Percent)
	for _, v := range cov.Versions {
		if len(v.Never) == 0 {
			continue
		}
		fmt.Fprintf(w, "  %s@%s never fired: %s\n", v.Decision, v.Version, strings.Join(v.Never, " "))
	}
}

// JUnit XML, as CI systems read it: one suite per tests.yaml file, one test case per catalog case.
type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

func writeJUnit(file string, results []casetest.Result) error {
	var out junitSuites
	index := map[string]int{}
	for _, r := range results {
		i, ok := index[r.Case.File]
		if !ok {
			i = len(out.Suites)
			index[r.Case.File] = i
			out.Suites = append(out.Suites, junitSuite{Name: r.Case.File})
		}
		s := &out.Suites[i]
		c := junitCase{Name: r.Case.Name, Classname: r.Case.Decision + "@" + r.Case.Version}
		if !r.Passed() {
			c.Failure = &junitFailure{Message: r.Failures[0], Text: fmt.Sprintf("%s:%d\n%s", r.Case.File, r.Case.Line, strings.Join(r.Failures, "\n"))}
			s.Failures++
		}
		s.Tests++
		s.Cases = append(s.Cases, c)
	}
	raw, err := xml.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(file, append([]byte(xml.Header), raw...), 0o644)
}
