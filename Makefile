# arbiter: `make run` serves on the embedded default; `make test` runs every test.
GO ?= go
ADDR ?= :8080
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)$(shell git diff --quiet HEAD 2>/dev/null || echo +dirty)
LDFLAGS ?= -X arbiter/internal/buildinfo.Commit=$(COMMIT)
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
export TEST_DATABASE_URL

.PHONY: run build test policy-test check bench scaling load fleet-load lint fmt

run: ## serve on the embedded default (in-memory facts from fixtures/) at $(ADDR)
	$(GO) run ./cmd/arbiter serve --addr $(ADDR)

build: ## build bin/arbiter
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/arbiter ./cmd/arbiter

check: ## load and compile every policy and rule table
	$(GO) run ./cmd/arbiter check

policy-test: ## run every tests.yaml case in memory
	$(GO) run ./cmd/arbiter test

test: ## every test: Go unit and integration tests against PostgreSQL, plus every policy case
	$(GO) vet ./...
	$(GO) run ./cmd/arbiter test
	$(GO) test -count=1 -timeout 30m ./...
	$(GO) test -count=1 -race -timeout 20m ./engine/... ./internal/reload/... ./api/... -run 'Reload|Race|Concurren'

bench: ## benchmarks (in-process); see README for the HTTP load test
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./engine/... ./internal/server/ ./api/

scaling: ## cost of the checkout decisions against lines and wallet size: docs/scaling.csv and docs/scaling.svg
	$(GO) run ./internal/perf/scaling -csv docs/scaling.csv -svg docs/scaling.svg

load: ## fixed-rate HTTP load test against PostgreSQL facts (needs the test database)
	$(GO) test -count=1 -run TestLoad -v ./internal/loadtest/ -args -load $(LOAD_ARGS)

fleet-load: ## fixed-rate load over 1 and 3 replicas through PgBouncer (needs the test database and pgbouncer)
	$(GO) test -count=1 -run TestFleetLoad -v ./internal/loadtest/ -args -fleet $(LOAD_ARGS)

lint: ## gofmt and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

fmt:
	gofmt -w $$(git ls-files '*.go')
