# elicense: make run (serve the demo city), make test (every test).
GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
BIN       := bin/elicense
DATA_DIR  ?= data
ADDR      ?= :8080
FUZZTIME  ?= 5s

.PHONY: all build run test test-short fuzz bench lint fmt cover generate clean deps

all: lint test build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/elicense

deps:
	@scripts/install-deps.sh run

run: deps build
	$(BIN) serve --data-dir $(DATA_DIR) --addr $(ADDR)

# Every test, with the race detector, then each fuzz target briefly.
test:
	@scripts/install-deps.sh test
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
	@$(MAKE) --no-print-directory fuzz

test-short:
	$(GO) test -short ./...

# Runs each fuzz target for FUZZTIME (go test allows one target per run).
fuzz:
	@scripts/fuzz.sh $(FUZZTIME)

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./...

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
