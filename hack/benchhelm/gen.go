package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

// FluxNamespace holds the HelmReleases and their sources.
const FluxNamespace = "bench-flux"

// release is one HelmRelease of the benchmark, as gen writes it to
// releases.tsv for render.
type release struct {
	Name, Namespace, Release string // HelmRelease name, target namespace, Helm release name
	Chart                    string // SS or MS
	Source                   string // http, oci (HelmRepository type oci), ocirepo (OCIRepository chartRef)
	Version                  string // what the HelmRelease asks for
}

// genCmd writes the HelmReleases (flux.yaml), their values (values/), the
// releases (releases.tsv) and the script that renders each with the real
// helm CLI and diffs it with kubectl (helm-diff.sh).
func genCmd(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	n := fs.Int("n", 50, "HelmReleases")
	envFile := fs.String("env", "", "serve's env file")
	out := fs.String("out", "", "output directory")
	kubeVersion := fs.String("kube-version", "", "the cluster's version, for helm template")
	if err := fs.Parse(args); err != nil {
		return err
	}
	env, err := readEnv(*envFile)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(*out, "values"), 0o755); err != nil {
		return err
	}
	var flux, tsv strings.Builder
	fmt.Fprintf(&flux, `apiVersion: v1
kind: Namespace
metadata: {name: %[1]s}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: charts, namespace: %[1]s}
spec: {interval: 10m, url: "%[2]s"}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: charts-oci, namespace: %[1]s}
spec: {interval: 10m, type: oci, insecure: true, url: "oci://%[3]s/charts"}
`, FluxNamespace, env["HTTP_URL"], env["OCI_HOST"])
	for _, c := range []string{"SS", "MS"} {
		fmt.Fprintf(&flux, `---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: %[2]s, namespace: %[1]s}
spec:
  interval: 10m
  url: oci://%[3]s/charts/%[2]s
  insecure: true
  ref: {tag: "%[4]s"}
  layerSelector: {mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip, operation: copy}
`, FluxNamespace, env[c+"_NAME"], env["OCI_HOST"], env[c+"_VERSION"])
	}
	var script strings.Builder
	script.WriteString(`#!/usr/bin/env bash
# What a user runs instead of drift: for each HelmRelease, the real helm
# CLI renders the chart (from the same repository, at the same version,
# with the same values) and kubectl diff --server-side compares it, one
# release after another. $1: file for kubectl diff's output (default none).
# Exit 1 when a diff was found, 2 on an error.
set -uo pipefail
out=${1:-/dev/null}
: >"$out"
rc=0
d() {
	local ns=$1 r
	shift
	helm template "$@" -n "$ns" --kube-version ` + *kubeVersion + ` |
		kubectl diff --server-side --force-conflicts --field-manager=helm-controller -f - >>"$out"
	r=$?
	if [ "$r" -gt 1 ]; then
		echo "helm template $* | kubectl diff: exit $r" >&2
		exit 2
	fi
	[ "$r" -eq 0 ] || rc=1
}
`)
	for i := 0; i < *n; i++ {
		r := release{Name: fmt.Sprintf("r%03d", i), Chart: []string{"SS", "MS"}[i%2], Source: []string{"http", "oci", "ocirepo"}[i%3]}
		r.Namespace = "bench-" + r.Name
		r.Release = r.Namespace + "-" + r.Name // helm-controller's default: <targetNamespace>-<name>
		chart, version := env[r.Chart+"_NAME"], env[r.Chart+"_VERSION"]
		r.Version = version
		if i%6 == 0 {
			r.Version = ">=1.0.0" // a range: the index is read on every run
		}
		values := releaseValues(i, r)
		vdata, err := yaml.Marshal(values)
		if err != nil {
			return err
		}
		vfile := filepath.Join(*out, "values", r.Name+".yaml")
		if err := os.WriteFile(vfile, vdata, 0o644); err != nil {
			return err
		}
		hr := map[string]any{
			"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
			"metadata": map[string]any{"name": r.Name, "namespace": FluxNamespace},
			"spec": map[string]any{
				"interval": "10m", "targetNamespace": r.Namespace, "values": values,
				"install": map[string]any{"crds": "Skip", "createNamespace": true},
			},
		}
		spec := hr["spec"].(map[string]any)
		switch r.Source {
		case "http", "oci":
			repoName := map[string]string{"http": "charts", "oci": "charts-oci"}[r.Source]
			spec["chart"] = map[string]any{"spec": map[string]any{"chart": chart, "version": r.Version,
				"sourceRef": map[string]any{"kind": "HelmRepository", "name": repoName}}}
		case "ocirepo":
			spec["chartRef"] = map[string]any{"kind": "OCIRepository", "name": chart}
		}
		hdata, err := yaml.Marshal(hr)
		if err != nil {
			return err
		}
		flux.WriteString("---\n")
		flux.Write(hdata)
		fmt.Fprintf(&tsv, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Namespace, r.Release, r.Chart, r.Source, r.Version)
		// The same chart, version and values, as the helm CLI takes them.
		src := fmt.Sprintf("%s --repo %s --version '%s'", chart, env["HTTP_URL"], r.Version)
		if r.Source != "http" {
			src = fmt.Sprintf("oci://%s/charts/%s --plain-http --version '%s'", env["OCI_HOST"], chart, version)
		}
		fmt.Fprintf(&script, "d %s %s %s -f '%s'\n", r.Namespace, r.Release, src, vfile)
	}
	script.WriteString("exit $rc\n")
	for name, data := range map[string]string{"flux.yaml": flux.String(), "releases.tsv": tsv.String(), "helm-diff.sh": script.String()} {
		if err := os.WriteFile(filepath.Join(*out, name), []byte(data), 0o755); err != nil {
			return err
		}
	}
	return nil
}

// releaseValues are release i's values: varied per release, and what two
// releases of a chart need to live side by side (their cluster-scoped
// names, no metrics APIService: its service has no endpoints here, and an
// unavailable aggregated API fails discovery).
func releaseValues(i int, r release) map[string]any {
	tier := []string{"frontend", "backend", "batch"}[i%3]
	if r.Chart == "SS" {
		v := map[string]any{
			"rbac":      map[string]any{"clusterRoleName": r.Namespace + "-unsealer"},
			"podLabels": map[string]any{"tier": tier},
			"resources": map[string]any{"requests": map[string]any{"cpu": fmt.Sprintf("%dm", 10+i)}},
			"logLevel":  []string{"info", "debug"}[(i/2)%2],
		}
		if i%4 == 0 {
			v["keyrenewperiod"] = "720h"
		}
		return v
	}
	v := map[string]any{
		"apiService": map[string]any{"create": false},
		// The aggregated reader ClusterRole is named after the chart's
		// name: one per release.
		"nameOverride": "ms-" + r.Name,
		"replicas":     1 + i%3,
		"podLabels":    map[string]any{"tier": tier},
		"resources":    map[string]any{"requests": map[string]any{"cpu": "50m", "memory": fmt.Sprintf("%dMi", 100+i)}},
	}
	if i%4 == 1 {
		v["args"] = []any{"--kubelet-insecure-tls"}
	}
	return v
}
