# kubectl-gitops — see README.md. Every target works offline once Go modules
# are reachable through the Go module proxy.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build

MODULE   := github.com/kubectl-gitops/kubectl-gitops
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
# The commit time, not the wall clock, so builds are reproducible.
DATE     ?= $(shell git log -1 --format=%cI 2>/dev/null || echo unknown)
LDFLAGS  := -s -w -X $(MODULE)/pkg/version.version=$(VERSION) \
            -X $(MODULE)/pkg/version.gitCommit=$(COMMIT) \
            -X $(MODULE)/pkg/version.buildDate=$(DATE)
BINARIES := kubectl-gitops kubectl-gitops-drift kubectl-gitops-promote kubectl-gitops-tenant kubectl-gitops-seal kubectl-gitops-repo
GOLANGCI_LINT_VERSION := v2.15.0
CACHE    := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/kubectl-gitops

.PHONY: build multicall install release krew-tools control-plane peer-tools test test-unit lint fmt demo bench clean help

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

build: ## Build the six binaries into bin/
	CGO_ENABLED=0 go build -trimpath -ldflags "$(LDFLAGS)" -o bin/ $(addprefix ./cmd/,$(BINARIES))

multicall: ## Build the single-binary form (every verb in one kubectl-gitops) into bin/multicall/, for Flux and Argo CD
	CGO_ENABLED=0 go build -trimpath -ldflags "$(LDFLAGS)" -o bin/multicall/kubectl-gitops ./cmd/gitops-multicall

install: build ## Copy the binaries and completion helpers to $PREFIX (default: $GOBIN, else $(go env GOPATH)/bin), and link argocd-gitops to kubectl-gitops for the Argo CD CLI
	@dest="$${PREFIX:-$$(go env GOBIN)}"; dest="$${dest:-$$(go env GOPATH)/bin}"; \
	  mkdir -p "$$dest"; \
	  for f in $(addprefix bin/,$(BINARIES)) $(filter-out %.cmd,$(wildcard krew/completion/kubectl_complete-gitops*)); do \
	    cp "$$f" "$$dest/$${f##*/}.tmp" && chmod 755 "$$dest/$${f##*/}.tmp" && mv -f "$$dest/$${f##*/}.tmp" "$$dest/$${f##*/}"; \
	  done; \
	  ln -sfn kubectl-gitops "$$dest/argocd-gitops"; \
	  echo "installed $(BINARIES), argocd-gitops (-> kubectl-gitops) and kubectl_complete-gitops* into $$dest"

release: ## Cross-build the release archives, checksums.txt, the krew manifest and the Flux plugin catalog into dist/ (PLATFORMS="linux/amd64 …" to limit)
	VERSION="$(VERSION)" COMMIT="$(COMMIT)" DATE="$(DATE)" hack/release.sh

krew-tools: ## Build (or reuse from the cache) krew and validate-krew-manifest v0.4.3 for the krew install test
	hack/krew-tools.sh build >/dev/null

control-plane: ## Build (or reuse from the cache) etcd, kube-apiserver, kube-controller-manager, kubectl and the CRDs
	hack/control-plane.sh all >/dev/null

peer-tools: ## Build (or reuse from the cache) kubeseal, the sealed-secrets controller, sops, age, Gitea and the Flux, Argo CD and Helm CLIs for interop tests
	hack/peer-tools.sh build >/dev/null

test: ## Run every test, including those against the real control plane
	@# The control plane, the peers and krew build side by side (cold, the
	@# longest is the control plane; built one after another they took the sum).
	@$(MAKE) --no-print-directory -j3 control-plane peer-tools krew-tools
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	go vet ./...
	KUBECTL_GITOPS_REQUIRE_CLUSTER=1 go test -count=1 -timeout 40m ./...

test-unit: ## Run the tests quickly; those needing the control plane skip when it is not built
	go test ./...

lint: ## gofmt, go vet and golangci-lint (built from the module proxy into the cache)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	go vet ./...
	@bin="$(CACHE)/golangci-lint-$(GOLANGCI_LINT_VERSION)/golangci-lint"; \
	  if [ ! -x "$$bin" ]; then \
	    echo "building golangci-lint $(GOLANGCI_LINT_VERSION) (once, ~7 min cold)"; \
	    GOBIN="$$(dirname "$$bin")" GOFLAGS= go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION); \
	  fi; \
	  "$$bin" run ./...

fmt: ## gofmt the tree
	gofmt -w $$(git ls-files '*.go')

demo: build control-plane ## Start a throwaway control plane and show the suite working against it
	go build -o bin/localcluster ./test/cmd/localcluster
	PATH="$(CURDIR)/bin:$$PATH" bin/localcluster -- hack/demo.sh

bench: build control-plane peer-tools ## Time drift against kubectl diff and the API server's floors (N=2000; more: make bench N="2000 5000"), seal against kubeseal and sops, tenant verify against kubectl auth can-i, drift over 50 HelmReleases against helm template | kubectl diff
	hack/bench-drift.sh $(N)
	hack/bench-helm.sh
	hack/bench-seal.sh
	hack/bench-tenant.sh

clean: ## Remove build output (the control-plane cache stays; see README)
	rm -rf bin dist
