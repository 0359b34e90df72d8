# fwd: EVPN/VXLAN XDP forwarding plane. `make` or `make help` lists the targets.
# Targets that load BPF programs or make namespaces need root: run them as root.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

GO           ?= go
BIN          ?= bin
TEST_TIMEOUT ?= 25m
TESTFLAGS    ?=
BENCH        ?= .
BENCHTIME    ?= 100ms
BENCHFLAGS   ?=
# FAIL_ON_SKIP=1 makes `make test` fail when any test skipped.
FAIL_ON_SKIP ?=

# golangci-lint lives in its own module (tools/go.mod), out of fwd's go.mod.
LINT := $(GO) tool -modfile=tools/go.mod golangci-lint
# Outputs of bpf2go (dataplane/gen.go), committed and kept honest by check-generate.
GENERATED := ':(glob)dataplane/**/*_bpfel.go' ':(glob)dataplane/**/*_bpfel.o'

.PHONY: help deps generate check-generate build test bench lint fmt demo clean install

help: ## Show the targets and the variables they read
	@echo 'Usage: make <target> [VAR=value ...]'
	@echo
	@echo 'Targets:'
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo
	@echo 'Variables: GO=$(GO) BIN=$(BIN) TEST_TIMEOUT=$(TEST_TIMEOUT) TESTFLAGS=$(TESTFLAGS)'
	@echo '           BENCH=$(BENCH) BENCHTIME=$(BENCHTIME) BENCHFLAGS=$(BENCHFLAGS) FAIL_ON_SKIP=$(FAIL_ON_SKIP)'
	@echo '           CI=true makes privileged tests fail instead of skipping.'

deps: ## Install clang-19, libbpf, iproute2, bpftool, gobgpd... and mount bpffs (scripts/deps.sh, root)
	@bash scripts/deps.sh

generate: deps ## Rebuild the BPF objects and Go bindings from bpf/ (go generate ./dataplane/...)
	$(GO) generate ./dataplane/...

check-generate: generate ## Fail if the committed bpf2go outputs in dataplane/ differ from bpf/
	@status=$$(git status --porcelain --untracked-files=all -- $(GENERATED)); \
	if [ -n "$$status" ]; then \
		echo "check-generate: the generated files in dataplane/ are stale or not committed:" >&2; \
		echo "$$status" | sed 's/^/  /' >&2; \
		git --no-pager diff --stat -- $(GENERATED) >&2 || true; \
		echo "check-generate: run 'make generate' and commit dataplane/*_bpfel.go and dataplane/*_bpfel.o" >&2; \
		exit 1; \
	fi
	@echo "check-generate: dataplane/*_bpfel.{go,o} match bpf/"

build: ## Build bin/fwd (./cmd/fwd; every package until cmd/fwd exists)
	@mkdir -p $(BIN)
	@if [ -d cmd/fwd ]; then \
		echo "$(GO) build -o $(BIN)/fwd ./cmd/fwd"; \
		$(GO) build -o $(BIN)/fwd ./cmd/fwd; \
	else \
		echo "build: no cmd/fwd yet; $(GO) build ./..."; \
		$(GO) build ./...; \
	fi

