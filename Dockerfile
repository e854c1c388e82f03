# syntax=docker/dockerfile:1
#
# kubectl-gitops as a container image: the binaries on Alpine with git, run
# as a non-root user. See docs/install.md ("Container image").
#
#   docker build -t kubectl-gitops \
#     --build-arg VERSION="$(git describe --tags --always --dirty)" \
#     --build-arg COMMIT="$(git rev-parse HEAD)" \
#     --build-arg DATE="$(git log -1 --format=%cI)" .
#
# Multi-platform: docker buildx build --platform linux/amd64,linux/arm64 .
# (cross-compiled on the build platform: no emulation needed).

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
ARG COMMIT=unknown
ARG DATE=unknown
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd/ cmd/
COPY pkg/ pkg/
COPY plugins/ plugins/
# The same flags as `make build` and hack/release.sh.
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -buildvcs=false \
      -ldflags "-s -w \
        -X github.com/kubectl-gitops/kubectl-gitops/pkg/version.version=${VERSION} \
        -X github.com/kubectl-gitops/kubectl-gitops/pkg/version.gitCommit=${COMMIT} \
        -X github.com/kubectl-gitops/kubectl-gitops/pkg/version.buildDate=${DATE}" \
      -o /out/ \
      ./cmd/kubectl-gitops ./cmd/kubectl-gitops-drift ./cmd/kubectl-gitops-promote \
      ./cmd/kubectl-gitops-tenant ./cmd/kubectl-gitops-seal ./cmd/kubectl-gitops-repo

# Alpine with git (drift's --repo, Argo CD and Flux sources clone with the
# real git; promote commits with it) and CA certificates; the binaries are
# static. Pin by digest in production.
FROM alpine:3.22
RUN apk add --no-cache git ca-certificates && \
    adduser -D -H -u 65532 -g nonroot nonroot
COPY --from=build /out/ /usr/local/bin/
COPY LICENSE /licenses/kubectl-gitops/LICENSE
# nonroot (65532) by number, so runAsNonRoot admission can verify it.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/kubectl-gitops-drift"]
CMD ["--help"]
