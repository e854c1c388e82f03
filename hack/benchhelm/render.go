package main

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// renderCmd writes what helm-controller would have applied for each
// release (apply/NN-<release>.yaml: the chart rendered by the real helm
// CLI with the release's values, hooks left out, helm-controller's origin
// labels and Helm's release metadata added; the namespaces first), the
// release records helm-controller's Helm stores (records.yaml), the
// kubectl commands that drift some objects by hand (drift.sh) and the
// objects they drift (expected.tsv: kind, namespace, name, how).
func renderCmd(args []string) error {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	dir := fs.String("dir", "", "gen's output directory")
	envFile := fs.String("env", "", "serve's env file")
	helm := fs.String("helm", "helm", "the helm CLI")
	kubeVersion := fs.String("kube-version", "", "the cluster's version")
	if err := fs.Parse(args); err != nil {
		return err
	}
	env, err := readEnv(*envFile)
	if err != nil {
		return err
	}
	rels, err := readReleases(*dir)
	if err != nil {
		return err
	}
	applyDir := filepath.Join(*dir, "apply")
	if err := os.MkdirAll(applyDir, 0o755); err != nil {
		return err
	}
	home, err := os.MkdirTemp("", "benchhelm-home")
	if err != nil {
		return err
	}
	defer os.RemoveAll(home)
	var namespaces, records, drift, expected strings.Builder
	drift.WriteString("#!/usr/bin/env bash\n# Hand edits, as people make them.\nset -euo pipefail\n")
	for i, r := range rels {
		fmt.Fprintf(&namespaces, "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n", r.Namespace)
		cmd := exec.Command(*helm, "template", r.Release, env[r.Chart+"_ARCHIVE"], "-n", r.Namespace,
			"-f", filepath.Join(*dir, "values", r.Name+".yaml"), "--kube-version", *kubeVersion)
		cmd.Env = append(os.Environ(), "HELM_CONFIG_HOME="+home, "HELM_CACHE_HOME="+home, "HELM_DATA_HOME="+home)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("helm template %s: %w: %s", r.Name, err, stderr.Bytes())
		}
		var manifest, apply strings.Builder
		objs := map[string][]map[string]any{}
		for _, doc := range strings.Split(string(out), "\n---") {
			var m map[string]any
			if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
				return fmt.Errorf("helm template %s: %w", r.Name, err)
			}
			if len(m) == 0 {
				continue
			}
			md := m["metadata"].(map[string]any)
			ann, _ := md["annotations"].(map[string]any)
			if ann["helm.sh/hook"] != nil {
				continue
			}
			labels, _ := md["labels"].(map[string]any)
			if labels == nil {
				labels = map[string]any{}
			}
			labels["helm.toolkit.fluxcd.io/name"], labels["helm.toolkit.fluxcd.io/namespace"] = r.Name, FluxNamespace
			md["labels"] = labels
			b, err := yaml.Marshal(m)
			if err != nil {
				return err
			}
			manifest.WriteString("---\n" + string(b))
			labels["app.kubernetes.io/managed-by"] = "Helm"
			if ann == nil {
				ann = map[string]any{}
			}
			ann["meta.helm.sh/release-name"], ann["meta.helm.sh/release-namespace"] = r.Release, r.Namespace
			md["annotations"] = ann
			if md["namespace"] == nil && !clusterScoped[m["kind"].(string)] {
				md["namespace"] = r.Namespace
			}
			b, err = yaml.Marshal(m)
			if err != nil {
				return err
			}
			apply.WriteString("---\n" + string(b))
			kind := m["kind"].(string)
			objs[kind] = append(objs[kind], m)
		}
		if err := os.WriteFile(filepath.Join(applyDir, fmt.Sprintf("%03d-%s.yaml", i, r.Name)), []byte(apply.String()), 0o644); err != nil {
			return err
		}
		rec, err := record(r, manifest.String())
		if err != nil {
			return err
		}
		records.WriteString(rec)
		if err := driftRelease(i, r, objs, &drift, &expected); err != nil {
			return err
		}
	}
	files := map[string]string{
		filepath.Join(applyDir, "000-namespaces.yaml"): namespaces.String(),
		filepath.Join(*dir, "records.yaml"):            records.String(),
		filepath.Join(*dir, "drift.sh"):                drift.String(),
		filepath.Join(*dir, "expected.tsv"):            expected.String(),
	}
	for p, data := range files {
		if err := os.WriteFile(p, []byte(data), 0o755); err != nil {
			return err
		}
	}
	return nil
}

var clusterScoped = map[string]bool{"ClusterRole": true, "ClusterRoleBinding": true, "Namespace": true,
	"CustomResourceDefinition": true, "APIService": true, "PriorityClass": true}