test: deps ## go vet, then go test ./... (-timeout 25m by default) with a summary; as root, CI=true fails instead of skipping
	$(GO) vet ./...
	@mkdir -p $(BIN)
	@echo "$(GO) test -count=1 -timeout $(TEST_TIMEOUT) -v $(TESTFLAGS) ./...  (CI=$${CI:-}, log: $(BIN)/test.log)"
	@rc=0; \
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) -v $(TESTFLAGS) ./... 2>&1 | tee $(BIN)/test.log || rc=$$?; \
	pass=$$(grep -cE '^ *--- PASS:' $(BIN)/test.log || true); \
	fail=$$(grep -cE '^ *--- FAIL:' $(BIN)/test.log || true); \
	skip=$$(grep -cE '^ *--- SKIP:' $(BIN)/test.log || true); \
	pkgfail=$$(grep -cE '^FAIL[[:space:]]+[^[:space:]]' $(BIN)/test.log || true); \
	echo; echo "==== test summary"; \
	grep -E '^(ok|FAIL|\?)[[:space:]]' $(BIN)/test.log | sed 's/^/  /' || true; \
	if [ "$$skip" -gt 0 ]; then echo "skipped:"; grep -E '^ *--- SKIP:' -A1 $(BIN)/test.log | grep -vE '^--$$' | sed 's/^/  /'; fi; \
	if [ "$$fail" -gt 0 ]; then echo "failed:"; grep -E '^ *--- FAIL:' $(BIN)/test.log | sed 's/^/  /'; fi; \
	if [ "$$rc" -ne 0 ] && [ "$$fail" -eq 0 ]; then fail=$$(( pkgfail > 0 ? pkgfail : 1 )); echo "failed: go test exited $$rc without a failing test (build error, panic or timeout; see above)"; fi; \
	if [ -n "$(FAIL_ON_SKIP)" ] && [ "$$skip" -gt 0 ] && [ "$$rc" -eq 0 ]; then echo "FAIL_ON_SKIP is set and $$skip tests skipped"; rc=1; fi; \
	if [ "$$pass" -eq 0 ]; then echo "warning: no test passed"; fi; \
	echo "summary: $$pass passed, $$fail failed, $$skip skipped" | tee $(BIN)/test-summary.txt; \
	exit $$rc

bench: ## Run the benchmarks briefly (BENCH=regexp, BENCHTIME=100ms by default; 5s for real numbers)
	$(GO) test -run=NONE -bench='$(BENCH)' -benchtime=$(BENCHTIME) -benchmem $(BENCHFLAGS) ./...

lint: ## gofmt check, then golangci-lint (v2, pinned in tools/go.mod; config .golangci.yml)
	@unformatted=$$(find . -path ./.git -prune -o -path ./tools -prune -o -name '*.go' ! -name '*_bpfel.go' -print | xargs -r "$$($(GO) env GOROOT)/bin/gofmt" -l); \
	if [ -n "$$unformatted" ]; then \
		echo "lint: not gofmt'ed (run 'gofmt -w' on them):" >&2; echo "$$unformatted" | sed 's/^/  /' >&2; exit 1; \
	fi
	$(LINT) run ./...

fmt: ## Format the Go code (golangci-lint fmt: gofmt and goimports)
	$(LINT) fmt ./...

demo: deps build ## Build, then run the lab demo (./bin/fwd lab demo; root)
	$(BIN)/fwd lab demo

# install: where `make install` puts things. DESTDIR stages into another root
# (for packages); PREFIX is where the binary goes and what the unit runs.
PREFIX  ?= /usr/local
DESTDIR ?=
UNITDIR ?= /etc/systemd/system

install: build ## Install fwd, its systemd unit, /etc/fwd/fwd.yaml (if absent) and group fwd (root; PREFIX=/usr/local, DESTDIR, UNITDIR)
	install -D -m 0755 $(BIN)/fwd $(DESTDIR)$(PREFIX)/bin/fwd
	install -d -m 0755 $(DESTDIR)$(UNITDIR) $(DESTDIR)/etc/fwd $(DESTDIR)/etc/fwd/hooks
	sed 's|/usr/local/bin/fwd|$(PREFIX)/bin/fwd|g' packaging/fwd.service > $(DESTDIR)$(UNITDIR)/fwd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/fwd.service
	@if [ -e $(DESTDIR)/etc/fwd/fwd.yaml ]; then \
		echo "install: keeping $(DESTDIR)/etc/fwd/fwd.yaml (the new example is examples/fwd.yaml)"; \
	else \
		echo "install -m 0644 examples/fwd.yaml $(DESTDIR)/etc/fwd/fwd.yaml"; \
		install -m 0644 examples/fwd.yaml $(DESTDIR)/etc/fwd/fwd.yaml; \
	fi
	@if [ -z "$(DESTDIR)" ]; then \
		echo "groupadd -f --system fwd"; groupadd -f --system fwd; \
		echo "install: edit /etc/fwd/fwd.yaml, then: systemctl daemon-reload && systemctl enable --now fwd"; \
	else \
		echo "install: DESTDIR is set: not creating group fwd here (the package's postinst should: groupadd -f --system fwd)"; \
	fi

clean: ## Remove bin/ and the test cache
	rm -rf $(BIN)
	$(GO) clean -testcache
