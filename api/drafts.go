package api

import "github.com/go-chi/chi/v5"

func (s *server) draftRoutes(r chi.Router) {}