// driftRelease drifts release i by hand: every fifth Deployment scaled,
// every fifth (another) with its image changed, every fifth Service
// labelled (a field the chart does not set), every tenth ServiceAccount
// deleted.
func driftRelease(i int, r release, objs map[string][]map[string]any, drift, expected *strings.Builder) error {
	first := func(kind string) (map[string]any, error) {
		if len(objs[kind]) == 0 {
			return nil, fmt.Errorf("release %s renders no %s", r.Name, kind)
		}
		return objs[kind][0], nil
	}
	name := func(m map[string]any) string { return m["metadata"].(map[string]any)["name"].(string) }
	var kind, how string
	var obj map[string]any
	var err error
	switch {
	case i%5 == 0:
		kind, how = "Deployment", "scale"
		if obj, err = first(kind); err != nil {
			return err
		}
		fmt.Fprintf(drift, "kubectl scale -n %s deployment/%s --replicas=5 >/dev/null\n", r.Namespace, name(obj))
	case i%5 == 1:
		kind, how = "Deployment", "image"
		if obj, err = first(kind); err != nil {
			return err
		}
		containers, _, _ := nested(obj, "spec", "template", "spec", "containers")
		c := containers.([]any)[0].(map[string]any)
		fmt.Fprintf(drift, "kubectl set image -n %s deployment/%s %s=registry.example.com/hotfix:4711 >/dev/null\n", r.Namespace, name(obj), c["name"])
	case i%5 == 2:
		kind, how = "Service", "label"
		if obj, err = first(kind); err != nil {
			return err
		}
		fmt.Fprintf(drift, "kubectl label -n %s service/%s hotfix=incident-4711 >/dev/null\n", r.Namespace, name(obj))
	case i%10 == 3:
		kind, how = "ServiceAccount", "delete"
		if obj, err = first(kind); err != nil {
			return err
		}
		fmt.Fprintf(drift, "kubectl delete -n %s serviceaccount/%s >/dev/null\n", r.Namespace, name(obj))
	default:
		return nil
	}
	fmt.Fprintf(expected, "%s\t%s\t%s\t%s\n", kind, r.Namespace, name(obj), how)
	return nil
}

func nested(m map[string]any, path ...string) (any, bool, error) {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil, false, fmt.Errorf("%s: not an object", p)
		}
		if cur, ok = mm[p]; !ok {
			return nil, false, nil
		}
	}
	return cur, true, nil
}

// record is the release record Helm's Secret driver stores for r (version
// 1, deployed): base64 of gzipped JSON, in the HelmRelease's namespace
// (helm-controller's default storage namespace).
func record(r release, manifest string) (string, error) {
	rec, err := json.Marshal(map[string]any{"name": r.Release, "namespace": r.Namespace, "version": 1,
		"info": map[string]any{"status": "deployed"}, "manifest": manifest})
	if err != nil {
		return "", err
	}
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	if _, err := w.Write(rec); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	sec := map[string]any{"apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
		"metadata": map[string]any{"name": "sh.helm.release.v1." + r.Release + ".v1", "namespace": FluxNamespace,
			"labels": map[string]any{"owner": "helm", "name": r.Release, "version": "1", "status": "deployed"}},
		"data": map[string]any{"release": base64.StdEncoding.EncodeToString([]byte(base64.StdEncoding.EncodeToString(gz.Bytes())))}}
	b, err := yaml.Marshal(sec)
	if err != nil {
		return "", err
	}
	return "---\n" + string(b), nil
}

// readReleases reads gen's releases.tsv.
func readReleases(dir string) ([]release, error) {
	data, err := os.ReadFile(filepath.Join(dir, "releases.tsv"))
	if err != nil {
		return nil, err
	}
	var out []release
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Split(l, "\t")
		if len(f) != 6 {
			return nil, fmt.Errorf("releases.tsv: bad line %q", l)
		}
		out = append(out, release{Name: f[0], Namespace: f[1], Release: f[2], Chart: f[3], Source: f[4], Version: f[5]})
	}
	return out, nil
}

// readExpected reads render's expected.tsv as sorted "Kind ns/name" keys,
// with how each was drifted.
func readExpected(dir string) (map[string]string, []string, error) {
	data, err := os.ReadFile(filepath.Join(dir, "expected.tsv"))
	if err != nil {
		return nil, nil, err
	}
	how := map[string]string{}
	var keys []string
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Split(l, "\t")
		if len(f) != 4 {
			return nil, nil, fmt.Errorf("expected.tsv: bad line %q", l)
		}
		k := f[0] + " " + f[1] + "/" + f[2]
		how[k] = f[3]
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return how, keys, nil
}
