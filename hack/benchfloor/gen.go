package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The objects come in "apps" of four: a ConfigMap, a Deployment, a headless
// Service (the test control plane's service range is a /24, too small for
// thousands of ClusterIPs) and a RoleBinding, labelled as Flux's
// kustomize-controller labels what it applies. Every tenth app is drifted,
// each of its objects in its own way (see hack/bench-drift.sh).

// objectTmpl is the manifest of one object of an app (%[1]s the app's name,
// %[2]s its namespace): the metadata every object shares, then body.
func objectTmpl(apiVersion, kind, suffix, body string) string {
	return "---\napiVersion: " + apiVersion + "\nkind: " + kind + `
metadata:
  name: %[1]s` + suffix + `
  namespace: %[2]s
  labels:
    app.kubernetes.io/name: %[1]s
    app.kubernetes.io/part-of: bench
    kustomize.toolkit.fluxcd.io/name: bench
    kustomize.toolkit.fluxcd.io/namespace: flux-system
` + body
}

// The objects' bodies, after their metadata.
const (
	configMapBody = `data:
  mode: production
  log-level: info
  settings.json: '{"cache":true,"replicas":2,"timeoutSeconds":30,"upstream":"http://%[1]s-backend:8080"}'
`
	deploymentBody = `spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: %[1]s
  template:
    metadata:
      labels:
        app.kubernetes.io/name: %[1]s
    spec:
      containers:
      - name: app
        image: registry.example.com/bench/%[1]s:1.4.2
        args: ["--config=/etc/app/settings.json", "--port=8080"]
        ports:
        - name: http
          containerPort: 8080
        - name: metrics
          containerPort: 9090
        env:
        - name: LOG_LEVEL
          valueFrom:
            configMapKeyRef:
              name: %[1]s-config
              key: log-level
        - name: MODE
          value: production
        resources:
          requests:
            cpu: 100m
            memory: 128Mi
          limits:
            memory: 256Mi
        readinessProbe:
          httpGet:
            path: /healthz
            port: http
          periodSeconds: 10
        volumeMounts:
        - name: config
          mountPath: /etc/app
      volumes:
      - name: config
        configMap:
          name: %[1]s-config
`
	serviceBody = `spec:
  clusterIP: None
  selector:
    app.kubernetes.io/name: %[1]s
  ports:
  - name: http
    port: 80
    targetPort: http
  - name: metrics
    port: 9090
    targetPort: metrics
`
	roleBindingBody = `roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: view
subjects:
- kind: ServiceAccount
  name: %[1]s
  namespace: %[2]s
- kind: Group
  apiGroup: rbac.authorization.k8s.io
  name: team-%[1]s
`
)

// genKind is one kind of an app's objects: its name suffix, the drift list
// each drifted object goes to, and its manifest template (see objectTmpl).
type genKind struct {
	apiVersion, kind, suffix, driftFile, tmpl string
}

func newGenKind(apiVersion, kind, suffix, driftFile, body string) genKind {
	return genKind{apiVersion, kind, suffix, driftFile, objectTmpl(apiVersion, kind, suffix, body)}
}

// genKinds in the order objects are generated.
var genKinds = []genKind{
	newGenKind("v1", "ConfigMap", "-config", "configmaps.yaml", configMapBody),
	newGenKind("apps/v1", "Deployment", "", "deployments.yaml", deploymentBody),
	newGenKind("v1", "Service", "", "services.yaml", serviceBody),
	newGenKind("rbac.authorization.k8s.io/v1", "RoleBinding", "-view", "rolebindings.yaml", roleBindingBody),
}

