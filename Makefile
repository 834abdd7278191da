# elicense: make run (serve the demo city), make test (every test).
GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
BIN       := bin/elicense
DATA_DIR  ?= data
ADDR      ?= :8080
FUZZTIME  ?= 5s

.PHONY: all build run test test-short test-exhaustive fuzz bench lint fmt cover generate clean deps

all: lint test build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/elicense

deps:
	@scripts/install-deps.sh run

# The demo enables the development holder login (one-time codes in the log).
run: deps build
	@echo "make run: demo holder login is ON (ELICENSE_DEV_LOGIN=1): one-time codes appear in the server log; never in production"
	ELICENSE_DEV_LOGIN=1 $(BIN) serve --data-dir $(DATA_DIR) --addr $(ADDR)

# Every test, with the race detector, then each fuzz target briefly.
test:
	@scripts/install-deps.sh test
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
	@$(MAKE) --no-print-directory test-kill
	@$(MAKE) --no-print-directory fuzz

test-short:
	$(GO) test -short ./...

# Tests that flip every signed byte of a sealed PDF in full; under -race or
# -short they flip every structural byte and a sample of stream data.
test-exhaustive:
	ELICENSE_EXHAUSTIVE=1 $(GO) test -count=1 ./signer/...

# Runs each fuzz target for FUZZTIME (go test allows one target per run).
fuzz:
	@scripts/fuzz.sh $(FUZZTIME)

# Go benchmarks (5 runs each), then the load scripts: batch issuing of
# 10,000 rows and the verification endpoints over HTTP.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./...
	@$(MAKE) --no-print-directory bench-batch N=10000
	@$(MAKE) --no-print-directory bench-http

lint: fmt
	$(GO) vet ./...
	$(GO) test -count=1 -run 'TestLayering' ./cmd/elicense

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

cover:
	$(GO) test -coverprofile=cover.out ./... && $(GO) tool cover -func=cover.out | tail -1

generate:
	$(GO) generate ./...

clean:
	rm -rf bin cover.out

# Batch issuing: N synthetic food-business rows into a fresh data directory;
# prints licenses/s, CPU s/license, peak RSS, the crypto floor and the ratio.
N ?= 100000
.PHONY: bench-batch bench-batch-api bench-http test-kill
bench-batch: build
	$(GO) run scripts/bench.go -n $(N) -bin $(BIN)

# The same rows through `elicense serve` and POST /api/v1/batches.
bench-batch-api: build
	$(GO) run scripts/bench.go -api -n $(N) -bin $(BIN)

# The verification endpoints (identifier, file, QR, public page) through
# `elicense serve`: HTTP_N licenses, HTTP_C clients, HTTP_D per endpoint.
HTTP_N ?= 1000
HTTP_C ?= 8
HTTP_D ?= 10s
bench-http: build
	$(GO) run scripts/bench.go -http -n $(HTTP_N) -c $(HTTP_C) -d $(HTTP_D) -bin $(BIN)

# The batch kill test at full size (20,000 rows, SIGKILL part-way, rerun,
# every count and digest checked); `make test` runs it with 2,000 rows.
test-kill:
	ELICENSE_KILL_ROWS=20000 $(GO) test -count=1 -timeout 30m -run '^TestBatchKill$$' ./cmd/elicense
