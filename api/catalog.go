package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
)

// getTableVersion serves one rule-table version's data with its table's schema (column descriptions).
func (s *server) getTableVersion(w http.ResponseWriter, r *http.Request) {
	table, version := chi.URLParam(r, "table"), chi.URLParam(r, "version")
	tv, ok := s.cfg.Engine.PolicySet().TableVersion(table, version)
	if !ok {
		writeProblem(w, r, problem(http.StatusNotFound, codeNotFound, "no version "+version+" of rule table "+table))
		return
	}
	writeJSON(w, http.StatusOK, tv)
}

// getSample serves fixtures/requests/<decision>.json, a sample request body for the decision.
func (s *server) getSample(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "decision")
	if s.cfg.Samples == nil || id == "" || strings.ContainsAny(id, `/\`) || strings.HasPrefix(id, ".") {
		writeProblem(w, r, problem(http.StatusNotFound, codeNotFound, "no sample request for "+id))
		return
	}
	raw, err := fs.ReadFile(s.cfg.Samples, id+".json")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			writeProblem(w, r, problem(http.StatusNotFound, codeNotFound, "no sample request for "+id))
			return
		}
		writeProblem(w, r, problem(http.StatusInternalServerError, codeInternal, "the sample request could not be read"))
		return
	}
	raw = bytes.TrimSpace(raw)
	if !json.Valid(raw) || len(raw) == 0 || raw[0] != '{' {
		writeProblem(w, r, problem(http.StatusInternalServerError, codeInternal, "the sample request is not a JSON object"))
		return
	}
	writeJSON(w, http.StatusOK, json.RawMessage(raw))
}
