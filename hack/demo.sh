#!/usr/bin/env bash
# demo.sh — what `make demo` shows, run by bin/localcluster against a fresh
# throwaway control plane (KUBECONFIG and PATH are set by localcluster).
set -euo pipefail

step() { printf '\n\033[1m$ %s\033[0m\n' "$*" >&2; "$@"; }
if [ -n "${NO_COLOR:-}" ] || [ ! -t 2 ]; then
	step() { printf '\n$ %s\n' "$*" >&2; "$@"; }
fi

step kubectl version
step kubectl gitops
step kubectl gitops version -o json
step kubectl gitops drift version
step kubectl plugin list
step kubectl gitops drift --help
step kubectl get crd -o name

# drift: apply an app as Flux would, change it by hand, and see who did what.
demo=$(mktemp -d)
trap 'rm -rf "$demo"' EXIT
cat >"$demo/app.yaml" <<'YAML'
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {kustomize.toolkit.fluxcd.io/name: apps, kustomize.toolkit.fluxcd.io/namespace: flux-system}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1.27"}]
---
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: shop
  labels: {kustomize.toolkit.fluxcd.io/name: apps, kustomize.toolkit.fluxcd.io/namespace: flux-system}
stringData: {password: demo-password-in-git}
YAML
step kubectl apply --server-side --field-manager=kustomize-controller -f "$demo/app.yaml"
step kubectl gitops drift -f "$demo/app.yaml" -o summary
step kubectl -n shop scale deployment/web --replicas=4
step kubectl -n shop set image deployment/web web=nginx:1.28
step kubectl -n shop label deployment/web hotfix=yes
step kubectl -n shop patch secret/db -p '{"stringData":{"password":"changed-by-hand"}}'
step kubectl -n shop create secret generic stray --from-literal=token=stray-token-value
step kubectl -n shop label secret/stray kustomize.toolkit.fluxcd.io/name=apps kustomize.toolkit.fluxcd.io/namespace=flux-system
step kubectl gitops drift -f "$demo/app.yaml" -o summary || true
step kubectl gitops drift -f "$demo/app.yaml" || echo "(exit $?: drift found)"
step kubectl gitops drift -f "$demo/app.yaml" --mode=local -o json || true

# promote: a GitOps repository (examples/gitops-repo) with dev, staging and prod,
# pushed to a local bare remote; dev deployed as Flux would.
repo=$(cd "$(dirname "$0")/.." && pwd)/examples/gitops-repo
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=Demo GIT_AUTHOR_EMAIL=demo@example.com GIT_COMMITTER_NAME=Demo GIT_COMMITTER_EMAIL=demo@example.com
git init -q --bare -b main "$demo/remote.git"
cp -r "$repo" "$demo/shop"
cd "$demo/shop"
git init -q -b main && git add -A && git commit -q -m "shop: dev, staging, prod"
git remote add origin "$demo/remote.git" && git push -q -u origin main
step kubectl apply --server-side --field-manager=kustomize-controller -k envs/dev
step kubectl gitops promote status
# Without a kubelet no pod ever runs here, so dev's web never becomes available:
# the health gate refuses, and says why.
step kubectl gitops promote web --to staging || echo "(exit $?: refused by a gate)"
step kubectl gitops promote web worker --to staging --skip-gates
step kubectl gitops promote web --to prod --skip-gates
step git log --format='%h %s%n%(trailers:only,unfold)' -2 origin/main
step kubectl gitops promote history
step kubectl gitops promote rollback web --env staging
step kubectl gitops promote status --no-live