// genCmd writes OUT/manifests/<namespace>.yaml (the N objects, one file per
// namespace), OUT/namespaces.yaml, and OUT/drift/<kind>.yaml (references to
// the objects to drift, for `kubectl … -f`). It prints the number of
// namespaces and of drifted objects.
func genCmd(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	n := fs.Int("n", 2000, "number of objects")
	perNS := fs.Int("per-namespace", 200, "objects per namespace (a multiple of 4)")
	out := fs.String("out", "", "output directory (created)")
	sweep := fs.String("sweep", "", "drift percentages, e.g. 1,2,5,10,20: also write OUT/sweep/<P>/<kind>.yaml (see sweepSteps)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	steps, err := sweepSteps(*sweep)
	if err != nil {
		return err
	}
	if *n < 4 || *perNS < 4 || *perNS%4 != 0 || *out == "" {
		return fmt.Errorf("need -n ≥ 4, -per-namespace a multiple of 4, and -out")
	}
	dirs := []string{"manifests", "drift"}
	for _, p := range steps {
		dirs = append(dirs, filepath.Join("sweep", strconv.Itoa(p)))
	}
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(*out, d), 0o755); err != nil {
			return err
		}
	}
	files := newFileSet()
	defer func() { _ = files.closeAll() }() // on errors; closed and checked below otherwise
	namespaces := (*n + *perNS - 1) / *perNS
	nsFile, err := files.get(filepath.Join(*out, "namespaces.yaml"))
	if err != nil {
		return err
	}
	for i := range namespaces {
		fmt.Fprintf(nsFile, "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", nsName(i))
	}
	drifted := 0
	for i := range *n {
		app, k := i/4, genKinds[i%4]
		name, ns := fmt.Sprintf("app-%05d", app), nsName(i / *perNS)
		w, err := files.get(filepath.Join(*out, "manifests", ns+".yaml"))
		if err != nil {
			return err
		}
		fmt.Fprintf(w, k.tmpl, name, ns)
		if step := sweepStep(steps, app); step > 0 {
			sw, err := files.get(filepath.Join(*out, "sweep", strconv.Itoa(step), k.driftFile))
			if err != nil {
				return err
			}
			fmt.Fprintf(sw, "---\napiVersion: %s\nkind: %s\nmetadata:\n  name: %s%s\n  namespace: %s\n", k.apiVersion, k.kind, name, k.suffix, ns)
		}
		if app%10 != 0 {
			continue
		}
		dw, err := files.get(filepath.Join(*out, "drift", k.driftFile))
		if err != nil {
			return err
		}
		fmt.Fprintf(dw, "---\napiVersion: %s\nkind: %s\nmetadata:\n  name: %s%s\n  namespace: %s\n", k.apiVersion, k.kind, name, k.suffix, ns)
		drifted++
	}
	if err := files.closeAll(); err != nil {
		return err
	}
	fmt.Println(namespaces, drifted)
	return nil
}

// The drift-fraction sweep (BENCH_DRIFT_SWEEP): an app is drifted at P
// percent when sweepRank(app) < P, so each step's apps include the previous
// step's (the drift made accumulates) and are spread evenly: P of every 100
// consecutive apps, in every namespace alike. OUT/sweep/<P>/ lists the apps
// a step adds to the previous one's.
func sweepRank(app int) int { return app * 37 % 100 } // 37 is prime to 100: a permutation of each 100

// sweepSteps parses the percentages, ascending, each in 1–100.
func sweepSteps(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var steps []int
	for _, f := range strings.Split(s, ",") {
		p, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || p < 1 || p > 100 {
			return nil, fmt.Errorf("-sweep: %q is not a percentage from 1 to 100", f)
		}
		steps = append(steps, p)
	}
	if !slices.IsSorted(steps) || len(slices.Compact(slices.Clone(steps))) != len(steps) {
		return nil, fmt.Errorf("-sweep: the percentages must be ascending: %s", s)
	}
	return steps, nil
}

// sweepStep is the first step at which app is drifted (0: none).
func sweepStep(steps []int, app int) int {
	for _, p := range steps {
		if sweepRank(app) < p {
			return p
		}
	}
	return 0
}

func nsName(i int) string { return fmt.Sprintf("bench-%03d", i) }

// fileSet keeps buffered files open by path.
type fileSet struct {
	files   map[string]*os.File
	writers map[string]*bufio.Writer
}

func newFileSet() *fileSet {
	return &fileSet{files: map[string]*os.File{}, writers: map[string]*bufio.Writer{}}
}

func (s *fileSet) get(path string) (*bufio.Writer, error) {
	if w, ok := s.writers[path]; ok {
		return w, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	s.files[path], s.writers[path] = f, bufio.NewWriter(f)
	return s.writers[path], nil
}

func (s *fileSet) closeAll() error {
	var first error
	for path, f := range s.files {
		if err := s.writers[path].Flush(); err != nil && first == nil {
			first = err
		}
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
		delete(s.files, path)
	}
	return first
}
